"""Frequency responses of kernels, and the convolution theorem checked on real arrays.

Shapes and units:

* a 2-D kernel is ``(K, K')`` (rows are y, columns are x); its response is sampled on a
  ``size``×``size`` grid of frequencies in cycles/pixel, from −0.5 to 0.5 − 1/size, with zero
  frequency in the centre (``np.fft.fftshift``), axis 0 along y and axis 1 along x;
* a 1-D impulse response is ``(M,)`` at ``rate`` samples per second; its response is sampled
  from 0 Hz to the Nyquist frequency ``rate / 2``.

The response of a kernel is the DFT of the kernel padded with zeros: the gain (magnitude) and
the phase it gives to each pure wave. Flipping a real kernel (true convolution instead of
correlation) conjugates its response, so the gains, which is all shown here, do not change.

The convolution theorem: with both signals padded to N ≥ L + M − 1 points, the DFT of x ∗ h is
the product of the DFTs of x and h (circular convolution then equals linear convolution).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = [
    "HALF_POWER", "Gains", "KernelGains", "TheoremCheck", "classify", "dilate", "dtft",
    "frequencies_2d", "gains_1d", "kernel_gains", "magnitude_db", "response_1d", "response_2d",
    "response_size", "theorem_check", "theorem_error",
]  # fmt: skip

HALF_POWER = 1 / math.sqrt(2)  # a gain this far below the largest (−3 dB) counts as passed
MIN_SIZE = 64  # the 2-D grid: fine enough to read a 15×15 kernel's response


def response_size(kernel_shape: tuple[int, ...], minimum: int = MIN_SIZE) -> int:
    """The smallest power of two ≥ `minimum` and ≥ the kernel's longer side: a grid shorter
    than the kernel would wrap it around (time-domain aliasing)."""
    longest = max(kernel_shape)
    return max(minimum, 1 << max(0, math.ceil(math.log2(max(longest, 1)))))


def frequencies_2d(size: int) -> np.ndarray:
    """(size,) cycles/pixel of the shifted grid: −0.5, …, 0, …, 0.5 − 1/size."""
    return np.fft.fftshift(np.fft.fftfreq(size))


def response_2d(kernel, size: int | None = None) -> np.ndarray:
    """(K, K') -> (size, size) complex: the kernel's DFT zero-padded to size×size, shifted so
    that zero frequency is at [size // 2, size // 2]. H[a, b] = Σ k[r, c] e^{−2πi(fy·r + fx·c)}
    with fy = frequencies_2d(size)[a] and fx = frequencies_2d(size)[b]."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if kernel.ndim != 2 or kernel.size == 0:
        raise ValueError(f"A 2-D kernel must be (K, K') with K, K' ≥ 1; got shape {kernel.shape}.")
    size = response_size(kernel.shape) if size is None else size
    if size < max(kernel.shape):
        raise ValueError(
            f"The grid ({size}) must be at least as large as the kernel {kernel.shape}."
        )
    return np.fft.fftshift(np.fft.fft2(kernel, s=(size, size)))


def dilate(kernel, dilation: int) -> np.ndarray:
    """(..., K, K') -> (..., d(K − 1) + 1, d(K' − 1) + 1): the kernel a dilated convolution
    applies, with d − 1 zeros between its taps."""
    kernel = np.asarray(kernel, dtype=np.float64)
    if dilation < 1:
        raise ValueError(f"The dilation must be at least 1 (got {dilation}).")
    kh, kw = kernel.shape[-2:]
    out = np.zeros((*kernel.shape[:-2], dilation * (kh - 1) + 1, dilation * (kw - 1) + 1))
    out[..., ::dilation, ::dilation] = kernel
    return out


def response_1d(h, n: int, rate: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """h (M,) -> (frequencies (n // 2 + 1,) in Hz, H (n // 2 + 1,) complex): the DFT of h padded
    to n points, from 0 to rate / 2. H[k] = Σ h[m] e^{−2πi k m / n}, at k · rate / n Hz."""
    h = np.asarray(h, dtype=np.float64)
    if h.ndim != 1 or h.size == 0:
        raise ValueError(f"An impulse response must be (M,) with M ≥ 1; got shape {h.shape}.")
    if n < h.size:
        raise ValueError(f"n ({n}) must be at least the length of h ({h.size}).")
    return np.fft.rfftfreq(n, d=1.0 / rate), np.fft.rfft(h, n)


def dtft(h, frequencies, rate: float = 1.0) -> np.ndarray:
    """H at any frequencies (Hz): Σ over the non-zero taps of h[m] e^{−2πi f m / rate}. Cheap
    for sparse kernels such as an echo, whose comb teeth are too narrow for a DFT grid."""
    h = np.asarray(h, dtype=np.float64)
    f = np.asarray(frequencies, dtype=np.float64)
    taps = np.flatnonzero(h)
    phase = np.exp(-2j * np.pi * np.outer(f / rate, taps))  # (F, taps)
    return phase @ h[taps]


def magnitude_db(values, floor_db: float = -120.0) -> np.ndarray:
    """20·log10|values|, never below `floor_db` (a zero gain is −∞ dB)."""
    magnitude = np.abs(np.asarray(values))
    return np.maximum(20 * np.log10(np.maximum(magnitude, 1e-300)), floor_db)


# --------------------------------------------------------------------------------------------
# Reading a response: its gains and the kind of filter
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Gains:
    """What a 1-D response does, in numbers (gains are magnitudes |H|), and the kind it makes."""

    zero: float  # at zero frequency: |Σ h|, what happens to a constant
    highest: float  # at the highest frequency, 0.5 cycles per sample (+1, −1, +1, …)
    peak: float  # the largest gain
    peak_at: float  # where it is, in cycles per sample
    lowest: float  # the smallest gain
    kind: str  # "low-pass", "high-pass", "band-pass", "band-stop", "all-pass" or "zero"


@dataclass(frozen=True)
class KernelGains:
    """What a 2-D response does. Along x (waves that change across the columns only, vertical
    stripes: fy = 0) a kernel acts as the 1-D kernel of its column sums; along y (fx = 0,
    horizontal stripes), as its row sums. Each axis gets its own kind: Sobel x is band-pass
    along x and passes nothing along y."""

    zero: float  # at zero frequency: |Σ kernel|, what happens to a flat area
    highest: float  # the largest gain on the grid's edge, |fx| = 0.5 or |fy| = 0.5
    peak: float  # the largest gain anywhere
    peak_at: tuple[float, float]  # where it is: (fy, fx) in cycles/pixel
    lowest: float  # the smallest gain anywhere
    along_x: Gains
    along_y: Gains

    @property
    def kind(self) -> str:
        """The axes' kind when they agree, else "mixed"."""
        return self.along_x.kind if self.along_x.kind == self.along_y.kind else "mixed"


def classify(zero: float, highest: float, peak: float, lowest: float) -> str:
    """The kind of filter from measured gains: a frequency is passed where its gain is at least
    HALF_POWER (−3 dB) of the largest gain. Passing both ends and (nearly) everything between is
    all-pass; both ends but not the middle, band-stop; only the middle, band-pass."""
    if peak <= 1e-12:
        return "zero"
    if lowest >= HALF_POWER * peak:
        return "all-pass"
    keeps_zero, keeps_highest = zero >= HALF_POWER * peak, highest >= HALF_POWER * peak
    if keeps_zero and keeps_highest:
        return "band-stop"
    if keeps_zero:
        return "low-pass"
    if keeps_highest:
        return "high-pass"
    return "band-pass"


def gains_1d(h, n: int | None = None) -> Gains:
    """The gains of h (M,) on an even n-point grid (at least 256 and 2M), so that its last bin
    is exactly the highest frequency, 0.5 cycles per sample."""
    h = np.asarray(h, dtype=np.float64)
    n = max(n or 0, 2 * h.size, 256)
    n += n % 2
    freqs, response = response_1d(h, n)
    gains = _clean(np.abs(response))
    top = int(np.argmax(gains >= gains.max() * (1 - 1e-9)))  # the first of near-ties
    zero, highest, peak, lowest = (float(g) for g in (gains[0], gains[-1], gains[top], gains.min()))
    return Gains(zero, highest, peak, float(freqs[top]), lowest,
                 classify(zero, highest, peak, lowest))  # fmt: skip


def kernel_gains(kernel, size: int | None = None) -> KernelGains:
    """The gains of a 2-D kernel (K, K') on its size×size grid, and along each axis."""
    kernel = np.asarray(kernel, dtype=np.float64)
    gains = _clean(np.abs(response_2d(kernel, size)))
    n = gains.shape[0]
    freqs = frequencies_2d(n)
    # Row/column 0 of the shifted grid is −0.5 cycles/pixel (the same wave as +0.5).
    highest = float(max(gains[0].max(), gains[:, 0].max()))
    zero = float(gains[n // 2, n // 2])
    a, b = _peak(gains)
    # −0.5 and +0.5 cycles/pixel are the same wave; +0.5 reads better.
    at = tuple(abs(float(f)) if abs(f) == 0.5 else float(f) + 0.0 for f in (freqs[a], freqs[b]))
    along_x, along_y = gains_1d(kernel.sum(axis=0), n), gains_1d(kernel.sum(axis=1), n)
    return KernelGains(zero, highest, float(gains[a, b]), at, float(gains.min()), along_x, along_y)


def _clean(gains: np.ndarray) -> np.ndarray:
    """Gains without the FFT's round-off in the last digits: an echo's 1.875 at 0 Hz and at
    Nyquist must not read 1.87 and 1.88 once rounded for a person."""
    return np.round(gains, 12)


def _peak(gains: np.ndarray) -> tuple[int, int]:
    """Where the largest gain is. A real kernel's response is symmetric, |H(−f)| = |H(f)|, and
    round-off makes near-ties: among gains within 1e-9 of the largest, the one nearest zero
    frequency with fy, fx ≥ 0 ("a peak at (0, 0.25)", not at (0, −0.25) or anywhere on a
    flat response)."""
    n = gains.shape[0]
    fy, fx = np.meshgrid(np.arange(n) - n // 2, np.arange(n) - n // 2, indexing="ij")
    edge = -(n // 2)  # the −0.5 row and column: the same waves as +0.5
    negative = ((fy < 0) & (fy != edge)) | ((fx < 0) & (fx != edge))
    radius = np.abs(fy) + np.abs(fx)
    tied = gains >= gains.max() * (1 - 1e-9)
    order = np.lexsort((radius.ravel(), negative.ravel(), ~tied.ravel()))
    return np.unravel_index(int(order[0]), gains.shape)


# --------------------------------------------------------------------------------------------
# The convolution theorem
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class TheoremCheck:
    """DFT(x ∗ h) against DFT(x) · DFT(h), all on n points."""

    n: int  # DFT length; ≥ L + M − 1 makes circular convolution equal the linear one
    x_spectrum: np.ndarray  # (n // 2 + 1,) complex
    h_spectrum: np.ndarray
    y_spectrum: np.ndarray
    max_error: float  # max_k |Y[k] − X[k]·H[k]|
    relative_error: float  # max_error / max_k |Y[k]|

    @property
    def product(self) -> np.ndarray:
        return self.x_spectrum * self.h_spectrum


def theorem_check(x, h, y, n: int | None = None) -> TheoremCheck:
    """x (L,), h (M,) and their convolution y (L + M − 1,) as computed (any dtype; compared in
    float64). n defaults to L + M − 1: enough padding for circular = linear. With a shorter n
    the product is the spectrum of the circular convolution (y's tail wrapped onto its start)
    while y is cut to n samples, and the error shows the difference."""
    x, h, y = (np.asarray(a, dtype=np.float64) for a in (x, h, y))
    if x.ndim != 1 or h.ndim != 1 or y.ndim != 1 or 0 in (x.size, h.size):
        raise ValueError("x, h and y must be non-empty 1-D arrays.")
    if y.size != x.size + h.size - 1:
        raise ValueError(f"y must have L + M − 1 = {x.size + h.size - 1} samples (got {y.size}).")
    n = y.size if n is None else n
    if n < max(x.size, h.size):
        raise ValueError(f"n ({n}) must be at least as long as x and h.")
    # rfft(a, n) pads a with zeros to n points, or (y, for a short n) cuts it to n.
    x_s, h_s, y_s = (np.fft.rfft(a, n) for a in (x, h, y))
    error = float(np.abs(y_s - x_s * h_s).max())
    top = float(np.abs(y_s).max())
    return TheoremCheck(n, x_s, h_s, y_s, error, error / top if top > 0 else 0.0)


def theorem_error(x, h, n: int | None = None) -> float:
    """The relative error of the theorem for x ∗ h computed here by the definition (float64).
    About 1e-16 with n ≥ L + M − 1; for a shorter n, X·H is the spectrum of the circular
    convolution (y's tail wrapped onto its start), not of y, and the error is large."""
    x = np.asarray(x, dtype=np.float64)
    h = np.asarray(h, dtype=np.float64)
    return theorem_check(x, h, np.convolve(x, h), n).relative_error
