"""Parsing of form and query values into typed settings, with messages a student can act on.

Lab pages parse by hand rather than through FastAPI's validation, so that every message is
translated, names the control, and the page can be re-rendered with what the user typed.
"""

from __future__ import annotations

import math
from fractions import Fraction

from app.errors import UserError
from app.i18n import N_


def parse_int(raw: str | None, field: str, default: int, low: int, high: int) -> int:
    """`field` is a translatable label (marked with N_)."""
    text = (raw or "").strip()
    if not text:
        return default
    try:
        value = int(text)
    except ValueError:
        try:
            as_float = float(text)
        except ValueError:
            as_float = math.nan
        if not as_float.is_integer():
            raise UserError(
                N_("%(field)s must be a whole number (got '%(text)s')."),
                field=LabelRef(field),
                text=text[:40],
            ) from None
        value = int(as_float)
    if not low <= value <= high:
        raise UserError(
            N_("%(field)s must be between %(low)s and %(high)s (got %(value)s)."),
            field=LabelRef(field),
            low=low,
            high=high,
            value=text[:40],
        )
    return value


def parse_number(text: str) -> float | None:
    """A decimal, a fraction such as 1/9, or None when the text is not a number. Rejects NaN/inf."""
    text = text.strip().replace("−", "-")
    try:
        value = float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return value


def parse_float(raw: str | None, field: str, default: float, low: float, high: float) -> float:
    text = (raw or "").strip()
    if not text:
        return default
    value = parse_number(text.replace(",", ".") if text.count(",") == 1 else text)
    if value is None or not math.isfinite(value):
        raise UserError(
            N_("%(field)s must be a finite number (got '%(text)s')."),
            field=LabelRef(field),
            text=text[:40],
        )
    if not low <= value <= high:
        raise UserError(
            N_("%(field)s must be between %(low)s and %(high)s (got %(value)s)."),
            field=LabelRef(field),
            low=f"{low:g}",
            high=f"{high:g}",
            value=text[:40],
        )
    return value


def parse_choice(raw: str | None, field: str, choices: tuple[str, ...], default: str) -> str:
    text = (raw or "").strip()
    if not text:
        return default
    if text not in choices:
        raise UserError(
            N_("%(field)s must be one of: %(choices)s (got '%(text)s')."),
            field=LabelRef(field),
            choices=", ".join(choices),
            text=text[:40],
        )
    return text


class LabelRef(str):
    """A control's label inside a message: translated along with the message that holds it."""

    is_label = True


class LabelList(tuple):
    """Several labels inside a message, translated one by one and joined with commas."""

    is_label_list = True
