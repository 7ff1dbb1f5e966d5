"""BatchNorm and Dropout: the layers that act differently in training and at evaluation
(``forward(x, training=...)``). The layer contract is at the top of engine.layers.
"""

from __future__ import annotations

import numpy as np

from engine.layer_base import Layer, _float_dtype, _generator, _whole, shape_text


class BatchNorm(Layer):
    """Normalise each channel, then scale and shift: y = γ·(x − μ)/√(σ² + eps) + β.

    x is (N, C) or (N, C, L) like torch's BatchNorm1d, or (N, C, H, W) like BatchNorm2d; the
    statistics run over every axis but C. In training μ, σ² are the batch's (σ² biased) and
    the running statistics move towards them: running = (1 − momentum)·running +
    momentum·batch, with the *unbiased* variance for running_var, as PyTorch does. At
    evaluation the running statistics are used. params: "weight" = γ (ones), "bias" = β (zeros);
    buffers: "running_mean" (zeros), "running_var" (ones).
    """

    def __init__(
        self, num_features: int, momentum: float = 0.1, eps: float = 1e-5, dtype=np.float32
    ) -> None:
        super().__init__()
        self.num_features = _whole(num_features, "BatchNorm: num_features")
        if not 0 <= momentum <= 1:
            raise ValueError(f"BatchNorm: momentum must be between 0 and 1 (got {momentum}).")
        if not eps > 0:
            raise ValueError(f"BatchNorm: eps must be positive (got {eps}).")
        self.momentum, self.eps = float(momentum), float(eps)
        self.dtype = _float_dtype(dtype, "BatchNorm")
        c = self.num_features
        self._add_param("weight", np.ones(c, dtype=self.dtype))  # γ (C,)
        self._add_param("bias", np.zeros(c, dtype=self.dtype))  # β (C,)
        self.buffers["running_mean"] = np.zeros(c, dtype=self.dtype)
        self.buffers["running_var"] = np.ones(c, dtype=self.dtype)

    def describe(self) -> str:
        return f"BatchNorm({self.num_features})"

    def output_shape(self, input_shape) -> tuple[int, ...]:
        shape = tuple(int(s) for s in input_shape)
        if len(shape) not in (1, 2, 3) or shape[0] != self.num_features:
            raise ValueError(
                f"{self.describe()} expects samples shaped ({self.num_features},), "
                f"({self.num_features}, L) or ({self.num_features}, H, W) but got "
                f"{shape_text(shape)}."
            )
        return shape

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)  # (N, C, ...)
        axes = (0, *range(2, x.ndim))  # every axis but the channels
        bshape = (1, -1) + (1,) * (x.ndim - 2)  # (C,) -> broadcastable over x
        count = x.size // self.num_features  # values per channel
        if training:
            if count < 2:
                raise ValueError(
                    f"{self.describe()} needs more than one value per channel in training "
                    f"(got input shape {shape_text(x.shape)}); use a larger batch."
                )
            mean = x.mean(axis=axes)  # (C,)
            var = x.var(axis=axes)  # (C,), biased: normalises the batch
            m = self.momentum
            rm, rv = self.buffers["running_mean"], self.buffers["running_var"]
            rm[...] = (1 - m) * rm + m * mean
            rv[...] = (1 - m) * rv + m * var * (count / (count - 1))  # unbiased
        else:
            mean, var = self.buffers["running_mean"], self.buffers["running_var"]
        inv_std = (1.0 / np.sqrt(var + self.eps)).astype(x.dtype)  # (C,)
        xhat = (x - mean.reshape(bshape)) * inv_std.reshape(bshape)  # (N, C, ...)
        y = xhat * self.params["weight"].reshape(bshape) + self.params["bias"].reshape(bshape)
        # Kept for backward only: the output never reads back what forward stores.
        self._xhat, self._inv_std, self._axes, self._bshape = xhat, inv_std, axes, bshape
        self._batch_stats = training
        return self._output(y)

    def _backward(self, dout, input_grad: bool) -> np.ndarray:  # dout: (N, C, ...)
        axes, bshape, xhat = self._axes, self._bshape, self._xhat
        self.grads["bias"][...] = dout.sum(axis=axes)
        self.grads["weight"][...] = (dout * xhat).sum(axis=axes)
        dxhat = dout * self.params["weight"].reshape(bshape)
        inv_std = self._inv_std.reshape(bshape)
        if not self._batch_stats:  # running statistics are constants: an affine map
            return dxhat * inv_std
        # μ and σ² depend on x too: dx = (dx̂ − mean(dx̂) − x̂·mean(dx̂·x̂)) / σ
        mean_d = dxhat.mean(axis=axes).reshape(bshape)
        mean_dx = (dxhat * xhat).mean(axis=axes).reshape(bshape)
        return (dxhat - mean_d - xhat * mean_dx) * inv_std


class Dropout(Layer):
    """Inverted dropout: in training, zero each value with probability p and scale the rest by
    1/(1−p); at evaluation, the identity. The mask comes from ``self.rng`` (an
    np.random.Generator given here or assigned later), so a seed replays it.
    """

    def __init__(self, p: float = 0.5, rng=None) -> None:
        super().__init__()
        if isinstance(p, bool) or not isinstance(p, int | float | np.number) or not 0 <= p < 1:
            raise ValueError(f"Dropout: p must be a probability in [0, 1) (got {p!r}).")
        self.p = float(p)
        self.rng = _generator(rng, "Dropout")
        self.mask: np.ndarray | None = None  # the last scaled mask: 0 or 1/(1−p)

    def describe(self) -> str:
        return f"Dropout({self.p:g})"

    def forward(self, x, training: bool = True) -> np.ndarray:
        x = self._input(x)
        if not training or self.p == 0:
            self.mask = None
            return self._output(x)
        keep = self.rng.random(x.shape) >= self.p
        self.mask = keep.astype(x.dtype) * x.dtype.type(1 / (1 - self.p))
        return self._output(x * self.mask)

    def _backward(self, dout, input_grad: bool) -> np.ndarray:
        return dout if self.mask is None else dout * self.mask
