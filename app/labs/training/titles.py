"""What the Training lab's pages call its choices (msgids, translated where they are shown)."""

from app.web.i18n import N_

DATASET_TITLES = {"digits": N_("Handwritten digits (UCI)"), "shapes": N_("Shapes (generated)")}
PRESET_TITLES = {
    "lenet": N_("LeNet"),
    "tiny": N_("Tiny CNN"),
    "mlp": N_("MLP baseline (dense only)"),
    "custom": N_("My own layers"),
}
OPTIMIZER_TITLES = {
    "sgd": N_("SGD"),
    "momentum": N_("SGD with momentum"),
    "nesterov": N_("Nesterov momentum"),
    "adagrad": N_("AdaGrad"),
    "rmsprop": N_("RMSProp"),
    "adam": N_("Adam"),
}
SCHEDULE_TITLES = {
    "constant": N_("constant"),
    "step": N_("step decay"),
    "exponential": N_("exponential"),
    "inverse_time": N_("1/t"),
    "cosine": N_("cosine"),
}
AUGMENT_TITLES = {
    "shift": N_("shift"),
    "rotate": N_("rotate"),
    "scale": N_("zoom"),
    "flip": N_("mirror"),
    "noise": N_("noise"),
}
NEW_LAYER_TITLES = {
    "conv": N_("convolution (8 filters, 3×3)"),
    "relu": N_("ReLU"),
    "pool": N_("max pooling 2×2"),
    "batchnorm": N_("batch norm"),
    "dropout": N_("dropout 0.25"),
    "dense": N_("dense (32 units)"),
}
