"""Loss surfaces of two parameters, and gradient descent on them with the engine's optimizers.

Each :class:`Surface` has its value, its analytic gradient, its known minima and a view box:

================  =============================================================  ===============
name              f(x, y)                                                         minimum
================  =============================================================  ===============
bowl              ½ (x'² + κ·y'²), (x', y') = (x, y) rotated by −θ                0 at (0, 0)
rosenbrock        (1 − x)² + 100 (y − x²)²                                        0 at (1, 1)
beale             (1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²        0 at (3, 0.5)
himmelblau        (x² + y − 11)² + (x + y² − 7)²                                  0 at four points
saddle            x² − y²                                                         none (unbounded)
camel             (4 − 2.1x² + x⁴/3) x² + xy + (−4 + 4y²) y²  (six-hump camel)    −1.0316 at two
rastrigin         20 + x² − 10 cos 2πx + y² − 10 cos 2πy                         0 at (0, 0)
least_squares     mean over the data of (w·xᵢ + b − yᵢ)², axes (w, b)            closed form
================  =============================================================  ===============

``value(x, y)`` and ``gradient(x, y)`` broadcast, so the same code draws a (H, W) grid and steps
one point. The least-squares surface also gives minibatch gradients (``batch_gradient``): its
stochastic gradients are those of a real fit, not a simulated noise.

:func:`engine.descent.descend` runs one optimizer from :mod:`engine.optim` with a schedule from
:mod:`engine.schedules` on a surface — the same objects that train the CNN — and records the path.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.errors import N_, EngineError

__all__ = [
    "SURFACES",
    "LeastSquares",
    "Surface",
    "line_data",
    "make_surface",
]

SURFACES = (
    "bowl",
    "rosenbrock",
    "beale",
    "himmelblau",
    "saddle",
    "camel",
    "rastrigin",
    "least_squares",
)

# A path this far outside its view box (in box sizes) has left for good: it counts as diverged.
FAR = 10.0


@dataclass(frozen=True, eq=False)
class Surface:
    """A function of two parameters with its gradient; subclasses supply ``_value``/``_gradient``.

    ``box`` is ``(x_min, x_max, y_min, y_max)``; ``minima`` lists the known global minima (empty
    when the surface is unbounded below) and ``min_value`` their value (None when there is none).
    """

    name: str
    formula: str  # plain text, shown on the page
    box: tuple[float, float, float, float]
    minima: tuple[tuple[float, float], ...]
    min_value: float | None
    start: tuple[float, float]  # a start that shows the surface's character
    log_scale: bool  # colour by log(f − f_min): values span many decades
    axes: tuple[str, str] = ("x", "y")

    def value(self, x, y) -> np.ndarray:
        """f at the points (x, y); any broadcastable shapes, float64 out."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        return self._value(x, y)

    def gradient(self, x, y) -> tuple[np.ndarray, np.ndarray]:
        """(∂f/∂x, ∂f/∂y) at the points (x, y), same broadcasting as ``value``."""
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        return self._gradient(x, y)

    def _value(self, x, y):
        raise NotImplementedError

    def _gradient(self, x, y):
        raise NotImplementedError

    def contains(self, x: float, y: float) -> bool:
        x0, x1, y0, y1 = self.box
        return x0 <= x <= x1 and y0 <= y <= y1

    def grid(self, width: int, height: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values on a (height, width) grid of pixel centres over the box, the first row at the
        top (largest y), as an image is drawn. Returns (xs (W,), ys (H,), values (H, W))."""
        x0, x1, y0, y1 = self.box
        xs = x0 + (np.arange(width) + 0.5) * (x1 - x0) / width
        ys = y1 - (np.arange(height) + 0.5) * (y1 - y0) / height
        return xs, ys, self.value(xs[None, :], ys[:, None])

    def nearest_minimum(self, x: float, y: float) -> tuple[float, float] | None:
        if not self.minima:
            return None
        return min(self.minima, key=lambda m: (m[0] - x) ** 2 + (m[1] - y) ** 2)


class Bowl(Surface):
    """½ pᵀAp with A = R diag(1, κ) Rᵀ: κ is the condition number, R rotates by θ."""

    def __init__(self, kappa: float = 10.0, angle: float = 30.0):
        if not (math.isfinite(kappa) and 1 <= kappa <= 1000):
            raise EngineError(
                N_("The condition number must be between 1 and 1000 (got %(value)s)."),
                value=kappa,
            )
        if not (math.isfinite(angle) and -180 <= angle <= 180):
            raise EngineError(
                N_("The rotation must be between −180° and 180° (got %(value)s)."), value=angle
            )
        super().__init__(
            "bowl",
            f"½(x′² + {kappa:g}·y′²), rotated {angle:g}°",
            (-3.0, 3.0, -3.0, 3.0),
            ((0.0, 0.0),),
            0.0,
            (-2.5, 2.0),
            kappa >= 30,
        )
        theta = math.radians(angle)
        c, s = math.cos(theta), math.sin(theta)
        object.__setattr__(self, "kappa", float(kappa))
        object.__setattr__(self, "angle", float(angle))
        # A = R diag(1, κ) Rᵀ, R = [[c, −s], [s, c]]
        a = np.array([[c, -s], [s, c]]) @ np.diag([1.0, kappa]) @ np.array([[c, s], [-s, c]])
        object.__setattr__(self, "matrix", a)

    def _value(self, x, y):
        a = self.matrix
        return 0.5 * (a[0, 0] * x * x + 2 * a[0, 1] * x * y + a[1, 1] * y * y)

    def _gradient(self, x, y):
        a = self.matrix
        return a[0, 0] * x + a[0, 1] * y, a[1, 0] * x + a[1, 1] * y


class Rosenbrock(Surface):
    def __init__(self):
        super().__init__(
            "rosenbrock", "(1 − x)² + 100(y − x²)²", (-2.0, 2.0, -1.0, 3.0),
            ((1.0, 1.0),), 0.0, (-1.2, 1.0), True,
        )  # fmt: skip

    def _value(self, x, y):
        return (1 - x) ** 2 + 100 * (y - x * x) ** 2

    def _gradient(self, x, y):
        r = y - x * x
        return -2 * (1 - x) - 400 * x * r, 200 * r


class Beale(Surface):
    def __init__(self):
        super().__init__(
            "beale", "(1.5 − x + xy)² + (2.25 − x + xy²)² + (2.625 − x + xy³)²",
            (-4.5, 4.5, -4.5, 4.5), ((3.0, 0.5),), 0.0, (1.0, 1.5), True,
        )  # fmt: skip

    def _terms(self, x, y):
        return 1.5 - x + x * y, 2.25 - x + x * y * y, 2.625 - x + x * y**3

    def _value(self, x, y):
        a, b, c = self._terms(x, y)
        return a * a + b * b + c * c

    def _gradient(self, x, y):
        a, b, c = self._terms(x, y)
        gx = 2 * a * (y - 1) + 2 * b * (y * y - 1) + 2 * c * (y**3 - 1)
        gy = 2 * a * x + 2 * b * 2 * x * y + 2 * c * 3 * x * y * y
        return gx, gy


class Himmelblau(Surface):
    def __init__(self):
        minima = (
            (3.0, 2.0),
            (-2.805118086952745, 3.131312518250573),
            (-3.779310253377747, -3.283185991286169),
            (3.5844283403304917, -1.8481265269644034),
        )
        super().__init__(
            "himmelblau", "(x² + y − 11)² + (x + y² − 7)²", (-5.0, 5.0, -5.0, 5.0),
            minima, 0.0, (0.0, 0.0), True,
        )  # fmt: skip

    def _value(self, x, y):
        return (x * x + y - 11) ** 2 + (x + y * y - 7) ** 2

    def _gradient(self, x, y):
        a, b = x * x + y - 11, x + y * y - 7
        return 4 * x * a + 2 * b, 2 * a + 4 * y * b


class Saddle(Surface):
    def __init__(self):
        super().__init__("saddle", "x² − y²", (-2.0, 2.0, -2.0, 2.0), (), None, (-1.8, 0.05), False)

    def _value(self, x, y):
        return x * x - y * y

    def _gradient(self, x, y):
        return 2 * x, -2 * y


class Camel(Surface):
    def __init__(self):
        m = (0.08984201310031807, -0.7126564030207396)
        super().__init__(
            "camel", "(4 − 2.1x² + x⁴/3)x² + xy + (−4 + 4y²)y²", (-2.0, 2.0, -1.2, 1.2),
            (m, (-m[0], -m[1])), -1.0316284534898774, (-1.5, 1.0), False,
        )  # fmt: skip

    def _value(self, x, y):
        x2, y2 = x * x, y * y
        return (4 - 2.1 * x2 + x2 * x2 / 3) * x2 + x * y + (-4 + 4 * y2) * y2

    def _gradient(self, x, y):
        return 8 * x - 8.4 * x**3 + 2 * x**5 + y, x - 8 * y + 16 * y**3


class Rastrigin(Surface):
    def __init__(self):
        super().__init__(
            "rastrigin", "20 + x² − 10 cos 2πx + y² − 10 cos 2πy", (-5.12, 5.12, -5.12, 5.12),
            ((0.0, 0.0),), 0.0, (3.2, 2.3), False,
        )  # fmt: skip

    def _value(self, x, y):
        tau = 2 * np.pi
        return 20 + x * x - 10 * np.cos(tau * x) + y * y - 10 * np.cos(tau * y)

    def _gradient(self, x, y):
        tau = 2 * np.pi
        return 2 * x + 10 * tau * np.sin(tau * x), 2 * y + 10 * tau * np.sin(tau * y)


def line_data(n: int = 40, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    """The bundled dataset: ``n`` points ``(x, y)``, x uniform on [0, 4] and
    y = 1.5·x + 0.5 + Gaussian noise (σ = 0.6), drawn once from a fixed seed. Shapes (n,), (n,)."""
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(0.0, 4.0, n))
    y = 1.5 * x + 0.5 + rng.normal(0.0, 0.6, n)
    return x, y


class LeastSquares(Surface):
    """Fitting y ≈ w·x + b to data: f(w, b) = mean((w·xᵢ + b − yᵢ)²), the axes are (w, b).

    The minimum is the least-squares solution, ``w = cov(x, y) / var(x)``, ``b = ȳ − w·x̄``.
    """

    def __init__(self, x=None, y=None):
        if x is None or y is None:
            x, y = line_data()
        x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
        if x.ndim != 1 or x.shape != y.shape:
            raise EngineError(N_("The data must be two lists of numbers of the same length."))
        if x.size < 2:
            raise EngineError(N_("A line needs at least two data points (got %(n)s)."), n=x.size)
        if not (np.isfinite(x).all() and np.isfinite(y).all()):
            raise EngineError(N_("The data must hold finite numbers only."))
        if np.ptp(x) == 0:
            raise EngineError(N_("All x values are equal: no single line fits best."))
        xm, ym = x.mean(), y.mean()
        w = float(((x - xm) * (y - ym)).sum() / ((x - xm) ** 2).sum())
        b = float(ym - w * xm)
        # Moments: f(w, b) = w²·E[x²] + 2wb·E[x] + b² − 2w·E[xy] − 2b·E[y] + E[y²], evaluated on
        # a grid in O(1) per point.
        moments = (np.mean(x * x), xm, np.mean(x * y), ym, np.mean(y * y))
        super().__init__(
            "least_squares", "mean((w·xᵢ + b − yᵢ)²)", (-1.0, 4.0, -2.5, 2.5),
            ((w, b),), 0.0, (-0.5, -2.0), True, ("w", "b"),
        )  # fmt: skip
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y)
        object.__setattr__(self, "moments", moments)
        object.__setattr__(self, "min_value", float(np.mean((w * x + b - y) ** 2)))

    @property
    def n(self) -> int:
        return int(self.x.size)

    def _value(self, w, b):
        xx, xm, xy, ym, yy = self.moments
        value = w * w * xx + 2 * w * b * xm + b * b - 2 * w * xy - 2 * b * ym + yy
        return np.maximum(value, 0.0)  # round-off could dip a hair below 0 near the minimum

    def _gradient(self, w, b):
        xx, xm, xy, ym, _ = self.moments
        return 2 * (w * xx + b * xm - xy), 2 * (w * xm + b - ym)

    def batch_gradient(self, w: float, b: float, index: np.ndarray) -> np.ndarray:
        """The gradient of the mean squared error over the points ``index`` only: shape (2,)."""
        xb, yb = self.x[index], self.y[index]
        r = w * xb + b - yb
        return np.array([2 * np.mean(r * xb), 2 * np.mean(r)])


def make_surface(name: str, **kw) -> Surface:
    """A surface by name (one of :data:`SURFACES`); ``bowl`` takes ``kappa`` and ``angle``
    (degrees), ``least_squares`` optional data ``x`` and ``y``."""
    classes = {
        "bowl": Bowl,
        "rosenbrock": Rosenbrock,
        "beale": Beale,
        "himmelblau": Himmelblau,
        "saddle": Saddle,
        "camel": Camel,
        "rastrigin": Rastrigin,
        "least_squares": LeastSquares,
    }
    if name not in classes:
        raise EngineError(
            N_("Unknown surface '%(name)s': choose one of %(names)s."),
            name=str(name)[:40],
            names=", ".join(SURFACES),
        )
    return classes[name](**kw)
