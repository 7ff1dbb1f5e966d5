"""Does a network's confidence mean something? The softmax at a temperature, the reliability
diagram and its expected calibration error (ECE), and the temperature that fits best.

    p = softmax_at(logits, 2.0)                  # (N, K): softmax(z / T); T > 1 flattens
    table = reliability(p, labels, bins=10)      # accuracy per confidence bin, counts, ECE
    t = best_temperature(logits, labels)         # the T that minimises the mean NLL

Confidence is the top class's probability; a sample is right when its top class is its label.
The bins split [0, 1] into equal widths, each (low, high] (the first also takes 0), and
ECE = Σ_b (n_b / N) · |accuracy_b − mean confidence_b| (Guo et al., 2017).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.losses import log_softmax, softmax

__all__ = ["Reliability", "best_temperature", "nll", "reliability", "softmax_at"]

# Where best_temperature looks: temperatures from 1/50 to 50.
T_LOW, T_HIGH = 0.02, 50.0


def _logits(logits) -> np.ndarray:
    z = np.asarray(logits, dtype=np.float64)
    if z.ndim != 2 or z.shape[0] == 0 or z.shape[1] < 2:
        raise ValueError(f"logits must be (N, K) with N ≥ 1 and K ≥ 2 (got shape {z.shape}).")
    if not np.isfinite(z).all():
        raise ValueError("logits must be finite numbers.")
    return z


def _labels(labels, n: int, classes: int) -> np.ndarray:
    y = np.asarray(labels)
    if y.shape != (n,) or not np.issubdtype(y.dtype, np.integer):
        raise ValueError(f"labels must be {n} class indices (got shape {y.shape}).")
    if y.min() < 0 or y.max() >= classes:
        raise ValueError(f"labels must be between 0 and {classes - 1}.")
    return y.astype(np.intp)


def _temperature(t: float) -> float:
    t = float(t)
    if not (np.isfinite(t) and t > 0):
        raise ValueError(f"The temperature must be a positive number (got {t}).")
    return t


def softmax_at(logits, temperature: float = 1.0) -> np.ndarray:
    """softmax(z / T) along the last axis, for one (K,) row or a batch (N, K)."""
    return softmax(np.asarray(logits, dtype=np.float64) / _temperature(temperature))


def nll(logits, labels, temperature: float = 1.0) -> float:
    """The mean negative log-likelihood of the labels, −mean log softmax(z / T)_y."""
    z = _logits(logits)
    y = _labels(labels, len(z), z.shape[1])
    log_p = log_softmax(z / _temperature(temperature))
    return float(-log_p[np.arange(len(z)), y].mean())


@dataclass(frozen=True)
class Reliability:
    """A reliability diagram's numbers: per bin, its edges, how many samples fell in it, their
    mean confidence and their accuracy (NaN for an empty bin), and the ECE over all."""

    edges: np.ndarray  # (B + 1,) from 0 to 1
    counts: np.ndarray  # (B,) samples per bin
    confidence: np.ndarray  # (B,) mean top probability in the bin
    accuracy: np.ndarray  # (B,) fraction right in the bin
    ece: float  # Σ n_b / N · |accuracy_b − confidence_b|
    accuracy_all: float  # over every sample
    confidence_all: float  # the mean top probability over every sample

    @property
    def gaps(self) -> np.ndarray:
        """(B,) accuracy − confidence: below zero the network is overconfident in that bin."""
        return self.accuracy - self.confidence


def reliability(probabilities, labels, bins: int = 10) -> Reliability:
    """Bin the samples by their top probability; accuracy and confidence per bin, and the ECE."""
    p = np.asarray(probabilities, dtype=np.float64)
    if p.ndim != 2 or p.shape[0] == 0:
        raise ValueError(f"probabilities must be (N, K) with N ≥ 1 (got shape {p.shape}).")
    if int(bins) != bins or bins < 1:
        raise ValueError(f"bins must be a whole number of at least 1 (got {bins}).")
    bins = int(bins)
    y = _labels(labels, len(p), p.shape[1])
    confidence = p.max(axis=1)
    right = (p.argmax(axis=1) == y).astype(np.float64)
    edges = np.linspace(0.0, 1.0, bins + 1)
    # (low, high]: a confidence of exactly 0.3 belongs to the bin that ends at 0.3.
    which = np.clip(np.ceil(confidence * bins).astype(np.intp) - 1, 0, bins - 1)
    counts = np.bincount(which, minlength=bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_conf = np.bincount(which, confidence, minlength=bins) / counts
        accuracy = np.bincount(which, right, minlength=bins) / counts
    filled = counts > 0
    ece = float((counts[filled] / len(p) * np.abs(accuracy[filled] - mean_conf[filled])).sum())
    return Reliability(edges, counts, mean_conf, accuracy, ece,
                       float(right.mean()), float(confidence.mean()))  # fmt: skip


def best_temperature(logits, labels, tolerance: float = 1e-6) -> float:
    """The temperature T in [T_LOW, T_HIGH] that minimises nll(logits, labels, T).

    The NLL is convex in β = 1/T (a log-sum-exp of β·z minus β·z_y), so a golden-section search
    over β finds its minimum; at a bound, the bound is returned."""
    z = _logits(logits)
    y = _labels(labels, len(z), z.shape[1])
    rows = np.arange(len(z))

    def loss(beta: float) -> float:
        return float(-log_softmax(z * beta)[rows, y].mean())

    low, high = 1.0 / T_HIGH, 1.0 / T_LOW
    ratio = (np.sqrt(5.0) - 1.0) / 2.0
    a, b = low, high
    c, d = b - ratio * (b - a), a + ratio * (b - a)
    fc, fd = loss(c), loss(d)
    while b - a > tolerance * max(1.0, a):
        if fc <= fd:
            b, d, fd = d, c, fc
            c = b - ratio * (b - a)
            fc = loss(c)
        else:
            a, c, fc = c, d, fd
            d = a + ratio * (b - a)
            fd = loss(d)
    beta = (a + b) / 2.0
    return float(1.0 / beta)
