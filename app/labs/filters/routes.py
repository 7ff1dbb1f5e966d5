"""The Filters lab: GET /filters (page or htmx fragment), its PNGs, and image uploads."""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app.config import LIMITS
from app.labs.filters import backward, camera, views
from app.labs.filters.fields import FilterFields
from app.labs.filters.frequency import FrequencyView, response_pixels
from app.media import filterbank
from app.media.cache import cached_bytes
from app.media.deps import Media
from app.media.uploads import upload_into_lab
from app.web.deps import AppSettings, Templates
from app.web.errors import UserError, lab_error_page, shows_errors_in
from app.web.fields import Fields, field
from app.web.i18n import N_
from app.web.png import clipped_grey, colour_map, diverging_rgb, png_bytes, symmetric_limit
from app.web.templating import is_htmx

router = APIRouter()
router.include_router(camera.router)  # POST /filters/camera/frame
PAGE, FRAGMENT = "filters/page.html", "filters/_lab.html"
# Same query, same picture: the browser may keep it. Uploads are content-addressed.
CACHE = {"Cache-Control": "private, max-age=3600"}


class ImageView(Fields):
    view: Literal["input", "map", "clip", "partial", "other-op", "grad-out", "grad-input"] = field(
        "map", N_("Image view"), status=404, invalid=N_("Unknown image view '%(name)s'.")
    )
    index: int = field(0, N_("Feature map"), ge=0, le=LIMITS.max_bank - 1, status=422)
    channel: int = field(0, N_("Channel"), ge=0, le=2, status=422)


@router.get("/filters", response_class=HTMLResponse)
@shows_errors_in(lab_error_page(PAGE, views.error_context))
def filters_page(
    request: Request,
    fields: Annotated[FilterFields, Query()],
    templates: Templates,
    media: Media,
) -> Response:
    if fields.action:
        views.apply_editor_action(fields)
        if not is_htmx(request):
            return RedirectResponse(f"/filters?{fields.query()}", status_code=303)
    context = views.lab_context(fields, media)
    return templates.page(request, PAGE, FRAGMENT, {**views.page_context(), **context},
                          push=f"/filters?{fields.query()}")  # fmt: skip


@router.get("/filters/image.png")
def filters_image(
    request: Request,
    fields: Annotated[FilterFields, Query()],
    shown: Annotated[ImageView, Query()],
    media: Media,
) -> Response:
    def draw() -> bytes:
        return png_bytes(_image_pixels(fields, shown, media))

    data = cached_bytes(media.results, f"png:filters:{request.url.query}", draw)
    return Response(data, media_type="image/png", headers=CACHE)


def _image_pixels(fields: FilterFields, shown: ImageView, media) -> np.ndarray:
    if shown.view == "other-op":
        # The same settings under the other operation, for the correlation/convolution comparison.
        fields.op = "convolve" if fields.op == "correlate" else "correlate"
    result = filterbank.compute(fields, media)
    if shown.view in ("grad-out", "grad-input"):
        return backward.image_pixels(fields, result, media, shown.view, shown.channel)
    index = min(shown.index, len(result.maps) - 1)
    if shown.view == "input":
        pixels = clipped_grey(result.image.transpose(1, 2, 0))
        return pixels[:, :, 0] if pixels.shape[2] == 1 else pixels
    if shown.view in ("map", "other-op"):
        return colour_map(result.maps[index])
    if shown.view == "clip":
        return clipped_grey(result.maps[index])
    if result.partials is None:
        raise UserError(N_("Per-channel maps exist only for colour (RGB) images."))
    channel_values = result.partials[index]
    # One scale for the three channels, so their sizes can be compared by eye.
    return diverging_rgb(channel_values[shown.channel], symmetric_limit(channel_values))


@router.get("/filters/frequency.png")
def filters_frequency(
    request: Request,
    fields: Annotated[FilterFields, Query()],
    shown: Annotated[FrequencyView, Query()],
    media: Media,
) -> Response:
    """A kernel's gain at each frequency (app.labs.filters.frequency)."""

    def draw() -> bytes:
        return png_bytes(response_pixels(fields, filterbank.compute(fields, media), shown))

    data = cached_bytes(media.results, f"png:filters-frequency:{request.url.query}", draw)
    return Response(data, media_type="image/png", headers=CACHE)


@router.post("/filters/upload", response_class=HTMLResponse)
async def filters_upload(
    request: Request,
    settings: AppSettings,
    templates: Templates,
    media: Media,
) -> Response:
    def render(fields: FilterFields) -> Response:
        context = views.lab_context(fields, media)
        return templates.page(request, PAGE, FRAGMENT, {**views.page_context(), **context})

    return await upload_into_lab(request, settings, media.uploads, "/filters", FilterFields, render,
                                 drop=("row", "col", "action"))  # fmt: skip
