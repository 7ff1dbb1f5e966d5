"""The Optimizer lab's state (query string), the race it computes and the numbers it shows.

Everything lives in the URL: the surface (and the bowl's condition number and rotation), the start,
up to seven racers in numbered slots (kind, learning rate, schedule, hyperparameters, gradient noise
or minibatch size) and the step count. The race is recomputed from step 0 on every request with
the engine's optimizers and schedules, and seeded noise, so a shared link shows the same race.

Racer fields carry their slot number: o1 (kind), lr1, sc1 (schedule), ga1/ss1/kk1/tt1/wu1 (its
settings), mo1 (momentum), ba1/bb1/bc1 (Adam's betas and bias correction), al1 (RMSProp's alpha),
no1 (noise σ), bs1 (minibatch size). Hidden fields prev (surface), pk1 (kind) and ps1 (schedule)
say what the form showed, so that changing a surface, kind or schedule starts from suggested values
instead of carrying over numbers that belonged to the old choice.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field, replace
from urllib.parse import urlencode

import numpy as np

from app.charts import OKABE_ITO
from app.errors import UserError, from_engine_error
from app.forms import LabelRef, parse_choice, parse_float, parse_int, parse_number
from app.i18n import N_
from engine.errors import EngineError
from engine.optim import Optimizer, make_optimizer
from engine.schedules import Schedule, make_schedule
from engine.surfaces import SURFACES, Descent, GradientSource, Surface, descend, make_surface

KINDS = ("gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
KIND_TITLES = {
    "gd": N_("GD"),
    "sgd": N_("SGD"),
    "momentum": N_("Momentum"),
    "nesterov": N_("Nesterov"),
    "adagrad": N_("AdaGrad"),
    "rmsprop": N_("RMSProp"),
    "adam": N_("Adam"),
}
KIND_HINTS = {
    "gd": N_("Gradient descent: the exact gradient, every step."),
    "sgd": N_("Stochastic gradient descent: a noisy gradient (minibatches on the line fit)."),
    "momentum": N_("Keeps a velocity: past gradients keep pushing."),
    "nesterov": N_("Momentum that looks one step ahead."),
    "adagrad": N_("A rate per coordinate that shrinks as squared gradients add up."),
    "rmsprop": N_("A rate per coordinate from a leaky average of squared gradients."),
    "adam": N_("Momentum plus RMSProp's scaling, with bias correction."),
}
SURFACE_TITLES = {
    "bowl": N_("Quadratic bowl"),
    "rosenbrock": N_("Rosenbrock's banana valley"),
    "beale": N_("Beale"),
    "himmelblau": N_("Himmelblau (four minima)"),
    "saddle": N_("Saddle x² − y²"),
    "camel": N_("Six-hump camel"),
    "rastrigin": N_("Rastrigin (many local minima)"),
    "least_squares": N_("Line fit y = w·x + b (least squares)"),
}
SCHEDULES = ("constant", "step", "exponential", "inverse_time", "cosine")
SCHEDULE_TITLES = {
    "constant": N_("constant"),
    "step": N_("step decay"),
    "exponential": N_("exponential"),
    "inverse_time": N_("1/t"),
    "cosine": N_("cosine"),
}
VIEWS = ("contour", "heatmap")
MAX_RACERS = 7
MAX_STEPS = 5000
MAX_LR = 10.0
MAX_NOISE = 1000.0
MAP_WIDTH = 480  # pixels across the surface picture; the height follows the box

# Learning rates that show each optimizer's character on each surface (found by trying them).
SUGGESTED_LR = {
    "bowl": {"gd": 0.1, "sgd": 0.1, "momentum": 0.03, "nesterov": 0.03, "adagrad": 1.0,
             "rmsprop": 0.1, "adam": 0.3},
    "rosenbrock": {"gd": 0.001, "sgd": 0.001, "momentum": 0.001, "nesterov": 0.001,
                   "adagrad": 0.5, "rmsprop": 0.01, "adam": 0.1},
    "beale": {"gd": 0.01, "sgd": 0.01, "momentum": 0.003, "nesterov": 0.003, "adagrad": 1.0,
              "rmsprop": 0.1, "adam": 0.3},
    "himmelblau": {"gd": 0.003, "sgd": 0.003, "momentum": 0.001, "nesterov": 0.001,
                   "adagrad": 0.3, "rmsprop": 0.03, "adam": 0.1},
    "saddle": {"gd": 0.01, "sgd": 0.01, "momentum": 0.003, "nesterov": 0.003, "adagrad": 0.1,
               "rmsprop": 0.01, "adam": 0.03},
    "camel": {"gd": 0.03, "sgd": 0.03, "momentum": 0.03, "nesterov": 0.03, "adagrad": 0.3,
              "rmsprop": 0.03, "adam": 0.1},
    "rastrigin": {"gd": 0.003, "sgd": 0.003, "momentum": 0.003, "nesterov": 0.003,
                  "adagrad": 1.0, "rmsprop": 0.1, "adam": 0.1},
    "least_squares": {"gd": 0.1, "sgd": 0.05, "momentum": 0.03, "nesterov": 0.03,
                      "adagrad": 1.0, "rmsprop": 0.1, "adam": 0.3},
}  # fmt: skip
# SGD's gradient noise σ where the gradient is exact (the line fit uses minibatches instead).
SUGGESTED_NOISE = {
    "bowl": 1.0, "rosenbrock": 10.0, "beale": 1.0, "himmelblau": 5.0,
    "saddle": 0.5, "camel": 1.0, "rastrigin": 20.0, "least_squares": 0.0,
}  # fmt: skip
SGD_BATCH = 4  # SGD's default minibatch on the line fit
DEFAULT_KINDS = ("gd", "momentum", "rmsprop", "adam")


class RacerError(UserError):
    """A message about one racer, prefixed with its number: "Optimizer 3: …"."""

    def __init__(self, slot: int, inner: UserError) -> None:
        super().__init__(N_("Optimizer %(n)s: %(problem)s"), status=inner.status, n=slot)
        self.inner = inner

    def translated(self, gettext) -> str:
        problem = self.inner.translated(gettext)
        return gettext(self.message) % {"n": self.params["n"], "problem": problem}


@dataclass
class Racer:
    """One optimizer in the race, with its own settings (fields unused by its kind are ignored)."""

    slot: int  # 1..MAX_RACERS: its number on the map and in the URL
    kind: str  # one of KINDS
    lr: float  # the peak learning rate η
    schedule: str = "constant"  # one of SCHEDULES
    gamma: float = 0.5  # step: factor per drop; exponential: factor per step
    step_size: int = 50  # step: steps between drops
    k: float = 0.01  # 1/t: η / (1 + k·t)
    total: int = 200  # cosine: steps to reach 0
    warmup: int = 0  # linear warm-up steps (any schedule)
    momentum: float = 0.9  # momentum, nesterov
    beta1: float = 0.9  # adam
    beta2: float = 0.999  # adam
    bias_correction: bool = True  # adam
    alpha: float = 0.99  # rmsprop
    noise: float = 0.0  # σ of Gaussian noise added to each gradient coordinate
    batch: int | None = None  # least squares: minibatch size (None: all points)

    def items(self, least_squares: bool) -> list[tuple[str, str]]:
        """The query fields that matter for this kind and schedule, canonical order."""
        i = self.slot
        out = [(f"o{i}", self.kind), (f"lr{i}", f"{self.lr:g}"), (f"sc{i}", self.schedule)]
        if self.schedule in ("step", "exponential"):
            out.append((f"ga{i}", f"{self.gamma:g}"))
        if self.schedule == "step":
            out.append((f"ss{i}", str(self.step_size)))
        if self.schedule == "inverse_time":
            out.append((f"kk{i}", f"{self.k:g}"))
        if self.schedule == "cosine":
            out.append((f"tt{i}", str(self.total)))
        if self.warmup:
            out.append((f"wu{i}", str(self.warmup)))
        if self.kind in ("momentum", "nesterov"):
            out.append((f"mo{i}", f"{self.momentum:g}"))
        if self.kind == "adam":
            out += [(f"ba{i}", f"{self.beta1:g}"), (f"bb{i}", f"{self.beta2:g}")]
            out.append((f"bc{i}", "1" if self.bias_correction else "0"))
        if self.kind == "rmsprop":
            out.append((f"al{i}", f"{self.alpha:g}"))
        if self.kind != "gd":
            if least_squares and self.batch is not None:
                out.append((f"bs{i}", str(self.batch)))
            if self.noise:
                out.append((f"no{i}", f"{self.noise:g}"))
        return out

    def make_optimizer(self, p: np.ndarray) -> Optimizer:
        kw: dict = {}
        if self.kind in ("momentum", "nesterov"):
            kw["momentum"] = self.momentum
        if self.kind == "adam":
            kw = {"betas": (self.beta1, self.beta2), "bias_correction": self.bias_correction}
        if self.kind == "rmsprop":
            kw["alpha"] = self.alpha
        name = "sgd" if self.kind == "gd" else self.kind
        return make_optimizer(name, [p], self.lr, **kw)

    def make_schedule(self) -> Schedule:
        kw: dict = {"warmup_steps": self.warmup}
        if self.schedule in ("step", "exponential"):
            kw["gamma"] = self.gamma
        if self.schedule == "step":
            kw["step_size"] = self.step_size
        if self.schedule == "inverse_time":
            kw["k"] = self.k
        if self.schedule == "cosine":
            kw["total_steps"] = self.total
        return make_schedule(self.schedule, self.lr, **kw)

    @property
    def colour(self) -> str:
        return OKABE_ITO[(self.slot - 1) % len(OKABE_ITO)]


@dataclass
class OptState:
    surface: str = "rosenbrock"
    kappa: float = 10.0  # bowl: condition number
    angle: float = 30.0  # bowl: rotation in degrees
    x0: float | None = None  # None: the surface's suggested start
    y0: float | None = None
    steps: int = 30
    run: int = 50  # how many steps "Run N" adds
    seed: int = 0
    eps: float = 0.05
    view: str = "contour"
    racers: list[Racer] = field(default_factory=list)

    def surface_items(self) -> list[tuple[str, str]]:
        items = [("surface", self.surface)]
        if self.surface == "bowl":
            items += [("kappa", f"{self.kappa:g}"), ("angle", f"{self.angle:g}")]
        return items

    def query(self, **overrides) -> str:
        """The canonical URL query; ``steps=`` (or another field) can be overridden."""
        state = replace(self, **overrides) if overrides else self
        items = state.surface_items()
        items += [("x0", f"{state.x0:g}"), ("y0", f"{state.y0:g}")]
        for racer in state.racers:
            items += racer.items(state.surface == "least_squares")
        items += [("steps", str(state.steps)), ("run", str(state.run))]
        if state.seed:
            items.append(("seed", str(state.seed)))
        if state.eps != 0.05:
            items.append(("eps", f"{state.eps:g}"))
        if state.view != "contour":
            items.append(("view", state.view))
        return urlencode(items)

    def map_query(self) -> str:
        return urlencode([*self.surface_items(), ("view", self.view)])


def _field(raw, field_label, default, low, high, slot=None, whole=False):
    try:
        if whole:
            return parse_int(raw, field_label, default, low, high)
        return parse_float(raw, field_label, default, low, high)
    except UserError as error:
        raise (RacerError(slot, error) if slot else error) from None


def parse_lr(raw: str | None, default: float, slot: int) -> float:
    """A learning rate: a finite number above 0 and at most MAX_LR, with a message for each."""
    text = (raw or "").strip()
    if not text:
        return default
    value = parse_number(text.replace(",", ".") if text.count(",") == 1 else text)
    label = LabelRef(N_("Learning rate"))
    if value is None or not math.isfinite(value):
        inner = UserError(
            N_("%(field)s must be a finite number (got '%(text)s')."), field=label, text=text[:40]
        )
    elif value <= 0:
        inner = UserError(
            N_("%(field)s must be greater than 0 (got %(value)s): with a rate of 0 or less "
               "nothing goes downhill."),
            field=label, value=text[:40],
        )  # fmt: skip
    elif value > MAX_LR:
        inner = UserError(
            N_("%(field)s must be at most %(high)s (got %(value)s): larger rates only blow up."),
            field=label, high=f"{MAX_LR:g}", value=text[:40],
        )  # fmt: skip
    else:
        return value
    raise RacerError(slot, inner)


def _last(params, key: str) -> str | None:
    """The last value sent for ``key``: a checkbox after its hidden 0 overrides it."""
    values = params.getlist(key) if hasattr(params, "getlist") else [params.get(key)]
    values = [v for v in values if v is not None]
    return values[-1] if values else None


def parse_racer(params, slot: int, surface: Surface, surface_changed: bool) -> Racer | None:
    i = slot
    kind = (params.get(f"o{i}") or "").strip()
    if not kind or kind == "off":
        return None
    if kind not in KINDS:
        raise UserError(
            N_("Unknown optimizer '%(name)s': choose one of %(names)s."),
            status=404, name=kind[:40], names=", ".join(KINDS),
        )  # fmt: skip
    name = surface.name
    racer = Racer(slot, kind, SUGGESTED_LR[name][kind])
    least_squares = name == "least_squares"
    if kind == "sgd":
        racer.noise = 0.0 if least_squares else SUGGESTED_NOISE[name]
        racer.batch = SGD_BATCH if least_squares else None
    kind_changed = (params.get(f"pk{i}") or kind) != kind
    if surface_changed or kind_changed:
        # A new surface or kind: its suggested settings, not numbers meant for the old one.
        params = {f"o{i}": kind, f"sc{i}": params.get(f"sc{i}")}
    racer.lr = parse_lr(params.get(f"lr{i}"), racer.lr, slot)
    racer.schedule = _choice(params.get(f"sc{i}"), N_("Schedule"), SCHEDULES, "constant", slot)
    schedule_changed = (params.get(f"ps{i}") or racer.schedule) != racer.schedule
    if racer.schedule == "exponential":
        racer.gamma = 0.99
    if not schedule_changed:
        racer.gamma = _field(params.get(f"ga{i}"), N_("Gamma (decay factor)"), racer.gamma,
                             0.001, 1.0, slot)  # fmt: skip
        racer.step_size = _field(params.get(f"ss{i}"), N_("Steps between drops"),
                                 racer.step_size, 1, MAX_STEPS, slot, whole=True)  # fmt: skip
        racer.k = _field(params.get(f"kk{i}"), N_("Decay rate k"), racer.k, 0.0, 100.0, slot)
        racer.total = _field(params.get(f"tt{i}"), N_("Cosine length (steps)"), racer.total,
                             1, MAX_STEPS, slot, whole=True)  # fmt: skip
        racer.warmup = _field(params.get(f"wu{i}"), N_("Warm-up steps"), racer.warmup,
                              0, MAX_STEPS, slot, whole=True)  # fmt: skip
    if racer.schedule == "cosine" and racer.warmup >= racer.total:
        raise RacerError(slot, UserError(
            N_("The warm-up (%(warmup)s steps) must be shorter than the cosine's length "
               "(%(total)s steps)."),
            warmup=racer.warmup, total=racer.total,
        ))  # fmt: skip
    if kind in ("momentum", "nesterov"):
        racer.momentum = _field(params.get(f"mo{i}"), N_("Momentum μ"), 0.9, 0.0, 0.999, slot)
        if kind == "nesterov" and racer.momentum == 0:
            raise RacerError(slot, UserError(N_("Nesterov needs a momentum above 0.")))
    if kind == "adam":
        racer.beta1 = _field(params.get(f"ba{i}"), N_("β"), 0.9, 0.0, 0.9999, slot)
        racer.beta2 = _field(params.get(f"bb{i}"), N_("β₂"), 0.999, 0.0, 0.9999, slot)
        racer.bias_correction = _last(params, f"bc{i}") not in ("0", "off", "false")
    if kind == "rmsprop":
        racer.alpha = _field(params.get(f"al{i}"), N_("Alpha α"), 0.99, 0.0, 0.9999, slot)
    if kind != "gd":
        racer.noise = _field(params.get(f"no{i}"), N_("Gradient noise σ"), racer.noise,
                             0.0, MAX_NOISE, slot)  # fmt: skip
        if least_squares:
            n = surface.n
            batch = _field(params.get(f"bs{i}"), N_("Minibatch size"), racer.batch or n,
                           1, n, slot, whole=True)  # fmt: skip
            racer.batch = None if batch >= n else batch
    return racer


def _choice(raw, label, choices, default, slot):
    try:
        return parse_choice(raw, label, choices, default)
    except UserError as error:
        raise RacerError(slot, error) from None


def parse_map_state(params) -> OptState:
    """The fields that fix the surface picture: surface, kappa and angle (bowl), view."""
    state = OptState()
    state.surface = (params.get("surface") or "rosenbrock").strip()
    if state.surface not in SURFACES:
        raise UserError(
            N_("Unknown surface '%(name)s': choose one of %(names)s."),
            status=404, name=state.surface[:40], names=", ".join(SURFACES),
        )  # fmt: skip
    if state.surface == "bowl":
        state.kappa = parse_float(params.get("kappa"), N_("Condition number κ"), 10.0, 1.0, 1000.0)
        state.angle = parse_float(params.get("angle"), N_("Rotation θ (degrees)"), 30.0,
                                  -180.0, 180.0)  # fmt: skip
    state.view = parse_choice(params.get("view"), N_("Picture"), VIEWS, "contour")
    return state


def parse_state(params) -> OptState:
    state = parse_map_state(params)
    previous = (params.get("prev") or state.surface).strip()
    changed = previous != state.surface
    surface = surface_of(state)
    x0, x1, y0, y1 = surface.box
    if changed:
        state.x0, state.y0 = surface.start
    else:
        state.x0 = parse_float(params.get("x0"), N_("Start x"), surface.start[0], -1e9, 1e9)
        state.y0 = parse_float(params.get("y0"), N_("Start y"), surface.start[1], -1e9, 1e9)
        if not surface.contains(state.x0, state.y0):
            ax, ay = surface.axes
            raise UserError(
                N_("The start (%(x)s, %(y)s) lies outside the map: %(ax)s goes from %(x0)s to "
                   "%(x1)s and %(ay)s from %(y0)s to %(y1)s."),
                x=f"{state.x0:g}", y=f"{state.y0:g}", ax=ax, ay=ay,
                x0=f"{x0:g}", x1=f"{x1:g}", y0=f"{y0:g}", y1=f"{y1:g}",
            )  # fmt: skip
    state.steps = parse_int(params.get("steps"), N_("Steps"), 30, 0, MAX_STEPS)
    state.run = parse_int(params.get("run"), N_("Steps per run"), 50, 1, MAX_STEPS)
    state.seed = parse_int(params.get("seed"), N_("Noise seed"), 0, 0, 2**31 - 1)
    span = max(x1 - x0, y1 - y0)
    state.eps = parse_float(params.get("eps"), N_("Tolerance ε"), 0.05, 1e-9, span)
    extra = sorted(
        {k for k in params if k[:1] == "o" and k[1:].isdigit() and int(k[1:]) > MAX_RACERS}
    )
    if extra:
        raise UserError(
            N_("At most %(max)s optimizers race at once (got a setting for optimizer %(n)s)."),
            max=MAX_RACERS, n=extra[-1][1:][:6],
        )  # fmt: skip
    racer_params = params
    if not any(f"o{i}" in params for i in range(1, MAX_RACERS + 1)):
        racer_params = {f"o{i}": kind for i, kind in enumerate(DEFAULT_KINDS, start=1)}
    state.racers = [
        racer
        for slot in range(1, MAX_RACERS + 1)
        if (racer := parse_racer(racer_params, slot, surface, changed)) is not None
    ]
    action = (params.get("action") or "").strip()
    if action == "step":
        state.steps += 1
    elif action == "run":
        state.steps += state.run
    elif action == "reset":
        state.steps = 0
    elif action:
        raise UserError(N_("Unknown action '%(name)s'."), name=action[:20])
    if state.steps > MAX_STEPS:
        raise UserError(
            N_("At most %(max)s steps can be shown (this would make %(steps)s). Press Reset, or "
               "run fewer steps."),
            max=f"{MAX_STEPS:,}", steps=f"{state.steps:,}",
        )  # fmt: skip
    return state


def surface_of(state: OptState) -> Surface:
    kw = {"kappa": state.kappa, "angle": state.angle} if state.surface == "bowl" else {}
    try:
        return make_surface(state.surface, **kw)
    except EngineError as error:
        raise from_engine_error(error, status=400) from None


@dataclass
class Lane:
    """One racer's result: its path and what the page shows about its last step."""

    racer: Racer
    descent: Descent
    rows: list[dict]  # the state table: label, symbol, formula, x and y values
    explain: str | None  # the update of the first coordinate, with its numbers
    lr_now: float | None  # the learning rate of the last step

    @property
    def optimizer(self) -> Optimizer:
        return self.descent.optimizer


def race(state: OptState, surface: Surface | None = None) -> list[Lane]:
    """Every racer from the same start for ``state.steps`` steps, each with its own seeded noise
    source (the same seed for all, so two SGD racers see the same minibatches)."""
    surface = surface or surface_of(state)
    lanes = []
    for racer in state.racers:
        p = np.array([state.x0, state.y0], dtype=np.float64)
        optimizer = racer.make_optimizer(p)
        schedule = racer.make_schedule()
        noise, batch = (0.0, None) if racer.kind == "gd" else (racer.noise, racer.batch)
        source = GradientSource(surface, np.random.default_rng(state.seed), noise, batch)
        descent = descend(surface, optimizer, schedule, state.steps, source, eps=state.eps)
        rows, explain = state_rows(racer, descent, surface.axes[0])
        lr_now = float(descent.lrs[-1]) if len(descent.lrs) else None
        lanes.append(Lane(racer, descent, rows, explain, lr_now))
    return lanes


def _row(label: str, symbol: str, formula: str, values) -> dict:
    values = np.asarray(values, dtype=np.float64)
    shown = symbol if formula == symbol else f"{symbol} = {formula}"
    return {"label": label, "symbol": symbol, "formula": shown, "values": values.tolist()}


def state_rows(racer: Racer, descent: Descent, axis: str = "x") -> tuple[list[dict], str | None]:
    """The gradient, the optimizer's state, the effective rate and the update after the last
    recorded step, each with its formula; empty before the first step or after a divergence.
    The explanation line works through the update of the first coordinate, named ``axis``."""
    opt = descent.optimizer
    if descent.grad is None or descent.diverged_at is not None or descent.frozen_at is not None:
        return [], None
    g = descent.grad
    state, update, eff = opt.state[0], opt.last_update[0], opt.effective_lr[0]
    t = opt.t
    exact = "∇f" if racer.batch is None else f"(1/{racer.batch})·Σᵢ∈B ∇fᵢ"
    noisy = racer.noise and racer.kind != "gd"
    rows = [_row(N_("gradient"), "g", exact + (f" + {racer.noise:g}·ξ" if noisy else ""), g)]
    fmt = _fmt
    if racer.kind in ("gd", "sgd"):
        rows.append(_row(N_("effective rate"), "η", "η", eff))
        rows.append(_row(N_("update"), "Δ", "−η·g", update))
        explain = f"{axis}: Δ = −η·g = −{fmt(eff[0])} × {fmt(g[0])} = {_plain(update[0])}"
    elif racer.kind in ("momentum", "nesterov"):
        mu = racer.momentum
        formula = "g" if t == 1 else f"{mu:g}·v + g"
        rows.append(_row(N_("velocity"), "v", formula, state["velocity"]))
        rows.append(_row(N_("effective rate"), "η", "η", eff))
        v = state["velocity"]
        if racer.kind == "momentum":
            rows.append(_row(N_("update"), "Δ", "−η·v", update))
            explain = f"{axis}: Δ = −η·v = −{fmt(eff[0])} × {fmt(v[0])} = {_plain(update[0])}"
        else:
            rows.append(_row(N_("update"), "Δ", f"−η·(g + {mu:g}·v)", update))
            explain = (
                f"{axis}: Δ = −η·(g + μ·v) = −{fmt(eff[0])} × ({fmt(g[0])} + {mu:g} × {fmt(v[0])})"
                f" = {_plain(update[0])}"
            )
    elif racer.kind == "adagrad":
        rows.append(_row(N_("sum of squared gradients"), "G", "G + g²", state["sum_sq"]))
        rows.append(_row(N_("effective rate"), "η̂", "η / (√G + ε)", eff))
        rows.append(_row(N_("update"), "Δ", "−η̂·g", update))
        explain = (
            f"{axis}: Δ = −η / (√G + ε) · g = −{fmt(racer_lr(descent))} / "
            f"({fmt(math.sqrt(state['sum_sq'][0]))} + 1e-10) × {fmt(g[0])} = {_plain(update[0])}"
        )
    elif racer.kind == "rmsprop":
        a = racer.alpha
        rows.append(
            _row(N_("average of squared gradients"), "s", f"{a:g}·s + {1 - a:g}·g²",
                 state["square_avg"])
        )  # fmt: skip
        rows.append(_row(N_("effective rate"), "η̂", "η / (√s + ε)", eff))
        rows.append(_row(N_("update"), "Δ", "−η̂·g", update))
        explain = (
            f"{axis}: Δ = −η / (√s + ε) · g = −{fmt(racer_lr(descent))} / "
            f"({fmt(math.sqrt(state['square_avg'][0]))} + 1e-8) × {fmt(g[0])} = {_plain(update[0])}"
        )
    else:
        b1, b2 = racer.beta1, racer.beta2
        rows.append(_row(N_("first moment"), "m", f"{b1:g}·m + {1 - b1:g}·g", state["m"]))
        rows.append(_row(N_("second moment"), "v", f"{b2:g}·v + {1 - b2:g}·g²", state["v"]))
        if racer.bias_correction:
            c1, c2 = 1 - b1**t, 1 - b2**t
            rows.append(_row(N_("corrected m"), "m̂", f"m / (1 − {b1:g}^{t}) = m / {fmt(c1)}",
                             state["m_hat"]))  # fmt: skip
            rows.append(_row(N_("corrected v"), "v̂", f"v / (1 − {b2:g}^{t}) = v / {fmt(c2)}",
                             state["v_hat"]))  # fmt: skip
        else:
            rows.append(_row(N_("corrected m"), "m̂", "m (no correction)", state["m_hat"]))
            rows.append(_row(N_("corrected v"), "v̂", "v (no correction)", state["v_hat"]))
        rows.append(_row(N_("effective rate"), "η̂", "η / (√v̂ + ε)", eff))
        rows.append(_row(N_("update"), "Δ", "−η̂·m̂", update))
        explain = (
            f"{axis}: Δ = −η / (√v̂ + ε) · m̂ = −{fmt(racer_lr(descent))} / "
            f"({fmt(math.sqrt(state['v_hat'][0]))} + 1e-8) × {fmt(state['m_hat'][0])}"
            f" = {_plain(update[0])}"
        )
    return rows, explain


def _plain(value: float) -> str:
    return f"{value:.4g}".replace("-", "−")


def racer_lr(descent: Descent) -> float:
    return float(descent.lrs[-1]) if len(descent.lrs) else float(descent.optimizer.lr)


def _fmt(value: float) -> str:
    """Numbers inside an explanation line: 4 significant digits, a true minus sign, negative
    numbers in brackets so that "× (−2)" reads right."""
    text = f"{value:.4g}".replace("-", "−")
    return f"({text})" if value < 0 else text


# --- The surface picture -------------------------------------------------------------------


def surface_pixels(surface: Surface, view: str, width: int = MAP_WIDTH) -> np.ndarray:
    """The surface as a grey picture, (H, W) uint8: white at the lowest point in view, darker
    going up; on a log scale (of the height above the lowest point) when the values span many
    decades. ``contour`` draws 18 level lines on white, ``heatmap`` fills with the grey."""
    x0, x1, y0, y1 = surface.box
    height = round(width * (y1 - y0) / (x1 - x0))
    _, _, values = surface.grid(width, height)
    t = height_fraction(surface, values)
    levels = np.floor(t * 18)
    edge = np.zeros(t.shape, dtype=bool)
    edge[:, :-1] |= levels[:, :-1] != levels[:, 1:]
    edge[:-1, :] |= levels[:-1, :] != levels[1:, :]
    if view == "heatmap":
        grey = 250 - 140 * t
        grey[edge] -= 25
    else:
        grey = np.full(t.shape, 252.0)
        grey[edge] = 150 - 40 * t[edge]
    return np.clip(np.round(grey), 0, 255).astype(np.uint8)


def height_fraction(surface: Surface, values: np.ndarray) -> np.ndarray:
    """Where each value sits between the lowest and highest in view, 0..1 (log scale if the
    surface asks for it: log of the height above the lowest point, over five decades)."""
    low, high = float(values.min()), float(values.max())
    span = max(high - low, 1e-300)
    if surface.log_scale:
        floor = span * 1e-5
        lv = np.log10(values - low + floor)
        return (lv - math.log10(floor)) / (math.log10(span + floor) - math.log10(floor))
    return (values - low) / span


def map_scale(surface: Surface) -> tuple[float, float]:
    """The lowest and highest value on the map, for the colour scale's labels."""
    _, _, values = surface.grid(96, 96)
    return float(values.min()), float(values.max())


def map_png_key(state: OptState) -> str:
    return "optmap:" + hashlib.sha256(state.map_query().encode()).hexdigest()
