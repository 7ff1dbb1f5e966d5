"""engine.schedules: each decay and the warm-up against values worked out by hand."""

from __future__ import annotations

import math

import numpy as np
import pytest

from engine.optim import SGD
from engine.schedules import (
    SCHEDULES,
    Constant,
    Cosine,
    Exponential,
    InverseTime,
    StepDecay,
    make_schedule,
)


def values(schedule, n):
    return [schedule(t) for t in range(n)]


def test_constant():
    assert values(Constant(0.1), 4) == [0.1, 0.1, 0.1, 0.1]


def test_step_decay_is_a_staircase():
    s = StepDecay(0.8, step_size=3, gamma=0.5)
    assert values(s, 8) == pytest.approx([0.8, 0.8, 0.8, 0.4, 0.4, 0.4, 0.2, 0.2])


def test_exponential():
    s = Exponential(1.0, gamma=0.9)
    assert values(s, 4) == pytest.approx([1.0, 0.9, 0.81, 0.729])


def test_inverse_time():
    s = InverseTime(1.0, k=0.5)
    assert values(s, 4) == pytest.approx([1.0, 1 / 1.5, 1 / 2.0, 1 / 2.5])


def test_cosine_reaches_min_lr_at_total_steps():
    s = Cosine(1.0, total_steps=4, min_lr=0.2)
    # min + (1 - min) * (1 + cos(pi * t / 4)) / 2
    c = math.cos(math.pi / 4)  # 0.7071
    expected = [1.0, 0.2 + 0.8 * (1 + c) / 2, 0.6, 0.2 + 0.8 * (1 - c) / 2, 0.2, 0.2]
    assert values(s, 6) == pytest.approx(expected)


def test_warmup_rises_linearly_then_the_decay_starts_from_its_step_0():
    s = StepDecay(0.8, step_size=2, gamma=0.5, warmup_steps=4)
    # 0.8 * 1/4, 2/4, 3/4, 4/4, then the staircase from its own step 0.
    assert values(s, 9) == pytest.approx([0.2, 0.4, 0.6, 0.8, 0.8, 0.8, 0.4, 0.4, 0.2])
    assert values(Exponential(1.0, gamma=0.5, warmup_steps=2), 4) == pytest.approx(
        [0.5, 1.0, 1.0, 0.5]
    )


def test_cosine_with_warmup_counts_total_steps_from_the_start():
    s = Cosine(1.0, total_steps=6, warmup_steps=2)  # 2 up, then 4 steps of cosine down to 0
    expected = [0.5, 1.0, 1.0, (1 + math.cos(math.pi / 4)) / 2, 0.5]
    expected += [(1 + math.cos(3 * math.pi / 4)) / 2, 0.0, 0.0]
    assert values(s, 8) == pytest.approx(expected)


def test_curve_matches_lr_at():
    s = make_schedule("inverse_time", 0.5, k=0.1, warmup_steps=3)
    curve = s.curve(20)
    assert curve.shape == (20,) and curve.dtype == np.float64
    assert curve.tolist() == [s.lr_at(t) for t in range(20)]
    assert s.curve(0).shape == (0,)


def test_make_schedule_names_and_defaults():
    assert set(SCHEDULES) == {"constant", "step", "exponential", "inverse_time", "cosine"}
    assert make_schedule("constant", 0.1) == Constant(0.1)
    assert make_schedule("Step", 0.1) == StepDecay(0.1, step_size=10, gamma=0.5)
    assert make_schedule("exponential", 0.1).gamma == 0.99
    assert make_schedule("cosine", 0.1, total_steps=50).min_lr == 0.0
    with pytest.raises(ValueError, match="Unknown schedule 'linear'"):
        make_schedule("linear", 0.1)
    with pytest.raises(ValueError, match="The step schedule has no setting k: it takes"):
        make_schedule("step", 0.1, k=0.5)


def test_a_schedule_drives_an_optimizer():
    p = np.array([0.0])
    opt = SGD([p], lr=1.0)
    s = Exponential(1.0, gamma=0.5)
    for t in range(3):
        opt.lr = s(t)
        opt.step([np.array([1.0])])
    assert p[0] == pytest.approx(-(1 + 0.5 + 0.25))


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: Constant(0), r"Learning rate must be a finite number > 0 \(got 0\)"),
        (lambda: Constant(float("inf")), "Learning rate must be a finite number > 0"),
        (lambda: Constant(0.1, warmup_steps=-1), r"Warm-up steps must be from 0 .* \(got -1\)"),
        (lambda: Constant(0.1, warmup_steps=2.5), "Warm-up steps must be a whole number"),
        (lambda: StepDecay(0.1, step_size=0), "The step size must be from 1"),
        (lambda: StepDecay(0.1, gamma=1.5), r"Gamma .* at most 1 \(got 1.5\)"),
        (lambda: Exponential(0.1, gamma=0), "Gamma .* above 0"),
        (lambda: InverseTime(0.1, k=-1), "The decay rate k must be a finite number ≥ 0"),
        (lambda: Cosine(0.1, total_steps=5, warmup_steps=5), "must be more than the warm-up"),
        (lambda: Cosine(0.1, min_lr=0.2), "minimum learning rate must be from 0 to"),
        (lambda: Constant(0.1)(-1), r"The step must be from 0"),
        (lambda: Constant(0.1)("3"), "The step must be a whole number"),
    ],
)
def test_invalid_settings(build, message):
    with pytest.raises(ValueError, match=message):
        build()
