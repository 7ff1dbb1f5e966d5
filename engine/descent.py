"""Gradient descent on a loss surface with the engine's optimizers and schedules (the same
objects that train the CNN), recording the path: :func:`descend`."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

from engine.errors import N_, EngineError

__all__ = ["Descent", "GradientSource", "descend"]
from engine.surfaces import FAR, Surface


class GradientSource:
    """The gradient an optimizer sees at p: exact, or from a minibatch (least squares), plus
    optional Gaussian noise of standard deviation ``noise`` on each coordinate.

    Minibatches walk through a fresh permutation of the data each epoch, as a trainer does; the
    last batch of an epoch may be smaller. ``rng`` makes the run repeatable.
    """

    def __init__(
        self,
        surface: Surface,
        rng: np.random.Generator | None = None,
        noise: float = 0.0,
        batch: int | None = None,
    ):
        if not (math.isfinite(noise) and noise >= 0):
            raise EngineError(N_("Gradient noise must be 0 or more (got %(value)s)."), value=noise)
        self.surface = surface
        self.rng = rng if rng is not None else np.random.default_rng(0)
        self.noise = float(noise)
        n = getattr(surface, "n", None)
        self.batch = batch if (n is not None and batch is not None and batch < n) else None
        self._order: np.ndarray = np.empty(0, dtype=np.int64)
        self._pos = 0

    @property
    def stochastic(self) -> bool:
        return self.noise > 0 or self.batch is not None

    def __call__(self, p: np.ndarray) -> np.ndarray:
        x, y = float(p[0]), float(p[1])
        if self.batch is not None:
            if self._pos >= self._order.size:
                self._order = self.rng.permutation(self.surface.n)
                self._pos = 0
            index = self._order[self._pos : self._pos + self.batch]
            self._pos += self.batch
            g = self.surface.batch_gradient(x, y, index)
        else:
            gx, gy = self.surface._gradient(x, y)
            g = np.array([gx, gy], dtype=np.float64)
        if self.noise > 0:
            g = g + self.rng.normal(0.0, self.noise, 2)
        return g


@dataclass
class Descent:
    """One optimizer's path over a surface.

    ``points`` (T+1, 2) are the parameters from the start to after step T; ``values`` (T+1,) the
    surface there; ``lrs`` (T,) the learning rate the schedule gave each step. ``diverged_at`` is
    the step whose result was not finite or left the map for good (that point is not recorded),
    ``grad`` the gradient the last recorded step used (None before the first step), and
    ``optimizer`` holds the engine's state after the last recorded step.
    """

    points: np.ndarray
    values: np.ndarray
    lrs: np.ndarray
    optimizer: object
    grad: np.ndarray | None = None
    diverged_at: int | None = None
    reached_at: int | None = None  # first step within eps of a minimum (0: the start already)
    frozen_at: int | None = None  # the schedule reached a rate of 0 here: no update after it
    extra: dict = field(default_factory=dict)

    @property
    def steps(self) -> int:
        return len(self.points) - 1


def _far(surface: Surface, x: float, y: float) -> bool:
    x0, x1, y0, y1 = surface.box
    span = max(x1 - x0, y1 - y0)
    return abs(x - (x0 + x1) / 2) > FAR * span or abs(y - (y0 + y1) / 2) > FAR * span


def descend(
    surface: Surface,
    optimizer,
    schedule,
    steps: int,
    source: GradientSource | None = None,
    eps: float = 0.0,
) -> Descent:
    """Run ``steps`` updates of ``optimizer`` (an engine.optim Optimizer whose only parameter is
    the (2,) float64 point, already at the start) with ``optimizer.lr = schedule.lr_at(t)`` before
    step t, as the trainer does.

    Stops early, without a warning, when a step gives a non-finite point or value, or a point
    more than FAR box sizes away: ``diverged_at`` is that step. ``eps`` > 0 records the first
    step whose point lies within ``eps`` of a known minimum.
    """
    p = optimizer.params[0]
    if p.shape != (2,):
        raise ValueError(f"descend needs one parameter of shape (2,), got {p.shape}.")
    source = source or GradientSource(surface)
    lrs = schedule.curve(steps)  # (steps,)
    points = np.empty((steps + 1, 2))
    values = np.empty(steps + 1)
    points[0] = p
    values[0] = float(surface.value(p[0], p[1]))
    minima = [(float(mx), float(my)) for mx, my in surface.minima]
    eps2 = eps * eps

    def near(x: float, y: float) -> bool:  # plain floats: this runs at every step
        return eps > 0 and any((x - mx) ** 2 + (y - my) ** 2 <= eps2 for mx, my in minima)

    result = Descent(points, values, lrs, optimizer)
    result.reached_at = 0 if near(float(p[0]), float(p[1])) else None
    done = steps
    with np.errstate(all="ignore"):
        for t in range(steps):
            lr = float(lrs[t])
            g = source(p)
            if lr <= 0:  # a schedule that has decayed to 0: the point no longer moves
                if result.frozen_at is None:
                    result.frozen_at = t + 1
                points[t + 1], values[t + 1] = p, values[t]
                continue
            optimizer.lr = lr
            optimizer.step([g])
            x, y = float(p[0]), float(p[1])
            v = float(surface._value(np.float64(x), np.float64(y)))
            if not (math.isfinite(x) and math.isfinite(y) and math.isfinite(v)) or _far(
                surface, x, y
            ):
                result.diverged_at, done = t + 1, t
                break
            points[t + 1], values[t + 1] = p, v
            result.grad = g
            if result.reached_at is None and near(x, y):
                result.reached_at = t + 1
    result.points, result.values, result.lrs = points[: done + 1], values[: done + 1], lrs[:done]
    return result
