"""engine.calibration against naive loops and brute force, in float64."""

import math

import numpy as np
import pytest

from engine.calibration import best_temperature, nll, reliability, softmax_at


def naive_softmax(row, t):
    e = [math.exp(v / t) for v in row]
    return [v / sum(e) for v in e]


def naive_reliability(p, labels, bins):
    """One sample at a time: its bin is the one whose (low, high] holds its confidence."""
    counts, conf_sum, right_sum = [0] * bins, [0.0] * bins, [0.0] * bins
    for row, label in zip(p, labels, strict=True):
        top = max(row)
        guess = list(row).index(top)
        b = 0
        for k in range(bins):
            if k / bins < top <= (k + 1) / bins:
                b = k
        counts[b] += 1
        conf_sum[b] += top
        right_sum[b] += guess == label
    ece = 0.0
    for b in range(bins):
        if counts[b]:
            ece += counts[b] / len(p) * abs(right_sum[b] / counts[b] - conf_sum[b] / counts[b])
    return counts, conf_sum, right_sum, ece


def sample(n=300, k=5, seed=0, scale=3.0):
    rng = np.random.default_rng(seed)
    logits = rng.normal(0, scale, (n, k))
    labels = rng.integers(0, k, n)
    logits[np.arange(n), labels] += 2.0  # right more often than chance
    return logits, labels


@pytest.mark.parametrize("t", [0.25, 1.0, 2.0, 10.0])
def test_softmax_at_matches_the_definition(t):
    z, _ = sample(20)
    got = softmax_at(z, t)
    want = np.array([naive_softmax(row, t) for row in z])
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    assert softmax_at(z[0], t).shape == (5,)


def test_temperature_flattens_and_sharpens_but_keeps_the_ranking():
    z = np.array([3.0, 1.0, 0.5, -2.0])
    top = [softmax_at(z, t)[0] for t in (0.25, 1.0, 2.0, 10.0)]
    assert top == sorted(top, reverse=True)  # hotter: less sure
    assert abs(softmax_at(z, 1e6)[0] - 0.25) < 1e-5  # very hot: uniform
    for t in (0.25, 3.0):
        assert list(np.argsort(softmax_at(z, t))) == list(np.argsort(z))
    with pytest.raises(ValueError, match="positive"):
        softmax_at(z, 0.0)


@pytest.mark.parametrize("bins", [1, 5, 10, 15])
def test_reliability_and_ece_match_a_naive_loop(bins):
    z, y = sample(400, seed=bins)
    p = softmax_at(z, 1.0)
    table = reliability(p, y, bins)
    counts, conf_sum, right_sum, ece = naive_reliability(p, y, bins)
    assert table.counts.tolist() == counts and table.counts.sum() == 400
    for b in range(bins):
        if counts[b]:
            assert table.confidence[b] == pytest.approx(conf_sum[b] / counts[b], rel=1e-12)
            assert table.accuracy[b] == pytest.approx(right_sum[b] / counts[b], rel=1e-12)
        else:
            assert math.isnan(table.accuracy[b]) and math.isnan(table.confidence[b])
    assert table.ece == pytest.approx(ece, rel=1e-12, abs=1e-15)
    assert table.accuracy_all == pytest.approx(sum(right_sum) / 400)
    np.testing.assert_allclose(table.edges, np.linspace(0, 1, bins + 1))


def test_bins_are_closed_on_the_right():
    # Two classes: confidences 0.5, 0.6 and 1.0 exactly, at the bins' top edges.
    p = np.array([[0.5, 0.5], [0.6, 0.4], [1.0, 0.0], [0.3, 0.7]])
    y = np.array([0, 1, 0, 1])
    table = reliability(p, y, bins=10)
    assert table.counts[4] == 1 and table.counts[5] == 1 and table.counts[9] == 1
    assert table.counts[6] == 1  # 0.7
    assert table.accuracy[5] == 0.0 and table.accuracy[9] == 1.0
    # ECE by hand: |1 − .5| + |0 − .6| + |1 − 1| + |1 − .7|, each a quarter.
    assert table.ece == pytest.approx((0.5 + 0.6 + 0.0 + 0.3) / 4)


def test_a_perfectly_calibrated_set_has_no_gap():
    # In each bin the accuracy equals the confidence: 8 of 10 right at 0.8, 6 of 10 at 0.6.
    p = np.array([[0.8, 0.2]] * 10 + [[0.6, 0.4]] * 10)
    y = np.array([0] * 8 + [1] * 2 + [0] * 6 + [1] * 4)
    assert reliability(p, y, 10).ece == pytest.approx(0.0, abs=1e-12)


def test_nll_matches_cross_entropy_by_hand():
    z, y = sample(50)
    for t in (0.5, 1.0, 3.0):
        pairs = zip(z, y, strict=True)
        want = -np.mean([math.log(naive_softmax(row, t)[label]) for row, label in pairs])
        assert nll(z, y, t) == pytest.approx(want, rel=1e-12)


@pytest.mark.parametrize(("scale", "seed"), [(1.5, 0), (3.0, 1), (8.0, 2)])
def test_best_temperature_minimises_the_nll(scale, seed):
    z, y = sample(300, seed=seed, scale=scale)
    t = best_temperature(z, y)
    grid = np.exp(np.linspace(np.log(0.05), np.log(40), 4001))
    brute = grid[np.argmin([nll(z, y, g) for g in grid])]
    assert t == pytest.approx(brute, rel=3e-3)
    assert nll(z, y, t) <= nll(z, y, brute) + 1e-9
    # At the minimum the derivative in β = 1/T vanishes: mean(E_p[z] − z_y) = 0.
    p = softmax_at(z, t)
    assert abs(np.mean((p * z).sum(1) - z[np.arange(len(z)), y])) < 1e-4


def test_overconfident_logits_get_a_temperature_above_one():
    rng = np.random.default_rng(4)
    y = rng.integers(0, 4, 500)
    z = rng.normal(0, 1, (500, 4))
    z[np.arange(500), y] += 1.5
    t_true = best_temperature(z, y)
    assert best_temperature(z * 5, y) == pytest.approx(5 * t_true, rel=1e-4)


def test_bad_inputs_say_what_is_wrong():
    with pytest.raises(ValueError, match="logits must be"):
        nll(np.zeros(3), np.zeros(3, dtype=int))
    with pytest.raises(ValueError, match="labels must be between"):
        nll(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="finite"):
        best_temperature(np.array([[np.nan, 1.0]]), np.array([0]))
    with pytest.raises(ValueError, match="bins"):
        reliability(np.full((2, 2), 0.5), np.array([0, 1]), bins=0)
