"""What a field declaration carries besides Pydantic's own: its label, its messages and how the
URL writes it (`field`, `FieldSpec`); and how a browser's values are read (`base_type`, `last`)."""

import typing
from dataclasses import dataclass
from types import NoneType, UnionType
from typing import Any

from pydantic import Field
from pydantic.fields import FieldInfo


@dataclass(frozen=True)
class FieldSpec:
    """What a field adds to Pydantic's declaration: its own messages and how the URL writes it.

    A message may use %(field)s, %(low)s, %(high)s and the text sent as %(value)s, %(text)s or
    %(name)s."""

    below: str | None = None  # the value is under the lower bound
    above: str | None = None  # over the upper bound
    invalid: str | None = None  # any mistake (overrides the rest)
    too_long: str | None = None
    in_query: bool = True  # False: a control's own state (a button, a hidden "what was shown")
    fmt: typing.Callable[[Any], str] | None = None  # how the URL writes the value
    within: tuple[str, dict] | None = None  # an outer message: (msgid with %(problem)s, params)
    status: int = 400  # of a mistake in this field (404 for a name that names nothing)


def field(default: Any = None, label: str = "", *, alias: str | None = None, **options) -> Any:
    """A field: its default, its label (a msgid; the field's title in /openapi.json), Pydantic's
    constraints (ge, le, gt, lt, max_length) and FieldSpec's options."""
    spec_keys = FieldSpec.__dataclass_fields__.keys()
    spec = FieldSpec(**{k: options.pop(k) for k in list(options) if k in spec_keys})
    info: FieldInfo = Field(default, title=label or None, alias=alias, **options)
    info.metadata.append(spec)
    return info


def spec_of(info: FieldInfo) -> FieldSpec:
    return next((m for m in info.metadata if isinstance(m, FieldSpec)), FieldSpec())


def base_type(annotation) -> Any:
    """int for `int | None`, the Literal itself for a Literal, list for list[str]..."""
    if isinstance(annotation, UnionType) or typing.get_origin(annotation) is typing.Union:
        args = [a for a in typing.get_args(annotation) if a is not NoneType]
        return base_type(args[0]) if len(args) == 1 else annotation
    origin = typing.get_origin(annotation)
    return origin if origin in (list, tuple) else annotation


def last(params, key: str) -> str:
    """The last value sent for `key` (a checkbox after its hidden 0 overrides it)."""
    values = params.getlist(key) if hasattr(params, "getlist") else [params.get(key)]
    values = [v for v in values if isinstance(v, str)]
    return values[-1] if values else ""


def max_length(info: FieldInfo) -> int | None:
    return next((m.max_length for m in info.metadata if hasattr(m, "max_length")), None)
