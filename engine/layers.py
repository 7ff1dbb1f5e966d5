"""Layers of a small CNN in plain NumPy: Keras' names, PyTorch's array layouts (channels first).

The layer contract
------------------
N is the batch size and ``in_shape`` the shape of one sample, e.g. (C, H, W).

``layer.forward(x, training=True) -> y``
    x: (N, *in_shape); y: (N, *layer.output_shape(in_shape)). Keeps what backward needs, but y
    is computed from local values only: in evaluation mode (training=False) several threads may
    run one model at once and each gets its own, right output.
    ``training`` matters to Dropout (drop, or pass through) and BatchNorm (batch statistics, or
    the running ones); the other layers ignore it.
``layer.backward(dout, input_grad=True) -> dx``
    dout = dL/dy, shaped like the last y; dx = dL/dx, shaped like the last x (None for
    Embedding, whose input is integer ids, and when ``input_grad=False``: a network's first
    layer has no use for dx, and a convolution saves a third of its backward pass without it).
    Call it after forward. It also writes dL/dparam into ``layer.grads`` *in place*
    (overwriting, not accumulating), so the arrays an optimizer holds stay the layer's own.
``layer.params`` and ``layer.grads``
    dicts with the same keys ("weight", "bias") and shapes; empty for layers without
    parameters. A layer never updates its params: an optimizer does, in place.
``layer.buffers``
    state that is saved with the model but not learned (BatchNorm's running statistics).
``layer.output_shape(in_shape) -> tuple``
    the per-sample output shape, or a ValueError naming the layer when in_shape doesn't fit.
``layer.num_params()``, ``layer.describe()`` (also its repr), e.g. "Conv2D(1→6, 5×5, same)".

    Conv2D     x (N, C, H, W)  -> (N, F, H', W')   weight (F, C, KH, KW), bias (F,)
    Conv1D     x (N, C, L)     -> (N, F, L')       weight (F, C, K),      bias (F,)
    Dense      x (N, ..., in)  -> (N, ..., out)    weight (out, in),      bias (out,)
    BatchNorm  x (N, C, ...)   -> (N, C, ...)      weight = γ (C,),       bias = β (C,)
    Embedding  ids (N, L)      -> (N, L, D)        weight (V, D)    [(N, D, L) if channels_first]
    pools      x (N, C, *sp)   -> (N, C, *sp')     global pools -> (N, C)
    ReLU, LeakyReLU, Sigmoid, Tanh, Dropout: same shape; Flatten: (N, ...) -> (N, prod(...))

Parameters are float32 unless ``dtype`` says otherwise. Weights are drawn from the
``np.random.Generator`` passed as ``rng`` (He normal or Glorot uniform; Embedding N(0, 1) as in
PyTorch); biases start at zero. The same seed replays the same run.

The code: engine.layer_base (the Layer base class, checks, init_weight), engine.layers_conv,
engine.layers_dense (Dense, Flatten, Embedding), engine.layers_pool, engine.layers_norm
(BatchNorm, Dropout) and engine.layers_act (activations). Import the layers from here.
"""

from __future__ import annotations

from engine.layer_base import INITS, Layer
from engine.layer_base import MAX_SIZE as MAX_SIZE
from engine.layer_base import init_weight as init_weight
from engine.layer_base import shape_text as shape_text
from engine.layers_act import LeakyReLU, ReLU, Sigmoid, Tanh
from engine.layers_conv import Conv1D, Conv2D
from engine.layers_dense import Dense, Embedding, Flatten
from engine.layers_norm import BatchNorm, Dropout
from engine.layers_pool import (
    AvgPool1D,
    AvgPool2D,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    MaxPool1D,
    MaxPool2D,
)

__all__ = [
    "INITS",
    "AvgPool1D",
    "AvgPool2D",
    "BatchNorm",
    "Conv1D",
    "Conv2D",
    "Dense",
    "Dropout",
    "Embedding",
    "Flatten",
    "GlobalAvgPool1D",
    "GlobalAvgPool2D",
    "GlobalMaxPool1D",
    "GlobalMaxPool2D",
    "Layer",
    "LeakyReLU",
    "MaxPool1D",
    "MaxPool2D",
    "ReLU",
    "Sigmoid",
    "Tanh",
]
