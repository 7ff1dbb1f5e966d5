"""Why a network decided what it did: gradients of a class score with respect to the input,
Grad-CAM, occlusion and integrated gradients, for any engine.model.Sequential and a batch.

The score of class k is the pre-softmax output, the logit z_k. Every function runs the model in
evaluation mode and leaves its parameter gradients as they were (a backward pass writes them:
they are saved and put back). Layers keep what backward needs from the last forward pass, so a
model shared between threads must not run these at the same time as anything else on it.

    saliency = input_gradient(model, x, 4)            # (N, C, H, W): dz_4/dx
    cam = grad_cam(model, x, 4, layer=1)              # (N, H_1, W_1) at the output of layer 1
    drop = occlusion(model, x, 4, size=4, stride=2)   # (N, H_o, W_o): fall of p_4 per patch
    ig = integrated_gradients(model, x, 4)            # (N, C, H, W), sums to z_4(x) − z_4(0)
"""

from __future__ import annotations

import numpy as np

from engine.padding import output_size

__all__ = ["grad_cam", "input_gradient", "integrated_gradients", "occlusion", "scores"]


def _targets(target, n: int, classes: int) -> np.ndarray:
    """An int, or one class per sample, as an (N,) array of valid class indices."""
    t = np.asarray(target)
    if t.ndim == 0:
        t = np.full(n, int(t))
    if t.shape != (n,) or not np.issubdtype(t.dtype, np.integer):
        raise ValueError(f"target must be a class index or {n} of them (got shape {t.shape}).")
    if t.min() < 0 or t.max() >= classes:
        raise ValueError(f"target must be between 0 and {classes - 1} (got {t.min()}..{t.max()}).")
    return t.astype(np.intp)


def _check_batch(x) -> np.ndarray:
    x = np.asarray(x)
    if x.ndim < 2 or len(x) == 0:
        raise ValueError(f"x must be a batch (N, ...) of at least one sample (got {x.shape}).")
    return x


class _KeptGradients:
    """Saves the model's parameter gradients and puts them back: interpreting a model must not
    change what its next optimizer step would do."""

    def __init__(self, model) -> None:
        self.model = model

    def __enter__(self):
        self.saved = [g.copy() for g in self.model.gradients()]
        return self

    def __exit__(self, *exc) -> None:
        for g, saved in zip(self.model.gradients(), self.saved, strict=True):
            g[...] = saved


def _one_hot(t: np.ndarray, logits: np.ndarray) -> np.ndarray:
    dout = np.zeros_like(logits)  # (N, K)
    dout[np.arange(len(t)), t] = 1
    return dout


def scores(model, x, target) -> np.ndarray:
    """(N,) the target class's logit for each sample."""
    x = _check_batch(x)
    logits = model.forward(x, training=False)  # (N, K)
    return logits[np.arange(len(x)), _targets(target, len(x), logits.shape[1])]


def input_gradient(model, x, target) -> np.ndarray:
    """(N, *x.shape[1:]): dz_target/dx, the saliency of every input value."""
    x = _check_batch(x)
    with _KeptGradients(model):
        logits = model.forward(x, training=False)  # (N, K)
        t = _targets(target, len(x), logits.shape[1])
        return model.backward(_one_hot(t, logits), input_grad=True)


def grad_cam(model, x, target, layer: int) -> np.ndarray:
    """(N, H_l, W_l): Grad-CAM at the output A of layer `layer` (a convolution stage, output
    (N, C, H_l, W_l)): ReLU(Σ_c α_c A_c) with α_c the spatial mean of dz_target/dA_c. Neither
    resized nor normalised."""
    x = _check_batch(x)
    if not 0 <= layer < len(model.layers) - 1:
        raise ValueError(f"layer must be between 0 and {len(model.layers) - 2} (got {layer}).")
    with _KeptGradients(model):
        outputs = model.forward_all(x, training=False)  # every layer's output, caches set
        activation = outputs[layer]
        if activation.ndim != 4:
            raise ValueError(
                f"Grad-CAM needs a layer with (C, H, W) outputs; layer {layer} gives "
                f"{activation.shape[1:]}."
            )
        t = _targets(target, len(x), outputs[-1].shape[1])
        grad = _one_hot(t, outputs[-1])
        for i in reversed(range(layer + 1, len(model.layers))):  # down to dz/dA
            grad = model.layers[i].backward(grad, input_grad=True)
    alpha = grad.mean(axis=(2, 3))  # (N, C)
    cam = np.einsum("nc,nchw->nhw", alpha, activation)  # (N, H_l, W_l)
    return np.maximum(cam, 0)


def _softmax_of(logits: np.ndarray) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=1, keepdims=True)


def occlusion(model, x, target, size: int, stride: int, fill: float = 0.0,
              batch_size: int = 256) -> np.ndarray:  # fmt: skip
    """(N, H_o, W_o): how much the target's softmax probability falls when a size×size patch
    (clipped at the borders) is set to `fill` in every channel, one value per patch position;
    H_o = output_size(H, size, stride). A negative value: the patch was hiding evidence against
    the class."""
    x = _check_batch(x)
    if x.ndim != 4:
        raise ValueError(f"occlusion needs images (N, C, H, W) (got {x.shape}).")
    n, _, h, w = x.shape
    rows, cols = output_size(h, size, stride), output_size(w, size, stride)
    probs = _softmax_of(model.predict(x, batch_size))  # (N, K)
    t = _targets(target, n, probs.shape[1])
    base = probs[np.arange(n), t]  # (N,)
    drop = np.empty((n, rows, cols), dtype=probs.dtype)
    for i in range(n):
        covered = np.repeat(x[i : i + 1], rows * cols, axis=0)  # (P, C, H, W), P positions
        for p, (r, c) in enumerate(np.ndindex(rows, cols)):
            covered[p, :, r * stride : r * stride + size, c * stride : c * stride + size] = fill
        p_covered = _softmax_of(model.predict(covered, batch_size))[:, t[i]]  # (P,)
        drop[i] = (base[i] - p_covered).reshape(rows, cols)
    return drop


def integrated_gradients(model, x, target, baseline=None, steps: int = 32,
                         batch_size: int = 256) -> np.ndarray:  # fmt: skip
    """(N, *x.shape[1:]): (x − b) times the mean of dz_target/dx along the straight path from
    the baseline b (zeros by default) to x, at the midpoints of `steps` equal segments. Its sum
    over a sample approaches z_target(x) − z_target(b) as steps grow (completeness). The points
    of the path go through the network together, up to `batch_size` at a time."""
    x = _check_batch(x)
    if isinstance(steps, bool) or not isinstance(steps, int | np.integer) or steps < 1:
        raise ValueError(f"steps must be a whole number ≥ 1 (got {steps!r}).")
    b = np.zeros_like(x) if baseline is None else np.broadcast_to(baseline, x.shape).astype(x.dtype)
    t = _targets(target, len(x), np.iinfo(np.intp).max)  # the classes are checked per batch
    alphas = ((np.arange(steps) + 0.5) / steps).astype(x.dtype)
    per_chunk = max(1, batch_size // len(x))  # path points of every sample in one batch
    total = np.zeros_like(x)
    for start in range(0, steps, per_chunk):
        a = alphas[start : start + per_chunk].reshape(-1, 1, *([1] * (x.ndim - 1)))  # (S, 1, ...)
        points = (b + a * (x - b)).reshape(-1, *x.shape[1:])  # (S·N, ...), step-major
        grads = input_gradient(model, points, np.tile(t, len(a)))
        total += grads.reshape(len(a), *x.shape).sum(axis=0)
    return (x - b) * total / steps
