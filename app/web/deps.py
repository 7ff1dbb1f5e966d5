"""What routes get from the app, as FastAPI dependencies: `Annotated` aliases, read in one place.

def page(request: Request, templates: Templates, gettext: Gettext) -> Response: ...
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.config import Settings
from app.web.templating import Templates as TemplateSet


def settings_of(request: Request) -> Settings:
    return request.app.state.settings


def templates_of(request: Request) -> TemplateSet:
    return request.app.state.templates


def gettext_of(request: Request):
    return templates_of(request).gettext(request)


AppSettings = Annotated[Settings, Depends(settings_of)]
Templates = Annotated[TemplateSet, Depends(templates_of)]
Gettext = Annotated[object, Depends(gettext_of)]
