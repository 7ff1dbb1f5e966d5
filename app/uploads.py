"""Decode and validate uploaded images, and keep them in a bounded, content-addressed cache."""

from __future__ import annotations

import hashlib
import io
import threading
import warnings
from collections import OrderedDict
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, QueryParams, UploadFile
from starlette.requests import Request

from app.errors import UserError
from app.i18n import N_

ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
WORKING_SIZE = 512  # long side, in pixels, that the labs compute on


@dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # (H, W, 3) float32 in 0..255, at working size
    original_size: tuple[int, int]  # (width, height) as uploaded
    scale: float  # working size / original size (1.0 when not scaled)
    source_mode: str  # Pillow mode of the file, e.g. "CMYK", "I;16", "P"
    file_format: str


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """Any Pillow mode -> (H, W, 3) float32 in 0..255. Alpha is composited onto white."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # 16-bit and 32-bit grey: Pillow's convert("L") would clip at 255, so rescale ourselves.
        grey = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") else max(float(grey.max()), 1.0)
        if mode in ("I", "F") and grey.max() <= 255 and grey.min() >= 0:
            top = 255.0
        grey = np.clip(grey / top * 255.0, 0, 255).astype(np.float32)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "P" or mode in ("LA", "La", "PA", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    img = img.convert("RGB")  # also covers L, 1, CMYK and YCbCr
    return np.asarray(img, dtype=np.float32)


def decode_image(data: bytes, max_pixels: int, working_size: int = WORKING_SIZE) -> DecodedImage:
    """Bytes of an image file -> pixels at working size. Raises UserError for anything unusable."""
    if not data:
        raise UserError(N_("The file is empty. Choose an image file to upload."))
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1× and 2× its limit; treat that as the bomb it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            Image.MAX_IMAGE_PIXELS = max_pixels
            img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            width, height = img.size
            if width * height > max_pixels:
                raise Image.DecompressionBombError("too many pixels")
            file_format = img.format or "?"
            source_mode = img.mode
            if file_format == "JPEG":
                # The JPEG decoder can shrink by a power of two as it decodes: fast, low memory.
                img.draft("RGB", (working_size, working_size))
            img.seek(0)  # GIF and WebP animations: the first frame
            img.load()
            img = ImageOps.exif_transpose(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UserError(
            N_(
                "This image has too many pixels to open safely (the limit is %(limit)s "
                "megapixels). Shrink it and try again."
            ),
            status=413,
            limit=f"{max_pixels / 1e6:g}",
        ) from exc
    except UnidentifiedImageError as exc:
        raise UserError(
            N_("This file is not an image we can read. Upload a PNG, JPEG, GIF, WebP or BMP file."),
            status=415,
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise UserError(
            N_("The image file is damaged or cut short, so it cannot be decoded."), status=422
        ) from exc

    long_side = max(img.size)
    scale = 1.0
    if long_side > working_size:
        scale = working_size / long_side
        new_size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        if img.mode not in ("RGB", "RGBA", "L", "LA"):
            img = img.convert("RGBA" if "A" in img.mode or img.mode == "P" else "RGB")
        img = img.resize(new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    pixels = _to_rgb_array(img)
    return DecodedImage(
        pixels=np.ascontiguousarray(pixels),
        original_size=(width, height),
        scale=scale if scale < 1.0 else 1.0,
        source_mode=source_mode,
        file_format=file_format,
    )


def content_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


@dataclass(frozen=True)
class CachedUpload:
    upload_id: str
    filename: str
    image: DecodedImage

    @property
    def nbytes(self) -> int:
        return self.image.pixels.nbytes + len(self.filename) + 256


class LRUBytesCache:
    """A thread-safe LRU map bounded by the total size of its values, in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

    def get(self, key: str):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: str, value: object, nbytes: int) -> None:
        if nbytes > self.max_bytes:
            return  # would evict everything else and still not fit
        with self._lock:
            if key in self._items:
                self._total -= self._items.pop(key)[1]
            self._items[key] = (value, nbytes)
            self._total += nbytes
            while self._total > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._total -= dropped

    @property
    def total_bytes(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._items)


def is_valid_upload_id(upload_id: str) -> bool:
    return len(upload_id) == 20 and all(c in "0123456789abcdef" for c in upload_id)


UPLOAD_OVERHEAD = 64 * 1024  # multipart headers and the lab's other form fields


def too_large(limit: int) -> UserError:
    return UserError(
        N_("The file is larger than the %(limit)s MB upload limit. Choose a smaller image."),
        status=413,
        limit=f"{limit / (1024 * 1024):g}",
    )


async def read_limited_body(request: Request, limit: int) -> bytes:
    """Read the request body, refusing it as soon as it passes `limit` bytes."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise too_large(limit)
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit:
            raise too_large(limit)
        chunks.append(chunk)
    return b"".join(chunks)


async def receive_upload(request: Request) -> tuple[str, FormData]:
    """An image upload from any lab: stream with a limit, decode off the event loop, cache it.
    Returns the upload id and the rest of the form (the lab's settings)."""
    settings = request.app.state.settings
    body = await read_limited_body(request, settings.max_upload_bytes + UPLOAD_OVERHEAD)
    request._body = body  # Starlette parses the form from the body we have already read
    form = await request.form(max_files=1, max_fields=200, max_part_size=1024 * 1024)
    upload = form.get("image")
    if not isinstance(upload, UploadFile):
        raise UserError(N_("No file was attached. Choose an image file to upload."))
    data = await upload.read()
    await upload.close()  # the spooled temporary file, at once rather than at collection
    if len(data) > settings.max_upload_bytes:
        raise too_large(settings.max_upload_bytes)
    filename = (upload.filename or "image")[:120]
    image = await run_in_threadpool(decode_image, data, settings.max_image_pixels)
    upload_id = content_id(data)
    cached = CachedUpload(upload_id, filename, image)
    request.app.state.uploads.put(upload_id, cached, cached.nbytes)
    return upload_id, form


def settings_with_upload(form: FormData, upload_id: str, drop: tuple[str, ...] = ()) -> QueryParams:
    """The lab's other settings from the upload form, with the upload in place of the sample."""
    replaced = ("source", "sample", "upload", "image", *drop)
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k not in replaced]
    return QueryParams([*fields, ("upload", upload_id)])


async def upload_into_lab(request: Request, path: str, parse_state, render, drop=()):
    """The upload route every image lab shares: receive the image, keep the user's other
    settings (or, if they no longer parse, start fresh on the upload), then show the lab.

    `render(state)` builds the lab's htmx fragment response; it runs off the event loop.
    """
    upload_id, form = await receive_upload(request)
    try:
        state = parse_state(settings_with_upload(form, upload_id, drop=drop))
    except UserError:
        state = parse_state(QueryParams([("upload", upload_id)]))
    url = f"{path}?{state.query()}"
    if request.headers.get("hx-request") != "true":
        from fastapi.responses import RedirectResponse

        return RedirectResponse(url, status_code=303)
    response = await run_in_threadpool(render, state)
    response.headers["HX-Push-Url"] = url
    return response
