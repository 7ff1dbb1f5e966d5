"""The Signals lab's sound part (1-D): a clip convolved with an impulse response (echo, reverb,
moving average, difference), heard, plotted and shown as spectrograms."""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np

from app.labs.signals.clips import CLIPS
from app.labs.signals.fields import EXPIRED_SOUND, SoundFields
from app.media.wav import Audio, decode_wav
from app.web.charts import Envelope, envelope_chart
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.numbers import Numbers, numbers_text
from engine import signals

CHART_BINS = 480  # min-max bins per waveform: about one per pixel of the chart


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
    title: str  # msgid of the clip, or the uploaded file's name (user text: never translated)
    ir: np.ndarray  # (M,)
    output: np.ndarray  # (C, L + M - 1) float32, scaled by `gain`
    gain: float
    plan: signals.ConvPlan
    delay_samples: int

    uploaded: bool = False  # then `title` is the file's name

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


def load_sound(state: SoundFields, uploads, results, static_dir) -> tuple[Audio, str]:
    if state.upload:
        cached = uploads.get(sound_key(state.upload))
        if cached is None:
            raise UserError(EXPIRED_SOUND, status=410)
        return cached.audio, cached.filename
    path = static_dir / "signals" / CLIPS[state.clip].file
    audio = results.get_or_compute(
        f"signals:clip:{state.clip}",
        lambda: decode_wav(path.read_bytes(), max_seconds=60, max_bytes=1 << 24),
    )
    return audio, CLIPS[state.clip].title


def impulse_response(state: SoundFields, rate: int) -> np.ndarray:
    """The state's h (M,) at the clip's sample rate."""
    if state.ir == "echo":
        delay = max(1, round(state.delay_ms * rate / 1000))
        return signals.echo_ir(delay, state.decay, state.repeats)
    if state.ir == "reverb":
        length = round(state.reverb_ms * rate / 1000)
        return signals.reverb_ir(length, state.mix, np.random.default_rng(state.seed))
    if state.ir == "average":
        return signals.moving_average_ir(state.width)
    return signals.difference_ir()


def compute_sound(state: SoundFields, uploads, results, static_dir) -> SoundResult:
    key = "signals:sound:" + hashlib.sha256(urlencode(state.items()).encode()).hexdigest()
    return results.get_or_compute(key, lambda: _filter_sound(state, uploads, results, static_dir))


def _filter_sound(state: SoundFields, uploads, results, static_dir) -> SoundResult:
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
    result = SoundResult(audio, title, h, y.astype(np.float32), gain, plan, delay,
                         uploaded=state.upload is not None)  # fmt: skip
    return result


def _envelope(samples: np.ndarray, rate: int, label: str) -> Envelope:
    """(C, L) -> the min-max envelope of the channels together, with times in seconds."""
    lows = signals.envelope(samples.min(axis=0), CHART_BINS)[0]
    highs = signals.envelope(samples.max(axis=0), CHART_BINS)[1]
    times = (np.arange(lows.size) + 0.5) * (samples.shape[1] / lows.size) / rate
    return Envelope(label, times.tolist(), lows.tolist(), highs.tolist())


def sound_charts(state: SoundFields, result: SoundResult, gettext, numbers: Numbers) -> dict:
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
            numbers=numbers,
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
            numbers=numbers,
        ),
        "before": envelope_chart(
            [_envelope(result.audio.samples, rate, gettext("input x"))],
            x_label=time_label,
            y_label=amplitude,
            title=gettext("Waveform before: the input x"),
            x_range=span,
            y_range=(-1.0, 1.0),
            numbers=numbers,
        ),
        "after": envelope_chart(
            [_envelope(result.output, rate, gettext("output y"))],
            x_label=time_label,
            y_label=amplitude,
            title=gettext("Waveform after: the output y = x ∗ h"),
            x_range=span,
            y_range=(-1.0, 1.0),
            numbers=numbers,
        ),
    }


def spectrogram_pixels(samples: np.ndarray, rate: int) -> np.ndarray:
    """(C, L) -> (F, T) uint8: loud is bright, low pitches at the bottom, 80 dB of range."""
    window = 512 if rate <= 24_000 else 1024
    spec = signals.spectrogram(samples.mean(axis=0), rate, window=window)
    grey = np.clip(1 + spec.power_db / 80.0, 0, 1)
    return np.round(grey[::-1] * 255).astype(np.uint8)


def echo_terms(state: SoundFields, result: SoundResult) -> list[tuple[float, int, int]]:
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


def two_d(state: SoundFields) -> TwoD:
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
