"""The Signals lab: GET /signals (page, or one part of it for htmx), its sounds, pictures and
animations, and WAV and GIF uploads.

The page has three parts with a form each (sound, flip and slide, video). A form swaps only its
own part (its hx-target, sent as HX-Target), so stepping through the convolution does not reload
the audio players; each form also sends the other two forms' values, so the pushed URL always
holds the whole lab.
"""

from __future__ import annotations

from typing import Annotated

import numpy as np
from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import FormData, QueryParams, UploadFile

from app import signalslab, slidelab, soundlab, videolab
from app.audio import decode_wav, encode_wav
from app.audio import too_large as sound_too_large
from app.errors import UserError
from app.gifs import decode_gif, encode_gif
from app.i18n import N_
from app.render import png_bytes
from app.slidelab import SlideState
from app.soundlab import SoundState
from app.templating import is_htmx
from app.uploads import content_id
from app.videolab import VideoState
from engine import signals

router = APIRouter()

PARTS = ("sound", "slide", "video")
UPLOAD_OVERHEAD = 64 * 1024  # multipart headers and the lab's other fields
CACHE = {"Cache-Control": "private, max-age=3600"}


def _static(request: Request):
    return request.app.state.settings.static_dir


def _sound_context(request: Request, state: SoundState) -> dict:
    uploads, results = request.app.state.uploads, request.app.state.results
    result = soundlab.compute_sound(state, uploads, results, _static(request))
    gettext = request.app.state.templates.gettext(request)
    return {
        "sound_result": result,
        "charts": soundlab.sound_charts(state, result, gettext),
        "echo_terms": soundlab.echo_terms(state, result),
        "twod": soundlab.two_d(state),
    }


def _slide_context(state: SlideState) -> dict:
    return {"step": signals.slide_step(state.signal, state.kernel, state.position)}


def _video_context(request: Request, state: VideoState) -> dict:
    uploads, results = request.app.state.uploads, request.app.state.results
    result = videolab.compute_video(state, uploads, results)
    return {"video_result": result, "window": videolab.frame_window(state, result)}


def _form_values(state, default, keys, raw) -> dict:
    """What the form shows: the parsed state, or what the user typed over the defaults."""
    values = dict(default.items())
    if state is not None:
        values.update(state.items())
    else:
        values.update({k: raw.get(k)[:400] for k in keys if raw.get(k) is not None})
    return values


def _context(request: Request, params, parts=PARTS, strict: bool = False) -> tuple[dict, int]:
    """Parse and compute the given parts. A part that fails shows its message in its own error
    region (strict=False, a full page) or raises (strict=True, an htmx request)."""
    gettext = request.app.state.templates.gettext(request)
    parsers = {
        "sound": soundlab.parse_sound,
        "slide": slidelab.parse_slide,
        "video": videolab.parse_video,
    }
    states, errors, status = {}, {}, 200
    for part in PARTS:
        try:
            states[part] = parsers[part](params)
        except UserError as error:
            if strict:
                raise
            states[part], errors[part] = None, error
            status = max(status, error.status)
    context: dict = {}
    computers = {
        "sound": lambda s: _sound_context(request, s),
        "slide": _slide_context,
        "video": lambda s: _video_context(request, s),
    }
    for part in parts:
        if states[part] is None:
            continue
        try:
            context.update(computers[part](states[part]))
        except UserError as error:
            if strict:
                raise
            errors[part] = error
            status = max(status, error.status)
    uploads = request.app.state.uploads
    sound, slide, video = states["sound"], states["slide"], states["video"]
    default_slide = SlideState(slidelab.DEFAULT_SIGNAL, slidelab.DEFAULT_KERNEL)
    context.update(
        {
            "sound": sound,
            "slide": slide,
            "video": video,
            "errors": {part: error.translated(gettext) for part, error in errors.items()},
            "sound_form": _form_values(sound, SoundState(), signalslab.SOUND_KEYS, params),
            "slide_form": _form_values(slide, default_slide, signalslab.SLIDE_KEYS, params),
            "video_form": _form_values(video, VideoState(), signalslab.VIDEO_KEYS, params),
            "sound_upload": uploads.get(soundlab.sound_key(sound.upload))
            if sound and sound.upload
            else None,
            "video_upload": uploads.get(videolab.video_key(video.upload))
            if video and video.upload
            else None,
            "lab_query": signalslab.query(sound, slide, video, params),
        }
    )
    context.setdefault("sound_result", None)
    context.setdefault("step", None)
    context.setdefault("video_result", None)
    return context, status


def _render(request: Request, context: dict, part: str | None, status=200, headers=None):
    base = {"signalslab": signalslab, "clips": signalslab.CLIPS, "videos": signalslab.VIDEOS}
    name = f"signals/_{part}.html" if part else "signals/_lab.html"
    if not is_htmx(request):
        name = "signals/page.html"
    return request.app.state.templates.response(
        request, name, {**base, **context}, status_code=status, headers=headers
    )


def _target(request: Request) -> str | None:
    target = request.headers.get("hx-target")
    return target if target in PARTS else None


@router.get("/signals", response_class=HTMLResponse)
def signals_page(request: Request) -> Response:
    params = request.query_params
    if params.get("step"):
        params = _stepped(params)
        if not is_htmx(request):  # a plain form: land on the new position's own address
            return RedirectResponse(f"/signals?{params}#slide", status_code=303)
    if not is_htmx(request):
        context, status = _context(request, params)
        return _render(request, context, None, status)
    part = _target(request)
    context, _ = _context(request, params, parts=(part,) if part else PARTS, strict=True)
    headers = {"HX-Push-Url": f"/signals?{context['lab_query']}"}
    return _render(request, context, part, headers=headers)


def _stepped(params) -> QueryParams:
    """The Back and Step buttons send `step` (-1 or 1): move the position by it."""
    try:
        step = max(-1, min(1, int(params.get("step"))))
        position = int(params.get("pos") or 0) + step
    except ValueError:
        return params
    items = [(k, v) for k, v in params.multi_items() if k not in ("pos", "step")]
    return QueryParams([*items, ("pos", str(position))])


@router.get("/signals/audio.wav")
def signals_audio(request: Request, which: Annotated[str, Query()] = "output") -> Response:
    if which not in ("input", "output"):
        raise UserError(N_("Unknown sound '%(name)s'."), status=404, name=which[:20])
    state = soundlab.parse_sound(request.query_params)
    result = soundlab.compute_sound(
        state, request.app.state.uploads, request.app.state.results, _static(request)
    )
    samples = result.audio.samples if which == "input" else result.output
    data = encode_wav(samples, result.audio.rate)
    return Response(data, media_type="audio/wav", headers=CACHE)


@router.get("/signals/spectrogram.png")
def signals_spectrogram(request: Request, which: Annotated[str, Query()] = "output") -> Response:
    if which not in ("input", "output"):
        raise UserError(N_("Unknown sound '%(name)s'."), status=404, name=which[:20])
    state = soundlab.parse_sound(request.query_params)
    result = soundlab.compute_sound(
        state, request.app.state.uploads, request.app.state.results, _static(request)
    )
    samples = result.audio.samples if which == "input" else result.output
    pixels = soundlab.spectrogram_pixels(samples, result.audio.rate)
    return Response(png_bytes(pixels), media_type="image/png", headers=CACHE)


def _video_result(request: Request):
    state = videolab.parse_video(request.query_params)
    return videolab.compute_video(state, request.app.state.uploads, request.app.state.results)


@router.get("/signals/video.gif")
def signals_video(request: Request, view: Annotated[str, Query()] = "output") -> Response:
    if view not in ("input", "output"):
        raise UserError(N_("Unknown image view '%(name)s'."), status=404, name=view[:20])
    result = _video_result(request)
    if view == "input":
        count = result.volume.shape[1]
        frames = [videolab.input_frame_pixels(result, t) for t in range(count)]
        frame_ms = result.frame_ms
    else:
        count = result.output.shape[0]
        frames = [videolab.output_frame_pixels(result, t) for t in range(count)]
        frame_ms = result.output_frame_ms  # a time stride skips frames: each one lasts longer
    data = encode_gif(np.stack(frames), frame_ms)
    return Response(data, media_type="image/gif", headers=CACHE)


@router.get("/signals/frame.png")
def signals_frame(
    request: Request,
    view: Annotated[str, Query()] = "output",
    index: Annotated[int, Query(ge=0, le=10_000)] = 0,
) -> Response:
    if view not in ("input", "output"):
        raise UserError(N_("Unknown image view '%(name)s'."), status=404, name=view[:20])
    result = _video_result(request)
    count = result.volume.shape[1] if view == "input" else result.output.shape[0]
    if index >= count:
        raise UserError(
            N_("This clip has no frame %(n)s (it has %(count)s)."),
            status=404,
            n=index,
            count=count,
        )
    if view == "input":
        pixels = videolab.input_frame_pixels(result, index)
    else:
        pixels = videolab.output_frame_pixels(result, index)
    return Response(png_bytes(pixels), media_type="image/png", headers=CACHE)


# --------------------------------------------------------------------------------------------
# Uploads
# --------------------------------------------------------------------------------------------


async def _read_upload(
    request: Request, field: str, limit: int, too_large
) -> tuple[bytes, str, FormData]:
    """The file in multipart field `field`, refused as soon as the body passes the limit."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit + UPLOAD_OVERHEAD:
        raise too_large
    chunks, total = [], 0
    async for chunk in request.stream():
        total += len(chunk)
        if total > limit + UPLOAD_OVERHEAD:
            raise too_large
        chunks.append(chunk)
    request._body = b"".join(chunks)  # Starlette parses the form from the body we have read
    form = await request.form(max_files=1, max_fields=200, max_part_size=1024 * 1024)
    try:
        upload = form.get(field)
        if not isinstance(upload, UploadFile):
            raise UserError(N_("No file was attached. Choose a file to upload."))
        data = await upload.read()
    finally:
        await form.close()  # the spooled temporary file; the text fields stay readable
    if len(data) > limit:
        raise too_large
    return data, (upload.filename or field)[:120], form


def _with(form: FormData, key: str, value: str) -> QueryParams:
    """The lab's other settings from an upload form, with `key` replaced."""
    fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str) and k != key]
    return QueryParams([*fields, (key, value)])


def _parse_or_default(parser, params: QueryParams, key: str, value: str):
    try:
        return parser(params)
    except UserError:
        return parser(QueryParams([(key, value)]))


@router.post("/signals/upload-wav", response_class=HTMLResponse)
async def signals_upload_wav(request: Request) -> Response:
    limit = request.app.state.settings.max_upload_bytes
    data, filename, form = await _read_upload(request, "sound", limit, sound_too_large(limit))
    audio = await run_in_threadpool(decode_wav, data, signalslab.MAX_SECONDS, limit)
    upload_id = content_id(data)
    cached = soundlab.SoundUpload(upload_id, filename, audio)
    request.app.state.uploads.put(soundlab.sound_key(upload_id), cached, cached.nbytes)
    params = _with(form, "clip", f"wav:{upload_id}")
    return await _after_upload(request, params, "sound")


@router.post("/signals/upload-gif", response_class=HTMLResponse)
async def signals_upload_gif(request: Request) -> Response:
    limit = request.app.state.settings.max_upload_bytes
    too_large = UserError(
        N_("The file is larger than the %(limit)s MB limit for GIFs. Choose a smaller one."),
        status=413,
        limit=f"{limit / (1024 * 1024):g}",
    )
    data, filename, form = await _read_upload(request, "gif", limit, too_large)
    clip = await run_in_threadpool(
        decode_gif, data, signalslab.MAX_GIF_FRAMES, signalslab.MAX_GIF_PIXELS, limit
    )
    upload_id = content_id(data)
    params = _with(form, "video", f"gif:{upload_id}")
    if clip.frames.shape[0] < 2:
        state = _parse_or_default(videolab.parse_video, params, "video", f"gif:{upload_id}")
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
    cached = videolab.VideoUpload(upload_id, filename, clip)
    request.app.state.uploads.put(videolab.video_key(upload_id), cached, cached.nbytes)
    return await _after_upload(request, params, "video")


async def _after_upload(request: Request, params: QueryParams, part: str) -> Response:
    """Redirect (no JavaScript) or render the part that holds the new upload (htmx)."""
    key, value = ("clip", params.get("clip")) if part == "sound" else ("video", params.get("video"))
    parser = soundlab.parse_sound if part == "sound" else videolab.parse_video
    state = _parse_or_default(parser, params, key, value)
    others = [(k, v) for k, v in params.multi_items() if k not in dict(state.items())]
    params = QueryParams([*others, *state.items()])
    context, status = await run_in_threadpool(_context, request, params, (part,))
    url = f"/signals?{context['lab_query']}"
    if not is_htmx(request):
        return RedirectResponse(f"{url}#{part}", status_code=303)
    # A setting that does not suit the new clip (a kernel deeper than it is long, say) shows its
    # message inside the part, which now holds the upload, rather than losing the upload.
    return _render(request, context, part, status=status, headers={"HX-Push-Url": url})
