"""The Signals lab: what its three parts share, and the names its templates read.

Three parts, each with its own form and its own piece of the page, sharing one URL:

* sound (1-D, `app.soundlab`): a clip convolved with an impulse response (echo, reverb, moving
  average, difference), heard, plotted and shown as spectrograms;
* flip and slide (`app.slidelab`): the full convolution of a short signal, one output sample at a
  time;
* video (3-D, `app.videolab`): a clip as a (T, H, W) or (C, T, H, W) volume through a 3-D kernel.

Every part parses its own parameters, so a mistake in one leaves the others on screen. This module
holds their limits, built-in clips and kernel titles, and the query string of the whole lab.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlencode

from app.errors import UserError
from app.i18n import N_
from app.uploads import is_valid_upload_id

if TYPE_CHECKING:
    from app.slidelab import SlideState
    from app.soundlab import SoundState
    from app.videolab import VideoResult, VideoState

# --- Limits, named in the messages ---------------------------------------------------------
MAX_SECONDS = 10.0  # uploaded sound
MAX_DELAY_MS = 2000
MAX_REVERB_MS = 3000
MAX_WIDTH = 400  # moving average, samples
MAX_SLIDE_SIGNAL = 16
MAX_SLIDE_KERNEL = 8
MAX_GIF_FRAMES = 100
MAX_GIF_PIXELS = 1024 * 1024  # per frame, as uploaded
MAX_VIDEO_STRIDE = 4
MAX_VIDEO_PAD = 4
CHART_BINS = 480  # min-max bins per waveform: about one per pixel of the chart

EXPIRED_SOUND = N_(
    "This uploaded sound is no longer on the server (uploads are kept only for a while). "
    "Please upload it again."
)
EXPIRED_VIDEO = N_(
    "This uploaded GIF is no longer on the server (uploads are kept only for a while). "
    "Please upload it again."
)


@dataclass(frozen=True)
class BuiltIn:
    title: str  # msgid
    file: str | None = None  # under static/signals


CLIPS = {
    "voice_en": BuiltIn(N_("Spoken phrase (English)"), "voice-en.wav"),
    "voice_pt": BuiltIn(N_("Spoken phrase (Brazilian Portuguese)"), "voice-pt.wav"),
    "clap": BuiltIn(N_("Hand claps"), "clap.wav"),
    "melody": BuiltIn(N_("Short melody"), "melody.wav"),
}
IR_TYPES = {
    "echo": N_("Echo"),
    "reverb": N_("Reverb"),
    "average": N_("Moving average (low-pass)"),
    "difference": N_("Difference (high-pass)"),
}
VIDEOS = {
    "shapes": BuiltIn(N_("Moving shapes (24 frames, 64×64)")),
    "square": BuiltIn(N_("One square moving right (12 frames, 48×48)")),
}
VIDEO_KERNEL_TITLES = {
    "tdiff": N_("Temporal difference: a motion detector"),
    "tblur": N_("Temporal blur: the average of several frames"),
    "stedge": N_("Spatio-temporal edge: vertical edges that moved"),
    "sedge": N_("Spatial edge in each frame (Sobel x, one frame deep)"),
}

# --- The query string: each part's keys, in the order its state lists them ---------------
SOUND_KEYS = ("clip", "ir", "delay", "decay", "repeats", "rlen", "mix", "seed", "width")
SLIDE_KEYS = ("xs", "hs", "pos")
VIDEO_KEYS = ("video", "vcolour", "k3", "kt", "st", "sh", "sw", "pt", "ph", "pw", "t")


def query(
    sound: SoundState | None, slide: SlideState | None, video: VideoState | None, raw=None
) -> str:
    """The canonical query string of the whole lab. A part that did not parse keeps what the
    user typed (from `raw`), so a link still reproduces the page."""
    items: list[tuple[str, str]] = []
    for state, keys in ((sound, SOUND_KEYS), (slide, SLIDE_KEYS), (video, VIDEO_KEYS)):
        if state is not None:
            items += state.items()
        elif raw is not None:
            items += [(k, raw.get(k)) for k in keys if raw.get(k) is not None]
    return urlencode(items)


def checked_upload_id(text: str, expired: str) -> str:
    """The id of an uploaded sound or GIF from the query; a malformed one reads as expired."""
    if not is_valid_upload_id(text):
        raise UserError(expired, status=410)
    return text


# --- Text the page shows ---------------------------------------------------------------------


def numbers_text(values) -> str:
    return " ".join(_short(v) for v in values)


def _short(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def volume_shape_text(result: VideoResult) -> str:
    c, t, h, w = result.volume.shape
    return f"({c}, {t}, {h}, {w})" if c > 1 else f"({t}, {h}, {w})"
