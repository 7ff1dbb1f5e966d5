"""Numbers as the pages write them: short, readable values for explanations (the `num` filter)."""

from __future__ import annotations


def short_number(value: float, digits: int = 3) -> str:
    """0.125, -3, 1.2e+04: as few characters as the value needs, at most `digits` decimals."""
    if value != value:  # NaN
        return "NaN"
    if abs(value) >= 1e5 or (0 < abs(value) < 1e-3):
        return f"{value:.{digits}g}"
    rounded = round(value, digits)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.{digits}f}".rstrip("0").rstrip(".")


def numbers_text(values) -> str:
    """A list of numbers as a student types them: "1 0.5 0.25"."""
    return " ".join(_four_decimals(v) for v in values)


def _four_decimals(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text
