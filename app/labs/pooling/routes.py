"""The Pooling lab: GET /pooling (page or htmx fragment), its PNGs, and image uploads."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from app.labs.pooling import backward, views
from app.labs.pooling.fields import PoolFields
from app.media.cache import cached_bytes
from app.media.deps import Media
from app.media.uploads import upload_into_lab
from app.web.deps import AppSettings, Gettext, Numbers, Templates
from app.web.errors import UserError, lab_error_page, shows_errors_in
from app.web.fields import Fields, field
from app.web.i18n import N_
from app.web.png import clipped_grey, colour_map, png_bytes
from engine import edgenet

router = APIRouter()
PAGE, FRAGMENT = "pooling/page.html", "pooling/_lab.html"
CACHE = {"Cache-Control": "private, max-age=3600"}
UNKNOWN_VIEW = N_("Unknown image view '%(name)s'.")
TOO_THIN = N_("This view needs a map of at least %(size)s×%(size)s pixels.")


class PoolImage(Fields):
    view: Literal["input", "winners", "pooled", "shrink", "inv", "grad-out", "grad-input"] = field(
        "pooled", N_("Image view"), status=404, invalid=UNKNOWN_VIEW
    )
    method: Literal[views.SHRINK_METHODS] = field(
        "max", N_("Image view"), status=404, invalid=UNKNOWN_VIEW
    )
    depth: Literal["input", *edgenet.DEPTHS] = field(
        "conv1", N_("Image view"), status=404, invalid=UNKNOWN_VIEW
    )
    shifted: int = field(0, N_("Shifted"), ge=0, le=1, status=422)


@router.get("/pooling", response_class=HTMLResponse)
@shows_errors_in(lab_error_page(PAGE, views.error_context))
def pooling_page(
    request: Request,
    fields: Annotated[PoolFields, Query()],
    templates: Templates,
    gettext: Gettext,
    numbers: Numbers,
    media: Media,
) -> Response:
    context = views.lab_context(fields, media, gettext, numbers)
    return templates.page(request, PAGE, FRAGMENT, context, push=f"/pooling?{fields.query()}")


@router.get("/pooling/image.png")
def pooling_image(
    request: Request,
    fields: Annotated[PoolFields, Query()],
    shown: Annotated[PoolImage, Query()],
    media: Media,
) -> Response:
    def draw() -> bytes:
        return png_bytes(_image_pixels(fields, shown, media))

    data = cached_bytes(media.results, f"png:pooling:{request.url.query}", draw)
    return Response(data, media_type="image/png", headers=CACHE)


def _image_pixels(fields: PoolFields, shown: PoolImage, media) -> np.ndarray:
    result = views.compute(fields, media)
    if shown.view in ("grad-out", "grad-input"):
        return backward.image_pixels(fields, result, media, shown.view)
    if shown.view == "input":
        return colour_map(result.source_map)
    if shown.view == "pooled":
        return colour_map(result.pooled)
    if shown.view == "winners":
        if result.win_counts is None:
            raise UserError(N_("Only max pooling has winners."))
        # Transparent everywhere but the cells that won a window.
        overlay = np.zeros((*result.source_map.shape, 4), dtype=np.uint8)
        overlay[result.win_counts > 0] = (240, 228, 66, 255)
        return overlay
    if shown.view == "shrink":
        comparison = views.shrink_comparison(result, None)
        if comparison is None:
            raise UserError(TOO_THIN, size=views.SHRINK_MIN)
        return colour_map(comparison.maps[shown.method])
    experiment = views.invariance(fields, media)
    if experiment is None:
        raise UserError(TOO_THIN, size=views.INVARIANCE_MIN)
    if shown.shifted and experiment.current is None:
        raise UserError(views.OUT_OF_VIEW, reach=experiment.reach)
    image = experiment.image
    if shown.depth == "input":
        moved = edgenet.shift_image(image, fields.dx, fields.dy) if shown.shifted else image
        return clipped_grey(moved * 255)
    # All channels at once: the sum of the rectified responses.
    return colour_map(views.stage_maps(fields, image, media.results)[shown.depth][shown.shifted])


@router.post("/pooling/upload", response_class=HTMLResponse)
async def pooling_upload(
    request: Request,
    settings: AppSettings,
    templates: Templates,
    gettext: Gettext,
    numbers: Numbers,
    media: Media,
) -> Response:
    def render(fields: PoolFields) -> Response:
        context = views.lab_context(fields, media, gettext, numbers)
        return templates.page(request, PAGE, FRAGMENT, context)

    return await upload_into_lab(request, settings, media.uploads, "/pooling", PoolFields, render,
                                 drop=("prow", "pcol", "from"))  # fmt: skip
