"""Sequential: a stack of layers (engine.layers) run one after another, forwards and backwards.

    model = Sequential([Conv2D(1, 6, 5, rng=rng), ReLU(), MaxPool2D(2), Flatten(), Dense(...)])
    logits = model.forward(x)                   # x (N, 1, 28, 28) -> (N, 10)
    loss, dlogits = cross_entropy(logits, y)    # engine.losses
    model.backward(dlogits, input_grad=False)   # fills every layer.grads (dL/dx not needed)
    for p, g in zip(model.parameters(), model.gradients()):
        p -= lr * g                             # what an optimizer (engine.optim) does in place

parameters() and gradients() return the layers' own arrays, in the same order, so in-place
updates reach the model. Weights and BatchNorm buffers save to ``.npz`` under keys
"<layer index>.<name>", e.g. "0.weight", "3.running_var".
"""

from __future__ import annotations

import os
import zipfile
from typing import NamedTuple

import numpy as np

from engine.layers import Embedding, Layer, shape_text

__all__ = ["LayerRow", "Sequential", "Summary"]


class LayerRow(NamedTuple):
    """One line of a model summary, as the pipeline view shows it."""

    index: int  # position in the stack (the prefix of its keys in a saved file)
    name: str  # class name, e.g. "Conv2D"
    description: str  # e.g. "Conv2D(1→6, 5×5, same)"
    output_shape: tuple[int, ...]  # per sample, e.g. (6, 28, 28)
    params: int  # learned parameters of this layer


class Summary(list):
    """The rows of :meth:`Sequential.summary`, with the input shape and the total parameter count.

    str() gives a Keras-like table.
    """

    def __init__(self, rows, input_shape: tuple[int, ...]) -> None:
        super().__init__(rows)
        self.input_shape = input_shape
        self.total_params = int(sum(row.params for row in rows))

    def __str__(self) -> str:
        lines = [f"{'#':>3}  {'layer':<32} {'output shape':<18} {'params':>9}"]
        lines.append(f"{'':>3}  {'input':<32} {shape_text(self.input_shape):<18} {'':>9}")
        for row in self:
            shape = shape_text(row.output_shape)
            lines.append(f"{row.index:>3}  {row.description:<32} {shape:<18} {row.params:>9,}")
        lines.append(f"Total params: {self.total_params:,}")
        return "\n".join(lines)


class Sequential:
    """Layers applied in order. ``training`` (set by train() / eval()) is forward's default mode;
    ``activations`` holds each layer's output after ``forward(x, keep_activations=True)``;
    ``forward_all`` returns them instead.
    """

    def __init__(self, layers) -> None:
        layers = list(layers)
        if not layers:
            raise ValueError("A Sequential model needs at least one layer.")
        for i, layer in enumerate(layers):
            if not isinstance(layer, Layer):
                raise ValueError(
                    f"Layer {i} of the Sequential model is a {type(layer).__name__}, not a layer "
                    "from engine.layers."
                )
            if i > 0 and isinstance(layer, Embedding):
                raise ValueError(
                    f"Layer {i} is an Embedding, which takes integer ids: it can only be the first "
                    "layer."
                )
        self.layers: list[Layer] = layers
        self.training = True
        self.activations: list[np.ndarray] = []

    # --- the stack ---------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self.layers)

    def __getitem__(self, i: int) -> Layer:
        return self.layers[i]

    def __iter__(self):
        return iter(self.layers)

    def describe(self) -> str:
        return "Sequential(" + ", ".join(layer.describe() for layer in self.layers) + ")"

    def __repr__(self) -> str:
        return self.describe()

    def train(self) -> Sequential:
        self.training = True
        return self

    def eval(self) -> Sequential:
        self.training = False
        return self

    # --- computing ---------------------------------------------------------------------------

    def forward(self, x, training: bool | None = None, keep_activations: bool = False):
        """x (N, *in_shape) -> the last layer's output; training=None uses self.training.

        keep_activations=True also sets ``self.activations`` (a convenience for one thread;
        pages that share a model use :meth:`forward_all`, which keeps nothing on the model)."""
        outputs = self.forward_all(x, training)
        self.activations = outputs if keep_activations else []
        return outputs[-1]

    def forward_all(self, x, training: bool | None = False) -> list[np.ndarray]:
        """Every layer's output for x (N, *in_shape), first layer first. Nothing is kept on the
        model, so in evaluation mode many threads may call it on one model at once."""
        training = self.training if training is None else bool(training)
        outputs = []
        for i, layer in enumerate(self.layers):
            try:
                x = layer.forward(x, training=training)
            except ValueError as err:
                raise ValueError(f"At layer {i}, {err}") from err
            outputs.append(x)
        return outputs

    __call__ = forward

    def backward(self, dout, input_grad: bool = True):
        """dL/d(output) -> dL/d(input), filling every layer's grads. Training loops pass
        input_grad=False: the first layer then skips dL/d(input) (and None is returned, as it
        always is after an Embedding)."""
        for i in reversed(range(len(self.layers))):
            try:
                dout = self.layers[i].backward(dout, input_grad=input_grad or i > 0)
            except ValueError as err:
                raise ValueError(f"At layer {i}, {err}") from err
        return dout

    def predict(self, x, batch_size: int = 256) -> np.ndarray:
        """Outputs in evaluation mode, batch_size samples at a time."""
        if isinstance(batch_size, bool) or not isinstance(batch_size, int | np.integer):
            raise ValueError(f"predict: batch_size must be a whole number (got {batch_size!r}).")
        if batch_size < 1:
            raise ValueError(f"predict: batch_size must be at least 1 (got {batch_size}).")
        x = np.asarray(x)
        if x.ndim == 0 or len(x) == 0:
            raise ValueError("predict needs at least one sample.")
        parts = [
            self.forward(x[i : i + batch_size], training=False)
            for i in range(0, len(x), batch_size)
        ]
        return np.concatenate(parts)

    # --- shapes and parameters -----------------------------------------------------------------

    def output_shape(self, input_shape) -> tuple[int, ...]:
        return self.summary(input_shape)[-1].output_shape

    def summary(self, input_shape) -> Summary:
        """One row per layer (index, name, description, output shape, params) for a sample
        shaped ``input_shape`` (without N), e.g. (1, 28, 28). A shape that does not fit raises
        a ValueError naming the layer."""
        shape = tuple(int(s) for s in input_shape)
        rows = []
        for i, layer in enumerate(self.layers):
            try:
                out = layer.output_shape(shape)
            except ValueError as err:
                raise ValueError(f"At layer {i}, {err}") from err
            rows.append(LayerRow(i, layer.name, layer.describe(), out, layer.num_params()))
            shape = out
        return Summary(rows, tuple(int(s) for s in input_shape))

    def num_params(self) -> int:
        return sum(layer.num_params() for layer in self.layers)

    def named_parameters(self) -> list[tuple[str, np.ndarray]]:
        """[("0.weight", array), ("0.bias", array), ...]: the layers' own arrays."""
        return [
            (f"{i}.{k}", v) for i, layer in enumerate(self.layers) for k, v in layer.params.items()
        ]

    def parameters(self) -> list[np.ndarray]:
        return [p for _, p in self.named_parameters()]

    def gradients(self) -> list[np.ndarray]:
        """The gradient arrays, in the order of parameters(); backward refills them in place."""
        return [g for layer in self.layers for g in layer.grads.values()]

    # --- saving ------------------------------------------------------------------------------

    def state_dict(self) -> dict[str, np.ndarray]:
        """Copies of every parameter and buffer, keyed "<index>.<name>"."""
        state = {}
        for i, layer in enumerate(self.layers):
            for k, v in (*layer.params.items(), *layer.buffers.items()):
                state[f"{i}.{k}"] = v.copy()
        return state

    def load_state_dict(self, state) -> None:
        """Copy arrays into the model in place. Every key must be there with the right shape,
        and no other; otherwise a ValueError names the layer and the shapes (nothing is changed).
        """
        expected = {}
        for i, layer in enumerate(self.layers):
            for k, v in (*layer.params.items(), *layer.buffers.items()):
                expected[f"{i}.{k}"] = (layer, v)
        for key, (layer, target) in expected.items():
            i, name = key.split(".", 1)
            if key not in state:
                raise ValueError(
                    f"The weights have no {name!r} for layer {i} ({layer.describe()}): expected "
                    f"key {key!r} shaped {shape_text(target.shape)}."
                )
            got = np.shape(state[key])
            if got != target.shape:
                raise ValueError(
                    f"Layer {i} ({layer.describe()}): the saved {name} is shaped "
                    f"{shape_text(got)} but the model's is {shape_text(target.shape)}."
                )
        extra = sorted(set(state) - set(expected))
        if extra:
            raise ValueError(
                f"The weights hold {len(extra)} array(s) this model has no place for, e.g. "
                f"{extra[0]!r} shaped {shape_text(np.shape(state[extra[0]]))}; they were "
                "saved from a different model."
            )
        for key, (_, target) in expected.items():
            target[...] = state[key]

    def save(self, path) -> None:
        """Parameters and buffers to an .npz file (or a writable binary file object)."""
        if isinstance(path, str | os.PathLike) and not os.fspath(path).endswith(".npz"):
            raise ValueError(f"Save the model to a file ending in .npz (got {os.fspath(path)!r}).")
        np.savez(path, **self.state_dict())

    def load(self, path) -> None:
        """Weights saved by :meth:`save` (a path or a binary file object); see load_state_dict."""
        try:
            if isinstance(path, str | os.PathLike):
                with open(path, "rb") as file:  # closed even when the archive is broken
                    state = _read_npz(file)
            else:
                state = _read_npz(path)
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
            raise ValueError(f"Could not read model weights from {path!r}: {err}") from err
        self.load_state_dict(state)


def _read_npz(file) -> dict[str, np.ndarray]:
    data = np.load(file, allow_pickle=False)
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError("it holds a single array, not the .npz archive save() writes")
    with data:
        return {k: data[k] for k in data.files}
