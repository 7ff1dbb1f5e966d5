"""The Signals lab's video part (3-D): a clip as a (T, H, W) or (C, T, H, W) volume through a
3-D kernel, shown frame by frame."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from app.errors import UserError
from app.forms import LabelRef, parse_choice, parse_int
from app.gifs import Clip
from app.i18n import N_
from app.render import diverging_rgb
from app.signalslab import (
    EXPIRED_VIDEO,
    MAX_VIDEO_PAD,
    MAX_VIDEO_STRIDE,
    VIDEOS,
    checked_upload_id,
)
from engine import signals

COLOURS = ("grey", "rgb")
AXES = (N_("time (frames)"), N_("height"), N_("width"))


@dataclass
class VideoState:
    video: str = "shapes"
    upload: str | None = None  # an uploaded GIF, in place of the built-in clip
    colour: str = "grey"
    kernel: str = "tdiff"
    depth: int = 3  # frames of the temporal blur
    stride: tuple[int, int, int] = (1, 1, 1)  # (T, H, W)
    padding: tuple[int, int, int] = (0, 0, 0)
    frame: int = 0  # output frame shown under the slider

    def items(self, frame: bool = True) -> list[tuple[str, str]]:
        items = [
            ("video", f"gif:{self.upload}" if self.upload else self.video),
            ("vcolour", self.colour),
            ("k3", self.kernel),
            ("kt", str(self.depth)),
            ("st", str(self.stride[0])),
            ("sh", str(self.stride[1])),
            ("sw", str(self.stride[2])),
            ("pt", str(self.padding[0])),
            ("ph", str(self.padding[1])),
            ("pw", str(self.padding[2])),
        ]
        return items + [("t", str(self.frame))] if frame else items


def parse_video(params) -> VideoState:
    state = VideoState()
    video = (params.get("video") or "shapes").strip()
    if video.startswith("gif:"):
        state.upload = checked_upload_id(video[4:], EXPIRED_VIDEO)
    elif video in VIDEOS:
        state.video = video
    else:
        raise UserError(N_("Unknown video clip '%(name)s'."), status=404, name=video[:40])
    state.colour = parse_choice(params.get("vcolour"), N_("Video colour"), COLOURS, "grey")
    state.kernel = parse_choice(params.get("k3"), N_("3-D kernel"), signals.VIDEO_KERNELS, "tdiff")
    state.depth = parse_int(params.get("kt"), N_("Blur depth (frames)"), 3, 1, 16)
    state.stride = tuple(
        parse_int(params.get(key), label, 1, 1, MAX_VIDEO_STRIDE)
        for key, label in (
            ("st", N_("Stride along time")),
            ("sh", N_("Stride along height")),
            ("sw", N_("Stride along width")),
        )
    )
    state.padding = tuple(
        parse_int(params.get(key), label, 0, 0, MAX_VIDEO_PAD)
        for key, label in (
            ("pt", N_("Padding along time")),
            ("ph", N_("Padding along height")),
            ("pw", N_("Padding along width")),
        )
    )
    state.frame = parse_int(params.get("t"), N_("Output frame"), 0, 0, 10_000)
    return state


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
    title: str  # msgid or the uploaded file's name
    formulas: list[AxisFormula]

    @property
    def output_frame_ms(self) -> int:
        return self.frame_ms * self.time_stride

    @property
    def nbytes(self) -> int:
        return self.volume.nbytes + self.output.nbytes + 1024


def video_key(upload_id: str) -> str:
    return f"gif:{upload_id}"


def load_video(state: VideoState, uploads) -> tuple[np.ndarray, int, str]:
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


def check_video_fits(state: VideoState, shape, kernel_shape) -> None:
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


def compute_video(state: VideoState, uploads, results) -> VideoResult:
    key = (
        "signals:video:" + hashlib.sha256(urlencode(state.items(frame=False)).encode()).hexdigest()
    )
    cached = results.get(key)
    if cached is not None:
        return cached
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
        volume, kernel, output, limit, signed, frame_ms, state.stride[0], title, formulas
    )
    results.put(key, result, result.nbytes)
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


def frame_window(state: VideoState, result: VideoResult) -> FrameWindow:
    frames = result.output.shape[0]
    state.frame = min(state.frame, frames - 1)
    start = state.frame * state.stride[0] - state.padding[0]
    count = result.volume.shape[1]
    inputs = [
        (start + j, 0 <= start + j < count, result.kernel[j]) for j in range(result.kernel.shape[0])
    ]
    return FrameWindow(state.frame, inputs)
