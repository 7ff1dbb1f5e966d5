"""The Loss lab's state (query string) and its computations: what MSE, MAE, binary and categorical
cross-entropy measure, why squares, maximum likelihood, and saturation.

Every value and gradient shown comes from engine.losses, the functions that train the CNN. The
whole state is in GET parameters:

    y, yhat        regression target and prediction (MSE, MAE)
    t, p           binary target and predicted probability (BCE)
    z1..z4, k      four class logits and the true class (categorical cross-entropy)
    ys, pa, pb     a small dataset and two models' predictions (why squares)
    tosses, pc     coin tosses (H/T) and a candidate p (Bernoulli likelihood)
    pts, sigma, wc points "x, y" per line, the noise σ and a candidate slope (Gaussian likelihood)
    zs             the logit of a sigmoid output whose label is 1 (saturation)
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np

from app.errors import UserError
from app.forms import LabelRef, parse_float, parse_int, parse_number
from app.i18n import N_
from engine.losses import (
    binary_cross_entropy,
    binary_cross_entropy_with_logits,
    cross_entropy,
    mae,
    mse,
    softmax,
)
from engine.optim import make_optimizer

CLASSES = 4
MAX_LOGIT = 10.0
PREDICTION_RANGE = 5.0  # target and prediction sliders, and the plots they are dragged along
MAX_VALUE = 1000.0  # targets, predictions and data values: beyond this nothing new is learned
MAX_POINTS = 50
MAX_TOSSES = 1000
MAX_TEXT = 5000
SATURATION_LR = 1.0  # the learning rate of the "how many steps" experiment
SATURATION_CAP = 10_000  # steps before we give up


@dataclass
class LossState:
    y: float = 1.0  # regression target
    yhat: float = 2.5  # regression prediction
    t: float = 1.0  # binary target
    p: float = 0.3  # predicted probability
    z: list[float] = field(default_factory=lambda: [2.0, 1.0, 0.5, -1.0])  # class logits
    k: int = 2  # the true class, 1..CLASSES
    ys: list[float] = field(default_factory=lambda: [3.0, 5.0, 2.0, 8.0, 6.0])
    pa: list[float] = field(default_factory=lambda: [5.0, 3.0, 4.0, 6.0, 6.0])
    pb: list[float] = field(default_factory=lambda: [3.0, 5.0, 2.0, 8.0, 14.0])
    tosses: str = "HHTHHTHHHT"
    pc: float = 0.5  # candidate p for the coin
    pts: list[tuple[float, float]] = field(
        default_factory=lambda: [(0.5, 1.1), (1.0, 2.3), (1.5, 2.2), (2.0, 3.4), (2.5, 3.1),
                                 (3.0, 4.4), (3.5, 4.2), (4.0, 5.3)]
    )  # fmt: skip
    sigma: float = 0.5
    wc: float = 0.5  # candidate slope for the line
    zs: float = -4.0  # saturation logit

    def items(self) -> list[tuple[str, str]]:
        out = [("y", _g(self.y)), ("yhat", _g(self.yhat)), ("t", _g(self.t)), ("p", _g(self.p))]
        out += [(f"z{i + 1}", _g(v)) for i, v in enumerate(self.z)] + [("k", str(self.k))]
        out += [("ys", _list(self.ys)), ("pa", _list(self.pa)), ("pb", _list(self.pb))]
        out += [("tosses", self.tosses), ("pc", _g(self.pc))]
        out += [("pts", "; ".join(f"{_g(x)}, {_g(y)}" for x, y in self.pts))]
        out += [("sigma", _g(self.sigma)), ("wc", _g(self.wc)), ("zs", _g(self.zs))]
        return out

    def query(self) -> str:
        return urlencode(self.items())

    def form(self) -> dict[str, str]:
        return dict(self.items())


def _g(value: float) -> str:
    return f"{value:.6g}"


def _list(values: list[float]) -> str:
    return ", ".join(_g(v) for v in values)


def _probability(raw, label: str, default: float) -> float:
    """A probability: a finite number from 0 to 1, with a message that says so."""
    text = (raw or "").strip()
    if not text:
        return default
    value = parse_number(text.replace(",", ".") if text.count(",") == 1 else text)
    if value is None or not math.isfinite(value) or not 0 <= value <= 1:
        raise UserError(
            N_("%(field)s is a probability, so it must be a number from 0 to 1 (got '%(text)s')."),
            field=LabelRef(label),
            text=text[:40],
        )
    return value


def parse_numbers(raw: str | None, label: str, default: list[float]) -> list[float]:
    """A list of numbers separated by commas, semicolons or spaces."""
    if raw is None:
        return default
    text = raw.strip()
    if len(text) > MAX_TEXT:
        raise UserError(N_("%(field)s is too long."), field=LabelRef(label))
    parts = [part for part in re.split(r"[,;\s]+", text) if part]
    if not parts:
        raise UserError(
            N_("%(field)s is empty: give at least one number."), status=422, field=LabelRef(label)
        )
    if len(parts) > MAX_POINTS:
        raise UserError(
            N_("%(field)s holds %(n)s numbers; at most %(max)s fit in the table."),
            field=LabelRef(label), n=len(parts), max=MAX_POINTS,
        )  # fmt: skip
    values = []
    for part in parts:
        value = parse_number(part)
        if value is None or not math.isfinite(value) or abs(value) > MAX_VALUE:
            raise UserError(
                N_("%(field)s: '%(text)s' is not a number between −%(max)s and %(max)s."),
                field=LabelRef(label), text=part[:20], max=f"{MAX_VALUE:g}",
            )  # fmt: skip
        values.append(value)
    return values


def parse_points(raw: str | None, default: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points as "x, y" pairs, one per line or separated by semicolons."""
    if raw is None:
        return default
    if len(raw) > MAX_TEXT:
        raise UserError(N_("%(field)s is too long."), field=LabelRef(N_("Data points")))
    rows = [row.strip() for row in re.split(r"[;\n]+", raw) if row.strip()]
    if not rows:
        raise UserError(
            N_("There are no data points: give at least two, as 'x, y' (one per line)."),
            status=422,
        )
    if len(rows) > MAX_POINTS:
        raise UserError(
            N_("%(field)s holds %(n)s numbers; at most %(max)s fit in the table."),
            field=LabelRef(N_("Data points")), n=len(rows), max=MAX_POINTS,
        )  # fmt: skip
    points = []
    for row in rows:
        parts = [part for part in re.split(r"[,\s]+", row) if part]
        values = [parse_number(part) for part in parts]
        if len(values) != 2 or any(
            v is None or not math.isfinite(v) or abs(v) > MAX_VALUE for v in values
        ):
            raise UserError(
                N_("The data point '%(text)s' is not two numbers 'x, y' between −%(max)s and "
                   "%(max)s."),
                text=row[:40], max=f"{MAX_VALUE:g}",
            )  # fmt: skip
        points.append((values[0], values[1]))
    if len(points) < 2:
        raise UserError(N_("A line needs at least two data points (got %(n)s)."), n=len(points))
    if len({x for x, _ in points}) == 1:
        raise UserError(N_("All x values are equal: no single line fits best."))
    return points


def parse_tosses(raw: str | None, default: str) -> str:
    if raw is None:
        return default
    text = re.sub(r"[\s,;]+", "", raw.upper()).replace("1", "H").replace("0", "T")
    if not text:
        raise UserError(
            N_("There are no coin tosses: type some, like HHTH (H for heads, T for tails)."),
            status=422,
        )
    if len(text) > MAX_TOSSES:
        raise UserError(N_("At most %(max)s coin tosses (got %(n)s)."), max=MAX_TOSSES, n=len(text))
    bad = sorted(set(text) - {"H", "T"})
    if bad:
        raise UserError(
            N_("Coin tosses are written with H (heads) and T (tails) only (found '%(text)s')."),
            text="".join(bad)[:10],
        )
    return text


def parse_state(params) -> LossState:
    state = LossState()
    limit = PREDICTION_RANGE
    state.y = parse_float(params.get("y"), N_("Target y"), state.y, -limit, limit)
    state.yhat = parse_float(params.get("yhat"), N_("Prediction ŷ"), state.yhat, -limit, limit)
    state.t = _probability(params.get("t"), N_("Target t"), state.t)
    state.p = _probability(params.get("p"), N_("Predicted probability p"), state.p)
    state.z = [
        parse_float(params.get(f"z{i + 1}"), N_("Logit"), state.z[i], -MAX_LOGIT, MAX_LOGIT)
        for i in range(CLASSES)
    ]
    state.k = parse_int(params.get("k"), N_("True class"), state.k, 1, CLASSES)
    state.ys = parse_numbers(params.get("ys"), N_("Targets y"), state.ys)
    state.pa = parse_numbers(params.get("pa"), N_("Model A predicts"), state.pa)
    state.pb = parse_numbers(params.get("pb"), N_("Model B predicts"), state.pb)
    for label, values in ((N_("Model A predicts"), state.pa), (N_("Model B predicts"), state.pb)):
        if len(values) != len(state.ys):
            raise UserError(
                N_("%(field)s has %(n)s numbers but there are %(m)s targets: give one prediction "
                   "per target."),
                field=LabelRef(label), n=len(values), m=len(state.ys),
            )  # fmt: skip
    state.tosses = parse_tosses(params.get("tosses"), state.tosses)
    state.pc = _probability(params.get("pc"), N_("Candidate p"), state.pc)
    state.pts = parse_points(params.get("pts"), state.pts)
    state.sigma = parse_float(params.get("sigma"), N_("Noise σ"), state.sigma, 0.01, 100.0)
    state.wc = parse_float(params.get("wc"), N_("Candidate slope w"), state.wc, -10.0, 10.0)
    state.zs = parse_float(params.get("zs"), N_("Logit z"), state.zs, -MAX_LOGIT, MAX_LOGIT)
    return state


# --- Target and prediction ------------------------------------------------------------------


@dataclass(frozen=True)
class Scalar:
    """One loss at one prediction: its value and its gradient with respect to the prediction."""

    value: float
    grad: float


def regression(state: LossState) -> dict[str, Scalar]:
    pred, target = np.array([state.yhat]), np.array([state.y])
    out = {}
    for name, loss in (("mse", mse), ("mae", mae)):
        value, grad = loss(pred, target)
        out[name] = Scalar(value, float(grad[0]))
    return out


def regression_curves(state: LossState) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """MSE and MAE of one prediction, for predictions around the target: (xs (n,), {name: (n,)})."""
    xs = np.linspace(-PREDICTION_RANGE, PREDICTION_RANGE, 161)  # the slider's range, for dragging
    # Each point is a one-value loss: the engine's elementwise formula, evaluated per point.
    return xs, {
        "mse": np.array([mse(np.array([x]), np.array([state.y]))[0] for x in xs]),
        "mae": np.array([mae(np.array([x]), np.array([state.y]))[0] for x in xs]),
    }


def bce(state: LossState) -> Scalar:
    value, grad = binary_cross_entropy(np.array([state.p]), np.array([state.t]))
    return Scalar(value, float(grad[0]))


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


def categorical(state: LossState) -> Categorical:
    logits = np.array(state.z, dtype=np.float64)
    value, grad = cross_entropy(logits[None, :], np.array([state.k - 1]))
    onehot = np.zeros(CLASSES)
    onehot[state.k - 1] = 1.0
    shift = float(logits.max())
    return Categorical(
        logits, np.exp(logits - shift), softmax(logits), onehot, value, grad[0], shift
    )


def categorical_curve(state: LossState) -> tuple[np.ndarray, np.ndarray]:
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
class Coin:
    heads: int
    n: int
    p_hat: float  # the maximum found by searching
    p_closed: float  # heads / n
    search_steps: int
    likelihood: float  # L(p) at the candidate p (0 when it underflows)
    nll: float  # −log L at the candidate p
    bce: float  # mean BCE at the candidate: nll / n
    bce_hat: float


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


def coin(state: LossState) -> Coin:
    outcomes = np.array([1.0 if c == "H" else 0.0 for c in state.tosses])
    heads, n = int(outcomes.sum()), outcomes.size

    # Maximising the likelihood is minimising its negative log, which is n × BCE: look for the p
    # where the slope of the BCE (the engine's gradient, summed over the tosses) is 0.
    def slope(p: float) -> float:
        return float(binary_cross_entropy(np.full(outcomes.shape, p), outcomes)[1].sum())

    p_hat, steps = bisect_slope(slope, 0.0, 1.0)
    value = coin_bce(state.pc, outcomes)
    return Coin(heads, n, p_hat, heads / n, steps, math.exp(-n * value), n * value, value,
                coin_bce(p_hat, outcomes))  # fmt: skip


def coin_curves(state: LossState) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
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


def line_fit(state: LossState) -> LineFit:
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


def saturation(state: LossState) -> Saturation:
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
