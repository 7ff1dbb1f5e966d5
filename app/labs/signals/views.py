"""What the Signals lab's templates get: each part parsed and computed on its own (a mistake in
one leaves the others on screen), the forms' values, and the query string of the whole lab."""

from __future__ import annotations

from urllib.parse import urlencode

from app.labs.signals import fields, frequency, sound, video
from app.labs.signals.clips import CLIPS, IR_TYPES, VIDEO_KERNEL_TITLES, VIDEOS
from app.labs.signals.fields import SlideFields, SoundFields, VideoFields
from app.web.errors import UserError, from_engine_error
from app.web.numbers import Numbers
from engine import signals
from engine.errors import EngineError

PARTS = ("sound", "slide", "video")
MODELS = {"sound": SoundFields, "slide": SlideFields, "video": VideoFields}
PAGE_CONTEXT = {
    "clips": CLIPS, "videos": VIDEOS, "ir_types": IR_TYPES,
    "video_kernel_titles": VIDEO_KERNEL_TITLES,
    "max_slide_signal": fields.MAX_SLIDE_SIGNAL, "max_slide_kernel": fields.MAX_SLIDE_KERNEL,
    "max_width": fields.MAX_WIDTH, "chart_bins": sound.CHART_BINS,
}  # fmt: skip


def part_context(part: str, state, uploads, results, static_dir, gettext, numbers) -> dict:
    if part == "sound":
        result = sound.compute_sound(state, uploads, results, static_dir)
        return {
            "sound_result": result,
            "charts": sound.sound_charts(state, result, gettext, numbers),
            "echo_terms": sound.echo_terms(state, result),
            "twod": sound.two_d(state),
            **frequency.sound_frequency(state, result, results, gettext, numbers),
        }
    if part == "slide":
        return {"step": signals.slide_step(state.signal, state.kernel, state.position)}
    result = video.compute_video(state, uploads, results)
    return {"video_result": result, "window": video.frame_window(state, result)}


def lab_context(params, uploads, results, static_dir, gettext, parts=PARTS,
                strict: bool = False, *, numbers: Numbers) -> tuple[dict, int]:  # fmt: skip
    """Parse every part and compute the given ones. A part that fails shows its message in its
    own error region (strict=False, a full page) or raises (strict=True, an htmx request).
    `numbers` writes the charts' numbers in the page's language."""
    states, errors, status = {}, {}, 200
    for part in PARTS:
        try:
            states[part] = MODELS[part].parse(params)
        except UserError as error:
            if strict:
                raise
            states[part], errors[part] = None, error
            status = max(status, error.status)
    context: dict = {"sound_result": None, "step": None, "video_result": None}
    for part in parts:
        if states[part] is None:
            continue
        try:
            context |= part_context(
                part, states[part], uploads, results, static_dir, gettext, numbers
            )
        except (UserError, EngineError) as error:
            if strict:
                raise
            errors[part] = error if isinstance(error, UserError) else from_engine_error(error)
            status = max(status, errors[part].status)
    sound_state, slide_state, video_state = states["sound"], states["slide"], states["video"]
    context |= {
        **PAGE_CONTEXT,
        "sound": sound_state,
        "slide": slide_state,
        "video": video_state,
        "errors": {part: error.messages(gettext) for part, error in errors.items()},
        "sound_form": form_values(SoundFields, sound_state, params),
        "slide_form": form_values(SlideFields, slide_state, params),
        "video_form": form_values(VideoFields, video_state, params),
        "sound_upload": uploads.get(sound.sound_key(sound_state.upload))
        if sound_state and sound_state.upload else None,
        "video_upload": uploads.get(video.video_key(video_state.upload))
        if video_state and video_state.upload else None,
        "lab_query": lab_query(states, params),
    }  # fmt: skip
    return context, status


def form_values(model, state, params) -> dict:
    """What a part's form shows (and its copies in the other forms carry): the parsed state, or
    what the user typed over the defaults; not the Step buttons' own field."""
    form = state.form() if state is not None else model.typed(params)
    return {key: value for key, value in form.items() if key != "step"}


def lab_query(states: dict, raw=None) -> str:
    """The canonical query string of the whole lab. A part that did not parse keeps what the
    user typed (from `raw`), so a link still reproduces the page."""
    items: list[tuple[str, str]] = []
    for part in PARTS:
        state = states[part]
        if state is not None:
            items += state.items()
        elif raw is not None:
            keys = [info.alias or name for name, info in MODELS[part].model_fields.items()]
            items += [(k, raw.get(k)) for k in keys if raw.get(k) is not None and k != "step"]
    return urlencode(items)


def volume_shape_text(result) -> str:
    c, t, h, w = result.volume.shape
    return f"({c}, {t}, {h}, {w})" if c > 1 else f"({t}, {h}, {w})"


PAGE_CONTEXT["volume_shape_text"] = volume_shape_text
