"""engine.optim: three steps of each rule against updates worked out by hand, state, validation.

Gradients are chosen so the square roots come out round where possible; every expected value is
written as the arithmetic a student would do on paper.
"""

from __future__ import annotations

import math
import warnings

import numpy as np
import pytest

from engine.optim import OPTIMIZERS, SGD, Adagrad, Adam, RMSprop, make_optimizer

EPS8 = 1e-8


def run(opt, p, grads):
    """Step through ``grads`` and return the parameter after each step."""
    out = []
    for g in grads:
        opt.step([np.array(g, dtype=np.float64)])
        out.append(p.copy())
    return out


def close(actual, expected):
    np.testing.assert_allclose(actual, np.array(expected, dtype=np.float64), rtol=1e-12, atol=1e-15)


# Three gradients for a parameter starting at [1, -2].
G = [[0.5, 1.0], [-1.0, 0.0], [2.0, -0.5]]


def test_sgd_plain_three_steps():
    p = np.array([1.0, -2.0])
    steps = run(SGD([p], lr=0.1), p, G)
    close(steps[0], [1 - 0.1 * 0.5, -2 - 0.1 * 1.0])  # [0.95, -2.1]
    close(steps[1], [0.95 + 0.1 * 1.0, -2.1])  # [1.05, -2.1]
    close(steps[2], [1.05 - 0.1 * 2.0, -2.1 + 0.1 * 0.5])  # [0.85, -2.05]


def test_sgd_momentum_three_steps_and_velocity():
    p = np.array([1.0, -2.0])
    opt = SGD([p], lr=0.1, momentum=0.9)
    steps = run(opt, p, G[:1])
    close(opt.state[0]["velocity"], [0.5, 1.0])  # first step: velocity = g, not 0.1 * g
    close(steps[0], [0.95, -2.1])
    steps += run(opt, p, G[1:2])
    close(opt.state[0]["velocity"], [0.9 * 0.5 - 1.0, 0.9 * 1.0 + 0.0])  # [-0.55, 0.9]
    close(steps[1], [0.95 + 0.1 * 0.55, -2.1 - 0.1 * 0.9])  # [1.005, -2.19]
    steps += run(opt, p, G[2:])
    close(opt.state[0]["velocity"], [0.9 * -0.55 + 2.0, 0.9 * 0.9 - 0.5])  # [1.505, 0.31]
    close(steps[2], [1.005 - 0.1 * 1.505, -2.19 - 0.1 * 0.31])  # [0.8545, -2.221]
    close(opt.last_update[0], [-0.1505, -0.031])
    close(opt.effective_lr[0], [0.1, 0.1])


def test_sgd_nesterov_three_steps():
    p = np.array([1.0, -2.0])
    steps = run(SGD([p], lr=0.1, momentum=0.9, nesterov=True), p, G)
    # direction = g + 0.9 * velocity, with the velocities of the momentum test.
    close(steps[0], [1 - 0.1 * (0.5 + 0.9 * 0.5), -2 - 0.1 * (1.0 + 0.9 * 1.0)])  # [0.905, -2.19]
    close(steps[1], [0.905 - 0.1 * (-1.0 + 0.9 * -0.55), -2.19 - 0.1 * (0.0 + 0.9 * 0.9)])
    close(steps[2], [1.0545 - 0.1 * (2.0 + 0.9 * 1.505), -2.271 - 0.1 * (-0.5 + 0.9 * 0.31)])
    close(steps[2], [0.71905, -2.2489])


def test_sgd_weight_decay_adds_wd_times_p_to_the_gradient():
    p = np.array([1.0, -2.0])
    g = np.array([0.5, 1.0])
    steps = run(SGD([p], lr=0.1, weight_decay=0.1), p, [g, g])
    close(steps[0], [1 - 0.1 * (0.5 + 0.1 * 1), -2 - 0.1 * (1.0 + 0.1 * -2)])  # [0.94, -2.08]
    close(steps[1], [0.94 - 0.1 * (0.5 + 0.094), -2.08 - 0.1 * (1.0 - 0.208)])
    close(g, [0.5, 1.0])  # the caller's gradient is left alone


def test_adagrad_three_steps():
    p = np.array([1.0, -2.0])
    opt = Adagrad([p], lr=0.1)
    eps = 1e-10  # the default
    steps = run(opt, p, [[3.0, 4.0]])
    close(opt.state[0]["sum_sq"], [9.0, 16.0])
    close(steps[0], [1 - 0.1 * 3 / (3 + eps), -2 - 0.1 * 4 / (4 + eps)])  # [0.9, -2.1]
    steps += run(opt, p, [[4.0, 3.0]])
    close(opt.state[0]["sum_sq"], [25.0, 25.0])
    p1 = steps[0]  # [0.9, -2.1] give or take eps
    close(steps[1], [p1[0] - 0.1 * 4 / (5 + eps), p1[1] - 0.1 * 3 / (5 + eps)])  # [0.82, -2.16]
    steps += run(opt, p, [[12.0, 0.0]])
    close(opt.state[0]["sum_sq"], [169.0, 25.0])
    close(steps[2], [steps[1][0] - 0.1 * 12 / (13 + eps), steps[1][1]])
    close(opt.effective_lr[0], [0.1 / (13 + eps), 0.1 / (5 + eps)])


def test_adagrad_lr_decay_and_initial_accumulator():
    p = np.array([0.0])
    opt = Adagrad([p], lr=1.0, eps=1e-10, lr_decay=0.5, initial_accumulator_value=16.0)
    run(opt, p, [[3.0], [0.0], [5.0]])
    # clr = 1 / (1 + (t - 1) * 0.5): 1, 2/3, 1/2; sum_sq: 16 + 9 = 25, 25, 50.
    expected = 0 - 1.0 * 3 / (5 + 1e-10) - 0.0 - 0.5 * 5 / (math.sqrt(50) + 1e-10)
    close(p, [expected])


def test_rmsprop_three_steps():
    p = np.array([1.0, -2.0])
    opt = RMSprop([p], lr=0.1, alpha=0.5)
    steps = run(opt, p, [[2.0, -4.0]])
    close(opt.state[0]["square_avg"], [0.5 * 4, 0.5 * 16])  # [2, 8]
    close(steps[0], [1 - 0.1 * 2 / (math.sqrt(2) + EPS8), -2 + 0.1 * 4 / (math.sqrt(8) + EPS8)])
    p1 = steps[0].copy()
    steps += run(opt, p, [[0.0, 4.0]])
    close(opt.state[0]["square_avg"], [0.5 * 2 + 0, 0.5 * 8 + 0.5 * 16])  # [1, 12]
    close(steps[1], [p1[0], p1[1] - 0.1 * 4 / (math.sqrt(12) + EPS8)])
    p2 = steps[1].copy()
    steps += run(opt, p, [[1.0, 0.0]])
    close(opt.state[0]["square_avg"], [0.5 * 1 + 0.5 * 1, 0.5 * 12])  # [1, 6]
    close(steps[2], [p2[0] - 0.1 * 1 / (1 + EPS8), p2[1]])
    close(opt.effective_lr[0], [0.1 / (1 + EPS8), 0.1 / (math.sqrt(6) + EPS8)])


def test_rmsprop_defaults_match_pytorch():
    opt = RMSprop([np.zeros(1)])
    assert (opt.lr, opt.alpha, opt.eps, opt.momentum) == (0.01, 0.99, 1e-8, 0.0)


def test_adam_three_steps_with_bias_correction():
    p = np.array([1.0, -2.0])
    opt = Adam([p], lr=0.1)
    steps = run(opt, p, [[1.0, -2.0]])
    st = opt.state[0]
    close(st["m"], [0.1, -0.2])
    close(st["v"], [0.001, 0.004])
    close(st["m_hat"], [1.0, -2.0])  # 0.1 / (1 - 0.9)
    close(st["v_hat"], [1.0, 4.0])  # 0.001 / (1 - 0.999)
    close(steps[0], [1 - 0.1 * 1 / (1 + EPS8), -2 + 0.1 * 2 / (2 + EPS8)])  # ≈ [0.9, -1.9]

    steps += run(opt, p, [[0.5, 0.0]])
    close(st["m"], [0.9 * 0.1 + 0.1 * 0.5, 0.9 * -0.2])  # [0.14, -0.18]
    close(st["v"], [0.999 * 0.001 + 0.001 * 0.25, 0.999 * 0.004])  # [0.001249, 0.003996]
    bc1, bc2 = 1 - 0.9**2, 1 - 0.999**2  # 0.19, 0.001999
    m_hat = np.array([0.14, -0.18]) / bc1
    v_hat = np.array([0.001249, 0.003996]) / bc2
    close(st["m_hat"], m_hat)
    close(st["v_hat"], v_hat)
    close(steps[1], steps[0] - 0.1 * m_hat / (np.sqrt(v_hat) + EPS8))

    steps += run(opt, p, [[-1.0, 1.0]])
    m = [0.9 * 0.14 - 0.1, 0.9 * -0.18 + 0.1]  # [0.026, -0.062]
    v = [0.999 * 0.001249 + 0.001, 0.999 * 0.003996 + 0.001]  # [0.002247751, 0.004992004]
    close(st["m"], [0.026, -0.062])
    close(st["v"], [0.002247751, 0.004992004])
    bc1, bc2 = 1 - 0.9**3, 1 - 0.999**3  # 0.271, 0.002997001
    m_hat, v_hat = np.array(m) / bc1, np.array(v) / bc2
    close(steps[2], steps[1] - 0.1 * m_hat / (np.sqrt(v_hat) + EPS8))
    close(opt.last_update[0], steps[2] - steps[1])
    close(opt.effective_lr[0], 0.1 / (np.sqrt(v_hat) + EPS8))
    assert opt.t == 3


@pytest.mark.parametrize("weight_decay", [0.0, 0.01])
@pytest.mark.parametrize("dtypes", [(np.float32,) * 3, (np.float32, np.float64, np.float32)])
def test_adam_rounds_as_pytorchs_formulas_step_after_step(weight_decay, dtypes):
    """The in-place update rounds exactly as the written-out expressions, over many steps, for
    several parameters at once (one dtype: flat arrays; mixed: one parameter at a time)."""
    rng = np.random.default_rng(0)
    shapes = [(4, 5), (3,), (2, 1, 3)]
    pairs = zip(shapes, dtypes, strict=True)
    ps = [rng.standard_normal(shape).astype(dtype) for shape, dtype in pairs]
    mine = [p.copy() for p in ps]
    opt = Adam(mine, lr=0.01, weight_decay=weight_decay)
    ms, vs = [np.zeros_like(p) for p in ps], [np.zeros_like(p) for p in ps]
    b1, b2 = 0.9, 0.999
    for t in range(1, 26):
        gs = [rng.standard_normal(p.shape).astype(p.dtype) for p in ps]
        opt.step(gs)
        bc1, bc2 = 1 - b1**t, 1 - b2**t
        for i, (p, g) in enumerate(zip(ps, gs, strict=True)):
            g = g + weight_decay * p if weight_decay else g
            ms[i] = ms[i] + (1 - b1) * (g - ms[i])
            vs[i] = vs[i] * b2 + (1 - b2) * g * g
            denom = np.sqrt(vs[i]) / bc2**0.5 + 1e-8
            update = (-(0.01 / bc1) * ms[i]) / denom
            ps[i] = p + update
            np.testing.assert_array_equal(mine[i], ps[i])
            np.testing.assert_array_equal(opt.last_update[i], update)
            np.testing.assert_array_equal(opt.effective_lr[i], 0.01 / denom)
            np.testing.assert_array_equal(opt.state[i]["m"], ms[i])
            np.testing.assert_array_equal(opt.state[i]["m_hat"], ms[i] / bc1)
            np.testing.assert_array_equal(opt.state[i]["v_hat"], vs[i] / bc2)
    assert [p.dtype for p in mine] == list(dtypes)
    opt.zero_state()  # and the state starts again from nothing
    assert opt.t == 0 and all(not s["m"].any() and not s["v"].any() for s in opt.state)


def test_adam_without_bias_correction_takes_the_raw_averages():
    p = np.array([1.0, -2.0])
    opt = Adam([p], lr=0.1, bias_correction=False)
    steps = run(opt, p, [[1.0, -2.0], [0.5, 0.0]])
    # No correction: the first step divides m = 0.1 by sqrt(v) = sqrt(0.001), about 3.16, not 1.
    close(
        steps[0],
        [1 - 0.1 * 0.1 / (math.sqrt(0.001) + EPS8), -2 + 0.1 * 0.2 / (math.sqrt(0.004) + EPS8)],
    )
    close(opt.state[0]["m_hat"], [0.14, -0.18])
    close(opt.state[0]["v_hat"], [0.001249, 0.003996])
    close(
        steps[1],
        steps[0] - 0.1 * np.array([0.14, -0.18]) / (np.sqrt([0.001249, 0.003996]) + EPS8),
    )


def test_update_is_in_place_on_the_same_arrays():
    w = np.ones((2, 3))
    b = np.zeros(3)
    opt = make_optimizer("adam", [w, b], lr=0.01)
    opt.step([np.ones((2, 3)), -np.ones(3)])
    assert opt.params[0] is w and opt.params[1] is b
    assert np.all(w < 1) and np.all(b > 0)


def test_float32_parameters_stay_float32():
    p = np.ones(4, dtype=np.float32)
    for name in OPTIMIZERS:
        make_optimizer(name, [p], lr=0.01).step([np.ones(4)])
        assert p.dtype == np.float32


def test_lr_can_be_changed_between_steps():
    p = np.array([0.0])
    opt = SGD([p], lr=0.1)
    opt.step([np.array([1.0])])
    opt.lr = 0.01
    opt.step([np.array([1.0])])
    close(p, [-0.1 - 0.01])
    with pytest.raises(ValueError, match="Learning rate must be a finite number > 0"):
        opt.lr = -1


def test_zero_state_forgets_everything():
    p = np.array([1.0, -2.0])
    opt = Adam([p], lr=0.1)
    opt.step([np.array([1.0, 1.0])])
    opt.zero_state()
    assert opt.t == 0
    assert all(not np.any(a) for a in opt.state[0].values())
    assert not np.any(opt.last_update[0]) and not np.any(opt.effective_lr[0])
    opt.step([np.array([0.5, -0.5])])
    opt.reset()  # the same thing under its other name
    opt.step([np.array([0.5, -0.5])])
    # A first step again: m_hat = g, v_hat = g², so each coordinate moves by about lr.
    close(opt.last_update[0], [-0.1 * 0.5 / (0.5 + EPS8), 0.1 * 0.5 / (0.5 + EPS8)])


def test_state_keys_per_rule():
    p = [np.zeros(2)]
    assert SGD(p, lr=0.1).state[0] == {}
    assert set(SGD(p, lr=0.1, momentum=0.5).state[0]) == {"velocity"}
    assert set(Adagrad(p).state[0]) == {"sum_sq"}
    assert set(RMSprop(p).state[0]) == {"square_avg"}
    assert set(RMSprop(p, momentum=0.5).state[0]) == {"square_avg", "velocity"}
    assert set(Adam(p).state[0]) == {"m", "v", "m_hat", "v_hat"}


def test_non_finite_gradients_are_applied_without_error_or_warning():
    for name in OPTIMIZERS:
        p = np.array([1.0, 2.0, 3.0])
        opt = make_optimizer(name, [p], lr=0.1)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            opt.step([np.array([np.nan, np.inf, 1.0])])
        assert np.isnan(p[0]) and not np.isfinite(p[1]), name


def test_make_optimizer_names():
    p = [np.zeros(1)]
    assert make_optimizer("sgd", p, 0.1).momentum == 0
    assert make_optimizer("momentum", p, 0.1).momentum == 0.9
    nesterov = make_optimizer("nesterov", p, 0.1)
    assert nesterov.nesterov and nesterov.momentum == 0.9
    assert isinstance(make_optimizer("Adagrad", p, 0.1), Adagrad)
    assert isinstance(make_optimizer("rmsprop", p, 0.1, alpha=0.9), RMSprop)
    adam = make_optimizer("adam", p, 0.1, betas=(0.8, 0.99))
    assert adam.betas == (0.8, 0.99) and adam.eps == 1e-8
    with pytest.raises(ValueError, match="Unknown optimizer 'lion'"):
        make_optimizer("lion", p, 0.1)
    with pytest.raises(ValueError, match="does not accept"):
        make_optimizer("adagrad", p, 0.1, momentum=0.9)


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda p: SGD(p, lr=-1), r"Learning rate must be a finite number > 0 \(got -1\)"),
        (lambda p: SGD(p, lr=float("nan")), "Learning rate must be a finite number > 0"),
        (lambda p: SGD(p, lr="fast"), "Learning rate must be a number"),
        (lambda p: SGD(p, lr=0.1, momentum=1.0), r"Momentum must be .* 1 \(got 1.0\)"),
        (lambda p: SGD(p, lr=0.1, momentum=-0.1), "Momentum must be"),
        (lambda p: SGD(p, lr=0.1, nesterov=True), "Nesterov momentum needs a momentum above 0"),
        (lambda p: SGD(p, lr=0.1, weight_decay=-1), "Weight decay must be"),
        (lambda p: Adagrad(p, eps=0), r"Epsilon must be a finite number > 0 \(got 0\)"),
        (lambda p: RMSprop(p, alpha=1), "Alpha"),
        (lambda p: Adam(p, betas=(0.9, 1.0)), "Beta2 must be"),
        (lambda p: Adam(p, betas=(1.5, 0.9)), "Beta1 must be"),
        (lambda p: Adam(p, betas=0.9), "Betas must be a pair"),
        (lambda p: Adam(p, eps=-1e-8), "Epsilon must be"),
    ],
)
def test_invalid_settings(build, message):
    with pytest.raises(ValueError, match=message):
        build([np.zeros(2)])


def test_invalid_parameters():
    with pytest.raises(ValueError, match="list of NumPy arrays"):
        SGD(np.zeros(3), lr=0.1)
    with pytest.raises(ValueError, match="at least one parameter"):
        SGD([], lr=0.1)
    with pytest.raises(ValueError, match="Parameter 1 must be a NumPy array of floats"):
        SGD([np.zeros(2), np.zeros(2, dtype=int)], lr=0.1)
    frozen = np.zeros(2)
    frozen.flags.writeable = False
    with pytest.raises(ValueError, match="Parameter 0 is read-only"):
        SGD([frozen], lr=0.1)


def test_gradients_must_match_parameters():
    opt = Adam([np.zeros((2, 3)), np.zeros(3)])
    with pytest.raises(ValueError, match="Got 1 gradients for 2 parameters"):
        opt.step([np.zeros((2, 3))])
    with pytest.raises(
        ValueError,
        match=r"gradient for parameter 1 has shape \(4,\), but the parameter has shape \(3,\)",
    ):
        opt.step([np.zeros((2, 3)), np.zeros(4)])
    assert opt.t == 0  # a refused step changes nothing
