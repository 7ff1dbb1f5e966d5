"""Signals: impulse responses, long 1-D convolutions, and 3-D kernels for video volumes.

Shapes:

* a sound is ``(L,)`` or ``(C, L)`` (C channels, e.g. 2 for stereo), floats in about -1..1;
* an impulse response is ``(M,)``: what comes out when the input is a single click;
* a video volume is ``(T, H, W)`` (grey) or ``(C, T, H, W)``; a 3-D kernel is ``(KT, KH, KW)``.

Sound uses the *true* convolution of signal processing, ``y[n] = sum_k h[k] x[n - k]`` (the kernel
flipped), at "full" length ``L + M - 1``, so an echo rings on after the input ends. Video uses the
convention of CNN layers, cross-correlation (:func:`engine.conv.conv3d`): no flip.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from engine.conv import conv1d, conv3d, output_size
from engine.conv_fast import fast_len
from engine.errors import N_, EngineError

# Limits a student would only pass by mistake.
MAX_REPEATS = 20
MAX_GROWING_REPEATS = 3  # echoes that do not fade (decay >= 1): at most this many
MAX_DECAY = 2.0
MAX_IR_SAMPLES = 10 * 96_000

# Cost model for picking FFT or direct convolution, fitted to timings of this module on a 2-core
# machine (benchmarks/bench_signals.py). Direct: one vectorised multiply-add of the whole signal
# per non-zero tap. FFT: time per point and log2(size) of the transforms, for one channel.
_NS_DIRECT_MAC = 0.3
_NS_DIRECT_TAP = 2000.0  # per non-zero tap: NumPy call overhead
_NS_FFT_POINT = 1.6
_NS_FFT_CALL = 30_000.0  # planning, padding and the kernel's transform on another thread

# --------------------------------------------------------------------------------------------
# Impulse responses
# --------------------------------------------------------------------------------------------


def echo_ir(delay: int, decay: float, repeats: int) -> np.ndarray:
    """h (repeats * delay + 1,): 1 at 0, then decay**k at k * delay for k = 1..repeats."""
    if delay < 1:
        raise EngineError(N_("The echo delay must be at least one sample."))
    if not 1 <= repeats <= MAX_REPEATS:
        raise EngineError(
            N_("The number of echoes must be between 1 and %(max)s (got %(repeats)s)."),
            max=MAX_REPEATS,
            repeats=repeats,
        )
    if not 0 <= decay <= MAX_DECAY:
        raise EngineError(
            N_("The echo decay must be between 0 and %(max)s (got %(decay)s)."),
            max=MAX_DECAY,
            decay=decay,
        )
    if decay >= 1 and repeats > MAX_GROWING_REPEATS:
        raise EngineError(
            N_(
                "With a decay of %(decay)s (1 or more) no echo is quieter than the one before: "
                "after %(repeats)s repeats the last one is %(gain)s times as loud as the sound. "
                "Use a decay below 1, or at most %(max)s repeats."
            ),
            decay=f"{decay:g}",
            repeats=repeats,
            gain=f"{decay**repeats:.3g}",
            max=MAX_GROWING_REPEATS,
        )
    if repeats * delay + 1 > MAX_IR_SAMPLES:
        raise EngineError(
            N_("This echo lasts too long: at most %(max)s samples."), max=MAX_IR_SAMPLES
        )
    h = np.zeros(repeats * delay + 1)
    h[::delay] = decay ** np.arange(repeats + 1, dtype=np.float64)
    return h


def reverb_ir(length: int, mix: float, rng: np.random.Generator) -> np.ndarray:
    """h (length + 1,): the dry sound at 0 plus a noise tail that fades by 60 dB over `length`.

    The tail (random signs, like the many reflections of a room) has unit energy, so ``mix``
    trades dry for wet at about the same loudness: h = (1 - mix)·δ + mix·tail.
    """
    if length < 1:
        raise EngineError(
            N_("A reverb needs a tail: its length must be more than 0 (got %(length)s)."),
            length=length,
        )
    if length + 1 > MAX_IR_SAMPLES:
        raise EngineError(
            N_("This reverb lasts too long: at most %(max)s samples."), max=MAX_IR_SAMPLES
        )
    if not 0 <= mix <= 1:
        raise EngineError(N_("The wet/dry mix must be between 0 and 1 (got %(mix)s)."), mix=mix)
    t = np.arange(1, length + 1, dtype=np.float64)
    tail = rng.standard_normal(length) * np.exp(-math.log(1000.0) * t / length)  # -60 dB at end
    tail /= np.sqrt(np.sum(tail**2))
    h = np.zeros(length + 1)
    h[0] = 1.0 - mix
    h[1:] = mix * tail
    return h


def moving_average_ir(width: int) -> np.ndarray:
    """h (width,) = 1/width each: a low-pass filter (it smooths, so high pitches fade)."""
    if width < 1:
        raise EngineError(N_("The moving average needs a width of at least 1 sample."))
    return np.full(width, 1.0 / width)


def difference_ir() -> np.ndarray:
    """h = [1, -1]: y[n] = x[n] - x[n-1], a high-pass filter (an edge detector in 1-D)."""
    return np.array([1.0, -1.0])


# --------------------------------------------------------------------------------------------
# Convolution
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ConvPlan:
    """How a long convolution is computed, and why: estimated costs of both ways."""

    method: str  # "direct" or "fft"
    out_length: int  # L + M - 1
    taps: int  # non-zero taps of the kernel
    direct_macs: int  # multiply-adds of the direct way: channels × L × non-zero taps
    fft_size: int  # transform length (a fast size ≥ L + M - 1)
    direct_ms: float  # estimated time of each way
    fft_ms: float


def plan_convolution(length: int, h: np.ndarray, channels: int = 1) -> ConvPlan:
    """Direct (one multiply-add per non-zero tap and output sample) or FFT (three transforms of
    a fast size ≥ L + M - 1), whichever is estimated to be cheaper."""
    h = np.asarray(h)
    out_length = length + h.size - 1
    taps = max(1, int(np.count_nonzero(h)))
    macs = channels * length * taps
    size = fast_len(length + 2 * (h.size - 1))  # the input padded by M - 1 on both sides
    direct = macs * _NS_DIRECT_MAC + taps * _NS_DIRECT_TAP
    # A forward and an inverse transform per channel, and the kernel's once.
    fft = _NS_FFT_POINT * (2 * channels + 1) / 3 * size * math.log2(max(size, 2)) + _NS_FFT_CALL
    method = "fft" if fft < direct else "direct"
    return ConvPlan(method, out_length, taps, macs, size, direct / 1e6, fft / 1e6)


def convolve(x, h, method: str = "auto") -> np.ndarray:
    """True convolution at full length: x (L,) or (C, L), h (M,) -> (L + M - 1,) or (C, L+M-1).

    float32 in, float32 out (the fast path); other dtypes in float64. ``method`` is ``"auto"``
    (cheaper by :func:`plan_convolution`), ``"direct"`` or ``"fft"``.
    """
    x = np.asarray(x)
    h = np.asarray(h)
    if x.ndim not in (1, 2) or x.shape[-1] == 0:
        raise ValueError(f"A signal must be (L,) or (C, L) with L ≥ 1; got shape {x.shape}.")
    if h.ndim != 1 or h.size == 0:
        raise ValueError(f"An impulse response must be (M,) with M ≥ 1; got shape {h.shape}.")
    channels = x.reshape(-1, x.shape[-1])  # (C, L)
    if method == "auto":
        method = plan_convolution(x.shape[-1], h, channels.shape[0]).method
    small = np.result_type(x.dtype, h.dtype) in (np.float16, np.float32)
    dtype = np.float32 if small else np.float64
    if method == "direct":
        y = _shift_and_add(channels.astype(dtype, copy=False), h.astype(dtype, copy=False))
        return y.reshape(*x.shape[:-1], y.shape[-1])
    if method != "fft":
        raise ValueError(f"Method must be 'auto', 'direct' or 'fft' (got {method!r}).")
    # Full convolution = correlation with the flipped kernel over the input padded by M - 1 zeros
    # on both sides. (Padded here: engine.conv refuses paddings that large as likely typos.)
    # (C, L) -> (N=C, 1, L + 2(M-1)): the channels ride along as a batch, one filter.
    padded = np.zeros((channels.shape[0], 1, x.shape[-1] + 2 * (h.size - 1)), dtype=dtype)
    padded[:, 0, h.size - 1 : h.size - 1 + x.shape[-1]] = channels
    flipped = np.ascontiguousarray(h[::-1], dtype=dtype)[None, None]  # (1, 1, M)
    y = conv1d(padded, flipped, method="fft")[:, 0]  # (C, L + M - 1)
    return y.reshape(*x.shape[:-1], y.shape[-1])


def _shift_and_add(x: np.ndarray, h: np.ndarray) -> np.ndarray:
    """x (C, L), h (M,) -> (C, L + M - 1): y = sum over non-zero k of h[k] · (x delayed by k).

    Literally "the sound plus delayed, scaled copies", one vectorised step per non-zero tap, so
    an echo costs its few taps however long its delays are.
    """
    length = x.shape[-1]
    y = np.zeros((x.shape[0], length + h.size - 1), dtype=x.dtype)
    scratch = np.empty_like(x)
    for k in np.flatnonzero(h):
        np.multiply(x, h[k], out=scratch)
        y[:, k : k + length] += scratch
    return y


def convolve_naive(x, h) -> np.ndarray:
    """The definition as a loop, in float64: y[n] = sum over k of h[k] · x[n - k]. x (L,)."""
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    y = np.zeros(x.size + h.size - 1)
    for n in range(y.size):
        for k in range(h.size):
            if 0 <= n - k < x.size:
                y[n] += h[k] * x[n - k]
    return y


def normalise(y: np.ndarray, peak: float = 0.99) -> tuple[np.ndarray, float]:
    """Scale y down so its loudest sample is at most ``peak`` (a 16-bit file clips at 1).

    Returns (scaled y, gain); gain is 1 when y already fits. Quieter results are not boosted, so
    a filter that takes energy away (a difference, say) is heard as quieter.
    """
    top = float(np.max(np.abs(y))) if y.size else 0.0
    gain = 1.0 if top <= peak else peak / top
    return (y * gain if gain != 1.0 else y), gain


def envelope(x: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """x (L,) -> (lows, highs), each (min(L, bins),): the min and max of each of `bins` runs.

    A 10-second clip has far more samples than a chart has pixels; drawing the min-max range of
    each pixel's run keeps every peak visible. Short signals come back as they are.
    """
    x = np.asarray(x)
    if x.size <= bins:
        return x.copy(), x.copy()
    edges = np.linspace(0, x.size, bins + 1).astype(np.int64)
    return np.minimum.reduceat(x, edges[:-1]), np.maximum.reduceat(x, edges[:-1])


@dataclass(frozen=True)
class Spectrogram:
    power_db: np.ndarray  # (F, T) power in dB relative to the loudest cell (≤ 0)
    hop: int  # samples between frames
    window: int  # samples per frame
    rate: int


def spectrogram(x: np.ndarray, rate: int, window: int = 512, max_frames: int = 800) -> Spectrogram:
    """Short-time Fourier transform of x (L,) with a Hann window: power in dB, (window//2+1, T).

    The hop grows for long clips so there are at most ``max_frames`` frames.
    """
    x = np.asarray(x, dtype=np.float32)
    hop = max(window // 4, -(-x.size // max_frames))
    padded = np.concatenate([x, np.zeros(window, dtype=np.float32)])
    frames = 1 + max(0, (x.size - 1) // hop)
    index = np.arange(frames)[:, None] * hop + np.arange(window)[None, :]  # (T, window)
    spectrum = np.fft.rfft(padded[index] * np.hanning(window).astype(np.float32), axis=1)
    power = np.abs(spectrum.T) ** 2  # (F, T)
    top = float(power.max()) if power.size else 0.0
    db = 10 * np.log10(np.maximum(power, top * 1e-10 + 1e-30) / max(top, 1e-30))
    return Spectrogram(db.astype(np.float32), hop, window, rate)


# --------------------------------------------------------------------------------------------
# Flip and slide, one output sample at a time
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SlideStep:
    """Output sample ``position`` of the full convolution of a short x (L,) with h (M,)."""

    position: int  # n, 0 .. L + M - 2
    flipped: np.ndarray  # (M,) h reversed
    indices: np.ndarray  # (M,) the x index under each tap of the flipped kernel: n-M+1 .. n
    inside: np.ndarray  # (M,) bool: that index is inside the signal (outside counts as 0)
    values: np.ndarray  # (M,) x there, 0 outside
    products: np.ndarray  # (M,) values × flipped
    total: float  # y[n]: the sum of the products
    output: np.ndarray  # (L + M - 1,) the whole result
    correlation: float  # sum(values × h): what a CNN layer, which does not flip, would give


def slide_step(x, h, position: int) -> SlideStep:
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    if x.ndim != 1 or h.ndim != 1 or x.size == 0 or h.size == 0:
        raise ValueError("slide_step needs a 1-D signal and a 1-D kernel, both non-empty.")
    count = x.size + h.size - 1
    if not 0 <= position < count:
        raise EngineError(
            N_("The position must be between 0 and %(last)s (got %(position)s)."),
            last=count - 1,
            position=position,
        )
    flipped = h[::-1]
    indices = np.arange(position - h.size + 1, position + 1)
    inside = (indices >= 0) & (indices < x.size)
    values = np.where(inside, x[np.clip(indices, 0, x.size - 1)], 0.0)
    products = values * flipped
    return SlideStep(
        position=position,
        flipped=flipped,
        indices=indices,
        inside=inside,
        values=values,
        products=products,
        total=float(products.sum()),
        output=convolve_naive(x, h),
        correlation=float(np.sum(values * h)),
    )


# --------------------------------------------------------------------------------------------
# Video: 3-D kernels over (T, H, W)
# --------------------------------------------------------------------------------------------

_SOBEL_X = np.array([[-1.0, 0.0, 1.0], [-2.0, 0.0, 2.0], [-1.0, 0.0, 1.0]])

VIDEO_KERNELS = ("tblur", "tdiff", "stedge", "sedge")


def video_kernel(name: str, depth: int = 3) -> np.ndarray:
    """A named 3-D kernel (KT, KH, KW), for cross-correlation over (T, H, W).

    * ``tblur``: the average of ``depth`` frames (depth × 1 × 1): moving things leave trails;
    * ``tdiff``: next frame minus this frame (2 × 1 × 1): zero where nothing changed, so it
      lights up what moved: a motion detector;
    * ``stedge``: a spatio-temporal edge (3 × 3 × 3): the Sobel-x edges two frames later minus
      the edges now, so only vertical edges that moved light up;
    * ``sedge``: Sobel x in each frame alone (1 × 3 × 3): a 2-D filter as a 3-D kernel one
      frame deep; still edges light up as much as moving ones.
    """
    if name == "tblur":
        if not 1 <= depth <= 16:
            raise EngineError(
                N_("The temporal blur spans 1 to 16 frames (got %(depth)s)."), depth=depth
            )
        return np.full((depth, 1, 1), 1.0 / depth)
    if name == "tdiff":
        return np.array([-1.0, 1.0]).reshape(2, 1, 1)
    if name == "stedge":
        return np.stack([-_SOBEL_X, np.zeros((3, 3)), _SOBEL_X])
    if name == "sedge":
        return _SOBEL_X[None].copy()
    raise EngineError(N_("Unknown 3-D kernel '%(name)s'."), name=str(name)[:40])


def filter_volume(volume, kernel, stride=1, padding=0) -> np.ndarray:
    """volume (T, H, W) or (C, T, H, W), kernel (KT, KH, KW) -> (T', H', W').

    A colour volume gets the kernel on every channel and the channel responses added, as a CNN
    layer with one filter of shape (C, KT, KH, KW) does. ``stride`` and ``padding`` are an int or
    one per axis (T, H, W); padding is zeros.
    """
    volume = np.asarray(volume)
    if volume.ndim == 3:
        volume = volume[None]
    if volume.ndim != 4:
        raise ValueError(f"A video volume is (T, H, W) or (C, T, H, W); got shape {volume.shape}.")
    kernel = np.asarray(kernel)
    w = np.repeat(kernel[None, None], volume.shape[0], axis=1)  # (1, C, KT, KH, KW)
    # (1, C, T, H, W) * (1, C, KT, KH, KW) -> (1, 1, T', H', W')
    return conv3d(volume[None], w.astype(volume.dtype), stride=stride, padding=padding)[0, 0]


def volume_output_shape(shape, kernel_shape, stride, padding) -> tuple[int, int, int]:
    """(T', H', W') for a (T, H, W) volume: ⌊(n + 2p − k) / s⌋ + 1 along each axis."""
    return tuple(
        output_size(n, k, s, p)
        for n, k, s, p in zip(shape, kernel_shape, stride, padding, strict=True)
    )


def moving_square(frames: int = 8, size: int = 32, side: int = 8, step: int = 2) -> np.ndarray:
    """(T, H, W) float64: a white square on black moving right by `step` pixels per frame."""
    clip = np.zeros((frames, size, size))
    top = (size - side) // 2
    for t in range(frames):
        left = 2 + t * step
        clip[t, top : top + side, left : left + side] = 1.0
    return clip


def moving_shapes(frames: int = 24, size: int = 64) -> np.ndarray:
    """(T, H, W) float32 in 0..255: a square sliding right, a disc falling, a bar standing still.

    Made for the motion detector: the still bar vanishes under a temporal difference, the moving
    shapes leave their edges (bright where a shape arrived, dark where it left).
    """
    yy, xx = np.mgrid[0:size, 0:size]
    clip = np.full((frames, size, size), 30.0, dtype=np.float32)
    bar = (xx >= size - 12) & (xx < size - 6) & (yy >= 6) & (yy < size - 6)
    radius = size // 10
    for t in range(frames):
        frame = clip[t]
        frame[bar] = 140.0
        there = 1 - abs(1 - 2 * t / frames)  # 0 -> 1 -> 0: out and back, so the loop is smooth
        left = 4 + round(there * (size // 2 - 4))
        frame[size // 2 : size // 2 + size // 5, left : left + size // 5] = 230.0
        cy = radius + 2 + round(there * (size - 2 * radius - 4))
        cx = size // 4 + 6
        frame[(yy - cy) ** 2 + (xx - cx) ** 2 <= radius**2] = 190.0
    return clip
