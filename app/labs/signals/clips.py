"""The Signals lab's built-in sounds and videos, and the names its pages give its kernels."""

from __future__ import annotations

from dataclasses import dataclass

from app.web.i18n import N_


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
