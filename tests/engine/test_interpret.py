"""engine.interpret against finite differences in float64 and against naive loops."""

from __future__ import annotations

import numpy as np
import pytest

from engine.interpret import grad_cam, input_gradient, integrated_gradients, occlusion, scores
from engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from engine.model import Sequential
from engine.presets import build_model
from tests.engine.gradcheck import rel_error

F64 = np.float64


def small_net(seed: int = 0) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential([
        Conv2D(2, 3, 3, padding=1, rng=rng, dtype=F64), ReLU(), MaxPool2D(2),
        Conv2D(3, 4, 3, padding=1, rng=rng, dtype=F64), ReLU(),
        Flatten(), Dense(4 * 4 * 4, 5, rng=rng, dtype=F64),
    ]).eval()  # fmt: skip


def batch(seed: int = 1, n: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).normal(size=(n, 2, 8, 8))


def numeric_score_gradient(model, x, target, h=1e-6) -> np.ndarray:
    """d z_target / dx by centred differences, one input value at a time."""
    grad = np.zeros_like(x)
    for i in np.ndindex(x.shape):
        old = x[i]
        x[i] = old + h
        plus = scores(model, x, target)
        x[i] = old - h
        minus = scores(model, x, target)
        x[i] = old
        grad[i] = (plus[i[0]] - minus[i[0]]) / (2 * h)
    return grad


@pytest.mark.parametrize("target", [3, np.array([0, 4])])
def test_input_gradient_matches_finite_differences(target):
    model, x = small_net(), batch()
    assert (
        rel_error(input_gradient(model, x, target), numeric_score_gradient(model, x, target)) < 1e-6
    )


def test_grad_cam_is_relu_of_channels_weighted_by_their_mean_gradient():
    model, x = small_net(), batch()
    layer = 4  # the second ReLU: (N, 4, 4, 4)
    head = Sequential(model.layers[layer + 1 :])
    activation = model.forward_all(x, training=False)[layer]
    # dz/dA by finite differences through the layers above A
    grad = np.zeros_like(activation)
    for i in np.ndindex(activation.shape):
        old = activation[i]
        activation[i] = old + 1e-6
        plus = head.forward(activation, training=False)[i[0], 2]
        activation[i] = old - 1e-6
        minus = head.forward(activation, training=False)[i[0], 2]
        activation[i] = old
        grad[i] = (plus - minus) / 2e-6
    expected = np.zeros(activation.shape[:1] + activation.shape[2:])
    for n in range(len(x)):  # the definition, as a loop
        for c in range(activation.shape[1]):
            expected[n] += grad[n, c].mean() * activation[n, c]
    expected = np.maximum(expected, 0)
    cam = grad_cam(model, x, 2, layer)
    assert cam.shape == (2, 4, 4)
    assert rel_error(cam, expected) < 1e-6
    with pytest.raises(ValueError, match="needs a layer with"):
        grad_cam(model, x, 2, 5)  # Flatten's output has no channels and positions


def test_occlusion_matches_a_loop_over_patches():
    model, x = small_net(), batch()

    def probability(image, k):
        z = model.forward(image[None], training=False)[0]
        e = np.exp(z - z.max())
        return e[k] / e.sum()

    drop = occlusion(model, x, 1, size=3, stride=2, fill=0.5)
    assert drop.shape == (2, 3, 3)  # output_size(8, 3, 2) = 3
    for n in range(2):
        for r in range(3):
            for c in range(3):
                covered = x[n].copy()
                covered[:, 2 * r : 2 * r + 3, 2 * c : 2 * c + 3] = 0.5
                expected = probability(x[n], 1) - probability(covered, 1)
                assert drop[n, r, c] == pytest.approx(expected, abs=1e-12)


@pytest.mark.parametrize("preset", ["lenet", "tiny", "mlp"])
def test_integrated_gradients_add_up_to_the_score_difference_on_the_presets(preset):
    model = build_model(preset, (1, 16, 16), 10, rng=np.random.default_rng(3)).eval()
    x = np.random.default_rng(4).random((3, 1, 16, 16), dtype=np.float32)
    target = np.array([0, 3, 7])
    ig = integrated_gradients(model, x, target, steps=32)
    assert ig.shape == x.shape and ig.dtype == np.float32
    difference = scores(model, x, target) - scores(model, np.zeros_like(x), target)
    assert np.allclose(ig.reshape(3, -1).sum(axis=1), difference, rtol=0.01, atol=1e-4)


@pytest.mark.parametrize("batch_size", [256, 5, 1])  # the path in one batch, in chunks, one by one
def test_integrated_gradients_is_the_midpoint_sum_of_input_gradients(batch_size):
    model, x = small_net(), batch(n=3)
    target = np.array([1, 4, 0])  # one class per sample: the batched path must keep them apart
    baseline = np.full_like(x, 0.2)
    expected = np.zeros_like(x)
    for k in range(4):
        expected += input_gradient(model, baseline + (k + 0.5) / 4 * (x - baseline), target)
    expected *= (x - baseline) / 4
    found = integrated_gradients(model, x, target, baseline, steps=4, batch_size=batch_size)
    assert rel_error(found, expected) < 1e-12


def test_the_models_own_gradients_are_left_as_they_were():
    model, x = small_net(), batch()
    for g in model.gradients():
        g[...] = 7.0
    input_gradient(model, x, 1)
    grad_cam(model, x, 1, 4)
    integrated_gradients(model, x, 1, steps=2)
    assert all(np.all(g == 7.0) for g in model.gradients())


def test_targets_are_checked():
    model, x = small_net(), batch()
    with pytest.raises(ValueError, match="between 0 and 4"):
        input_gradient(model, x, 5)
    with pytest.raises(ValueError, match="2 of them"):
        input_gradient(model, x, np.array([1, 2, 3]))
    with pytest.raises(ValueError, match="steps"):
        integrated_gradients(model, x, 1, steps=0)
    with pytest.raises(ValueError, match="2 of them"):
        integrated_gradients(model, x, np.array([1, 2, 3]))
