"""The Signals lab: GET /signals (the page, or one part of it for htmx), its sounds, pictures and
animations, and WAV and GIF uploads.

The page has three parts with a form each (sound, flip and slide, video). A form swaps only its
own part (its hx-target, sent as HX-Target), so stepping through the convolution does not reload
the audio players; each form also sends the other two forms' values, so the pushed URL always
holds the whole lab.
"""

from __future__ import annotations

from typing import Annotated, Literal

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, QueryParams

from app.labs.signals import sound, video, views
from app.labs.signals.fields import SlideFields, SoundFields, VideoFields
from app.media.deps import Results, Uploads, results_of, uploads_of
from app.media.gif import decode_gif, encode_gif
from app.media.uploads import content_id, read_file
from app.media.wav import decode_wav, encode_wav
from app.web.deps import AppSettings, Gettext, Numbers, gettext_of, settings_of, templates_of
from app.web.errors import UserError, shows_errors_in
from app.web.fields import Fields, field
from app.web.i18n import N_
from app.web.png import png_bytes
from app.web.templating import is_htmx
from engine import signals

router = APIRouter()
CACHE = {"Cache-Control": "private, max-age=3600"}


def static_dir(request: Request):
    return settings_of(request).static_dir


def render(request: Request, context: dict, part: str | None, status: int = 200):
    fragment = f"signals/_{part}.html" if part else "signals/_lab.html"
    return templates_of(request).page(
        request, "signals/page.html", fragment, context, status=status,
        push=f"/signals?{context['lab_query']}",
    )  # fmt: skip


def error_page(request: Request, error: UserError) -> HTMLResponse:
    """The whole page: each part with its own message, or its result."""
    context, status = views.lab_context(
        request.query_params, uploads_of(request), results_of(request), static_dir(request),
        gettext_of(request), numbers=templates_of(request).numbers(request),
    )  # fmt: skip
    return render(request, context, None, status)


def target(request: Request) -> str | None:
    part = request.headers.get("hx-target")
    return part if part in views.PARTS else None


@router.get("/signals", response_class=HTMLResponse)
@shows_errors_in(error_page)
def signals_page(
    request: Request,
    sound_fields: Annotated[SoundFields, Query()],
    slide_fields: Annotated[SlideFields, Query()],
    video_fields: Annotated[VideoFields, Query()],
    gettext: Gettext,
    numbers: Numbers,
    uploads: Uploads,
    results: Results,
) -> Response:
    states = {"sound": sound_fields, "slide": slide_fields, "video": video_fields}
    if "step" in request.query_params and not is_htmx(request):
        # A plain form: land on the new position's own address.
        return RedirectResponse(f"/signals?{views.lab_query(states)}#slide", status_code=303)
    if not is_htmx(request):
        context, status = views.lab_context(
            request.query_params, uploads, results, static_dir(request), gettext, numbers=numbers
        )
        return render(request, context, None, status)
    part = target(request)
    context, _ = views.lab_context(
        QueryParams(views.lab_query(states)), uploads, results, static_dir(request), gettext,
        parts=(part,) if part else views.PARTS, strict=True, numbers=numbers,
    )  # fmt: skip
    return render(request, context, part)


class Which(Fields):
    which: Literal["input", "output"] = field(
        "output", N_("Sound"), status=404, invalid=N_("Unknown sound '%(name)s'.")
    )


class VideoView(Fields):
    view: Literal["input", "output"] = field(
        "output", N_("Image view"), status=404, invalid=N_("Unknown image view '%(name)s'.")
    )
    index: int = field(0, N_("Frame"), ge=0, le=10_000, status=422)


def _samples(request: Request, fields: SoundFields, uploads, results, which: str) -> tuple:
    result = sound.compute_sound(fields, uploads, results, static_dir(request))
    samples = result.audio.samples if which == "input" else result.output
    return samples, result.audio.rate


@router.get("/signals/audio.wav")
def signals_audio(
    request: Request, fields: Annotated[SoundFields, Query()], shown: Annotated[Which, Query()],
    uploads: Uploads, results: Results,
) -> Response:  # fmt: skip
    samples, rate = _samples(request, fields, uploads, results, shown.which)
    return Response(encode_wav(samples, rate), media_type="audio/wav", headers=CACHE)


@router.get("/signals/spectrogram.png")
def signals_spectrogram(
    request: Request, fields: Annotated[SoundFields, Query()], shown: Annotated[Which, Query()],
    uploads: Uploads, results: Results,
) -> Response:  # fmt: skip
    samples, rate = _samples(request, fields, uploads, results, shown.which)
    pixels = sound.spectrogram_pixels(samples, rate)
    return Response(png_bytes(pixels), media_type="image/png", headers=CACHE)


@router.get("/signals/video.gif")
def signals_video(
    fields: Annotated[VideoFields, Query()], shown: Annotated[VideoView, Query()],
    uploads: Uploads, results: Results,
) -> Response:  # fmt: skip
    result = video.compute_video(fields, uploads, results)
    count = video.frame_count(result, shown.view)
    frames = np.stack([video.frame_pixels(result, shown.view, t) for t in range(count)])
    # A time stride skips frames: each output frame lasts longer.
    frame_ms = result.frame_ms if shown.view == "input" else result.output_frame_ms
    return Response(encode_gif(frames, frame_ms), media_type="image/gif", headers=CACHE)


@router.get("/signals/frame.png")
def signals_frame(
    fields: Annotated[VideoFields, Query()], shown: Annotated[VideoView, Query()],
    uploads: Uploads, results: Results,
) -> Response:  # fmt: skip
    result = video.compute_video(fields, uploads, results)
    count = video.frame_count(result, shown.view)
    if shown.index >= count:
        raise UserError(N_("This clip has no frame %(n)s (it has %(count)s)."), status=404,
                        n=shown.index, count=count)  # fmt: skip
    pixels = video.frame_pixels(result, shown.view, shown.index)
    return Response(png_bytes(pixels), media_type="image/png", headers=CACHE)


# --- uploads ----------------------------------------------------------------------------------


def _with(form: FormData, key: str, value: str) -> QueryParams:
    """The lab's other settings from an upload form, with `key` replaced."""
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k != key]
    return QueryParams([*fields, (key, value)])


def _parse_or_default(model, params: QueryParams, key: str, value: str):
    try:
        return model.parse(params)
    except UserError:
        return model.parse(QueryParams([(key, value)]))


@router.post("/signals/upload-wav", response_class=HTMLResponse)
async def signals_upload_wav(
    request: Request, settings: AppSettings, uploads: Uploads, results: Results, gettext: Gettext
) -> Response:
    limit = settings.max_upload_bytes
    data, filename, form = await read_file(
        request, "sound", limit,
        N_("The file is larger than the %(limit)s MB limit for sound files. Choose a shorter one."),
    )  # fmt: skip
    upload_id = content_id(data)
    await run_in_threadpool(  # decoded once per content, within the work limit
        uploads.get_or_compute, sound.sound_key(upload_id),
        lambda: sound.SoundUpload(upload_id, filename,
                                  decode_wav(data, settings.max_sound_seconds, limit)),
    )  # fmt: skip
    params = _with(form, "clip", f"wav:{upload_id}")
    return await _after_upload(request, params, "sound", uploads, results, gettext)


@router.post("/signals/upload-gif", response_class=HTMLResponse)
async def signals_upload_gif(
    request: Request, settings: AppSettings, uploads: Uploads, results: Results, gettext: Gettext
) -> Response:
    limit = settings.max_upload_bytes
    data, filename, form = await read_file(
        request, "gif", limit,
        N_("The file is larger than the %(limit)s MB limit for GIFs. Choose a smaller one."),
    )  # fmt: skip

    def decode():
        with uploads.heavy:
            return decode_gif(data, settings.max_gif_frames, settings.max_gif_frame_pixels,
                              limit, settings.video_working_size)  # fmt: skip

    clip = await run_in_threadpool(decode)
    upload_id = content_id(data)
    params = _with(form, "video", f"gif:{upload_id}")
    if clip.frames.shape[0] < 2:
        state = _parse_or_default(VideoFields, params, "video", f"gif:{upload_id}")
        depth = signals.video_kernel(state.kernel, state.depth).shape[0]
        raise UserError(
            N_(
                "This GIF has only one frame: it is a still picture, not a video. A 3-D kernel "
                "slides along time as well, so it needs at least as many frames as it is deep "
                "(%(k)s for the kernel chosen now)."
            ),
            status=422,
            k=max(depth, 2),
        )
    cached = video.VideoUpload(upload_id, filename, clip)
    uploads.put(video.video_key(upload_id), cached, cached.nbytes)
    return await _after_upload(request, params, "video", uploads, results, gettext)


async def _after_upload(request, params: QueryParams, part: str, uploads, results, gettext):
    """Redirect (no JavaScript) or render the part that holds the new upload (htmx)."""
    key = "clip" if part == "sound" else "video"
    model = SoundFields if part == "sound" else VideoFields
    state = _parse_or_default(model, params, key, params.get(key))
    others = [(k, v) for k, v in params.multi_items() if k not in dict(state.items())]
    params = QueryParams([*others, *state.items()])
    numbers = templates_of(request).numbers(request)
    context, status = await run_in_threadpool(
        views.lab_context, params, uploads, results, static_dir(request), gettext, (part,),
        numbers=numbers,
    )  # fmt: skip
    if not is_htmx(request):
        return RedirectResponse(f"/signals?{context['lab_query']}#{part}", status_code=303)
    # A setting that does not suit the new clip (a kernel deeper than it is long, say) shows its
    # message inside the part, which now holds the upload, rather than losing the upload.
    return render(request, context, part, status=status)
