"""The Signals lab's flip-and-slide part: a short signal and kernel typed as numbers, and the
output position being computed."""

from __future__ import annotations

import math
from dataclasses import dataclass

from app.errors import UserError
from app.forms import LabelRef, parse_int, parse_number
from app.i18n import N_
from app.signalslab import MAX_SLIDE_KERNEL, MAX_SLIDE_SIGNAL, numbers_text

DEFAULT_SIGNAL = [1.0, 0.0, 0.0, 2.0, 1.0, 0.0]
DEFAULT_KERNEL = [1.0, 0.5, 0.25]


@dataclass
class SlideState:
    signal: list[float]
    kernel: list[float]
    position: int = 0

    def items(self) -> list[tuple[str, str]]:
        return [
            ("xs", numbers_text(self.signal)),
            ("hs", numbers_text(self.kernel)),
            ("pos", str(self.position)),
        ]


def parse_numbers(raw: str | None, field: str, default: list[float], limit: int) -> list[float]:
    """Numbers separated by spaces or commas (fractions such as 1/3 work)."""
    text = (raw or "").strip()
    if not text:
        return list(default)
    tokens = text.replace(",", " ").replace(";", " ").split()
    if len(tokens) > limit:
        raise UserError(
            N_("%(field)s holds at most %(limit)s numbers (got %(count)s)."),
            field=LabelRef(field),
            limit=limit,
            count=len(tokens),
        )
    values = []
    for position, token in enumerate(tokens, start=1):
        value = parse_number(token)
        if value is None or not math.isfinite(value) or abs(value) > 1000:
            raise UserError(
                N_("%(field)s, number %(n)s: '%(text)s' is not a number between -1000 and 1000."),
                field=LabelRef(field),
                n=position,
                text=token[:20],
            )
        values.append(value)
    return values


def parse_slide(params) -> SlideState:
    signal = parse_numbers(params.get("xs"), N_("Signal x"), DEFAULT_SIGNAL, MAX_SLIDE_SIGNAL)
    kernel = parse_numbers(params.get("hs"), N_("Kernel h"), DEFAULT_KERNEL, MAX_SLIDE_KERNEL)
    last = len(signal) + len(kernel) - 2
    # Past either end is clamped: a Step past the last output simply stays there.
    position = parse_int(params.get("pos"), N_("Position"), 0, -1000, 1000)
    return SlideState(signal, kernel, min(max(position, 0), last))
