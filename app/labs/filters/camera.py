"""The Filters lab's live camera: POST /filters/camera/frame takes one small JPEG frame from the
browser (static/js/filters_camera.js) and the lab's fields, and answers with the bank's feature
maps as one JPEG, computed exactly as for a picture (app.media.filterbank). Frames are decoded as
uploads are but never kept: "Freeze" sends the frame through the upload route instead."""

from __future__ import annotations

import io

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import Response
from PIL import Image
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams

from app.labs.filters.fields import FilterFields
from app.media import filterbank
from app.media.deps import MediaStore, media_of
from app.media.images import decode_image
from app.media.uploads import read_file
from app.web.deps import settings_of
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.png import colour_map, map_scale

router = APIRouter()

# The browser sends 256 px on the long side at JPEG quality 0.8: some 10–30 kB. The limits leave
# room for a bigger camera without letting a frame cost what an upload may.
MAX_FRAME_BYTES = 1024 * 1024
MAX_FRAME_SIDE = 1024
GAP = 4  # pixels between the maps of a bank, in the page's background colour
BACKGROUND = 255
# The live maps go back as JPEG at quality 90 with full colour resolution: on the bench's frame
# 80 kB and 1 ms to encode, where the lossless PNG was 310 kB and 14 ms (about half the frame's
# server time). At 15 frames a second that is 1.2 instead of 4.8 MB/s per student on a class's
# network. The colours move by about 2 of 255 levels on average; a frozen frame is the exact
# PNG of the lab, and the scales in the headers are exact.
LIVE_QUALITY = 90

FRAME_TOO_LARGE = N_(
    "A camera frame is at most %(limit)s MB. The page sends frames of 256 pixels on the long "
    "side; reload it if this goes on."
)
NO_FRAME = N_("No camera frame was attached.")
FRAME_TOO_WIDE = N_(
    "A camera frame is at most %(limit)s pixels on its long side (this one is %(width)s×"
    "%(height)s)."
)


@router.post("/filters/camera/frame")
async def camera_frame(request: Request) -> Response:
    """One frame in, the bank's maps out (one JPEG, the maps in rows of two, as the lab orders
    them). Headers give the layout and each map's colour scale, for the page's captions."""
    data, _, form = await read_file(request, "frame", MAX_FRAME_BYTES, FRAME_TOO_LARGE, NO_FRAME)
    fields_sent = [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k != "frame"]
    fields = FilterFields.parse(QueryParams(fields_sent))
    settings = settings_of(request)
    media = media_of(request)
    picture, scales = await run_in_threadpool(
        frame_picture, data, fields, media, settings.working_size
    )
    headers = {
        "Cache-Control": "no-store",
        "X-Map-Count": str(len(scales)),
        "X-Map-Scales": " ".join(f"{kind}:{low:.6g}:{high:.6g}" for kind, low, high in scales),
    }
    return Response(picture, media_type="image/jpeg", headers=headers)


def frame_picture(
    data: bytes, fields: FilterFields, media: MediaStore, working_size: int
) -> tuple[bytes, list[tuple[str, float, float]]]:
    """The frame's bytes -> the tiled maps as a JPEG, and each map's scale; all of it off the
    event loop and within the work limit. Decoded as an upload is (app.media.images
    .decode_image), so a frozen frame gives the same maps."""
    with media.results.heavy:  # the work limit the lab's own computations share
        frame = decode_image(data, MAX_FRAME_SIDE * MAX_FRAME_SIDE, working_size)
        width, height = frame.original_size
        if max(width, height) > MAX_FRAME_SIDE:
            raise UserError(
                FRAME_TOO_WIDE, status=413, limit=MAX_FRAME_SIDE, width=width, height=height
            )
        result = filterbank.compute_picture(fields, frame)
        maps = result.maps
        tiled = tile([as_rgb(colour_map(values)) for values in maps])
        return jpeg_bytes(tiled), [map_scale(values) for values in maps]


def jpeg_bytes(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    # subsampling=0 (4:4:4): halving the colour resolution smeared a map's thin coloured edges
    Image.fromarray(pixels).save(buffer, format="JPEG", quality=LIVE_QUALITY, subsampling=0)
    return buffer.getvalue()


def as_rgb(pixels: np.ndarray) -> np.ndarray:
    return np.repeat(pixels[:, :, None], 3, axis=2) if pixels.ndim == 2 else pixels


def tile(pictures: list[np.ndarray], columns: int = 2) -> np.ndarray:
    """Equal-sized (H, W, 3) pictures in rows of `columns` (one alone on its row), GAP apart."""
    height, width = pictures[0].shape[:2]
    columns = min(columns, len(pictures))
    rows = -(-len(pictures) // columns)
    out = np.full(
        (rows * height + (rows - 1) * GAP, columns * width + (columns - 1) * GAP, 3),
        BACKGROUND,
        dtype=np.uint8,
    )
    for index, picture in enumerate(pictures):
        top = (index // columns) * (height + GAP)
        left = (index % columns) * (width + GAP)
        out[top : top + height, left : left + width] = picture
    return out
