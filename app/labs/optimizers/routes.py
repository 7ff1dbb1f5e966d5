"""The Optimizer lab: GET /optimizers (page or htmx fragment) and the surface picture."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.labs.optimizers import picture, views
from app.labs.optimizers.fields import MapFields, OptFields
from app.media.deps import Results
from app.web.deps import Gettext, Numbers, Templates
from app.web.errors import lab_error_page, shows_errors_in
from app.web.png import png_bytes
from app.web.templating import is_htmx

router = APIRouter()
PAGE, FRAGMENT = "optimizers/page.html", "optimizers/_lab.html"


@router.get("/optimizers", response_class=HTMLResponse)
@shows_errors_in(lab_error_page(PAGE, views.error_context))
def optimizers_page(
    request: Request, fields: Annotated[OptFields, Query()], templates: Templates,
    gettext: Gettext, numbers: Numbers,
) -> Response:  # fmt: skip
    url = f"/optimizers?{fields.query()}"
    if "action" in request.query_params and not is_htmx(request):
        # A plain form submit: show the canonical address, so reloading does not step again.
        return RedirectResponse(url, status_code=303)
    context = views.lab_context(fields, gettext, numbers)
    return templates.page(request, PAGE, FRAGMENT, context, push=url)


@router.get("/optimizers/map.png")
def optimizers_map(fields: Annotated[MapFields, Query()], results: Results) -> Response:
    def draw() -> bytes:
        return png_bytes(picture.surface_pixels(fields.make_surface(), fields.view))

    data = results.get_or_compute(picture.map_png_key(fields), draw, nbytes=len)
    # The picture depends only on its query: browsers may keep it while the racers step.
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(data, media_type="image/png", headers=headers)
