"""Errors a student can act on, in words a web page can translate.

An EngineError is a ValueError whose message is an English template with %(name)s fields. The app
looks the template up in its catalogs and fills in the fields after translating; anyone else just
reads str(error).
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a template for the message extractor; translation happens in the app."""
    return message


class EngineError(ValueError):
    def __init__(self, template: str, **params: object) -> None:
        self.template = template
        self.params = params
        super().__init__(template % params if params else template)


class Message(str):
    """A sentence for a student that is not an error (why a run ended): str(message) is the
    English text; `template` and `params` are the msgid and its fields, for the app to
    translate, as an EngineError's."""

    template: str
    params: dict

    def __new__(cls, template: str, **params: object) -> Message:
        message = super().__new__(cls, template % params if params else template)
        message.template = template
        message.params = params
        return message
