"""Pydantic's validation errors as the messages a student reads: each names the field and its
range, in the page's language ("Stride must be between 1 and 64 (got 0)."). One place maps them
all (`problems`)."""

import typing
from typing import Literal

from pydantic.fields import FieldInfo

from app.web.errors import LabelRef, UserError, UserErrors, from_engine_error
from app.web.field_spec import base_type, last, spec_of
from app.web.i18n import N_
from app.web.numbers import LocalNumber
from engine.errors import EngineError

WHOLE = N_("%(field)s must be a whole number (got '%(text)s').")
FINITE = N_("%(field)s must be a finite number (got '%(text)s').")
RANGE = N_("%(field)s must be between %(low)s and %(high)s (got %(value)s).")
CHOICE = N_("%(field)s must be one of: %(choices)s (got '%(text)s').")
TOO_LONG = N_("%(field)s is too long.")
EMPTY_RANGE = N_("%(field)s is empty: type a number between %(low)s and %(high)s.")
EMPTY = N_("%(field)s is empty: type a number.")
INVALID = N_("Some values in this request are missing or not valid: %(names)s.")


def _bound(info: FieldInfo, *names: str):
    for item in info.metadata:
        for name in names:
            value = getattr(item, name, None)
            if value is not None:
                return value
    return None


def _number_text(value) -> LocalNumber:
    """A bound, written in the page's language when the message is ("entre 0,01 e 100")."""
    return LocalNumber(value, "short", digits=6)


def _choices(info: FieldInfo) -> list[str]:
    kind = base_type(info.annotation)
    if typing.get_origin(kind) is Literal:
        return [str(a) for a in typing.get_args(kind)]
    if kind is bool:
        return ["0", "1"]
    return []


def _integral(text: str) -> bool:
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return False
    return value == value and abs(value) != float("inf") and value == int(value)


def problem(info: FieldInfo, key: str, error: dict, raw) -> UserError:
    """One Pydantic error on one field as the message a student reads."""
    context = error.get("ctx") or {}
    if isinstance(context.get("error"), UserError):
        return context["error"]
    if isinstance(context.get("error"), EngineError):
        return from_engine_error(context["error"])
    spec = spec_of(info)
    label = LabelRef(info.title or key)
    text = last(raw, key) if raw is not None and key in raw else str(error.get("input", ""))
    text = text if len(text) <= 40 else text[:39] + "…"
    kind = error["type"]
    low, high = _bound(info, "ge", "gt"), _bound(info, "le", "lt")
    params = {"field": label, "text": text, "value": text, "name": text}
    if low is not None:
        params["low"] = _number_text(low)
    if high is not None:
        params["high"] = _number_text(high)
    params["choices"] = params["names"] = ", ".join(_choices(info))
    integral = _integral(text) and low is not None and high is not None
    far_out = integral and not (float(low) <= float(text) <= float(high))
    if spec.invalid:
        message = spec.invalid
    elif not text.strip() and kind.split("_")[0] in ("int", "float", "finite"):
        message = EMPTY_RANGE if low is not None and high is not None else EMPTY
    elif kind.startswith("int_") and far_out:
        message = RANGE  # "1e9" is a whole number, just far out of range
    elif kind == "int_parsing_size" and low is not None and high is not None:
        message = RANGE  # more digits than Python parses (4,300): far out of range
    elif kind in ("int_parsing", "int_from_float", "int_type", "int_parsing_size"):
        message = WHOLE
    elif kind in ("float_parsing", "float_type", "finite_number"):
        message = FINITE
    elif kind in ("greater_than_equal", "greater_than", "less_than_equal", "less_than"):
        side = spec.below if kind.startswith("greater") else spec.above
        message = side or RANGE
    elif kind in ("literal_error", "bool_parsing", "bool_type", "enum"):
        message = CHOICE
    elif kind == "string_too_long":
        message = spec.too_long or TOO_LONG
    else:
        message = INVALID
        params["names"] = key
    found = UserError(message, status=spec.status, **params)
    if spec.within:
        outer, outer_params = spec.within
        found = NestedError(outer, found, **outer_params)
    return found


class NestedError(UserError):
    """A message inside another: "Optimizer 3: Learning rate must be…"."""

    def __init__(self, outer: str, inner: UserError, **params) -> None:
        super().__init__(outer, status=inner.status, **params)
        self.inner = inner

    def translated(self, gettext) -> str:
        return gettext(self.message) % {**self.params, "problem": self.inner.translated(gettext)}


def problems(model, errors: list[dict], raw) -> UserError:
    """Pydantic's errors on `model` as UserErrors, one per field, in the form's order."""
    by_key = {info.alias or name: info for name, info in model.model_fields.items()}
    by_key.update(model.model_fields)
    order = list(by_key)
    found: list[tuple[int, UserError]] = []
    for error in errors:
        key = next((str(part) for part in reversed(error["loc"]) if str(part) in by_key), None)
        if key is None:
            inner = (error.get("ctx") or {}).get("error")
            names = ", ".join(str(p) for p in error["loc"] if p not in ("query", "body"))
            if isinstance(inner, EngineError):
                inner = from_engine_error(inner)
            if not isinstance(inner, UserError):
                inner = UserError(INVALID, names=names or "?")
            found.append((len(order), inner))
            continue
        found_here = problem(by_key[key], key, error, raw)
        if found_here.control is None:
            found_here.at(key)
        found.append((order.index(key), found_here))
    found.sort(key=lambda pair: pair[0])
    ordered = [error for _, error in found]
    return ordered[0] if len(ordered) == 1 else UserErrors(ordered)


def control_that_raised(model, error: UserError) -> str | None:
    """The form control a UserError raised while validating `model` is about: the field whose
    validator raised it (found on its traceback), or the field its message names."""
    codes = {}
    for decorator in model.__pydantic_decorators__.field_validators.values():
        func = getattr(decorator.func, "__func__", decorator.func)
        if hasattr(func, "__code__") and decorator.info.fields:
            codes[func.__code__] = decorator.info.fields[0]
    name = None
    trace = error.__traceback__
    while trace is not None and name is None:
        name = codes.get(trace.tb_frame.f_code)
        trace = trace.tb_next
    if name is None:
        named = error.params.get("field")
        name = next((key for key, info in model.model_fields.items()
                     if named is not None and info.title == named), None)  # fmt: skip
    if name is None or name not in model.model_fields:
        return None
    return model.model_fields[name].alias or name
