"""The Signals lab's fields: three parts with a form each, sharing one URL.

* sound (1-D): a clip (or an uploaded WAV, `clip=wav:<id>`) and an impulse response;
* flip and slide: a short signal and kernel typed as numbers, and the output position;
* video (3-D): a clip (or an uploaded GIF, `video=gif:<id>`) and a 3-D kernel, with stride and
  padding per axis.

Every part parses on its own, so a mistake in one leaves the others on screen.
"""

import math
from typing import Literal

from pydantic import field_validator, model_validator

from app.config import LIMITS
from app.media.uploads import is_valid_upload_id
from app.web.errors import LabelRef, UserError
from app.web.fields import Fields, field, parse_number
from app.web.i18n import N_
from app.web.numbers import decimal_commas, numbers_text
from engine import signals

CLIPS = ("voice_en", "voice_pt", "clap", "melody")
VIDEOS = ("shapes", "square")
MAX_WIDTH = LIMITS.max_moving_average  # samples
MAX_SLIDE_SIGNAL = 16  # short enough to follow every product by eye
MAX_SLIDE_KERNEL = 8
DEFAULT_SIGNAL = [1.0, 0.0, 0.0, 2.0, 1.0, 0.0]
DEFAULT_KERNEL = [1.0, 0.5, 0.25]

EXPIRED_SOUND = N_(
    "This uploaded sound is no longer on the server (uploads are kept only for a while). "
    "Please upload it again."
)
EXPIRED_VIDEO = N_(
    "This uploaded GIF is no longer on the server (uploads are kept only for a while). "
    "Please upload it again."
)


def _upload_id(value: str, prefix: str, expired: str) -> str | None:
    """The upload id of "wav:<id>" / "gif:<id>", or None for a built-in clip. A malformed id
    reads as expired (410)."""
    if not value.startswith(prefix):
        return None
    if not is_valid_upload_id(value[len(prefix) :]):
        raise UserError(expired, status=410)
    return value[len(prefix) :]


def _built_in_or_upload(value: str, default: str, names, prefix: str, expired: str,
                        unknown: str) -> str:  # fmt: skip
    """A built-in clip's name or "<prefix><upload id>"; anything else is a 404."""
    value = value.strip() or default
    if _upload_id(value, prefix, expired) is None and value not in names:
        raise UserError(unknown, status=404, name=value[:40])
    return value


class SoundFields(Fields):
    clip: str = field("voice_en", N_("Sound clip"),
                      description="A built-in clip, or wav:<id> for an uploaded WAV.")  # fmt: skip
    ir: Literal["echo", "reverb", "average", "difference"] = field("echo", N_("Impulse response"))
    delay_ms: int = field(250, N_("Echo delay (ms)"), alias="delay", ge=1, le=LIMITS.max_delay_ms)
    decay: float = field(0.5, N_("Echo decay"), ge=0.0, le=signals.MAX_DECAY)
    repeats: int = field(3, N_("Number of echoes"), ge=1, le=signals.MAX_REPEATS)
    reverb_ms: int = field(
        1200, N_("Reverb length (ms)"), alias="rlen", ge=0, le=LIMITS.max_reverb_ms
    )
    mix: float = field(0.4, N_("Wet/dry mix"), ge=0.0, le=1.0)
    seed: int = field(1, N_("Seed"), ge=0, le=9999)
    width: int = field(8, N_("Moving average width (samples)"), ge=1, le=MAX_WIDTH)

    @field_validator("clip")
    @classmethod
    def _clip(cls, value: str) -> str:
        return _built_in_or_upload(value, "voice_en", CLIPS, "wav:", EXPIRED_SOUND,
                                   N_("Unknown sound clip '%(name)s'."))  # fmt: skip

    @property
    def upload(self) -> str | None:
        return _upload_id(self.clip, "wav:", EXPIRED_SOUND)


def _numbers(text: str, label: str, default: list[float], limit: int) -> list[float]:
    """Numbers separated by spaces or commas (fractions such as 1/3 work); blank: the default."""
    text = text.strip()
    if not text:
        return list(default)
    tokens = text.replace(",", " ").replace(";", " ").split()
    if len(tokens) > limit:
        raise UserError(
            N_("%(field)s holds at most %(limit)s numbers (got %(count)s)."),
            field=LabelRef(label), limit=limit, count=len(tokens),
        )  # fmt: skip
    values = []
    for position, token in enumerate(tokens, start=1):
        value = parse_number(token)
        if value is None or not math.isfinite(value) or abs(value) > 1000:
            raise UserError(
                N_("%(field)s, number %(n)s: '%(text)s' is not a number between -1000 and 1000."),
                field=LabelRef(label), n=position, text=token[:20],
            )  # fmt: skip
        values.append(value)
    return values


def _one_text(value) -> str:
    """The text the field was sent as; FastAPI reads a list field as every value sent, and as
    for any other field the last one wins."""
    if isinstance(value, list | tuple):
        return str(value[-1]) if value else ""
    return str(value)


NUMBERS = "Numbers separated by spaces or commas."


class SlideFields(Fields):
    signal: list[float] = field(
        DEFAULT_SIGNAL, N_("Signal x"), alias="xs", fmt=numbers_text, description=NUMBERS
    )
    kernel: list[float] = field(
        DEFAULT_KERNEL, N_("Kernel h"), alias="hs", fmt=numbers_text, description=NUMBERS
    )
    # Past either end is clamped: a Step past the last output simply stays there.
    position: int = field(0, N_("Position"), alias="pos", ge=-1000, le=1000)
    step: int | None = field(
        None, N_("Step"), in_query=False, ge=-1000, le=1000,
        description="The Back and Step buttons: -1 or 1, added to the position.",
    )  # fmt: skip

    @field_validator("signal", mode="before")
    @classmethod
    def _signal(cls, value):
        text = decimal_commas(_one_text(value))  # "1,5 2,5" is two numbers in pt-BR
        return _numbers(text, N_("Signal x"), DEFAULT_SIGNAL, MAX_SLIDE_SIGNAL)

    @field_validator("kernel", mode="before")
    @classmethod
    def _kernel(cls, value):
        text = decimal_commas(_one_text(value))
        return _numbers(text, N_("Kernel h"), DEFAULT_KERNEL, MAX_SLIDE_KERNEL)

    @model_validator(mode="after")
    def _clamp(self):
        if self.step:
            self.position += max(-1, min(1, self.step))
            self.step = None
        last = len(self.signal) + len(self.kernel) - 2
        self.position = min(max(self.position, 0), last)
        return self


def _stride(label: str, alias: str):
    return field(1, label, alias=alias, ge=1, le=LIMITS.max_video_stride)


def _padding(label: str, alias: str):
    return field(0, label, alias=alias, ge=0, le=LIMITS.max_video_padding)


class VideoFields(Fields):
    video: str = field("shapes", N_("Video clip"),
                       description="A built-in clip, or gif:<id> for an uploaded GIF.")  # fmt: skip
    colour: Literal["grey", "rgb"] = field("grey", N_("Video colour"), alias="vcolour")
    kernel: Literal[signals.VIDEO_KERNELS] = field("tdiff", N_("3-D kernel"), alias="k3")
    depth: int = field(3, N_("Blur depth (frames)"), alias="kt", ge=1, le=LIMITS.max_video_depth)
    stride_t: int = _stride(N_("Stride along time"), "st")
    stride_h: int = _stride(N_("Stride along height"), "sh")
    stride_w: int = _stride(N_("Stride along width"), "sw")
    pad_t: int = _padding(N_("Padding along time"), "pt")
    pad_h: int = _padding(N_("Padding along height"), "ph")
    pad_w: int = _padding(N_("Padding along width"), "pw")
    frame: int = field(0, N_("Output frame"), alias="t", ge=0, le=10_000)

    @field_validator("video")
    @classmethod
    def _video(cls, value: str) -> str:
        return _built_in_or_upload(value, "shapes", VIDEOS, "gif:", EXPIRED_VIDEO,
                                   N_("Unknown video clip '%(name)s'."))  # fmt: skip

    @property
    def upload(self) -> str | None:
        return _upload_id(self.video, "gif:", EXPIRED_VIDEO)

    @property
    def stride(self) -> tuple[int, int, int]:
        return (self.stride_t, self.stride_h, self.stride_w)

    @property
    def padding(self) -> tuple[int, int, int]:
        return (self.pad_t, self.pad_h, self.pad_w)

    def items(self, frame: bool = True) -> list[tuple[str, str]]:
        items = super().items()
        return items if frame else [(k, v) for k, v in items if k != "t"]
