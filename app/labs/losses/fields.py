"""The Loss lab's fields. The whole state is in GET parameters:

y, yhat        regression target and prediction (MSE, MAE)
t, p           binary target and predicted probability (BCE)
z1..z4, k      four class logits and the true class (categorical cross-entropy)
ys, pa, pb     a small dataset and two models' predictions (why squares)
tosses, pc     coin tosses (H/T) and a candidate p (Bernoulli likelihood)
pts, sigma, wc points "x, y" per line, the noise σ and a candidate slope (Gaussian likelihood)
zs             the logit of a sigmoid output whose label is 1 (saturation)
"""

import math
import re

from pydantic import field_validator, model_validator

from app.config import LIMITS
from app.web.errors import LabelRef, UserError
from app.web.fields import Fields, field, parse_number
from app.web.i18n import N_
from app.web.numbers import LocalNumber, decimal_commas

CLASSES = 4
MAX_LOGIT = 10.0
PREDICTION_RANGE = 5.0  # target and prediction sliders, and the plots they are dragged along
MAX_VALUE = 1000.0  # targets, predictions and data values: beyond this nothing new is learned
PROBABILITY = N_("%(field)s is a probability, so it must be a number from 0 to 1 (got '%(text)s').")
NUMBERS = "Numbers separated by commas, semicolons or spaces."


def _g(value: float) -> str:
    return f"{value:.6g}"


def _list(values: list[float]) -> str:
    return ", ".join(_g(v) for v in values)


def _points(points: list[tuple[float, float]]) -> str:
    return "; ".join(f"{_g(x)}, {_g(y)}" for x, y in points)


def _text(value) -> str:
    """The text the field was sent as; FastAPI reads a list field as every value sent, and as
    for any other field the last one wins."""
    if isinstance(value, list | tuple):
        return str(value[-1]) if value else ""
    return str(value)


def logit(default: float):
    return field(default, N_("Logit"), ge=-MAX_LOGIT, le=MAX_LOGIT, fmt=_g)


def probability(default: float, label: str):
    return field(default, label, ge=0.0, le=1.0, fmt=_g, invalid=PROBABILITY)


def numbers(default: list[float], label: str):
    return field(default, label, fmt=_list, description=NUMBERS)


class LossFields(Fields):
    y: float = field(1.0, N_("Target y"), ge=-PREDICTION_RANGE, le=PREDICTION_RANGE, fmt=_g)
    yhat: float = field(2.5, N_("Prediction ŷ"), ge=-PREDICTION_RANGE, le=PREDICTION_RANGE, fmt=_g)
    t: float = probability(1.0, N_("Target t"))
    p: float = probability(0.3, N_("Predicted probability p"))
    z1: float = logit(2.0)
    z2: float = logit(1.0)
    z3: float = logit(0.5)
    z4: float = logit(-1.0)
    k: int = field(2, N_("True class"), ge=1, le=CLASSES)
    ys: list[float] = numbers([3.0, 5.0, 2.0, 8.0, 6.0], N_("Targets y"))
    pa: list[float] = numbers([5.0, 3.0, 4.0, 6.0, 6.0], N_("Model A predicts"))
    pb: list[float] = numbers([3.0, 5.0, 2.0, 8.0, 14.0], N_("Model B predicts"))
    tosses: str = field("HHTHHTHHHT", N_("Coin tosses"), description="H for heads, T for tails.")
    pc: float = probability(0.5, N_("Candidate p"))
    pts: list[tuple[float, float]] = field(
        [(0.5, 1.1), (1.0, 2.3), (1.5, 2.2), (2.0, 3.4), (2.5, 3.1), (3.0, 4.4), (3.5, 4.2),
         (4.0, 5.3)],
        N_("Data points"), fmt=_points, description="Points 'x, y', one per line or by ';'.",
    )  # fmt: skip
    sigma: float = field(0.5, N_("Noise σ"), ge=0.01, le=100.0, fmt=_g)
    wc: float = field(0.5, N_("Candidate slope w"), ge=-10.0, le=10.0, fmt=_g)
    zs: float = field(-4.0, N_("Logit z"), ge=-MAX_LOGIT, le=MAX_LOGIT, fmt=_g)

    @property
    def z(self) -> list[float]:
        return [self.z1, self.z2, self.z3, self.z4]

    @field_validator("ys", "pa", "pb", mode="before")
    @classmethod
    def _numbers(cls, value, info):
        label = cls.model_fields[info.field_name].title
        if not isinstance(value, str | list):
            return value
        return parse_numbers(decimal_commas(_text(value)), label)

    @field_validator("pts", mode="before")
    @classmethod
    def _points(cls, value):
        if not isinstance(value, str | list):
            return value
        return parse_points(decimal_commas(_text(value)))

    @field_validator("tosses", mode="before")
    @classmethod
    def _tosses(cls, value):
        return parse_tosses(_text(value))

    @model_validator(mode="after")
    def _one_prediction_per_target(self):
        for label, values in ((N_("Model A predicts"), self.pa), (N_("Model B predicts"), self.pb)):
            if len(values) != len(self.ys):
                raise UserError(
                    N_("%(field)s has %(n)s numbers but there are %(m)s targets: give one "
                       "prediction per target."),
                    field=LabelRef(label), n=len(values), m=len(self.ys),
                )  # fmt: skip
        return self


def parse_numbers(text: str, label: str) -> list[float]:
    """A list of numbers separated by commas, semicolons or spaces."""
    text = text.strip()
    if len(text) > LIMITS.max_loss_text:
        raise UserError(N_("%(field)s is too long."), field=LabelRef(label))
    parts = [part for part in re.split(r"[,;\s]+", text) if part]
    if not parts:
        raise UserError(
            N_("%(field)s is empty: give at least one number."), status=422, field=LabelRef(label)
        )
    if len(parts) > LIMITS.max_loss_points:
        raise UserError(
            N_("%(field)s holds %(n)s numbers; at most %(max)s fit in the table."),
            field=LabelRef(label), n=len(parts), max=LIMITS.max_loss_points,
        )  # fmt: skip
    values = []
    for part in parts:
        value = parse_number(part)
        if value is None or not math.isfinite(value) or abs(value) > MAX_VALUE:
            raise UserError(
                N_("%(field)s: '%(text)s' is not a number between −%(max)s and %(max)s."),
                field=LabelRef(label), text=part[:20], max=LocalNumber(MAX_VALUE),
            )  # fmt: skip
        values.append(value)
    return values


def parse_points(raw: str) -> list[tuple[float, float]]:
    """Points as "x, y" pairs, one per line or separated by semicolons."""
    if len(raw) > LIMITS.max_loss_text:
        raise UserError(N_("%(field)s is too long."), field=LabelRef(N_("Data points")))
    rows = [row.strip() for row in re.split(r"[;\n]+", raw) if row.strip()]
    if not rows:
        raise UserError(
            N_("There are no data points: give at least two, as 'x, y' (one per line)."),
            status=422,
        )
    if len(rows) > LIMITS.max_loss_points:
        raise UserError(
            N_("%(field)s holds %(n)s numbers; at most %(max)s fit in the table."),
            field=LabelRef(N_("Data points")), n=len(rows), max=LIMITS.max_loss_points,
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
                text=row[:40], max=LocalNumber(MAX_VALUE),
            )  # fmt: skip
        points.append((values[0], values[1]))
    if len(points) < 2:
        raise UserError(N_("A line needs at least two data points (got %(n)s)."), n=len(points))
    if len({x for x, _ in points}) == 1:
        raise UserError(N_("All x values are equal: no single line fits best."))
    return points


def parse_tosses(raw: str) -> str:
    text = re.sub(r"[\s,;]+", "", raw.upper()).replace("1", "H").replace("0", "T")
    if not text:
        raise UserError(
            N_("There are no coin tosses: type some, like HHTH (H for heads, T for tails)."),
            status=422,
        )
    if len(text) > LIMITS.max_tosses:
        raise UserError(
            N_("At most %(max)s coin tosses (got %(n)s)."), max=LIMITS.max_tosses, n=len(text)
        )
    bad = sorted(set(text) - {"H", "T"})
    if bad:
        raise UserError(
            N_("Coin tosses are written with H (heads) and T (tails) only (found '%(text)s')."),
            text="".join(bad)[:10],
        )
    return text
