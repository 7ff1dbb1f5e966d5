"""What the Training lab's pages call its choices (msgids, translated where they are shown)."""

from app.web.i18n import N_
from engine.schedules import SCHEDULE_TITLES as ENGINE_SCHEDULE_TITLES

DATASET_TITLES = {
    "digits": N_("Handwritten digits (UCI)"),
    "shapes": N_("Shapes (generated)"),
    "own": N_("Your own pictures"),  # app.labs.training.own; not in the setup's dataset menu
}
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
SCHEDULE_TITLES = ENGINE_SCHEDULE_TITLES  # the engine names its schedules, for both labs
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
