"""A lab's parameters, declared once: a Pydantic model whose fields carry type, default, bounds
and label.

    class PoolFields(Fields):
        size: int = field(2, N_("Pool size"), alias="psize", ge=1, le=LIMITS.max_pool)

Routes take the model as FastAPI query parameters (``Annotated[PoolFields, Query()]``), so
``/openapi.json`` documents every field with its type and bounds. From the same declaration come:

* parsing: what a browser sends is text; `Fields` reads it the way a student writes it (blank is
  the default, "2.0" is a whole number, "0,5" and "1/9" are numbers, the last checkbox value wins);
* validation, and the message for each mistake, translated and naming the field and its range
  ("Stride must be between 1 and 64 (got 0)."): `problems` maps Pydantic's errors onto them, in
  one place;
* the URL htmx pushes (`query`), and the values the form shows back, mistakes included (`form`,
  `typed`).

Rules between fields go in the model's own validators and raise a UserError.
"""

import math
from fractions import Fraction
from typing import Any, Self
from urllib.parse import urlencode

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, ValidationError, model_validator
from pydantic.fields import FieldInfo

from app.web.errors import UserError, UserErrors
from app.web.field_errors import INVALID, RANGE, NestedError, control_that_raised, problems
from app.web.field_spec import FieldSpec, base_type, field, last, max_length, spec_of

__all__ = ["RANGE", "FieldSpec", "Fields", "NestedError", "field", "parse_number"]

SHOWN_CHARACTERS = 400  # of a mistyped value, when the form shows it back


def parse_number(text: str) -> float | None:
    """A decimal, a fraction such as 1/9, or None when the text is not a number."""
    text = text.strip().replace("−", "-")
    try:
        value = float(Fraction(text)) if "/" in text else float(text)
    except (ValueError, ZeroDivisionError, OverflowError):
        return None
    return value


def decimal_text(text: str) -> str:
    """ "0,5" is 0.5, as a student writes it."""
    return text.replace(",", ".") if text.count(",") == 1 else text


def _whole(text: str) -> int | str:
    try:
        return int(text)
    except ValueError:
        pass
    try:
        value = float(text)
    except (ValueError, OverflowError):
        return text  # Pydantic then says it is not a whole number
    return int(value) if math.isfinite(value) and value.is_integer() else text


def _decimal(text: str) -> float | str:
    value = parse_number(decimal_text(text))
    return text if value is None else value  # NaN and ±inf are refused as not finite


def _flag(text: str) -> bool | str:
    lowered = text.lower()
    if lowered in ("1", "on", "true"):
        return True
    if lowered in ("0", "off", "false"):
        return False
    return text


def from_text(annotation, value):
    """A browser's text as the field's type would have it; blank is None (the default)."""
    kind = base_type(annotation)
    if kind in (list, tuple):
        values = value if isinstance(value, list | tuple) else [value]
        return [v.strip() if isinstance(v, str) else v for v in values]
    if isinstance(value, list | tuple):
        value = value[-1] if value else ""
    if not isinstance(value, str) or kind is str:
        return value
    text = value.strip()
    if not text:
        return None
    if kind is bool:
        return _flag(text)
    if kind is int:
        return _whole(text)
    if kind is float:
        return _decimal(text)
    return text  # Literal choices, ids


class Fields(BaseModel):
    """The base of every lab's fields. Attribute names say what a field is; aliases keep the
    short query names that shared links already use."""

    model_config = ConfigDict(populate_by_name=True, allow_inf_nan=False, extra="ignore")

    @model_validator(mode="wrap")
    @classmethod
    def _place_mistakes(cls, data, handler):
        # A validator's own UserError passes Pydantic by; it is shown next to its field.
        try:
            return handler(data)
        except UserError as error:
            if error.control is None and not isinstance(error, UserErrors):
                error.at(control_that_raised(cls, error))
            raise

    @model_validator(mode="before")
    @classmethod
    def _read_text(cls, data):
        if not isinstance(data, dict):
            return data
        out = dict(data)
        for name, info in cls.model_fields.items():
            key = info.alias or name
            if key in out:
                value = from_text(info.annotation, out[key])
                kind = base_type(info.annotation)
                if value is None and kind in (int, float) and info.default is not None:
                    out[key] = ""  # a number the lab needs, left blank: say so next to it
                elif value is None and kind not in (str, list, tuple):
                    del out[key]  # blank: the default (an optional number, a choice)
                else:
                    out[key] = value
        return out

    # --- reading --------------------------------------------------------------------------

    @classmethod
    def parse(cls, params) -> Self:
        """From a query string or form outside FastAPI's own parsing (uploads, links)."""
        try:
            return cls.model_validate(raw_values(cls, params))
        except ValidationError as exc:
            raise problems(cls, exc.errors(), params) from None
        except UserError as error:
            if error.control is None and not isinstance(error, UserErrors):
                error.at(control_that_raised(cls, error))
            raise

    # --- writing --------------------------------------------------------------------------

    def omitted(self) -> set[str]:
        """Names of fields the canonical URL leaves out in this state (none by default)."""
        return set()

    def items(self) -> list[tuple[str, str]]:
        """The canonical query, in declaration order: what a shared link carries."""
        hidden = self.omitted()
        items: list[tuple[str, str]] = []
        for name, info in type(self).model_fields.items():
            spec = spec_of(info)
            value = getattr(self, name)
            if not spec.in_query or name in hidden or value is None:
                continue
            items += [(info.alias or name, text) for text in written(value, spec)]
        return items

    def query(self, **overrides: str | None) -> str:
        """`query(m=None)` leaves `m` out; `query(m="2")` replaces it (keys are query names)."""
        items = self.items()
        replaced = dict(overrides)
        items = [(k, replaced.pop(k) if k in replaced else v) for k, v in items]
        items += list(replaced.items())
        return urlencode([(k, v) for k, v in items if v is not None])

    def form(self) -> dict[str, Any]:
        """What the form shows: every field by its query name, as text (a field sent as
        several values, such as ticked checkboxes, as a list of texts)."""
        values: dict[str, Any] = {}
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            shown = written(value, spec_of(info)) if value is not None else [""]
            values[info.alias or name] = shown if _repeated(info) else shown[0]
        return values

    @classmethod
    def typed(cls, params, defaults: "Fields | None" = None) -> dict[str, Any]:
        """What the user sent, over the defaults: the form comes back as it was, mistakes and
        all."""
        values = (defaults or cls()).form()
        for name, info in cls.model_fields.items():
            key = info.alias or name
            if key not in params:
                continue
            limit = (max_length(info) or SHOWN_CHARACTERS) + 1
            if _repeated(info):
                values[key] = [v[:limit] for v in params.getlist(key)]
            else:
                values[key] = last(params, key)[:limit]
        return values


def _repeated(info: FieldInfo) -> bool:
    """A list the URL writes as repeated values (`f=a&f=b`), not one text (`ys=1, 2`)."""
    return base_type(info.annotation) is list and spec_of(info).fmt is None


def written(value, spec: FieldSpec) -> list[str]:
    if spec.fmt is not None:
        return [spec.fmt(value)]
    if isinstance(value, list | tuple):
        return [str(v) for v in value]
    if isinstance(value, bool):
        return ["1" if value else "0"]
    if isinstance(value, float):
        return [f"{value:g}"]
    return [str(value)]


def raw_values(model: type[Fields], params) -> dict:
    """A multi-valued query or form as Pydantic input: lists for list fields, else the last
    value, as FastAPI reads query parameters."""
    if not hasattr(params, "getlist"):
        return dict(params)
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        key = info.alias or name
        if key not in params:
            continue
        values = [v for v in params.getlist(key) if isinstance(v, str)]
        if base_type(info.annotation) is list:
            if values:
                data[key] = values
        elif values:
            data[key] = values[-1]
    return data


def declared_models(route) -> list[type[Fields]]:
    """The Fields models a route declares as parameters (its own and its dependencies')."""
    found = []
    pending = [getattr(route, "dependant", None)]
    while pending:
        dependant = pending.pop()
        if dependant is None:
            continue
        for param in (*dependant.query_params, *dependant.body_params):
            annotation = param.field_info.annotation
            if isinstance(annotation, type) and issubclass(annotation, Fields):
                found.append(annotation)
        pending += dependant.dependencies
    return found


def place_mistake(request: Request, error: UserError) -> None:
    """A UserError raised by the validators of a route's fields names the field it is about,
    so the page shows it next to that field (Pydantic lets such errors pass unnamed)."""
    if error.control is not None or isinstance(error, UserErrors):
        return
    for model in declared_models(request.scope.get("route")):
        control = control_that_raised(model, error)
        if control is not None:
            error.at(control)
            return


def request_errors(request: Request, exc: RequestValidationError) -> UserError:
    """FastAPI's validation error on a route's fields, as the fields' own messages."""
    models = declared_models(request.scope.get("route"))
    errors = list(exc.errors())
    if not models:
        names = ", ".join(str(e["loc"][-1]) for e in errors)
        return UserError(INVALID, names=names)
    grouped: dict[type[Fields], list[dict]] = {}
    for error in errors:
        key = str(error["loc"][-1]) if error["loc"] else ""
        owner = next((m for m in models if key in _keys(m)), models[0])
        grouped.setdefault(owner, []).append(error)
    found: list[UserError] = []
    for model, model_errors in grouped.items():
        error = problems(model, model_errors, request.query_params)
        found += error.errors if isinstance(error, UserErrors) else [error]
    return found[0] if len(found) == 1 else UserErrors(found)


def _keys(model: type[Fields]) -> set[str]:
    return {info.alias or name for name, info in model.model_fields.items()}
