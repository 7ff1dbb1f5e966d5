"""The Loss lab: GET /losses (page or htmx fragment)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.labs.losses import views
from app.labs.losses.fields import LossFields
from app.web.deps import Gettext, Numbers, Templates
from app.web.errors import lab_error_page, shows_errors_in

router = APIRouter()
PAGE, FRAGMENT = "losses/page.html", "losses/_lab.html"


@router.get("/losses", response_class=HTMLResponse)
@shows_errors_in(lab_error_page(PAGE, views.error_context))
def losses_page(
    request: Request, fields: Annotated[LossFields, Query()], templates: Templates,
    gettext: Gettext, numbers: Numbers,
) -> Response:  # fmt: skip
    context = views.lab_context(fields, gettext, numbers)
    return templates.page(request, PAGE, FRAGMENT, context, push=f"/losses?{fields.query()}")
