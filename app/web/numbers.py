"""Numbers as the people reading a page write them, and as they type them.

Every number shown to a person goes through a `Numbers` made for the page's locale, with Babel's
CLDR symbols: English writes 61,706 and 94.7%, Brazilian Portuguese 61.706 and 94,7 % (with the
space Brazilian style guides put before %). Only whole counts are grouped (`integer`); numbers
in formulas are not (2406,5). The templates reach it as the `num`, `integer` and `percent`
filters and as `numbers`; chart code gets the same object from its view.

What machines read stays in plain Python notation in every language: URLs, form values (a
`type=number` input needs a dot), data-* attributes, SVG coordinates (`numbers_text`).

A message filled in after the fact (a UserError's parameters, written by app.web.errors) gets
its numbers as `LocalNumber`s, which write themselves in the language of the request answered.

Typed lists of numbers are read by the lab's parsers, which split on spaces, commas and
semicolons. On a Portuguese page a comma between digits is a decimal comma, so "1,5 2,5" is two
numbers: `decimal_commas` rewrites it as "1.5 2.5" before those parsers see it.
"""

from __future__ import annotations

import math
import re
from contextvars import ContextVar
from functools import cache

from babel.numbers import format_decimal, get_decimal_symbol

# The locale of the request being answered, set once per request (app.web.deps): for the field
# validators, which FastAPI runs without any context of ours, and for messages' numbers. English
# outside a request.
REQUEST_LOCALE: ContextVar[str] = ContextVar("request_locale", default="en")

DECIMAL_COMMA_LOCALES = frozenset({"pt_BR"})
# Where the locale's style puts a space between the number and "%" (a no-break space, so the
# sign never starts a line): Brazilian style guides (ABNT, Inmetro) do; CLDR's pattern does not.
PERCENT_SPACE = {"pt_BR": "\u00a0"}


class Numbers:
    """The number formatter of one locale ("en", "pt_BR")."""

    def __init__(self, locale: str = "en") -> None:
        self.locale = locale
        self.decimal_symbol = get_decimal_symbol(locale)
        # Between the numbers of a point: "(1,5; 2)" where the comma is the decimal mark.
        self.pair_separator = "; " if self.decimal_symbol == "," else ", "
        self._percent_sign = PERCENT_SPACE.get(locale, "") + "%"

    def __repr__(self) -> str:
        return f"Numbers({self.locale!r})"

    def short(self, value: float, digits: int = 3) -> str:
        """As few characters as the value needs: at most `digits` decimals and no trailing
        zeros (0.125, -3, 2406.5 / 2406,5: no grouping, as in a formula); scientific only below
        0.001 or from 100,000 on (1.2e+05 / 1,2e+05). The `num` filter."""
        value = float(value)
        if value != value:
            return "NaN"
        if math.isinf(value):
            return "∞" if value > 0 else "-∞"
        if abs(value) >= 1e5 or (0 < abs(value) < 1e-3):
            return f"{value:.{digits}g}".replace(".", self.decimal_symbol)
        rounded = round(value, digits) + 0.0  # + 0.0: no "-0"
        return self._decimal(rounded, digits)

    __call__ = short

    def integer(self, value: float) -> str:
        """A whole number with the locale's grouping: 61,706 / 61.706. The `int` filter."""
        value = float(value)
        if not math.isfinite(value):
            return self.short(value)
        return format_decimal(int(round(value)), format="#,##0", locale=self.locale)

    def percent(self, fraction: float, digits: int = 1) -> str:
        """A fraction as a percentage, at most `digits` decimals: 0.947 -> 94.7% / 94,7 %."""
        value = float(fraction) * 100
        if not math.isfinite(value):
            return self.short(value) + self._percent_sign
        return self._decimal(round(value, digits) + 0.0, digits) + self._percent_sign

    def tick(self, value: float) -> str:
        """A chart's tick label: at most 2 decimals (the ticks are round numbers)."""
        return self.short(value, 2)

    def fixed(self, value: float, decimals: int, *, plus: bool = False) -> str:
        """Exactly `decimals` decimals, for columns of numbers: 0.50 / 0,50; `plus` writes the
        sign of positive numbers too (+0.53). No "-0.00"."""
        value = float(value)
        if value != value or math.isinf(value):
            return self.short(value)
        value = round(value, decimals) + 0.0
        pattern = "0" + ("." + "0" * decimals if decimals > 0 else "")
        if plus and value > 0:
            pattern = "+" + pattern + ";-" + pattern
        return format_decimal(value, format=pattern, locale=self.locale)

    def significant(self, value: float, digits: int = 4) -> str:
        """`digits` significant digits and a true minus sign, for formulas: −0.1235 / −0,1235."""
        value = float(value)
        if value != value or math.isinf(value):
            return self.short(value).replace("-", "−")
        text = f"{value:.{digits}g}"
        if "e" not in text:
            decimals = len(text.partition(".")[2])
            text = self._decimal(float(text), decimals)
        else:
            text = text.replace(".", self.decimal_symbol)
        return text.replace("-", "−")

    def _decimal(self, value: float, digits: int) -> str:
        # The value is rounded already (by Python, as before): Babel only writes it, with the
        # locale's decimal sign and no grouping (only `integer` groups thousands).
        pattern = "0." + "#" * digits if digits > 0 else "0"
        return format_decimal(value, format=pattern, locale=self.locale)


numbers_for = cache(Numbers)  # one per locale
ENGLISH = numbers_for("en")


class LocalNumber:
    """A number in a message that is written later, when the page is (a UserError's parameter):
    `LocalNumber(61706)` reads "61,706" on an English page and "61.706" on a Portuguese one.
    `style` names the Numbers method that writes it ("integer", "short")."""

    def __init__(self, value: float, style: str = "integer", **options) -> None:
        self.value, self.style, self.options = value, style, options

    def __str__(self) -> str:
        numbers = numbers_for(REQUEST_LOCALE.get())
        return getattr(numbers, self.style)(self.value, **self.options)

    def __repr__(self) -> str:
        return f"LocalNumber({self.value!r}, {self.style!r})"


# --- what machines read --------------------------------------------------------------------------


def numbers_text(values) -> str:
    """A list of numbers as a student types them, for form values and URLs: "1 0.5 0.25"."""
    return " ".join(_four_decimals(v) for v in values)


def _four_decimals(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


# --- what people type ----------------------------------------------------------------------------

# One comma between two runs of digits, not part of a longer chain such as "1,2,3" (a list).
_DECIMAL_COMMA = re.compile(r"(?<![\d,])(\d+),(\d+)(?!,?\d)")


def decimal_commas(text: str, locale: str | None = None) -> str:
    """A typed list of numbers with its decimal commas written as points, in the locales that
    write them ("1,5 2,5" -> "1.5 2.5" in pt-BR); unchanged in English, where a comma separates
    numbers. "1,2,3" stays a list of three in every locale."""
    if (locale or REQUEST_LOCALE.get()) not in DECIMAL_COMMA_LOCALES:
        return text
    return _DECIMAL_COMMA.sub(r"\1.\2", text)
