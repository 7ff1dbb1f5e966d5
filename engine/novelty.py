"""How unfamiliar an input is to a trained network: how far its activations lie, layer by layer,
from where the training images put them.

A softmax is always sure of something: a photo of coffee fed to a digit network still gets some
digit at 98 %. What the network has never seen shows in its activations instead. For each chosen
layer, `fit_reference` summarises every training image's activations (a feature map by each
channel's mean and maximum, a vector as it is), and keeps each class's mean and the inverse of
their shared covariance (shrunk towards a multiple of the identity, so a dead unit cannot make it
singular). An input's distance at that layer is the Mahalanobis distance to the nearest class
mean (Lee et al., 2018):

    d_l(x) = min_k sqrt((f_l(x) − μ_k)ᵀ Σ_l⁻¹ (f_l(x) − μ_k))

Each layer's distance is divided by its 99.5th percentile over the training images, those ratios
are averaged over the layers, and the average is divided by its own 99.5th percentile over the
training images: the unfamiliarity. So 99.5 % of the training images score at most 1.

    ref = fit_reference(model, x_train, y_train, classes=10)
    score, per_layer = unfamiliarity(ref, model, x)    # (N,), (N, L) distances
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LayerReference", "Reference", "distances", "fit_reference", "summary", "unfamiliarity"]

MAX_FEATURES = 256  # wider layers are left out: their covariance would cost D² numbers
SHRINKAGE = 0.05  # of the covariance replaced by its mean variance on the diagonal
PERCENTILE = 99.5


def summary(output: np.ndarray) -> np.ndarray:
    """A layer's output for a batch -> (N, D) features: (N, C, H, W) maps -> each channel's mean
    and maximum over the positions (N, 2C); (N, D) vectors as they are."""
    output = np.asarray(output, dtype=np.float64)
    if output.ndim == 4:
        return np.concatenate([output.mean(axis=(2, 3)), output.max(axis=(2, 3))], axis=1)
    return output.reshape(len(output), -1)


@dataclass(frozen=True)
class LayerReference:
    index: int  # the model layer whose output this describes
    means: np.ndarray  # (K, D) each class's mean features
    precision: np.ndarray  # (D, D) the inverse of the shrunk shared covariance
    edge: float  # the 99.5th percentile of the training images' distances

    @property
    def features(self) -> int:
        return self.means.shape[1]


@dataclass(frozen=True)
class Reference:
    layers: list[LayerReference]
    edge: float  # the 99.5th percentile of the training images' mean distance ratio
    percentile: float = PERCENTILE

    @property
    def nbytes(self) -> int:
        return sum(layer.means.nbytes + layer.precision.nbytes for layer in self.layers) + 256


def _features(model, x, indices: list[int], batch: int) -> list[np.ndarray]:
    """Summaries of the chosen layers' outputs, `batch` images at a time (a whole training
    set's feature maps at once would take hundreds of megabytes)."""
    parts: list[list[np.ndarray]] = [[] for _ in indices]
    for start in range(0, len(x), batch):
        outputs = model.forward_all(x[start : start + batch], training=False)
        for slot, index in enumerate(indices):
            parts[slot].append(summary(outputs[index]))
    return [np.concatenate(p) for p in parts]


def _mahalanobis(features: np.ndarray, means: np.ndarray, precision: np.ndarray) -> np.ndarray:
    """(N, D) -> (N,) the distance to the nearest of the K means, under `precision`."""
    diff = features[:, None, :] - means[None, :, :]  # (N, K, D)
    squared = np.einsum("nkd,nkd->nk", diff @ precision, diff)  # one matmul, not N·K·D² loops
    return np.sqrt(np.maximum(squared, 0.0).min(axis=1))


def fit_reference(model, x, y, classes: int, layers: list[int] | None = None,
                  batch: int = 256) -> Reference:  # fmt: skip
    """The training images' activations at `layers` (model layer indices; every layer by
    default): class means, shared precision and the 99.5th percentiles. Layers with more than
    MAX_FEATURES features, or where every training image gives the same features, are left out;
    the last layer (the logits) always counts."""
    x = np.asarray(x)
    y = np.asarray(y).astype(np.intp)
    if len(x) != len(y) or len(x) < 2:
        raise ValueError(f"fit_reference needs at least 2 images with labels (got {len(x)}).")
    present = np.unique(y)
    last = len(model.layers) - 1
    indices = sorted({*(range(len(model.layers)) if layers is None else layers), last})
    features = _features(model, x, indices, batch)
    references, ratios = [], []
    for index, f in zip(indices, features, strict=True):
        if f.shape[1] > MAX_FEATURES and index != last:
            continue
        means = np.zeros((classes, f.shape[1]))
        for k in present:
            means[k] = f[y == k].mean(axis=0)
        means = means[present]  # a class with no training image has no mean to be near
        centred = f - means[np.searchsorted(present, y)]
        covariance = centred.T @ centred / len(f)
        scale = np.trace(covariance) / len(covariance)
        if scale <= 0:
            continue  # every image gives the same features: nothing to compare with
        shrunk = (1 - SHRINKAGE) * covariance + SHRINKAGE * scale * np.eye(len(covariance))
        precision = np.linalg.inv(shrunk)
        distance = _mahalanobis(f, means, precision)
        edge = float(np.percentile(distance, PERCENTILE))
        if edge <= 0:
            continue
        references.append(LayerReference(index, means, precision, edge))
        ratios.append(distance / edge)
    mean_ratio = np.mean(ratios, axis=0)
    return Reference(references, float(np.percentile(mean_ratio, PERCENTILE)))


def distances(reference: Reference, model, x, batch: int = 256) -> np.ndarray:
    """(N, L): each input's distance at each of the reference's layers."""
    x = np.asarray(x)
    indices = [layer.index for layer in reference.layers]
    features = _features(model, x, indices, batch)
    return np.stack(
        [_mahalanobis(f, layer.means, layer.precision)
         for f, layer in zip(features, reference.layers, strict=True)],
        axis=1,
    )  # fmt: skip


def unfamiliarity(reference: Reference, model, x, batch: int = 256):
    """(N,) the unfamiliarity of each input (99.5 % of the training images score at most 1),
    and (N, L) its distance at each layer."""
    d = distances(reference, model, x, batch)
    edges = np.array([layer.edge for layer in reference.layers])
    return (d / edges).mean(axis=1) / reference.edge, d
