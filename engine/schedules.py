"""Learning-rate schedules: the learning rate to use at each training step.

Steps count from 0. Every schedule takes the peak learning rate ``lr`` and an optional linear
warm-up of ``warmup_steps``:

* during warm-up (``t < warmup_steps``) the rate climbs in equal steps to the peak:
  ``lr * (t + 1) / warmup_steps``, so step 0 already learns a little and step ``warmup_steps - 1``
  uses the full ``lr``;
* afterwards the schedule runs from its own step 0, i.e. ``decay(t - warmup_steps)``.

The decays, with ``s = t - warmup_steps``:

=============  ===============================================================
constant       ``lr``
step           ``lr * gamma ** (s // step_size)``
exponential    ``lr * gamma ** s``
inverse_time   ``lr / (1 + k * s)``
cosine         ``min_lr + (lr - min_lr) * (1 + cos(pi * s / n)) / 2`` for ``s <= n``, then
               ``min_lr``; ``n = total_steps - warmup_steps``, so the curve reaches ``min_lr`` at
               step ``total_steps`` counted from the very start (warm-up included)
=============  ===============================================================

A schedule is a frozen dataclass; call it (or ``lr_at``) with a step, or ask ``curve(n)`` for the
first ``n`` rates to draw. The trainer sets ``optimizer.lr = schedule(t)`` before step ``t``.
"""

from __future__ import annotations

import math
from dataclasses import KW_ONLY, dataclass, fields

import numpy as np

from engine.errors import N_

__all__ = [
    "SCHEDULES",
    "Constant",
    "Cosine",
    "Exponential",
    "InverseTime",
    "Schedule",
    "StepDecay",
    "make_schedule",
]

MAX_STEPS = 10_000_000  # far beyond any classroom run; catches typos like 1e12


def _number(value, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float | np.integer | np.floating):
        raise ValueError(f"{what} must be a number (got {value!r}).")
    return float(value)


def _whole(value, what: str, low: int) -> int:
    ok = not isinstance(value, bool) and isinstance(value, int | np.integer | float | np.floating)
    if not ok or not math.isfinite(float(value)) or float(value) != int(value):
        raise ValueError(f"{what} must be a whole number (got {value!r}).")
    if not low <= int(value) <= MAX_STEPS:
        raise ValueError(f"{what} must be from {low} to {MAX_STEPS:,} (got {int(value)}).")
    return int(value)


def _gamma(value) -> float:
    g = _number(value, "Gamma (the decay factor)")
    if not 0 < g <= 1:  # also rejects NaN; above 1 the rate would grow
        raise ValueError(f"Gamma (the decay factor) must be above 0 and at most 1 (got {value}).")
    return g


@dataclass(frozen=True)
class Schedule:
    """Base class: the peak rate, the warm-up, and ``decay(s)`` supplied by each subclass."""

    lr: float  # the peak learning rate, reached at the end of warm-up
    _: KW_ONLY
    warmup_steps: int = 0  # steps of linear warm-up before the decay starts (0: none)

    def __post_init__(self) -> None:
        lr = _number(self.lr, "Learning rate")
        if not (math.isfinite(lr) and lr > 0):
            raise ValueError(f"Learning rate must be a finite number > 0 (got {self.lr}).")
        object.__setattr__(self, "lr", lr)
        object.__setattr__(self, "warmup_steps", _whole(self.warmup_steps, "Warm-up steps", 0))

    def decay(self, s: int) -> float:
        """The rate ``s`` steps after warm-up ended."""
        raise NotImplementedError

    def lr_at(self, step: int) -> float:
        """The learning rate for training step ``step`` (0, 1, 2, ...)."""
        t = _whole(step, "The step", 0)
        if t < self.warmup_steps:
            return self.lr * (t + 1) / self.warmup_steps
        return self.decay(t - self.warmup_steps)

    __call__ = lr_at

    def curve(self, n: int) -> np.ndarray:
        """The rates of steps ``0 .. n-1`` as a float64 array of shape ``(n,)``, for a chart."""
        n = _whole(n, "The number of steps", 0)
        return np.array([self.lr_at(t) for t in range(n)], dtype=np.float64)


@dataclass(frozen=True)
class Constant(Schedule):
    """The same rate at every step (after any warm-up)."""

    def decay(self, s: int) -> float:
        return self.lr


@dataclass(frozen=True)
class StepDecay(Schedule):
    """Multiply the rate by ``gamma`` every ``step_size`` steps: a staircase."""

    step_size: int = 10  # steps between two drops
    gamma: float = 0.5  # factor applied at each drop

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "step_size", _whole(self.step_size, "The step size", 1))
        object.__setattr__(self, "gamma", _gamma(self.gamma))

    def decay(self, s: int) -> float:
        return self.lr * self.gamma ** (s // self.step_size)


@dataclass(frozen=True)
class Exponential(Schedule):
    """Multiply the rate by ``gamma`` at every step: a smooth exponential decay."""

    gamma: float = 0.99  # factor applied at each step

    def __post_init__(self) -> None:
        super().__post_init__()
        object.__setattr__(self, "gamma", _gamma(self.gamma))

    def decay(self, s: int) -> float:
        return self.lr * self.gamma**s


@dataclass(frozen=True)
class InverseTime(Schedule):
    """``lr / (1 + k * s)``: fast at first, then slower and slower (the classic 1/t decay)."""

    k: float = 0.01  # decay rate per step; 0 keeps the rate constant

    def __post_init__(self) -> None:
        super().__post_init__()
        k = _number(self.k, "The decay rate k")
        if not (math.isfinite(k) and k >= 0):
            raise ValueError(f"The decay rate k must be a finite number ≥ 0 (got {self.k}).")
        object.__setattr__(self, "k", k)

    def decay(self, s: int) -> float:
        return self.lr / (1 + self.k * s)


@dataclass(frozen=True)
class Cosine(Schedule):
    """Half a cosine wave from ``lr`` down to ``min_lr``, reached at step ``total_steps``."""

    total_steps: int = 100  # length of the whole run, warm-up included
    min_lr: float = 0.0  # the rate at the end, and after it

    def __post_init__(self) -> None:
        super().__post_init__()
        total = _whole(self.total_steps, "Total steps", 1)
        if total <= self.warmup_steps:
            raise ValueError(
                f"Total steps ({total}) must be more than the warm-up steps "
                f"({self.warmup_steps}), or the cosine has no room to decay."
            )
        object.__setattr__(self, "total_steps", total)
        min_lr = _number(self.min_lr, "The minimum learning rate")
        if not 0 <= min_lr <= self.lr:  # also rejects NaN
            raise ValueError(
                f"The minimum learning rate must be from 0 to the learning rate {self.lr:g} "
                f"(got {self.min_lr})."
            )
        object.__setattr__(self, "min_lr", min_lr)

    def decay(self, s: int) -> float:
        n = self.total_steps - self.warmup_steps
        if s >= n:
            return self.min_lr
        return self.min_lr + (self.lr - self.min_lr) * (1 + math.cos(math.pi * s / n)) / 2


SCHEDULES: dict[str, type[Schedule]] = {
    "constant": Constant,
    "step": StepDecay,
    "exponential": Exponential,
    "inverse_time": InverseTime,
    "cosine": Cosine,
}
# What the labs call each schedule (English msgids; the app translates them).
SCHEDULE_TITLES = {
    "constant": N_("constant"),
    "step": N_("step decay"),
    "exponential": N_("exponential"),
    "inverse_time": N_("1/t"),
    "cosine": N_("cosine"),
}


def make_schedule(name: str, lr: float, **kw) -> Schedule:
    """Build a schedule by name (a key of :data:`SCHEDULES`) with its keyword settings.

    ``make_schedule("cosine", 0.1, total_steps=500, warmup_steps=20)``.
    """
    key = name.strip().lower() if isinstance(name, str) else name
    if key not in SCHEDULES:
        raise ValueError(f"Unknown schedule {name!r}: choose one of {', '.join(SCHEDULES)}.")
    cls = SCHEDULES[key]
    allowed = [f.name for f in fields(cls) if f.name not in ("lr", "_")]
    unknown = sorted(set(kw) - set(allowed))
    if unknown:
        raise ValueError(
            f"The {key} schedule has no setting {', '.join(unknown)}: "
            f"it takes {', '.join(allowed)}."
        )
    return cls(lr, **kw)
