"""The Signals lab's video part (3-D): a clip as a (T, H, W) or (C, T, H, W) volume through a
3-D kernel, shown frame by frame."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from app.labs.signals.clips import VIDEOS
from app.labs.signals.fields import EXPIRED_VIDEO, VideoFields
from app.media.gif import Clip
from app.web.errors import LabelRef, UserError
from app.web.i18n import N_
from app.web.png import diverging_rgb
from engine import signals

AXES = (N_("time (frames)"), N_("height"), N_("width"))


@dataclass(frozen=True)
class VideoUpload:
    upload_id: str
    filename: str
    clip: Clip

    @property
    def nbytes(self) -> int:
        return self.clip.nbytes + len(self.filename) + 256


@dataclass(frozen=True)
class AxisFormula:
    name: str  # msgid
    n: int
    k: int
    p: int
    s: int
    out: int


@dataclass
class VideoResult:
    volume: np.ndarray  # (C, T, H, W) float32 in 0..255 (C = 1 grey, 3 colour)
    kernel: np.ndarray  # (KT, KH, KW)
    output: np.ndarray  # (T', H', W')
    limit: float  # colour scale: ±limit (signed) or 0..limit
    signed: bool
    frame_ms: int  # display time of an input frame
    time_stride: int
    title: str  # msgid, or the uploaded file's name (user text: never translated)
    formulas: list[AxisFormula]

    uploaded: bool = False  # then `title` is the file's name

    @property
    def output_frame_ms(self) -> int:
        return self.frame_ms * self.time_stride

    @property
    def nbytes(self) -> int:
        return self.volume.nbytes + self.output.nbytes + 1024


def video_key(upload_id: str) -> str:
    return f"gif:{upload_id}"


def load_video(state: VideoFields, uploads) -> tuple[np.ndarray, int, str]:
    """(T, H, W, 3) float32 frames, milliseconds per frame, and a title."""
    if state.upload:
        cached = uploads.get(video_key(state.upload))
        if cached is None:
            raise UserError(EXPIRED_VIDEO, status=410)
        return cached.clip.frames, cached.clip.frame_ms, cached.filename
    if state.video == "square":
        grey = signals.moving_square(frames=12, size=48, side=12, step=2).astype(np.float32) * 255
    else:
        grey = signals.moving_shapes()
    return np.repeat(grey[..., None], 3, axis=3), 100, VIDEOS[state.video].title


def to_volume(frames: np.ndarray, colour: str) -> np.ndarray:
    """(T, H, W, 3) -> (1, T, H, W) grey (BT.601 luma) or (3, T, H, W) colour."""
    if colour == "grey":
        return (frames @ np.array([0.299, 0.587, 0.114], dtype=np.float32))[None]
    return np.ascontiguousarray(frames.transpose(3, 0, 1, 2))


def check_video_fits(state: VideoFields, shape, kernel_shape) -> None:
    """Say in words why a setting gives no output, before the engine is asked."""
    frames = shape[0]
    if frames + 2 * state.padding[0] < kernel_shape[0]:
        raise UserError(
            N_(
                "The clip has %(frames)s frame(s), but this kernel is %(k)s frames deep: a 3-D "
                "kernel needs at least %(k)s frames to slide along time (or padding along time)."
            ),
            status=422,
            frames=frames,
            k=kernel_shape[0],
        )
    for name, n, k, p in zip(AXES[1:], shape[1:], kernel_shape[1:], state.padding[1:], strict=True):
        if n + 2 * p < k:
            raise UserError(
                N_("The frames are too small for this kernel along the %(axis)s (%(n)s < %(k)s)."),
                status=422,
                axis=LabelRef(name),
                n=n,
                k=k,
            )


def compute_video(state: VideoFields, uploads, results) -> VideoResult:
    key = (
        "signals:video:" + hashlib.sha256(urlencode(state.items(frame=False)).encode()).hexdigest()
    )
    return results.get_or_compute(key, lambda: _filter_video(state, uploads))


def _filter_video(state: VideoFields, uploads) -> VideoResult:
    frames, frame_ms, title = load_video(state, uploads)
    volume = to_volume(frames, state.colour)  # (C, T, H, W)
    kernel = signals.video_kernel(state.kernel, state.depth)  # (KT, KH, KW)
    check_video_fits(state, volume.shape[1:], kernel.shape)
    output = signals.filter_volume(volume, kernel.astype(np.float32), state.stride, state.padding)
    signed = state.kernel != "tblur"
    top = float(np.abs(output).max()) if output.size else 0.0
    limit = top if top > 0 else 1.0
    formulas = [
        AxisFormula(name, n, k, p, s, o)
        for name, n, k, p, s, o in zip(
            AXES,
            volume.shape[1:],
            kernel.shape,
            state.padding,
            state.stride,
            output.shape,
            strict=True,
        )
    ]
    result = VideoResult(
        volume,
        kernel,
        output,
        limit,
        signed,
        frame_ms,
        state.stride[0],
        title,
        formulas,
        uploaded=state.upload is not None,
    )
    return result


def input_frame_pixels(result: VideoResult, index: int) -> np.ndarray:
    """Input frame `index` as uint8 (H, W) grey or (H, W, 3) colour."""
    frame = result.volume[:, index]  # (C, H, W)
    pixels = np.clip(np.round(frame), 0, 255).astype(np.uint8)
    return pixels[0] if pixels.shape[0] == 1 else pixels.transpose(1, 2, 0)


def output_frame_pixels(result: VideoResult, index: int) -> np.ndarray:
    """Output frame `index` on the clip's one colour scale (so frames compare)."""
    values = result.output[index]
    if result.signed:
        return diverging_rgb(values, result.limit)
    return np.round(np.clip(values / result.limit, 0, 1) * 255).astype(np.uint8)


@dataclass(frozen=True)
class FrameWindow:
    """Which input frames output frame t reads, and the kernel slice each is weighted by."""

    frame: int
    inputs: list[tuple[int, bool, np.ndarray]]  # (input index, inside the clip, (KH, KW) slice)


def frame_window(state: VideoFields, result: VideoResult) -> FrameWindow:
    frames = result.output.shape[0]
    state.frame = min(state.frame, frames - 1)
    start = state.frame * state.stride[0] - state.padding[0]
    count = result.volume.shape[1]
    inputs = [
        (start + j, 0 <= start + j < count, result.kernel[j]) for j in range(result.kernel.shape[0])
    ]
    return FrameWindow(state.frame, inputs)


def frame_count(result: VideoResult, view: str) -> int:
    """Frames of the input clip or of the output."""
    return result.volume.shape[1] if view == "input" else result.output.shape[0]


def frame_pixels(result: VideoResult, view: str, index: int) -> np.ndarray:
    if view == "input":
        return input_frame_pixels(result, index)
    return output_frame_pixels(result, index)
