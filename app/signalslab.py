"""The Signals lab: state (query string), computation and the numbers it shows.

Three parts, each with its own form and its own piece of the page, sharing one URL:

* sound (1-D): a clip convolved with an impulse response (echo, reverb, moving average,
  difference), heard, plotted and shown as spectrograms;
* flip and slide: the full convolution of a short signal, one output sample at a time;
* video (3-D): a clip as a (T, H, W) or (C, T, H, W) volume through a 3-D kernel.

Every part parses its own parameters, so a mistake in one leaves the others on screen.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from app.audio import Audio, decode_wav
from app.charts import Envelope, envelope_chart
from app.errors import UserError, from_engine_error
from app.forms import LabelRef, parse_choice, parse_float, parse_int, parse_number
from app.gifs import Clip
from app.i18n import N_
from app.render import diverging_rgb
from app.uploads import is_valid_upload_id
from engine import signals
from engine.errors import EngineError

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
COLOURS = ("grey", "rgb")
AXES = (N_("time (frames)"), N_("height"), N_("width"))


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


@dataclass
class SoundState:
    clip: str = "voice_en"
    upload: str | None = None  # an uploaded WAV, in place of the clip
    ir: str = "echo"
    delay_ms: int = 250
    decay: float = 0.5
    repeats: int = 3
    reverb_ms: int = 1200
    mix: float = 0.4
    seed: int = 1
    width: int = 8

    def items(self) -> list[tuple[str, str]]:
        return [
            ("clip", f"wav:{self.upload}" if self.upload else self.clip),
            ("ir", self.ir),
            ("delay", str(self.delay_ms)),
            ("decay", f"{self.decay:g}"),
            ("repeats", str(self.repeats)),
            ("rlen", str(self.reverb_ms)),
            ("mix", f"{self.mix:g}"),
            ("seed", str(self.seed)),
            ("width", str(self.width)),
        ]


@dataclass
class SlideState:
    signal: list[float]
    kernel: list[float]
    position: int = 0

    def items(self) -> list[tuple[str, str]]:
        return [
            ("xs", numbers_text(self.signal)),
            ("hs", numbers_text(self.kernel)),
            ("pos", str(self.position)),
        ]


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


DEFAULT_SIGNAL = [1.0, 0.0, 0.0, 2.0, 1.0, 0.0]
DEFAULT_KERNEL = [1.0, 0.5, 0.25]
SOUND_KEYS = ("clip", "ir", "delay", "decay", "repeats", "rlen", "mix", "seed", "width")
SLIDE_KEYS = ("xs", "hs", "pos")
VIDEO_KEYS = ("video", "vcolour", "k3", "kt", "st", "sh", "sw", "pt", "ph", "pw", "t")


def numbers_text(values) -> str:
    return " ".join(_short(v) for v in values)


def _short(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


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


def _upload_id(text: str, expired: str) -> str:
    if not is_valid_upload_id(text):
        raise UserError(expired, status=410)
    return text


def parse_sound(params) -> SoundState:
    state = SoundState()
    clip = (params.get("clip") or "voice_en").strip()
    if clip.startswith("wav:"):
        state.upload = _upload_id(clip[4:], EXPIRED_SOUND)
    elif clip in CLIPS:
        state.clip = clip
    else:
        raise UserError(N_("Unknown sound clip '%(name)s'."), status=404, name=clip[:40])
    state.ir = parse_choice(params.get("ir"), N_("Impulse response"), tuple(IR_TYPES), "echo")
    state.delay_ms = parse_int(params.get("delay"), N_("Echo delay (ms)"), 250, 1, MAX_DELAY_MS)
    state.decay = parse_float(params.get("decay"), N_("Echo decay"), 0.5, 0.0, signals.MAX_DECAY)
    state.repeats = parse_int(
        params.get("repeats"), N_("Number of echoes"), 3, 1, signals.MAX_REPEATS
    )
    state.reverb_ms = parse_int(
        params.get("rlen"), N_("Reverb length (ms)"), 1200, 0, MAX_REVERB_MS
    )
    state.mix = parse_float(params.get("mix"), N_("Wet/dry mix"), 0.4, 0.0, 1.0)
    state.seed = parse_int(params.get("seed"), N_("Seed"), 1, 0, 9999)
    state.width = parse_int(
        params.get("width"), N_("Moving average width (samples)"), 8, 1, MAX_WIDTH
    )
    return state


def parse_numbers(raw: str | None, field: str, default: list[float], limit: int) -> list[float]:
    """Numbers separated by spaces or commas (fractions such as 1/3 work)."""
    text = (raw or "").strip()
    if not text:
        return list(default)
    tokens = text.replace(",", " ").replace(";", " ").split()
    if len(tokens) > limit:
        raise UserError(
            N_("%(field)s holds at most %(limit)s numbers (got %(count)s)."),
            field=LabelRef(field),
            limit=limit,
            count=len(tokens),
        )
    values = []
    for position, token in enumerate(tokens, start=1):
        value = parse_number(token)
        if value is None or not math.isfinite(value) or abs(value) > 1000:
            raise UserError(
                N_("%(field)s, number %(n)s: '%(text)s' is not a number between -1000 and 1000."),
                field=LabelRef(field),
                n=position,
                text=token[:20],
            )
        values.append(value)
    return values


def parse_slide(params) -> SlideState:
    signal = parse_numbers(params.get("xs"), N_("Signal x"), DEFAULT_SIGNAL, MAX_SLIDE_SIGNAL)
    kernel = parse_numbers(params.get("hs"), N_("Kernel h"), DEFAULT_KERNEL, MAX_SLIDE_KERNEL)
    last = len(signal) + len(kernel) - 2
    # Past either end is clamped: a Step past the last output simply stays there.
    position = parse_int(params.get("pos"), N_("Position"), 0, -1000, 1000)
    return SlideState(signal, kernel, min(max(position, 0), last))


def parse_video(params) -> VideoState:
    state = VideoState()
    video = (params.get("video") or "shapes").strip()
    if video.startswith("gif:"):
        state.upload = _upload_id(video[4:], EXPIRED_VIDEO)
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


# --------------------------------------------------------------------------------------------
# Sound
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SoundUpload:
    upload_id: str
    filename: str
    audio: Audio

    @property
    def nbytes(self) -> int:
        return self.audio.nbytes + len(self.filename) + 256


@dataclass
class SoundResult:
    audio: Audio  # the input, (C, L)
    title: str  # msgid of the clip, or the uploaded file's name
    ir: np.ndarray  # (M,)
    output: np.ndarray  # (C, L + M - 1) float32, scaled by `gain`
    gain: float
    plan: signals.ConvPlan
    delay_samples: int

    @property
    def gain_db(self) -> float:
        return 20 * math.log10(self.gain)

    @property
    def peak(self) -> float:
        return float(np.abs(self.output).max())

    @property
    def nbytes(self) -> int:
        return self.audio.nbytes + self.ir.nbytes + self.output.nbytes + 512


def sound_key(upload_id: str) -> str:
    return f"wav:{upload_id}"


def load_sound(state: SoundState, uploads, results, static_dir) -> tuple[Audio, str]:
    if state.upload:
        cached = uploads.get(sound_key(state.upload))
        if cached is None:
            raise UserError(EXPIRED_SOUND, status=410)
        return cached.audio, cached.filename
    key = f"signals:clip:{state.clip}"
    audio = results.get(key)
    if audio is None:
        data = (static_dir / "signals" / CLIPS[state.clip].file).read_bytes()
        audio = decode_wav(data, max_seconds=60, max_bytes=1 << 24)
        results.put(key, audio, audio.nbytes)
    return audio, CLIPS[state.clip].title


def impulse_response(state: SoundState, rate: int) -> np.ndarray:
    """The state's h (M,) at the clip's sample rate."""
    try:
        if state.ir == "echo":
            delay = max(1, round(state.delay_ms * rate / 1000))
            return signals.echo_ir(delay, state.decay, state.repeats)
        if state.ir == "reverb":
            length = round(state.reverb_ms * rate / 1000)
            return signals.reverb_ir(length, state.mix, np.random.default_rng(state.seed))
        if state.ir == "average":
            return signals.moving_average_ir(state.width)
        return signals.difference_ir()
    except EngineError as error:
        raise from_engine_error(error, status=400) from error


def compute_sound(state: SoundState, uploads, results, static_dir) -> SoundResult:
    key = "signals:sound:" + hashlib.sha256(urlencode(state.items()).encode()).hexdigest()
    cached = results.get(key)
    if cached is not None:
        return cached
    audio, title = load_sound(state, uploads, results, static_dir)
    delay = max(1, round(state.delay_ms * audio.rate / 1000))
    if state.ir == "echo" and delay >= audio.length:
        raise UserError(
            N_(
                "The echo delay (%(delay)s ms) is longer than the clip (%(length)s ms): the "
                "first echo would start after the sound has ended. Use a shorter delay."
            ),
            delay=state.delay_ms,
            length=round(audio.seconds * 1000),
        )
    h = impulse_response(state, audio.rate)
    plan = signals.plan_convolution(audio.length, h, audio.channels)
    y = signals.convolve(audio.samples, h.astype(np.float32), method=plan.method)
    y, gain = signals.normalise(y)
    result = SoundResult(audio, title, h, y.astype(np.float32), gain, plan, delay)
    results.put(key, result, result.nbytes)
    return result


def _envelope(samples: np.ndarray, rate: int, label: str) -> Envelope:
    """(C, L) -> the min-max envelope of the channels together, with times in seconds."""
    lows = signals.envelope(samples.min(axis=0), CHART_BINS)[0]
    highs = signals.envelope(samples.max(axis=0), CHART_BINS)[1]
    times = (np.arange(lows.size) + 0.5) * (samples.shape[1] / lows.size) / rate
    return Envelope(label, times.tolist(), lows.tolist(), highs.tolist())


def sound_charts(state: SoundState, result: SoundResult, gettext) -> dict:
    """The impulse response and both waveforms as SVG, on shared axes (and, for a reverb, its
    tail magnified: next to the dry sound it would be a flat line)."""
    rate = result.audio.rate
    h = result.ir
    if h.size <= 64:
        xs = np.arange(h.size)
        ir = Envelope(gettext("h"), xs.tolist(), h.tolist(), h.tolist())
        x_label = gettext("k (samples)")
        ir_span = (-0.5, h.size - 0.5)
    else:
        lows, highs = signals.envelope(h, CHART_BINS)
        xs = (np.arange(lows.size) + 0.5) * (h.size / lows.size) / rate * 1000
        ir = Envelope(gettext("h"), xs.tolist(), lows.tolist(), highs.tolist())
        x_label = gettext("time (ms)")
        ir_span = (-0.02 * h.size / rate * 1000, h.size / rate * 1000 * 1.02)  # room at both ends
    top = max(1.0, float(np.abs(h).max()))
    bottom = min(0.0, float(h.min()))
    span = (0.0, result.output.shape[1] / rate)
    time_label = gettext("time (s)")
    amplitude = gettext("amplitude")
    charts = {}
    if state.ir == "reverb" and h.size > 1:
        tail = h[1:]
        lows, highs = signals.envelope(tail, CHART_BINS)
        xs = (np.arange(lows.size) + 0.5) * (tail.size / lows.size) / rate * 1000
        tail_top = float(np.abs(tail).max()) * 1.05
        charts["tail"] = envelope_chart(
            [Envelope(gettext("h"), xs.tolist(), lows.tolist(), highs.tolist())],
            x_label=gettext("time (ms)"),
            y_label=gettext("h[k]"),
            title=gettext("The tail alone (k ≥ 1), magnified"),
            x_range=ir_span,
            y_range=(-tail_top, tail_top),
            height=170,
        )
    return charts | {
        "ir": envelope_chart(
            [ir],
            x_label=x_label,
            y_label=gettext("h[k]"),
            title=gettext("The impulse response h"),
            x_range=ir_span,
            y_range=(bottom * 1.05, top * 1.05),
            stems=h.size <= 64,
            height=190,
        ),
        "before": envelope_chart(
            [_envelope(result.audio.samples, rate, gettext("input x"))],
            x_label=time_label,
            y_label=amplitude,
            title=gettext("Waveform before: the input x"),
            x_range=span,
            y_range=(-1.0, 1.0),
        ),
        "after": envelope_chart(
            [_envelope(result.output, rate, gettext("output y"))],
            x_label=time_label,
            y_label=amplitude,
            title=gettext("Waveform after: the output y = x ∗ h"),
            x_range=span,
            y_range=(-1.0, 1.0),
        ),
    }


def spectrogram_pixels(samples: np.ndarray, rate: int) -> np.ndarray:
    """(C, L) -> (F, T) uint8: loud is bright, low pitches at the bottom, 80 dB of range."""
    window = 512 if rate <= 24_000 else 1024
    spec = signals.spectrogram(samples.mean(axis=0), rate, window=window)
    grey = np.clip(1 + spec.power_db / 80.0, 0, 1)
    return np.round(grey[::-1] * 255).astype(np.uint8)


def echo_terms(state: SoundState, result: SoundResult) -> list[tuple[float, int, int]]:
    """(weight, delay in samples, delay in ms) for each copy in y = Σ weight · x[n − delay]."""
    if state.ir != "echo":
        return []
    return [
        (state.decay**k, k * result.delay_samples, k * state.delay_ms)
        for k in range(state.repeats + 1)
    ]


@dataclass(frozen=True)
class TwoD:
    """The sound's impulse response as a one-row image kernel, for the Filters lab."""

    row: list[float]
    text: str
    url: str
    pixel_ms: int | None  # for an echo: how many ms one pixel stands for


def two_d(state: SoundState) -> TwoD:
    """An echo on an image: copies of the picture, shifted and fainter: a motion blur. One pixel
    stands for 100 ms of delay, and the row is scaled to sum to 1 so brightness stays."""
    pixel_ms = None
    if state.ir == "echo":
        pixel_ms = 100
        repeats = min(state.repeats, 14)
        step = max(1, min(round(state.delay_ms / pixel_ms), 14 // repeats))
        row = np.zeros(repeats * step + 1)
        row[::step] = state.decay ** np.arange(repeats + 1)
    elif state.ir == "reverb":
        row = signals.reverb_ir(14, state.mix, np.random.default_rng(state.seed))
    elif state.ir == "average":
        row = signals.moving_average_ir(min(state.width, 15))
    else:
        row = signals.difference_ir()
    if state.ir in ("echo", "reverb") and abs(row.sum()) > 1e-9:
        row = row / row.sum()
    text = numbers_text(row)
    # True convolution, as for sound, so the echo trails after (to the right of) each edge.
    params = {"sample": "camera", "f": "custom", "kernel": text, "op": "convolve"}
    return TwoD(row.tolist(), text, "/filters?" + urlencode(params), pixel_ms)


# --------------------------------------------------------------------------------------------
# Video
# --------------------------------------------------------------------------------------------


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


def volume_shape_text(result: VideoResult) -> str:
    c, t, h, w = result.volume.shape
    return f"({c}, {t}, {h}, {w})" if c > 1 else f"({t}, {h}, {w})"
