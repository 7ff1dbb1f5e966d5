"""Loss functions: each returns ``(value, grad)``, the mean loss and its gradient with respect to
the first argument, equal to PyTorch's with ``reduction="mean"``.

    mse(pred, target)                                  F.mse_loss
    binary_cross_entropy(prob, target)                 F.binary_cross_entropy (log clamped ≥ −100)
    binary_cross_entropy_with_logits(logits, target)   F.binary_cross_entropy_with_logits
    cross_entropy(logits (N, K), labels (N,))          F.cross_entropy, softmax fused

Everything is computed in float64 and stays finite at extreme logits (±1e4): logs of
probabilities come from log-sum-exp, never from log(softmax). The gradient has the dtype of the
input when that is a float type (float32 in, float32 out).
"""

from __future__ import annotations

import numpy as np

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_with_logits",
    "cross_entropy",
    "log_softmax",
    "mse",
    "softmax",
]

LOG_CLAMP = -100.0  # PyTorch clamps log(p) and log(1 − p) at −100 in binary_cross_entropy
# and divides its gradient by max(p(1 − p), 1e-12), with 1e-12 as a float32 constant
BCE_EPS = float(np.float32(1e-12))


def _real(a, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{what} must hold real numbers (got dtype {a.dtype}).")
    if a.size == 0:
        raise ValueError(f"{what} is empty (shape {a.shape}).")
    return a


def _grad_dtype(a: np.ndarray) -> np.dtype:
    return a.dtype if a.dtype.kind == "f" else np.dtype(np.float64)


def _pair(a, b, loss: str, names: tuple[str, str]) -> tuple[np.ndarray, np.ndarray]:
    a = _real(a, f"{loss}: {names[0]}")
    b = _real(b, f"{loss}: {names[1]}")
    if a.shape != b.shape:
        raise ValueError(
            f"{loss}: {names[0]} and {names[1]} must have the same shape (got {a.shape} and "
            f"{b.shape})."
        )
    return a, b


def softmax(x, axis: int = -1) -> np.ndarray:
    """e^x / Σ e^x along ``axis``, after subtracting the maximum (so no overflow)."""
    x = np.asarray(x)
    z = x - x.max(axis=axis, keepdims=True)
    e = np.exp(z)
    return e / e.sum(axis=axis, keepdims=True)


def log_softmax(x, axis: int = -1) -> np.ndarray:
    """x − log Σ e^x along ``axis``, through the log-sum-exp trick: finite for any finite x."""
    x = np.asarray(x)
    z = x - x.max(axis=axis, keepdims=True)
    return z - np.log(np.exp(z).sum(axis=axis, keepdims=True))


def mse(pred, target) -> tuple[float, np.ndarray]:
    """mean((pred − target)²); grad 2(pred − target)/n, n the number of values."""
    pred, target = _pair(pred, target, "mse", ("pred", "target"))
    diff = pred.astype(np.float64) - target
    grad = 2.0 * diff / diff.size
    return float(np.mean(diff * diff)), grad.astype(_grad_dtype(pred))


def binary_cross_entropy(prob, target) -> tuple[float, np.ndarray]:
    """mean(−[t·log p + (1 − t)·log(1 − p)]) for probabilities p in [0, 1].

    Each log is clamped at −100 (so p = 0 or 1 gives a finite loss) and the gradient
    (p − t) / max(p(1 − p), 1e-12) / n stays finite, both as in PyTorch.
    """
    prob, target = _pair(prob, target, "binary_cross_entropy", ("prob", "target"))
    p = prob.astype(np.float64)
    if np.any(~((p >= 0) & (p <= 1))):
        bad = p[~((p >= 0) & (p <= 1))][0]
        raise ValueError(
            f"binary_cross_entropy takes probabilities between 0 and 1 but got {bad:g}; "
            "for raw scores use binary_cross_entropy_with_logits."
        )
    t = target.astype(np.float64)
    with np.errstate(divide="ignore"):  # log(0) = −inf, then clamped
        log_p = np.maximum(np.log(p), LOG_CLAMP)
        log_q = np.maximum(np.log1p(-p), LOG_CLAMP)
    value = -np.mean(t * log_p + (1 - t) * log_q)
    grad = (p - t) / np.maximum(p * (1 - p), BCE_EPS) / p.size
    return float(value), grad.astype(_grad_dtype(prob))


def binary_cross_entropy_with_logits(logits, target) -> tuple[float, np.ndarray]:
    """binary_cross_entropy(sigmoid(x), t) without forming sigmoid(x):
    mean(max(x, 0) − x·t + log(1 + e^−|x|)); grad (sigmoid(x) − t)/n.
    """
    logits, target = _pair(logits, target, "binary_cross_entropy_with_logits", ("logits", "target"))
    x = logits.astype(np.float64)
    t = target.astype(np.float64)
    value = np.mean(np.maximum(x, 0) - x * t + np.log1p(np.exp(-np.abs(x))))
    e = np.exp(-np.abs(x))  # sigmoid without overflow: 1/(1+e) for x ≥ 0, e/(1+e) below
    sig = np.where(x >= 0, 1 / (1 + e), e / (1 + e))
    grad = (sig - t) / x.size
    return float(value), grad.astype(_grad_dtype(logits))


def cross_entropy(logits, labels) -> tuple[float, np.ndarray]:
    """mean over samples of −log softmax(logits)[label]: logits (N, K), labels (N,) integers in
    [0, K). grad (softmax(logits) − one_hot(labels)) / N, shaped (N, K).
    """
    logits = _real(logits, "cross_entropy: logits")
    labels = np.asarray(labels)
    if logits.ndim != 2:
        raise ValueError(
            f"cross_entropy expects logits shaped (N, K), one row of K class scores per sample "
            f"(got shape {logits.shape})."
        )
    n, k = logits.shape
    if labels.shape != (n,):
        raise ValueError(
            f"cross_entropy expects one label per sample: labels shaped ({n},) for logits "
            f"shaped {logits.shape} (got {labels.shape})."
        )
    if labels.dtype.kind not in "iu":
        raise ValueError(f"cross_entropy: labels must be whole numbers (got dtype {labels.dtype}).")
    bad = (labels < 0) | (labels >= k)
    if bad.any():
        raise ValueError(
            f"cross_entropy: label {int(labels[bad][0])} is out of range for {k} classes "
            f"(labels must be between 0 and {k - 1})."
        )
    logp = log_softmax(logits.astype(np.float64), axis=1)  # (N, K)
    rows = np.arange(n)
    value = -np.mean(logp[rows, labels])
    grad = np.exp(logp)  # softmax, (N, K)
    grad[rows, labels] -= 1.0
    grad /= n
    return float(value), grad.astype(_grad_dtype(logits))


__all__ += ["mae"]


def mae(pred, target) -> tuple[float, np.ndarray]:
    """mean(|pred − target|) (F.l1_loss); grad sign(pred − target)/n, 0 where they are equal."""
    pred, target = _pair(pred, target, "mae", ("pred", "target"))
    diff = pred.astype(np.float64) - target
    grad = np.sign(diff) / diff.size
    return float(np.mean(np.abs(diff))), grad.astype(_grad_dtype(pred))
