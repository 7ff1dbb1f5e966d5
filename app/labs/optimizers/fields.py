"""The Optimizer lab's fields: everything lives in the URL.

The surface (and the bowl's condition number and rotation), the start, up to seven racers in
numbered slots and the step count. Racer fields carry their slot number: o1 (kind), lr1, sc1
(schedule), ga1/ss1/kk1/tt1/wu1 (its settings), mo1 (momentum), ba1/bb1/bc1 (Adam's betas and bias
correction), al1 (RMSProp's alpha), bs1 (minibatch size), no1 (noise σ). Hidden fields prev
(surface), pk1 (kind) and ps1 (schedule) say what the form showed, so that changing a surface,
kind or schedule starts from suggested values instead of carrying over numbers that belonged to
the old choice.
"""

from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

from pydantic import PrivateAttr, create_model, model_validator

from app.config import LIMITS
from app.web.charts import OKABE_ITO
from app.web.errors import LabelRef, UserError
from app.web.fields import RANGE, Fields, NestedError, field
from app.web.i18n import N_
from app.web.numbers import LocalNumber
from engine.optim import Optimizer, make_optimizer
from engine.schedules import Schedule, make_schedule
from engine.surfaces import SURFACES, Surface, make_surface

KINDS = ("gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam")
SCHEDULES = ("constant", "step", "exponential", "inverse_time", "cosine")
VIEWS = ("contour", "heatmap")
MAX_RACERS = 7  # one colour of the Okabe–Ito palette each
MAX_STEPS = LIMITS.max_optimizer_steps
MAX_LR = 10.0
MAX_NOISE = 1000.0
RACER = N_("Optimizer %(n)s: %(problem)s")

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
# A racer's fields, in the order the URL writes them, by their query-name prefix.
SCHEDULE_FIELDS = ("ga", "ss", "kk", "tt", "wu")


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

    def make_optimizer(self, p) -> Optimizer:
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


class MapFields(Fields):
    """What fixes the surface picture: the surface, the bowl's shape, the view."""

    surface: Literal[SURFACES] = field(
        "rosenbrock", N_("Surface"), status=404,
        invalid=N_("Unknown surface '%(name)s': choose one of %(names)s."),
    )  # fmt: skip
    kappa: float = field(10.0, N_("Condition number κ"), ge=1.0, le=1000.0)
    angle: float = field(30.0, N_("Rotation θ (degrees)"), ge=-180.0, le=180.0)
    view: Literal[VIEWS] = field("contour", N_("Picture"))

    @model_validator(mode="before")
    @classmethod
    def _bowl_only(cls, data):
        """κ and θ shape the bowl; on other surfaces they are not read."""
        if isinstance(data, dict) and str(data.get("surface") or "bowl").strip() != "bowl":
            data = {k: v for k, v in data.items() if k not in ("kappa", "angle")}
        return data

    def omitted(self) -> set[str]:
        hidden = set() if self.surface == "bowl" else {"kappa", "angle"}
        return hidden | ({"view"} if self.view == "contour" else set())

    def map_query(self) -> str:
        """The picture's own query: the surface's fields and the view, always."""
        bowl = [("kappa", f"{self.kappa:g}"), ("angle", f"{self.angle:g}")]
        items = [("surface", self.surface), *(bowl if self.surface == "bowl" else [])]
        return urlencode([*items, ("view", self.view)])

    def make_surface(self) -> Surface:
        kw = {"kappa": self.kappa, "angle": self.angle} if self.surface == "bowl" else {}
        return make_surface(self.surface, **kw)


class RaceRules(MapFields):
    """The rules between the race's fields; the fields themselves are declared below, slot by
    slot (OptFields)."""

    _racers: list[Racer] = PrivateAttr(default_factory=list)

    @model_validator(mode="before")
    @classmethod
    def _forget_old_choices(cls, data):
        """A new surface, kind or schedule starts from its suggestions: what the form showed for
        the old one is not read."""
        if not isinstance(data, dict):
            return data
        data = dict(data)
        for key in data:
            if key[:1] == "o" and key[1:].isdigit() and not key[1:].isascii():
                raise UserError(
                    N_("'%(key)s' is not an optimizer: they are numbered o1 to o%(max)s."),
                    key=key[:12], max=MAX_RACERS,
                )  # fmt: skip
        extra = [k for k in data if _slot_number(k) > MAX_RACERS]
        if extra:
            raise UserError(
                N_("At most %(max)s optimizers race at once (got a setting for optimizer %(n)s)."),
                max=MAX_RACERS, n=extra[0][1:][:6],
            )  # fmt: skip
        surface = _text(data.get("surface")) or "rosenbrock"
        changed = (_text(data.get("prev")) or surface) != surface
        if changed:
            data.pop("x0", None)
            data.pop("y0", None)
        if not any(f"o{i}" in data for i in SLOTS):
            data.update({f"o{i}": kind for i, kind in enumerate(DEFAULT_KINDS, start=1)})
        for i in SLOTS:
            kind = _text(data.get(f"o{i}"))
            if not kind or kind == "off":
                for key in slot_keys(i):
                    data.pop(key, None)
                continue
            if changed or (_text(data.get(f"pk{i}")) or kind) != kind:
                keep = (f"o{i}", f"sc{i}")
                for key in slot_keys(i):
                    if key not in keep:
                        data.pop(key, None)
            schedule = _text(data.get(f"sc{i}")) or "constant"
            if (_text(data.get(f"ps{i}")) or schedule) != schedule:
                for prefix in SCHEDULE_FIELDS:
                    data.pop(f"{prefix}{i}", None)
        return data

    @model_validator(mode="after")
    def _race(self):
        surface = self.make_surface()
        x0, x1, y0, y1 = surface.box
        self.x0 = surface.start[0] if self.x0 is None else self.x0
        self.y0 = surface.start[1] if self.y0 is None else self.y0
        if not surface.contains(self.x0, self.y0):
            ax, ay = surface.axes
            raise UserError(
                N_("The start (%(x)s, %(y)s) lies outside the map: %(ax)s goes from %(x0)s to "
                   "%(x1)s and %(ay)s from %(y0)s to %(y1)s."),
                x=LocalNumber(self.x0, "short", digits=6),
                y=LocalNumber(self.y0, "short", digits=6), ax=ax, ay=ay,
                x0=LocalNumber(x0, "short"), x1=LocalNumber(x1, "short"),
                y0=LocalNumber(y0, "short"), y1=LocalNumber(y1, "short"),
            )  # fmt: skip
        span = max(x1 - x0, y1 - y0)
        if not 1e-9 <= self.eps <= span:
            raise UserError(RANGE, field=LabelRef(N_("Tolerance ε")), low="1e-09",
                            high=LocalNumber(span, "short"),
                            value=LocalNumber(self.eps, "significant", digits=6))  # fmt: skip
        self._racers = [self._racer(i, surface) for i in SLOTS if getattr(self, f"o{i}")]
        if self.action == "step":
            self.steps += 1
        elif self.action == "run":
            self.steps += self.run
        elif self.action == "reset":
            self.steps = 0
        self.action = None
        if self.steps > MAX_STEPS:
            raise UserError(
                N_("At most %(max)s steps can be shown (this would make %(steps)s). Press Reset, "
                   "or run fewer steps."),
                max=LocalNumber(MAX_STEPS), steps=LocalNumber(self.steps),
            )  # fmt: skip
        self.prev = self.surface  # what the form now shows
        return self

    def _racer(self, i: int, surface: Surface) -> Racer:
        """Slot i's racer: what was typed, else the suggestion for its surface and kind; the
        fields then show the values the race uses."""
        kind = getattr(self, f"o{i}")
        least_squares = surface.name == "least_squares"
        racer = Racer(i, kind, SUGGESTED_LR[surface.name][kind])
        if kind == "sgd":
            racer.noise = 0.0 if least_squares else SUGGESTED_NOISE[surface.name]
            racer.batch = SGD_BATCH if least_squares else None
        racer.schedule = getattr(self, f"sc{i}")
        if racer.schedule == "exponential":
            racer.gamma = 0.99
        for prefix, name in (("lr", "lr"), ("ga", "gamma"), ("ss", "step_size"), ("kk", "k"),
                             ("tt", "total"), ("wu", "warmup"), ("mo", "momentum"),
                             ("ba", "beta1"), ("bb", "beta2"), ("bc", "bias_correction"),
                             ("al", "alpha"), ("no", "noise")):  # fmt: skip
            value = getattr(self, f"{prefix}{i}")
            if value is None:
                setattr(self, f"{prefix}{i}", getattr(racer, name))
            else:
                setattr(racer, name, value)
        if racer.schedule == "cosine" and racer.warmup >= racer.total:
            raise NestedError(RACER, UserError(
                N_("The warm-up (%(warmup)s steps) must be shorter than the cosine's length "
                   "(%(total)s steps)."),
                warmup=racer.warmup, total=racer.total,
            ), n=i)  # fmt: skip
        if kind == "nesterov" and racer.momentum == 0:
            raise NestedError(RACER, UserError(N_("Nesterov needs a momentum above 0.")), n=i)
        if least_squares:
            n = surface.n
            batch = getattr(self, f"bs{i}")
            batch = racer.batch or n if batch is None else batch
            if not 1 <= batch <= n:
                raise NestedError(RACER, UserError(
                    RANGE, field=LabelRef(N_("Minibatch size")), low=1, high=n, value=batch
                ), n=i)  # fmt: skip
            racer.batch = None if batch >= n else batch
            setattr(self, f"bs{i}", batch)
        if kind == "gd":
            racer.noise, racer.batch = 0.0, None
        setattr(self, f"pk{i}", kind)
        setattr(self, f"ps{i}", racer.schedule)
        return racer

    @property
    def racers(self) -> list[Racer]:
        return self._racers

    def omitted(self) -> set[str]:
        hidden = super().omitted()
        if self.seed == 0:
            hidden.add("seed")
        if self.eps == 0.05:
            hidden.add("eps")
        shown = {racer.slot: racer for racer in self._racers}
        for i in SLOTS:
            racer = shown.get(i)
            if racer is None:
                hidden |= set(slot_keys(i))
                continue
            unused = {
                "ga": racer.schedule not in ("step", "exponential"),
                "ss": racer.schedule != "step",
                "kk": racer.schedule != "inverse_time",
                "tt": racer.schedule != "cosine",
                "wu": not racer.warmup,
                "mo": racer.kind not in ("momentum", "nesterov"),
                "ba": racer.kind != "adam", "bb": racer.kind != "adam", "bc": racer.kind != "adam",
                "al": racer.kind != "rmsprop",
                "bs": racer.kind == "gd" or racer.batch is None,
                "no": racer.kind == "gd" or not racer.noise,
            }  # fmt: skip
            hidden |= {f"{prefix}{i}" for prefix, skip in unused.items() if skip}
        return hidden


def _slot_number(key: str) -> int:
    """7 for "o7"; 0 for any other key. ASCII digits only: "o²" is not a slot, and a number of
    thousands of digits is not parsed (int() refuses more than 4,300)."""
    digits = key[1:]
    if key[:1] != "o" or not (digits.isascii() and digits.isdigit()):
        return 0
    return int(digits) if len(digits) <= 6 else 10**6


def _text(value) -> str:
    return str(value or "").strip()


SLOTS = range(1, MAX_RACERS + 1)
SLOT_PREFIXES = ("o", "lr", "sc", *SCHEDULE_FIELDS, "mo", "ba", "bb", "bc", "al", "bs", "no",
                 "pk", "ps")  # fmt: skip


def slot_keys(i: int) -> list[str]:
    return [f"{prefix}{i}" for prefix in SLOT_PREFIXES]


def slot_fields(i: int) -> dict:
    """Racer i's fields (None: the suggestion for its surface and kind)."""
    within = (RACER, {"n": i})

    def racer_field(label: str, kind, **options):
        return (kind | None, field(None, label, within=within, **options))

    return {
        f"o{i}": (Literal[KINDS] | None, field(
            None, N_("Optimizer"), status=404,
            invalid=N_("Unknown optimizer '%(name)s': choose one of %(names)s."),
        )),
        f"lr{i}": racer_field(
            N_("Learning rate"), float, gt=0.0, le=MAX_LR,
            below=N_("%(field)s must be greater than 0 (got %(value)s): with a rate of 0 or less "
                     "nothing goes downhill."),
            above=N_("%(field)s must be at most %(high)s (got %(value)s): larger rates only "
                     "blow up."),
        ),
        f"sc{i}": (Literal[SCHEDULES], field("constant", N_("Schedule"), within=within)),
        f"ga{i}": racer_field(N_("Gamma (decay factor)"), float, ge=0.001, le=1.0),
        f"ss{i}": racer_field(N_("Steps between drops"), int, ge=1, le=MAX_STEPS),
        f"kk{i}": racer_field(N_("Decay rate k"), float, ge=0.0, le=100.0),
        f"tt{i}": racer_field(N_("Cosine length (steps)"), int, ge=1, le=MAX_STEPS),
        f"wu{i}": racer_field(N_("Warm-up steps"), int, ge=0, le=MAX_STEPS),
        f"mo{i}": racer_field(N_("Momentum μ"), float, ge=0.0, le=0.999),
        f"ba{i}": racer_field(N_("β"), float, ge=0.0, le=0.9999),
        f"bb{i}": racer_field(N_("β₂"), float, ge=0.0, le=0.9999),
        f"bc{i}": racer_field(N_("Bias correction"), bool),
        f"al{i}": racer_field(N_("Alpha α"), float, ge=0.0, le=0.9999),
        f"bs{i}": racer_field(N_("Minibatch size"), int,
                              description="Line fit only: 1 to the number of data points."),
        f"no{i}": racer_field(N_("Gradient noise σ"), float, ge=0.0, le=MAX_NOISE),
        f"pk{i}": (str | None, field(None, in_query=False)),
        f"ps{i}": (str | None, field(None, in_query=False)),
    }  # fmt: skip


def _race_fields() -> dict:
    fields = {
        "prev": (str | None, field(None, in_query=False)),
        "x0": (float | None, field(None, N_("Start x"), ge=-1e9, le=1e9)),
        "y0": (float | None, field(None, N_("Start y"), ge=-1e9, le=1e9)),
    }
    for i in SLOTS:
        fields |= slot_fields(i)
    return fields | {
        "steps": (int, field(30, N_("Steps"), ge=0, le=MAX_STEPS)),
        "run": (int, field(50, N_("Steps per run"), ge=1, le=MAX_STEPS)),
        "seed": (int, field(0, N_("Noise seed"), ge=0, le=2**31 - 1)),
        # From 1e-9 to the map's width: the upper bound depends on the surface (checked above).
        "eps": (float, field(0.05, N_("Tolerance ε"), json_schema_extra={"minimum": 1e-9})),
        "action": (Literal["step", "run", "reset"] | None, field(
            None, N_("Action"), in_query=False, invalid=N_("Unknown action '%(name)s'."),
        )),
    }  # fmt: skip


OptFields = create_model("OptFields", __base__=RaceRules, __module__=__name__, **_race_fields())
