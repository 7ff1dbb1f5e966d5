"""The CNN pipeline view and the shape calculator: GET /pipeline, its PNGs, and uploads."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.labs.pipeline import views
from app.labs.pipeline.fields import PipelineFields
from app.media.deps import Media
from app.media.uploads import upload_into_lab
from app.web.deps import AppSettings, Templates
from app.web.errors import UserError, lab_error_page, shows_errors_in
from app.web.fields import Fields, field
from app.web.i18n import N_
from app.web.png import clipped_grey, colour_map, png_bytes
from app.web.templating import is_htmx

router = APIRouter()
PAGE = "pipeline/page.html"
CACHE = {"Cache-Control": "private, max-age=3600"}


class LayerImage(Fields):
    layer: int = field(0, N_("Layer"), ge=0, le=64, status=422)
    channel: int = field(0, N_("Feature map"), ge=0, le=4096, status=422)


def fragment(request: Request) -> str:
    """The calculator's own form swaps only its table; the rest swaps the lab."""
    calc = is_htmx(request) and request.headers.get("hx-target") == "calc"
    return "pipeline/_calc.html" if calc else "pipeline/_lab.html"


@router.get("/pipeline", response_class=HTMLResponse)
@shows_errors_in(lab_error_page(PAGE, views.error_context))
def pipeline_page(
    request: Request,
    fields: Annotated[PipelineFields, Query()],
    templates: Templates,
    media: Media,
) -> Response:
    context = views.lab_context(fields, media)
    return templates.page(request, PAGE, fragment(request), context,
                          push=f"/pipeline?{fields.query()}")  # fmt: skip


@router.get("/pipeline/image.png")
def pipeline_image(
    fields: Annotated[PipelineFields, Query()],
    shown: Annotated[LayerImage, Query()],
    media: Media,
) -> Response:
    pipeline = views.compute(fields, media)
    if shown.layer == 0:
        pixels = clipped_grey(pipeline.image * 255)
    else:
        if shown.layer > len(pipeline.layers):
            raise UserError(N_("This network has no layer %(n)s."), status=404, n=shown.layer)
        values = pipeline.layers[shown.layer - 1].values
        if values.ndim != 3 or shown.channel >= values.shape[0]:
            raise UserError(N_("This layer has no feature map %(n)s."), status=404, n=shown.channel)
        pixels = colour_map(values[shown.channel])
    return Response(png_bytes(pixels), media_type="image/png", headers=CACHE)


@router.post("/pipeline/upload", response_class=HTMLResponse)
async def pipeline_upload(
    request: Request,
    settings: AppSettings,
    templates: Templates,
    media: Media,
) -> Response:
    def render(fields: PipelineFields) -> Response:
        context = views.lab_context(fields, media)
        return templates.page(request, PAGE, fragment(request), context)

    return await upload_into_lab(
        request, settings, media.uploads, "/pipeline", PipelineFields, render
    )
