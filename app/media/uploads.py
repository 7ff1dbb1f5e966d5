"""Uploads: the file of a multipart form, read within the body limit, decoded off the event loop
and kept in the bounded uploads cache under its content hash."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, QueryParams, UploadFile
from starlette.exceptions import HTTPException
from starlette.requests import Request

from app.media.images import DecodedImage, decode_image
from app.web.body import RequestTooLarge
from app.web.deps import settings_of
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.numbers import LocalNumber
from app.web.templating import is_htmx


def content_id(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:20]


def is_valid_upload_id(upload_id: str) -> bool:
    return len(upload_id) == 20 and all(c in "0123456789abcdef" for c in upload_id)


@dataclass(frozen=True)
class CachedUpload:
    upload_id: str
    filename: str
    image: DecodedImage

    @property
    def nbytes(self) -> int:
        return self.image.pixels.nbytes + len(self.filename) + 256


IMAGE_TOO_LARGE = N_(
    "The file is larger than the %(limit)s MB upload limit. Choose a smaller image."
)


def too_large(limit: int, message: str | None = None) -> UserError:
    return UserError(
        message or IMAGE_TOO_LARGE,
        status=413,
        limit=LocalNumber(limit / (1024 * 1024), "short", digits=2),
    )


NO_FILE = N_("No file was attached. Choose a file to upload.")


async def buffered_form(request: Request, max_files: int = 1) -> FormData:
    """The request's form, parsed once the whole body is in: the body limit (app.web.body) then
    applies to what was sent, whether or not it parses as a form."""
    body = b"".join([chunk async for chunk in request.stream()])

    async def replay() -> dict:
        return {"type": "http.request", "body": body, "more_body": False}

    settings = settings_of(request)
    try:
        return await Request(request.scope, replay).form(
            max_files=max_files, max_fields=settings.max_form_fields,
            max_part_size=settings.max_form_field_bytes,
        )  # fmt: skip
    except HTTPException as exc:  # Starlette's form parser refusing the form, in English
        raise form_refused(str(exc.detail), settings, max_files) from None


def form_refused(detail: str, settings, max_files: int) -> UserError:
    """Starlette's reason for refusing a form, as a message that names our limit."""
    if "exceeded maximum size" in detail:
        return UserError(
            N_("A text field of this form is longer than the %(limit)s MB limit for one field. "
               "Shorten it and send the form again."),
            status=413,
            limit=LocalNumber(settings.max_form_field_bytes / (1024 * 1024), "short", digits=2),
        )  # fmt: skip
    if detail.startswith("Too many files"):
        return UserError(N_("This form takes at most %(n)s file(s)."), n=max_files)
    if detail.startswith("Too many fields"):
        return UserError(N_("This form has more than %(n)s fields."), n=settings.max_form_fields)
    return UserError(N_("The form could not be read: it is not valid form data."))


async def read_file(
    request: Request,
    field: str,
    limit: int,
    too_large_message: str | None = None,
    no_file_message: str = NO_FILE,
) -> tuple[bytes, str, FormData]:
    """The file in multipart field `field` (refused past `limit` bytes, with the message the
    kind of file has), its name, and the form's other fields."""
    try:
        form = await buffered_form(request, max_files=1)
    except RequestTooLarge:
        raise too_large(limit, too_large_message) from None
    try:
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise UserError(no_file_message)
        data = await upload.read()
    finally:
        await form.close()  # the spooled temporary file, at once; the text fields stay readable
    if len(data) > limit:
        raise too_large(limit, too_large_message)
    return data, (upload.filename or field)[:120], form


async def receive_image(request: Request, settings, uploads) -> tuple[str, FormData]:
    """An image upload from any image lab: decoded off the event loop and cached. Returns the
    upload id and the rest of the form (the lab's settings)."""
    data, filename, form = await read_file(
        request, "image", settings.max_upload_bytes,
        no_file_message=N_("No file was attached. Choose an image file to upload."),
    )  # fmt: skip
    upload_id = content_id(data)

    def decode() -> CachedUpload:
        return CachedUpload(
            upload_id,
            filename,
            decode_image(data, settings.max_image_pixels, settings.working_size),
        )

    # Once per content, within the work limit, off the event loop: a class uploading the same
    # picture decodes it once.
    cached = await run_in_threadpool(uploads.get_or_compute, upload_id, decode)
    if cached.filename != filename:  # the same picture under another name: show this one's
        renamed = CachedUpload(upload_id, filename, cached.image)
        uploads.put(upload_id, renamed, renamed.nbytes)
    return upload_id, form


def with_upload(form: FormData, upload_id: str, drop: tuple[str, ...] = ()) -> QueryParams:
    """The lab's other settings from the upload form, with the upload in place of the sample."""
    replaced = ("source", "sample", "upload", "image", *drop)
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k not in replaced]
    return QueryParams([*fields, ("upload", upload_id)])


async def upload_into_lab(request: Request, settings, uploads, path: str, fields, render,
                          drop=()):  # fmt: skip
    """The upload route every image lab shares: receive the image, keep the user's other
    settings (or, if they no longer parse, start fresh on the upload), then show the lab.

    `fields` is the lab's Fields model; `render(fields)` builds the lab's htmx response (it runs
    off the event loop)."""
    upload_id, form = await receive_image(request, settings, uploads)
    try:
        state = fields.parse(with_upload(form, upload_id, drop=drop))
    except UserError:
        state = fields.parse(QueryParams([("upload", upload_id)]))
    url = f"{path}?{state.query()}"
    if not is_htmx(request):
        return RedirectResponse(url, status_code=303)
    response = await run_in_threadpool(render, state)
    response.headers["HX-Push-Url"] = url
    return response
