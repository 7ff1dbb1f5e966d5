"""A mistake the user can fix: shown in place, translated, with a 4xx status."""

from __future__ import annotations


class UserError(Exception):
    """`message` is an English msgid with %(name)s placeholders, filled from `params`."""

    def __init__(self, message: str, status: int = 400, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.params = params

    def translated(self, gettext) -> str:
        text = gettext(self.message)
        if not self.params:
            return text
        # Control names inside the message are msgids too (LabelRef): translate them as well.
        params = {k: _translate(v, gettext) for k, v in self.params.items()}
        return text % params


def _translate(value, gettext):
    if getattr(value, "is_label", False):
        return gettext(value)
    if getattr(value, "is_label_list", False):
        return ", ".join(gettext(item) for item in value)
    return value


def from_engine_error(error, status: int = 422) -> UserError:
    """An engine.errors.EngineError as a UserError: its template is a msgid in our catalogs, and
    a `what` field names a thing in words that are msgids too."""
    from app.forms import LabelRef

    params = {k: LabelRef(v) if k == "what" else v for k, v in error.params.items()}
    return UserError(error.template, status=status, **params)
