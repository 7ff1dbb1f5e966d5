"""Layers that work on feature vectors: Dense, Flatten (feature maps -> one vector per sample)
and Embedding (integer ids -> learned vectors). The layer contract is at the top of
engine.layers.
"""

from __future__ import annotations

import math

import numpy as np

from engine.layer_base import Layer, _float_dtype, _generator, _whole, init_weight, shape_text


class Dense(Layer):
    """Fully connected: y = x @ Wᵀ + b over the last axis. x (N, ..., in) -> (N, ..., out).

    Weight (out, in), bias (out,), as torch.nn.Linear.
    """

    def __init__(
        self, in_features: int, out_features: int, rng=None, init: str = "he", dtype=np.float32
    ) -> None:
        super().__init__()
        self.in_features = _whole(in_features, "Dense: in_features")
        self.out_features = _whole(out_features, "Dense: out_features")
        self.dtype = _float_dtype(dtype, "Dense")
        rng = _generator(rng, "Dense")
        shape = (self.out_features, self.in_features)
        w = init_weight(shape, self.in_features, self.out_features, init, rng, self.dtype)
        self._add_param("weight", w)  # (out, in)
        self._add_param("bias", np.zeros(self.out_features, dtype=self.dtype))  # (out,)
        self._x: np.ndarray | None = None

    def describe(self) -> str:
        return f"Dense({self.in_features}→{self.out_features})"

    def output_shape(self, input_shape) -> tuple[int, ...]:
        shape = tuple(int(s) for s in input_shape)
        if not shape or shape[-1] != self.in_features:
            hint = "; put a Flatten before it" if len(shape) > 1 else ""
            raise ValueError(
                f"{self.describe()} expects {self.in_features} features per sample but got "
                f"samples shaped {shape_text(shape)}{hint}."
            )
        return (*shape[:-1], self.out_features)

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)  # (N, ..., in)
        self._x = x
        return self._output(x @ self.params["weight"].T + self.params["bias"])  # (N, ..., out)

    def _backward(self, dout, input_grad: bool) -> np.ndarray | None:  # dout: (N, ..., out)
        d2 = dout.reshape(-1, self.out_features)  # (M, out)
        x2 = self._x.reshape(-1, self.in_features)  # (M, in)
        self.grads["weight"][...] = d2.T @ x2  # (out, in)
        self.grads["bias"][...] = d2.sum(axis=0)
        return dout @ self.params["weight"] if input_grad else None  # (N, ..., in)


class Flatten(Layer):
    """(N, d1, d2, ...) -> (N, d1·d2·...), e.g. feature maps before a Dense layer."""

    def output_shape(self, input_shape) -> tuple[int, ...]:
        return (math.prod(int(s) for s in input_shape),)

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)
        self._x_shape = x.shape
        return self._output(x.reshape(x.shape[0], -1))

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout.reshape(self._x_shape)


class Embedding(Layer):
    """A lookup table of learned vectors: integer ids (N, L) -> (N, L, D), row ``id`` of the weight.

    ``channels_first=True`` gives (N, D, L) instead, ready for Conv1D. Weight (V, D), drawn
    from N(0, 1) as in PyTorch. backward returns None (ids have no gradient); repeated ids add
    up their gradients.
    """

    def __init__(
        self,
        num_embeddings: int,
        embedding_dim: int,
        channels_first: bool = False,
        rng=None,
        dtype=np.float32,
    ) -> None:
        super().__init__()
        self.num_embeddings = _whole(num_embeddings, "Embedding: num_embeddings", 1)
        self.embedding_dim = _whole(embedding_dim, "Embedding: embedding_dim", 1)
        self.channels_first = bool(channels_first)
        self.dtype = _float_dtype(dtype, "Embedding")
        rng = _generator(rng, "Embedding")
        shape = (self.num_embeddings, self.embedding_dim)
        self._add_param("weight", rng.standard_normal(shape).astype(self.dtype))  # (V, D)
        self._ids: np.ndarray | None = None

    def describe(self) -> str:
        first = ", channels first" if self.channels_first else ""
        return f"Embedding({self.num_embeddings}, {self.embedding_dim}{first})"

    def output_shape(self, input_shape) -> tuple[int, ...]:
        shape = tuple(int(s) for s in input_shape)
        if self.channels_first:
            if len(shape) != 1:
                raise ValueError(
                    f"{self.describe()} expects samples of ids shaped (L,) but got "
                    f"{shape_text(shape)}."
                )
            return (self.embedding_dim, shape[0])
        return (*shape, self.embedding_dim)

    def forward(self, ids, training: bool = True) -> np.ndarray:
        ids = np.asarray(ids)
        if ids.ndim == 0 or ids.shape[0] == 0:
            raise ValueError(f"{self.describe()} needs a batch of at least one sequence of ids.")
        if ids.dtype.kind not in "iu":
            raise ValueError(f"{self.describe()} takes whole-number ids but got dtype {ids.dtype}.")
        self.output_shape(ids.shape[1:])
        bad = (ids < 0) | (ids >= self.num_embeddings)
        if bad.any():
            raise ValueError(
                f"{self.describe()}: id {int(ids[bad][0])} is out of range; ids must be "
                f"between 0 and {self.num_embeddings - 1}."
            )
        self._ids = ids
        y = self.params["weight"][ids]  # (N, L, D)
        if self.channels_first:
            y = np.ascontiguousarray(y.transpose(0, 2, 1))  # (N, L, D) -> (N, D, L)
        return self._output(y)

    def _backward(self, dout, input_grad: bool) -> None:
        if self.channels_first:
            dout = dout.transpose(0, 2, 1)  # (N, D, L) -> (N, L, D)
        dw = self.grads["weight"]
        dw[...] = 0
        np.add.at(dw, self._ids.ravel(), dout.reshape(-1, self.embedding_dim))
        return None
