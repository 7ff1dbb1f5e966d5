"""What the Text lab shows of a text CNN: each filter's response along a sentence with its best
n-gram (:func:`conv_strips`), how much each word moves the prediction (:func:`occlusion`), and a
2-D projection of the embedding rows by SVD (:func:`pca_2d`)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.losses import softmax
from engine.text import pad_sequences
from engine.textmodel import TextCNN, TextTrace


@dataclass
class ConvStrip:
    """One filter width's response to one sequence."""

    width: int
    values: np.ndarray  # (F, L − w + 1) conv outputs before ReLU, position p reads ids p..p+w−1
    best: np.ndarray  # (F,) position of each filter's largest response
    pooled: np.ndarray  # (F,) max(0, largest response): what global max pooling passes on


def conv_strips(model: TextCNN, ids_row, trace: TextTrace | None = None) -> list[ConvStrip]:
    """Each width's filters slid over one padded sequence (L,), with the n-gram each likes best
    (from `trace`, the row's forward pass, when the caller has it)."""
    trace = trace or model.trace_forward(np.asarray(ids_row)[None, :])
    strips = []
    for w, z in zip(model.widths, trace.conv, strict=True):
        values = z[0].astype(np.float64)  # (F, L − w + 1)
        strips.append(ConvStrip(w, values, values.argmax(axis=1), np.maximum(values.max(1), 0)))
    return strips


@dataclass
class Occlusion:
    """Each word's share of a prediction, by taking it out (see :func:`occlusion`)."""

    kept: list[int]  # the ids the network saw (after truncation)
    log_odds: float  # log-odds of the target class with every word
    deltas: np.ndarray  # (len(kept),) log_odds − log-odds without that word
    p_all: float  # P(target) with every word
    p_without: np.ndarray  # (len(kept),) P(target) without each word


def log_odds(logits: np.ndarray, target: int) -> np.ndarray:
    """ln(p / (1 − p)) of class `target` for logits (N, K), computed from the logits:
    z_target − logsumexp(other z), so it does not saturate where p is 0 or 1."""
    z = np.asarray(logits, dtype=np.float64)
    others = np.delete(z, target, axis=1)
    top = others.max(axis=1)
    return z[:, target] - (top + np.log(np.exp(others - top[:, None]).sum(axis=1)))


def occlusion(model: TextCNN, ids: list[int], maxlen: int, padding: str, truncating: str,
              target: int) -> Occlusion:  # fmt: skip
    """How much each word the network sees moves the prediction towards class `target`.

    Each kept word is taken out in turn (the rest re-padded the same way) and the change in
    log-odds is its share: log-odds(all) − log-odds(without it). Log-odds rather than the
    probability, because near 0 or 1 the probability hardly moves whatever a word does.
    `ids` is the unpadded sequence; ids lost to truncation were never seen and are not
    occluded."""
    kept = [int(i) for i in (ids[-maxlen:] if truncating == "pre" else ids[:maxlen])]
    variants = [kept] + [kept[:i] + kept[i + 1 :] for i in range(len(kept))]
    batch = pad_sequences(variants, maxlen, padding=padding, truncating=truncating)
    logits = np.concatenate([model.forward(batch[i : i + 256]) for i in range(0, len(batch), 256)])
    odds = log_odds(logits, target)  # (1 + n,)
    p = softmax(logits.astype(np.float64), axis=1)[:, target]
    return Occlusion(kept, float(odds[0]), odds[0] - odds[1:], float(p[0]), p[1:])


def pca_2d(matrix) -> tuple[np.ndarray, np.ndarray]:
    """Rows (V, D) -> (coordinates (V, 2), share of the variance each axis explains (2,)).

    Principal components by SVD of the centred rows; each axis's sign is fixed so that its
    largest-magnitude loading is positive, so a projection does not flip between calls."""
    x = np.asarray(matrix, dtype=np.float64)
    x = x - x.mean(axis=0)
    _, s, vt = np.linalg.svd(x, full_matrices=False)
    axes = vt[:2].copy()
    rows = np.arange(len(axes))
    axes *= np.sign(axes[rows, np.abs(axes).argmax(axis=1)])[:, None]
    variance = s**2
    share = variance[:2] / variance.sum() if variance.sum() > 0 else np.zeros(2)
    coords = x @ axes.T
    if coords.shape[1] < 2:  # a 1-D embedding: the second axis is all zeros
        coords = np.pad(coords, ((0, 0), (0, 2 - coords.shape[1])))
        share = np.pad(share, (0, 2 - len(share)))
    return coords, share
