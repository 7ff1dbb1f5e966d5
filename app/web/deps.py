"""What routes get from the app, as FastAPI dependencies: `Annotated` aliases, read in one place.

def page(request: Request, templates: Templates, gettext: Gettext) -> Response: ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.web.numbers import REQUEST_LOCALE
from app.web.numbers import Numbers as NumberFormat
from app.web.templating import Templates as TemplateSet
from app.web.templating import request_locale


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def templates_of(request: Request) -> TemplateSet:
    return request.app.state.templates


def gettext_of(request: Request):
    return templates_of(request).gettext(request)


def numbers_of(request: Request) -> NumberFormat:
    return templates_of(request).numbers(request)


async def use_request_locale(request: Request) -> None:
    """Every route's first dependency: the fields are then read in the page's language ("1,5"
    is one number on a Portuguese page), and the numbers of its messages written in it. Async,
    so that it runs in the request's own context, where FastAPI then validates the query."""
    REQUEST_LOCALE.set(request_locale(request))


AppSettings = Annotated[Settings, Depends(settings_of)]
Templates = Annotated[TemplateSet, Depends(templates_of)]
Gettext = Annotated[object, Depends(gettext_of)]
Numbers = Annotated[NumberFormat, Depends(numbers_of)]
