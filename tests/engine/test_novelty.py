"""engine.novelty: the features, the distances against a naive loop, and what the score means."""

import numpy as np
import pytest

from engine.builder import build
from engine.novelty import MAX_FEATURES, SHRINKAGE, fit_reference, summary, unfamiliarity


def model_and_data(n=600, seed=0):
    rng = np.random.default_rng(seed)
    model, _ = build("conv 4 3x3 same, relu, pool 2, dense 12, relu, dense 3", (1, 8, 8), 3,
                     False, np.random.default_rng(seed))  # fmt: skip
    model.eval()
    y = rng.integers(0, 3, n)
    prototypes = rng.uniform(0, 1, (3, 1, 8, 8))
    x = np.clip(prototypes[y] + rng.normal(0, 0.15, (n, 1, 8, 8)), 0, 1)
    return model, x, y, prototypes


def naive_distance(f, train_f, y):
    """The shrunk shared covariance and the distance to each class mean, one number at a time."""
    classes = sorted(set(y.tolist()))
    means = {k: train_f[y == k].mean(axis=0) for k in classes}
    d = train_f.shape[1]
    cov = np.zeros((d, d))
    for row, label in zip(train_f, y, strict=True):
        c = row - means[label]
        for i in range(d):
            for j in range(d):
                cov[i, j] += c[i] * c[j] / len(train_f)
    scale = sum(cov[i, i] for i in range(d)) / d
    shrunk = (1 - SHRINKAGE) * cov + SHRINKAGE * scale * np.eye(d)
    precision = np.linalg.inv(shrunk)
    best = np.inf
    for k in classes:
        diff = f - means[k]
        best = min(best, float(np.sqrt(diff @ precision @ diff)))
    return best


def test_summary_is_each_channels_mean_and_max():
    rng = np.random.default_rng(1)
    maps = rng.normal(size=(2, 3, 4, 5))
    got = summary(maps)
    for n in range(2):
        for c in range(3):
            assert got[n, c] == pytest.approx(sum(maps[n, c].ravel()) / 20)
            assert got[n, 3 + c] == max(maps[n, c].ravel())
    vectors = rng.normal(size=(2, 7))
    np.testing.assert_array_equal(summary(vectors), vectors)


def test_distances_match_a_naive_loop():
    model, x, y, _ = model_and_data(120)
    reference = fit_reference(model, x, y, classes=3)
    probe = np.random.default_rng(2).uniform(0, 1, (3, 1, 8, 8))
    _, d = unfamiliarity(reference, model, probe)
    outputs = model.forward_all(x, training=False)
    probe_outputs = model.forward_all(probe, training=False)
    for slot, layer in enumerate(reference.layers):
        train_f = summary(outputs[layer.index])
        for n in range(len(probe)):
            f = summary(probe_outputs[layer.index][n : n + 1])[0]
            assert d[n, slot] == pytest.approx(naive_distance(f, train_f, y), rel=1e-7)


def test_training_images_score_at_most_one_and_strangers_score_high():
    model, x, y, prototypes = model_and_data(600)
    reference = fit_reference(model, x, y, classes=3, batch=64)  # batches change nothing
    score, per_layer = unfamiliarity(reference, model, x)
    assert per_layer.shape == (600, len(reference.layers))
    assert np.mean(score <= 1 + 1e-9) >= 0.995
    assert np.mean(score <= 1 + 1e-9) < 1  # the 99.5th percentile, not the maximum
    # New images drawn like the training ones: familiar. A flat grey square and noise: not.
    rng = np.random.default_rng(9)
    labels = rng.integers(0, 3, 200)
    fresh = np.clip(prototypes[labels] + rng.normal(0, 0.15, (200, 1, 8, 8)), 0, 1)
    assert np.mean(unfamiliarity(reference, model, fresh)[0] > 1.5) < 0.02
    checkerboard = (np.indices((8, 8)).sum(axis=0) % 2)[None].astype(float)
    strangers = np.stack([np.full((1, 8, 8), 0.5), rng.uniform(0, 1, (1, 8, 8)) ** 4,
                          checkerboard])  # fmt: skip
    assert (unfamiliarity(reference, model, strangers)[0] > 1.5).all()


def test_wide_layers_are_left_out_and_the_logits_always_count():
    model, _ = build(f"dense {MAX_FEATURES + 1}, relu, dense 3", (1, 4, 4), 3, False,
                     np.random.default_rng(0))  # fmt: skip
    model.eval()
    rng = np.random.default_rng(0)
    x, y = rng.uniform(size=(100, 1, 4, 4)), rng.integers(0, 3, 100)
    reference = fit_reference(model, x, y, classes=3, layers=[1, 2])  # 257 wide
    assert [layer.index for layer in reference.layers] == [len(model.layers) - 1]
    assert reference.layers[0].features == 3


def test_a_class_without_training_images_is_no_place_to_be_near():
    model, x, y, _ = model_and_data(200)
    keep = y != 2
    reference = fit_reference(model, x[keep], y[keep], classes=3)
    assert all(layer.means.shape[0] == 2 for layer in reference.layers)
    with pytest.raises(ValueError, match="at least 2 images"):
        fit_reference(model, x[:1], y[:1], classes=3)
