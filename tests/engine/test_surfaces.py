"""engine.surfaces: analytic gradients against centred differences in float64, the known minima
are minima, the least-squares surface against its closed form, and descend() against the engine
optimizers stepped by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.descent import GradientSource, descend
from engine.errors import EngineError
from engine.optim import make_optimizer
from engine.schedules import make_schedule
from engine.surfaces import SURFACES, LeastSquares, line_data, make_surface
from tests.engine.gradcheck import rel_error

CASES = [(name, {}) for name in SURFACES] + [
    ("bowl", {"kappa": 1.0, "angle": 0.0}),
    ("bowl", {"kappa": 250.0, "angle": -75.0}),
]


def fd_gradient(surface, x, y, h=1e-6):
    """Centred differences, one coordinate at a time, at arrays of points."""
    gx = (surface.value(x + h, y) - surface.value(x - h, y)) / (2 * h)
    gy = (surface.value(x, y + h) - surface.value(x, y - h)) / (2 * h)
    return gx, gy


@pytest.mark.parametrize(("name", "kw"), CASES)
def test_gradient_matches_finite_differences(name, kw):
    surface = make_surface(name, **kw)
    x0, x1, y0, y1 = surface.box
    rng = np.random.default_rng(1)
    x = rng.uniform(x0, x1, 200)
    y = rng.uniform(y0, y1, 200)
    gx, gy = surface.gradient(x, y)
    nx, ny = fd_gradient(surface, x, y)
    # Relative error with an absolute floor scaled to the surface (values up to ~1e5).
    scale = max(1.0, float(np.abs(surface.value(x, y)).max()))
    for analytic, numeric in ((gx, nx), (gy, ny)):
        err = np.abs(analytic - numeric) / np.maximum(np.abs(analytic) + np.abs(numeric), 1e-3)
        assert err.max() < 1e-6 * max(1.0, scale / 100), (name, err.max())
    assert rel_error(np.stack([gx, gy]), np.stack([nx, ny])) < 1e-5


@pytest.mark.parametrize(("name", "kw"), CASES)
def test_known_minima_are_minima(name, kw):
    surface = make_surface(name, **kw)
    if not surface.minima:
        assert surface.min_value is None
        return
    for mx, my in surface.minima:
        assert surface.contains(mx, my)
        assert surface.value(mx, my) == pytest.approx(surface.min_value, abs=1e-12)
        gx, gy = surface.gradient(mx, my)
        assert math.hypot(gx, gy) < 1e-7
        # A ring of nearby points is higher.
        angles = np.linspace(0, 2 * np.pi, 24, endpoint=False)
        for r in (1e-3, 1e-2):
            ring = surface.value(mx + r * np.cos(angles), my + r * np.sin(angles))
            assert (ring > surface.min_value).all()
    # Global: nothing on a fine grid over the view box is lower.
    _, _, values = surface.grid(401, 401)
    assert values.min() >= surface.min_value - 1e-12


def test_hand_values():
    assert make_surface("rosenbrock").value(-1.2, 1.0) == pytest.approx(24.2)
    assert make_surface("beale").value(0.0, 0.0) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2)
    assert make_surface("himmelblau").value(0.0, 0.0) == pytest.approx(121 + 49)
    assert make_surface("saddle").value(1.0, 2.0) == -3.0
    assert make_surface("rastrigin").value(0.5, 0.0) == pytest.approx(20 + 0.25 + 10 - 10)
    # Bowl, no rotation: ½(x² + κy²)
    assert make_surface("bowl", kappa=4, angle=0).value(1.0, 1.0) == pytest.approx(2.5)
    # Rotated by 90°: the steep axis is now x.
    assert make_surface("bowl", kappa=4, angle=90).value(1.0, 0.0) == pytest.approx(2.0)


def test_bowl_condition_number_is_the_hessian_ratio():
    bowl = make_surface("bowl", kappa=37, angle=20)
    eig = np.linalg.eigvalsh(bowl.matrix)
    assert eig.max() / eig.min() == pytest.approx(37)


def test_least_squares_minimum_is_the_closed_form():
    x, y = line_data()
    surface = LeastSquares(x, y)
    design = np.stack([x, np.ones_like(x)], axis=1)
    (w, b), *_ = np.linalg.lstsq(design, y, rcond=None)
    assert surface.minima[0] == pytest.approx((w, b), abs=1e-12)
    assert surface.min_value == pytest.approx(np.mean((design @ [w, b] - y) ** 2))
    # The moment form equals the direct mean of squared residuals.
    ws, bs = np.meshgrid(np.linspace(-1, 4, 7), np.linspace(-2, 2, 5))
    direct = ((ws[..., None] * x + bs[..., None] - y) ** 2).mean(axis=-1)
    np.testing.assert_allclose(surface.value(ws, bs), direct, rtol=1e-10, atol=1e-12)


def test_full_batch_gradient_equals_the_exact_gradient():
    surface = make_surface("least_squares")
    g = surface.batch_gradient(0.3, -1.0, np.arange(surface.n))
    assert g == pytest.approx(surface.gradient(0.3, -1.0), rel=1e-12)


def test_minibatches_are_genuine_and_average_to_the_full_gradient():
    surface = make_surface("least_squares")
    source = GradientSource(surface, np.random.default_rng(3), batch=8)
    p = np.array([0.3, -1.0])
    n_batches = surface.n // 8
    grads = np.array([source(p) for _ in range(n_batches)])
    assert np.ptp(grads[:, 0]) > 0.1  # the minibatches disagree: real noise
    # One epoch of equal batches covers every point once: the mean is the full gradient.
    assert grads.mean(axis=0) == pytest.approx(surface.gradient(*p), rel=1e-12)


def test_noise_is_seeded():
    surface = make_surface("rosenbrock")
    a = GradientSource(surface, np.random.default_rng(5), noise=2.0)
    b = GradientSource(surface, np.random.default_rng(5), noise=2.0)
    p = np.array([0.0, 0.0])
    assert (a(p) == b(p)).all()
    assert not (a(p) == np.array(surface.gradient(0.0, 0.0))).all()


@pytest.mark.parametrize("name", ["sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"])
def test_descend_follows_the_engine_optimizer_by_hand(name):
    surface = make_surface("rosenbrock")
    p = np.array([-1.2, 1.0])
    opt = make_optimizer(name, [p], 1e-3)
    schedule = make_schedule("exponential", 1e-3, gamma=0.99)
    path = descend(surface, opt, schedule, 50)
    # The same steps, by hand.
    q = np.array([-1.2, 1.0])
    ref = make_optimizer(name, [q], 1e-3)
    expected = [q.copy()]
    for t in range(50):
        ref.lr = 1e-3 * 0.99**t
        ref.step([np.array(surface.gradient(q[0], q[1]))])
        expected.append(q.copy())
    np.testing.assert_array_equal(path.points, np.array(expected))
    assert path.values[-1] == surface.value(*expected[-1])
    assert path.diverged_at is None and path.steps == 50


def test_descend_stops_at_divergence_without_warnings():
    surface = make_surface("rosenbrock")
    p = np.array([-1.2, 1.0])
    with np.errstate(all="raise"):
        path = descend(
            surface, make_optimizer("sgd", [p], 0.1), make_schedule("constant", 0.1), 500
        )
    assert path.diverged_at is not None and path.diverged_at < 20
    assert path.steps == path.diverged_at - 1
    assert np.isfinite(path.points).all() and np.isfinite(path.values).all()


def test_descend_reaches_the_minimum_and_counts_steps():
    surface = make_surface("bowl", kappa=1, angle=0)
    p = np.array([2.0, 0.0])
    path = descend(
        surface, make_optimizer("sgd", [p], 0.5), make_schedule("constant", 0.5), 10, eps=0.1
    )
    # GD with lr 0.5 on ½x²: x halves each step, 2 → 1 → 0.5 → 0.25 → 0.125 → 0.0625.
    assert path.points[:3, 0].tolist() == [2.0, 1.0, 0.5]
    assert path.reached_at == 5


def test_cosine_that_reaches_zero_freezes_the_point():
    surface = make_surface("bowl")
    p = np.array([2.0, 1.0])
    schedule = make_schedule("cosine", 0.05, total_steps=10)
    path = descend(surface, make_optimizer("adam", [p], 0.05), schedule, 15)
    assert path.frozen_at == 11
    assert (path.points[10:] == path.points[10]).all()


@pytest.mark.parametrize(
    ("name", "kw", "message"),
    [
        ("nope", {}, "Unknown surface"),
        ("bowl", {"kappa": 0.5}, "condition number"),
        ("bowl", {"kappa": float("nan")}, "condition number"),
        ("bowl", {"angle": 400.0}, "rotation"),
        ("least_squares", {"x": [1.0], "y": [2.0]}, "at least two"),
        ("least_squares", {"x": [1.0, 1.0], "y": [2.0, 3.0]}, "All x values are equal"),
    ],
)
def test_bad_surfaces_are_refused(name, kw, message):
    with pytest.raises(EngineError, match=message):
        make_surface(name, **kw)
