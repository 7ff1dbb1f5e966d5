"""What the Training lab shows about a trained run: its model, feature maps for one image, the
confusion matrix, misclassified examples, accuracy on shifted digits, drawings, and export."""

from __future__ import annotations

import io
import threading
from contextlib import nullcontext

import numpy as np
from PIL import Image, ImageOps

from app import traininglab
from app.errors import UserError
from app.i18n import N_
from app.jobs import Run
from app.pipelinelab import PipelineLayer
from engine import architecture, builder
from engine.edgenet import shift_image
from engine.losses import softmax
from engine.model import Sequential


def run_form(run: Run) -> traininglab.TrainForm:
    from starlette.datastructures import QueryParams

    return traininglab.parse_form(QueryParams(run.config["query"]))


def run_model(run: Run, results) -> tuple[Sequential, list[architecture.LayerInfo]]:
    """The trained network, rebuilt from its configuration and weights (cached per run)."""
    if run.state is None:
        raise UserError(N_("This run has no trained weights to look at."), status=409)
    key = f"model:{run.id}"
    cached = results.get(key)
    if cached is None:
        config = run.config
        data = traininglab.dataset(config["dataset"], config["image_size"])
        classes = len(data.class_names)
        model, _ = builder.build(config["architecture"], data.x_train.shape[1:], classes,
                                 config["batchnorm"])  # fmt: skip
        model.load_state_dict(run.state)
        model.eval()
        model.forward_lock = threading.Lock()  # pages share this model across threads
        specs = builder.complete_specs(config["architecture"], classes, config["batchnorm"])
        infos = architecture.analyse(data.x_train.shape[1:], specs)
        cached = (model, infos)
        results.put(key, cached, model.num_params() * 4 + 4096)
    return cached


def run_data(run: Run):
    return traininglab.dataset(run.config["dataset"], run.config["image_size"])


def layer_table(model: Sequential, infos, image: np.ndarray):
    """Feature maps of every layer for one (C, H, W) image, and the softmax probabilities.

    The model keeps its activations between calls, and many thumbnail requests share it: one
    thread at a time."""
    with getattr(model, "forward_lock", None) or nullcontext():
        logits = model.forward(image[None], training=False, keep_activations=True)
        outputs = [model.activations[i][0].copy() for i in model.spec_outputs]
    layers = [
        PipelineLayer(info, values, None) for info, values in zip(infos, outputs, strict=True)
    ]
    return layers, softmax(logits)[0]


def sample_layers(run: Run, results, sample: int):
    """layer_table for a test image, cached: a page asks for dozens of its maps at once."""
    key = f"layers:{run.id}:{sample}"
    cached = results.get(key)
    if cached is None:
        model, infos = run_model(run, results)
        cached = layer_table(model, infos, run_data(run).x_test[sample])
        nbytes = sum(layer.values.nbytes for layer in cached[0]) + 1024
        results.put(key, cached, nbytes)
    return cached


def confusion(model: Sequential, data) -> tuple[np.ndarray, np.ndarray]:
    """(classes, classes) counts, rows = true label, columns = prediction; and the predictions."""
    predictions = model.predict(data.x_test).argmax(axis=1)
    classes = len(data.class_names)
    matrix = np.zeros((classes, classes), dtype=int)
    np.add.at(matrix, (data.y_test, predictions), 1)
    return matrix, predictions


def shifted_accuracy(model: Sequential, data, shifts=(0, 1, 2, 3, 4)) -> list[float]:
    """Test accuracy when every test image is moved s pixels to the right."""
    scores = []
    for s in shifts:
        moved = shift_image(data.x_test, s, 0) if s else data.x_test
        scores.append(float((model.predict(moved).argmax(axis=1) == data.y_test).mean()))
    return scores


def prepare_drawing(data: bytes, size: int) -> tuple[list[tuple[str, np.ndarray]], np.ndarray]:
    """A drawing or photo -> the steps that make it look like the training data, and the result.

    Like the digits: bright strokes on black, cropped to the ink, scaled so its longer side fills
    about 3/4 of the image, centred by its centre of mass, values in 0..1.
    """
    try:
        image = Image.open(io.BytesIO(data))
        image.load()
    except Exception as error:  # Pillow raises many kinds for bad bytes
        raise UserError(
            N_("This is not an image we can read. Draw on the canvas or upload a PNG or JPEG."),
            status=415,
        ) from error
    if image.width * image.height > 4_000_000:
        raise UserError(N_("The picture is too large (at most 4 megapixels)."), status=413)
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    grey = np.asarray(ImageOps.grayscale(image), dtype=np.float32) / 255.0
    steps = [(N_("your picture"), grey)]
    # Ink is dark on a light page: flip so strokes are bright, as in the training images.
    ink = 1.0 - grey if grey.mean() > 0.5 else grey
    steps.append((N_("strokes made bright"), ink))
    mask = ink > 0.2
    if mask.sum() < 3:
        raise UserError(
            N_("The drawing is blank: draw a digit or a shape with the mouse or a finger first.")
        )
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    steps.append((N_("cropped to the ink"), crop))
    inner = max(2, round(size * 0.75))
    scale = inner / max(crop.shape)
    new_size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = (
        np.asarray(
            Image.fromarray((crop * 255).astype(np.uint8)).resize(
                new_size, Image.Resampling.LANCZOS
            ),
            dtype=np.float32,
        )
        / 255.0
    )
    canvas = np.zeros((size, size), dtype=np.float32)
    top = (size - small.shape[0]) // 2
    left = (size - small.shape[1]) // 2
    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small
    # Centre of mass to the middle, as the digits were prepared.
    total = canvas.sum()
    cy = (canvas.sum(axis=1) * np.arange(size)).sum() / total
    cx = (canvas.sum(axis=0) * np.arange(size)).sum() / total
    canvas = shift_image(canvas, int(round((size - 1) / 2 - cx)), int(round((size - 1) / 2 - cy)))
    canvas = np.clip(canvas / max(canvas.max(), 1e-6), 0, 1)
    steps.append((N_("scaled and centred like the training images"), canvas))
    return steps, canvas[None]


# --- export -------------------------------------------------------------------------------------


def _keras_layer(layer) -> str:
    name = type(layer).__name__
    if name == "Conv2D":
        padding = layer.padding if isinstance(layer.padding, str) else "valid"
        pre = ""
        if not isinstance(layer.padding, str) and layer.padding:
            pre = f"layers.ZeroPadding2D({layer.padding}), "
        return (f"{pre}layers.Conv2D({layer.out_channels}, {tuple(layer.kernel_size)}, "
                f"strides={tuple(layer.stride)}, padding={padding!r})")  # fmt: skip
    if name == "Dense":
        return f"layers.Dense({layer.out_features})"
    if name in ("MaxPool2D", "AvgPool2D"):
        keras = "MaxPooling2D" if name == "MaxPool2D" else "AveragePooling2D"
        return f"layers.{keras}(pool_size={tuple(layer.kernel_size)})"
    if name == "BatchNorm":
        return "layers.BatchNormalization(momentum=0.9, epsilon=1e-5)"
    if name == "Dropout":
        return f"layers.Dropout({layer.p})"
    simple = {"ReLU": "layers.ReLU()", "Flatten": "layers.Flatten()",
              "LeakyReLU": "layers.LeakyReLU(0.01)", "Tanh": "layers.Activation('tanh')",
              "Sigmoid": "layers.Activation('sigmoid')",
              "GlobalAvgPool2D": "layers.GlobalAveragePooling2D()"}  # fmt: skip
    return simple[name]


def _torch_layer(layer, shape) -> str:
    name = type(layer).__name__
    if name == "Conv2D":
        padding = layer.padding if isinstance(layer.padding, str) else layer.padding
        return (f"nn.Conv2d({layer.in_channels}, {layer.out_channels}, "
                f"kernel_size={tuple(layer.kernel_size)}, stride={tuple(layer.stride)}, "
                f"padding={padding!r})")  # fmt: skip
    if name == "Dense":
        return f"nn.Linear({layer.in_features}, {layer.out_features})"
    if name in ("MaxPool2D", "AvgPool2D"):
        torch_name = "MaxPool2d" if name == "MaxPool2D" else "AvgPool2d"
        return f"nn.{torch_name}({tuple(layer.kernel_size)})"
    if name == "BatchNorm":
        kind = "BatchNorm2d" if len(shape) == 3 else "BatchNorm1d"
        return f"nn.{kind}({layer.num_features}, momentum=0.1, eps=1e-5)"
    if name == "Dropout":
        return f"nn.Dropout({layer.p})"
    simple = {
        "ReLU": "nn.ReLU()",
        "Flatten": "nn.Flatten()",
        "LeakyReLU": "nn.LeakyReLU(0.01)",
        "Tanh": "nn.Tanh()",
        "Sigmoid": "nn.Sigmoid()",
        "GlobalAvgPool2D": "nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten())",
    }
    return simple[name]


def export_code(model: Sequential, input_shape: tuple[int, int, int], framework: str,
                config: dict) -> str:  # fmt: skip
    """The same network as Keras or PyTorch code: what a student would write next."""
    channels, height, width = input_shape
    lines: list[str] = []
    shapes = []
    shape: tuple[int, ...] = tuple(input_shape)
    for layer in model:
        shapes.append(shape)
        shape = layer.output_shape(shape)
    summary = ", ".join(layer.describe() for layer in model)
    if framework == "keras":
        body = ",\n    ".join(_keras_layer(layer) for layer in model)
        lines += [
            "# The CNN Playground network, in Keras (channels last: Keras' default).",
            f"# {summary}",
            "import keras",
            "from keras import layers",
            "",
            "model = keras.Sequential([",
            f"    keras.Input(shape=({height}, {width}, {channels})),",
            f"    {body},",
            "])",
            "model.compile(",
            f"    optimizer=keras.optimizers.{_keras_optimizer(config)},",
            "    loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),",
            '    metrics=["accuracy"],',
            ")",
            "model.summary()",
            f"# model.fit(x_train, y_train, batch_size={config['batch_size']}, "
            f"epochs={config['epochs']}, validation_split=0.1)",
        ]
    else:
        body = ",\n    ".join(
            _torch_layer(layer, s) for layer, s in zip(model, shapes, strict=True)
        )
        lines += [
            "# The CNN Playground network, in PyTorch (channels first, as here).",
            f"# {summary}",
            "import torch",
            "from torch import nn",
            "",
            "model = nn.Sequential(",
            f"    {body},",
            ")",
            f"optimizer = torch.optim.{_torch_optimizer(config)}",
            "loss_fn = nn.CrossEntropyLoss()",
            f"x = torch.zeros(1, {channels}, {height}, {width})",
            "print(model(x).shape)  # torch.Size([1, classes])",
        ]
    return "\n".join(lines) + "\n"


def _keras_optimizer(config: dict) -> str:
    lr = config["lr"]
    return {
        "sgd": f"SGD(learning_rate={lr:g})",
        "momentum": f"SGD(learning_rate={lr:g}, momentum=0.9)",
        "nesterov": f"SGD(learning_rate={lr:g}, momentum=0.9, nesterov=True)",
        "adagrad": f"Adagrad(learning_rate={lr:g})",
        "rmsprop": f"RMSprop(learning_rate={lr:g}, rho=0.99)",
        "adam": f"Adam(learning_rate={lr:g})",
    }[config["optimizer"]]


def _torch_optimizer(config: dict) -> str:
    lr = config["lr"]
    return {
        "sgd": f"SGD(model.parameters(), lr={lr:g})",
        "momentum": f"SGD(model.parameters(), lr={lr:g}, momentum=0.9)",
        "nesterov": f"SGD(model.parameters(), lr={lr:g}, momentum=0.9, nesterov=True)",
        "adagrad": f"Adagrad(model.parameters(), lr={lr:g})",
        "rmsprop": f"RMSprop(model.parameters(), lr={lr:g})",
        "adam": f"Adam(model.parameters(), lr={lr:g})",
    }[config["optimizer"]]
