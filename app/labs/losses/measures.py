"""What the Loss lab computes: every value and gradient shown comes from engine.losses, the
functions that train the CNN."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import ClassVar

import numpy as np

from app.labs.losses.fields import CLASSES, PREDICTION_RANGE, LossFields
from engine.losses import (
    BCE_EPS,
    LOG_CLAMP,
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mae,
    mse,
    softmax,
)
from engine.optim import make_optimizer

SATURATION_LR = 1.0  # the learning rate of the "how many steps" experiment
SATURATION_CAP = 10_000  # steps before we give up


# --- Target and prediction ------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """One loss at one prediction: its value and its gradient with respect to the prediction."""

    value: float
    grad: float


def regression(state: LossFields) -> dict[str, Scalar]:
    pred, target = np.array([state.yhat]), np.array([state.y])
    out = {}
    for name, loss in (("mse", mse), ("mae", mae)):
        value, grad = loss(pred, target)
        out[name] = Scalar(value, float(grad[0]))
    return out


def regression_curves(state: LossFields) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """MSE and MAE of one prediction, for predictions around the target: (xs (n,), {name: (n,)})."""
    xs = np.linspace(-PREDICTION_RANGE, PREDICTION_RANGE, 161)  # the slider's range, for dragging
    # Each point is a one-value loss: the engine's elementwise formula, evaluated per point.
    return xs, {
        "mse": np.array([mse(np.array([x]), np.array([state.y]))[0] for x in xs]),
        "mae": np.array([mae(np.array([x]), np.array([state.y]))[0] for x in xs]),
    }


class Clamps:
    """The clamps of engine.losses.binary_cross_entropy, for the notes by the values they change."""

    log_clamp: ClassVar[float] = LOG_CLAMP  # a log below this is taken as this
    tiny: ClassVar[float] = math.exp(LOG_CLAMP)  # the probability whose log that is
    eps: ClassVar[float] = BCE_EPS  # the gradient divides by max(p(1 − p), eps)


@dataclass(frozen=True)
class Binary(Scalar, Clamps):
    """Binary cross-entropy at one prediction, and which of the engine's clamps changed it."""

    clamped_logs: tuple[str, ...]  # "p", "1 − p": a log below LOG_CLAMP, taken as LOG_CLAMP
    clamped_grad: bool  # p(1 − p) below BCE_EPS, which the gradient divides by instead
    pq: float  # p(1 − p)
    exact_grad: float | None  # dL/dp without any clamp (None: infinite)


def clamped_logs(p: float, weight_p: float, weight_q: float) -> tuple[str, ...]:
    """The logs of binary cross-entropy that its clamp changes at p (log 0 = −∞ is the case
    that matters), each counted only when its weight (t, 1 − t, or the tosses) is not 0."""
    with np.errstate(divide="ignore"):
        logs = (("p", weight_p, np.log(p)), ("1 − p", weight_q, np.log1p(-p)))
    return tuple(name for name, weight, log in logs if weight > 0 and log < LOG_CLAMP)


def exact_bce_grad(p: float, t: float) -> float | None:
    """dL/dp = −t/p + (1 − t)/(1 − p), each term only where its weight is not 0; None where
    it is infinite. At p = 0 or 1 the engine's (p − t)/max(p(1 − p), eps) differs from it."""
    if (p == 0 and t > 0) or (p == 1 and t < 1):
        return None
    return (-t / p if t > 0 else 0.0) + ((1 - t) / (1 - p) if t < 1 else 0.0)


def bce(state: LossFields) -> Binary:
    value, grad = binary_cross_entropy(np.array([state.p]), np.array([state.t]))
    p, t = state.p, state.t
    return Binary(value, float(grad[0]), clamped_logs(p, t, 1 - t), p * (1 - p) < BCE_EPS,
                  p * (1 - p), exact_bce_grad(p, t))  # fmt: skip


def bce_curve(t: float) -> tuple[np.ndarray, np.ndarray]:
    ps = np.linspace(0.005, 0.995, 199)
    return ps, np.array([binary_cross_entropy(np.array([p]), np.array([t]))[0] for p in ps])


# --- Categorical cross-entropy ----------------------------------------------------------------


@dataclass(frozen=True)
class Categorical:
    logits: np.ndarray  # (K,)
    exps: np.ndarray  # (K,) e^(z − max z), the shift softmax uses
    probs: np.ndarray  # (K,)
    onehot: np.ndarray  # (K,)
    value: float
    grad: np.ndarray  # (K,) dL/dz = p − onehot
    shift: float  # max z


def categorical(state: LossFields) -> Categorical:
    logits = np.array(state.z, dtype=np.float64)
    value, grad = cross_entropy(logits[None, :], np.array([state.k - 1]))
    onehot = np.zeros(CLASSES)
    onehot[state.k - 1] = 1.0
    shift = float(logits.max())
    return Categorical(
        logits, np.exp(logits - shift), softmax(logits), onehot, value, grad[0], shift
    )


def categorical_curve(state: LossFields) -> tuple[np.ndarray, np.ndarray]:
    """The loss as the true class's logit moves, the other logits staying where they are."""
    xs = np.linspace(-10, 10, 161)
    logits = np.tile(np.array(state.z, dtype=np.float64), (xs.size, 1))
    logits[:, state.k - 1] = xs
    losses = [cross_entropy(row[None, :], np.array([state.k - 1]))[0] for row in logits]
    return xs, np.array(losses)


# --- Why squares -------------------------------------------------------------------------------


@dataclass(frozen=True)
class ErrorTable:
    errors: np.ndarray  # (n,) prediction − target
    mean_error: float
    mae: float
    mse: float
    mae_grad: np.ndarray  # (n,) what each point contributes to the gradient
    mse_grad: np.ndarray


def error_table(targets: list[float], predictions: list[float]) -> ErrorTable:
    pred, target = np.array(predictions), np.array(targets)
    errors = pred - target
    mse_value, mse_grad = mse(pred, target)
    mae_value, mae_grad = mae(pred, target)
    return ErrorTable(errors, float(errors.mean()), mae_value, mse_value, mae_grad, mse_grad)


# --- Maximum likelihood ---------------------------------------------------------------------


@dataclass(frozen=True)
class Coin(Clamps):
    heads: int
    n: int
    p_hat: float  # the maximum found by searching
    p_closed: float  # heads / n
    search_steps: int
    likelihood: float  # L(p) at the candidate p (0 when it underflows)
    nll: float  # −log L at the candidate p
    bce: float  # mean BCE at the candidate: nll / n
    bce_hat: float
    clamped_logs: tuple[str, ...] = ()  # at the candidate: the logs clamped (see clamped_logs)


def bisect_slope(slope, low: float, high: float) -> tuple[float, int]:
    """Where an increasing slope crosses 0 on [low, high] — the minimum of a convex function —
    by bisection: (x, steps). A slope that never crosses 0 gives the end it points to."""
    steps = 0
    while high - low > 1e-15 and steps < 100:
        steps += 1
        mid = (low + high) / 2
        if slope(mid) > 0:
            high = mid
        else:
            low = mid
    return (low + high) / 2, steps


def coin_bce(p: float, outcomes: np.ndarray) -> float:
    """The mean binary cross-entropy of predicting p for every toss: −log L(p) / n."""
    return binary_cross_entropy(np.full(outcomes.shape, p), outcomes)[0]


def coin(state: LossFields) -> Coin:
    outcomes = np.array([1.0 if c == "H" else 0.0 for c in state.tosses])
    heads, n = int(outcomes.sum()), outcomes.size

    # Maximising the likelihood is minimising its negative log, which is n × BCE: look for the p
    # where the slope of the BCE (the engine's gradient, summed over the tosses) is 0.
    def slope(p: float) -> float:
        return float(binary_cross_entropy(np.full(outcomes.shape, p), outcomes)[1].sum())

    p_hat, steps = bisect_slope(slope, 0.0, 1.0)
    value = coin_bce(state.pc, outcomes)
    return Coin(heads, n, p_hat, heads / n, steps, math.exp(-n * value), n * value, value,
                coin_bce(p_hat, outcomes), clamped_logs(state.pc, heads, n - heads))  # fmt: skip


def coin_curves(state: LossFields) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over p in (0, 1): the likelihood divided by its maximum, and −log L / n (= BCE)."""
    outcomes = np.array([1.0 if c == "H" else 0.0 for c in state.tosses])
    ps = np.linspace(0.002, 0.998, 250)
    nll = np.array([coin_bce(p, outcomes) for p in ps])  # per toss
    best = coin_bce(outcomes.mean(), outcomes)
    return ps, np.exp(-outcomes.size * (nll - best)), nll


@dataclass(frozen=True)
class LineFit:
    x: np.ndarray
    y: np.ndarray
    w_hat: float  # found by gradient descent on the negative log-likelihood
    b_hat: float
    steps: int
    w_closed: float  # least squares: cov(x, y) / var(x)
    b_closed: float  # ȳ − w·x̄
    x_mean: float
    y_mean: float
    mse_hat: float
    nll_hat: float
    nll_candidate: float  # at (wc, b̂)
    mse_candidate: float
    sigma: float


def line_nll(mse_value: float, n: int, sigma: float) -> float:
    """−log L of n points with Gaussian noise σ around the line, given the line's MSE."""
    return n / 2 * math.log(2 * math.pi * sigma**2) + n * mse_value / (2 * sigma**2)


def line_mse(w: float, b: float, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """MSE of the line at the data, and its gradient (∂/∂w, ∂/∂b) through engine.losses.mse."""
    value, dpred = mse(w * x + b, y)  # dpred: (n,) ∂MSE/∂ŷᵢ
    return value, np.array([float(dpred @ x), float(dpred.sum())])


def fit_line(x: np.ndarray, y: np.ndarray, max_steps: int = 20_000) -> tuple[float, float, int]:
    """Maximise the Gaussian likelihood, i.e. minimise the MSE, with the engine's Nesterov SGD.

    The step size and momentum are the textbook choices for a quadratic: η = 1/L and
    μ = (√κ − 1)/(√κ + 1), with L and κ from the Hessian 2·[[E x², E x], [E x, 1]].
    """
    hessian = 2 * np.array([[np.mean(x * x), np.mean(x)], [np.mean(x), 1.0]])
    low, high = np.linalg.eigvalsh(hessian)
    root = math.sqrt(high / max(low, 1e-300))
    p = np.zeros(2)
    opt = make_optimizer("nesterov", [p], 1.0 / high, momentum=min((root - 1) / (root + 1), 0.999))
    scale = 1.0 + float(np.abs(y).max()) * (1.0 + float(np.abs(x).max()))
    steps = 0
    for steps in range(1, max_steps + 1):
        _, grad = line_mse(p[0], p[1], x, y)
        if math.hypot(*grad) < 1e-12 * scale:
            steps -= 1
            break
        opt.step([grad])
    return float(p[0]), float(p[1]), steps


def line_fit(state: LossFields) -> LineFit:
    x = np.array([px for px, _ in state.pts])
    y = np.array([py for _, py in state.pts])
    w, b, steps = fit_line(x, y)
    xm, ym = float(x.mean()), float(y.mean())
    w_closed = float(((x - xm) * (y - ym)).sum() / ((x - xm) ** 2).sum())
    b_closed = ym - w_closed * xm
    mse_hat, _ = line_mse(w, b, x, y)
    mse_cand, _ = line_mse(state.wc, b, x, y)
    n = x.size
    return LineFit(
        x, y, w, b, steps, w_closed, b_closed, xm, ym, mse_hat,
        line_nll(mse_hat, n, state.sigma), line_nll(mse_cand, n, state.sigma), mse_cand,
        state.sigma,
    )  # fmt: skip


def line_curve(fit: LineFit) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Over slopes around ŵ (b at b̂): the MSE and −log L."""
    ws = np.linspace(-10, 10, 201) if abs(fit.w_hat) > 8 else np.linspace(-2, 2, 161) + fit.w_hat
    mses = np.array([line_mse(w, fit.b_hat, fit.x, fit.y)[0] for w in ws])
    nlls = np.array([line_nll(m, fit.x.size, fit.sigma) for m in mses])
    return ws, mses, nlls


# --- Saturation -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Saturation:
    z: float
    s: float  # σ(z)
    mse: float  # (σ − 1)²
    dmse_ds: float  # 2(σ − 1), from engine.losses.mse
    dsig: float  # σ'(z) = σ(1 − σ)
    dmse_dz: float  # the chain rule
    bce: float
    dbce_dz: float  # σ − 1, from engine.losses.binary_cross_entropy_with_logits
    steps_mse: int | None  # gradient-descent steps to σ > 0.5 (None: more than the cap)
    steps_bce: int | None


def sigmoid(z: float) -> float:
    return 1 / (1 + math.exp(-z)) if z >= 0 else math.exp(z) / (1 + math.exp(z))


def saturation_grads(z: float) -> tuple[float, float, float, float, float, float]:
    """At logit z with label 1: σ, MSE and its slope in σ and in z, BCE and its slope in z."""
    s = sigmoid(z)
    mse_value, dmse_ds = mse(np.array([s]), np.array([1.0]))
    bce_value, dbce_dz = binary_cross_entropy_with_logits(np.array([z]), np.array([1.0]))
    dsig = s * (1 - s)
    return s, mse_value, float(dmse_ds[0]), dsig, bce_value, float(dbce_dz[0])


def steps_to_half(z: float, use_mse: bool) -> int | None:
    """Gradient descent (η = SATURATION_LR) on z until σ(z) > 0.5, counting steps.

    Written with floats, the same formulas as engine.losses (tested against them), because the
    MSE run can take thousands of steps."""
    for step in range(SATURATION_CAP + 1):
        if z > 0:
            return step
        s = sigmoid(z)
        grad = 2 * (s - 1) * s * (1 - s) if use_mse else s - 1
        z -= SATURATION_LR * grad
    return None


def saturation(state: LossFields) -> Saturation:
    s, mse_value, dmse_ds, dsig, bce_value, dbce_dz = saturation_grads(state.zs)
    return Saturation(
        state.zs, s, mse_value, dmse_ds, dsig, dmse_ds * dsig, bce_value, dbce_dz,
        steps_to_half(state.zs, True), steps_to_half(state.zs, False),
    )  # fmt: skip


def saturation_curves() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """|dL/dz| over z for sigmoid + MSE and sigmoid + BCE (label 1)."""
    zs = np.linspace(-10, 10, 201)
    rows = [saturation_grads(z) for z in zs]
    return zs, np.array([abs(r[2] * r[3]) for r in rows]), np.array([abs(r[5]) for r in rows])
