"""A trained network as Keras or PyTorch code: what a student would write next."""

from __future__ import annotations

from engine.model import Sequential
from engine.padding import resolve_padding


def _keras_layer(layer) -> str:
    name = type(layer).__name__
    if name == "Conv2D":
        # Explicit numbers, as for PyTorch: Keras' own 'same' with a stride pads where the engine
        # does not (it centres the windows), so the weights would see other pixels.
        (top, bottom), (left, right) = resolve_padding(layer.padding, layer.kernel_size, 1, 2)
        pre = ""
        if top or bottom or left or right:
            pre = f"layers.ZeroPadding2D({((top, bottom), (left, right))}), "
        return (f"{pre}layers.Conv2D({layer.out_channels}, {tuple(layer.kernel_size)}, "
                f"strides={tuple(layer.stride)}, padding='valid')")  # fmt: skip
    if name == "Dense":
        return f"layers.Dense({layer.out_features})"
    if name in ("MaxPool2D", "AvgPool2D"):
        keras = "MaxPooling2D" if name == "MaxPool2D" else "AveragePooling2D"
        strides = "" if layer.stride == layer.kernel_size else f", strides={tuple(layer.stride)}"
        return f"layers.{keras}(pool_size={tuple(layer.kernel_size)}{strides})"
    if name == "BatchNorm":
        return "layers.BatchNormalization(momentum=0.9, epsilon=1e-5)"
    if name == "Dropout":
        return f"layers.Dropout({layer.p})"
    simple = {"ReLU": "layers.ReLU()", "Flatten": "layers.Flatten()",
              "LeakyReLU": "layers.LeakyReLU(0.01)", "Tanh": "layers.Activation('tanh')",
              "Sigmoid": "layers.Activation('sigmoid')",
              "GlobalAvgPool2D": "layers.GlobalAveragePooling2D()"}  # fmt: skip
    return simple[name]


def _torch_padding(pads) -> tuple[str, str]:
    """A convolution's padding as PyTorch takes it: (a ZeroPad2d before it or "", the conv's own
    padding). The engine's pairs are explicit numbers, because PyTorch refuses padding='same'
    with a stride. 'same' with an even kernel pads one pixel more at the end (bottom, right)
    than at the start, which only ZeroPad2d((left, right, top, bottom)) can say."""
    (top, bottom), (left, right) = pads
    if top == bottom and left == right:
        return "", f"padding={(top, left)}"
    return f"nn.ZeroPad2d({(left, right, top, bottom)}), ", "padding=0"


def _torch_layer(layer, shape) -> str:
    name = type(layer).__name__
    if name == "Conv2D":
        pre, padding = _torch_padding(resolve_padding(layer.padding, layer.kernel_size, 1, 2))
        return (f"{pre}nn.Conv2d({layer.in_channels}, {layer.out_channels}, "
                f"kernel_size={tuple(layer.kernel_size)}, stride={tuple(layer.stride)}, "
                f"{padding})")  # fmt: skip
    if name == "Dense":
        return f"nn.Linear({layer.in_features}, {layer.out_features})"
    if name in ("MaxPool2D", "AvgPool2D"):
        torch_name = "MaxPool2d" if name == "MaxPool2D" else "AvgPool2d"
        options = ""
        if layer.stride != layer.kernel_size:
            options += f", stride={tuple(layer.stride)}"
        if any(layer.padding):
            options += f", padding={tuple(layer.padding)}"
        return f"nn.{torch_name}({tuple(layer.kernel_size)}{options})"
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
            "",
            "# A check that the layers fit: a dummy batch of two images through the network.",
            "# Evaluation mode, so that batch norm uses its running statistics.",
            f"x = torch.zeros(2, {channels}, {height}, {width})",
            "model.eval()",
            "with torch.no_grad():",
            f"    print(model(x).shape)  # torch.Size([2, {shape[0]}])",
            "model.train()  # back to training mode before training",
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
