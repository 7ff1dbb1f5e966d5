"""The Signals lab's frequency view of the sound part: the impulse response's gain at every
frequency up to Nyquist, and the convolution theorem measured on the clip itself:
DFT(y) = DFT(x) · DFT(h), with all three padded to N ≥ L + M − 1 points.

The arrays behind the charts are cached (the transforms of a long clip take a while); the charts
are drawn per request, in the page's language.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from urllib.parse import urlencode

import numpy as np
from markupsafe import Markup

from app.labs.signals.fields import SoundFields
from app.labs.signals.sound import SoundResult
from app.web.charts import Envelope, Series, envelope_chart, xy_chart
from app.web.i18n import N_
from app.web.numbers import Numbers
from engine import frequency
from engine.conv_fast import fast_len
from engine.frequency import Gains

BINS = 480  # points per chart: about one per pixel
FLOOR_DB = -80.0  # quieter than this is drawn at the bottom
ZOOM_TEETH = 5  # an echo's zoom shows this many teeth of its comb
KIND_NAMES = {
    "low-pass": N_("low-pass"),
    "high-pass": N_("high-pass"),
    "band-pass": N_("band-pass"),
    "band-stop": N_("band-stop"),
    "all-pass": N_("all-pass"),
    "zero": N_("passes nothing"),
}


@dataclass(frozen=True)
class Binned:
    """A spectrum squeezed to at most BINS points: each point's frequency (Hz) and the smallest
    and largest magnitude of the frequencies it stands for (in dB)."""

    hz: np.ndarray
    low_db: np.ndarray
    high_db: np.ndarray


def binned_db(values: np.ndarray, rate: float, reference: float = 1.0) -> Binned:
    """(K,) spectrum from 0 to rate / 2 -> BINS min-max runs of 20·log10(|values| / reference)."""
    db = frequency.magnitude_db(np.abs(values) / reference, FLOOR_DB)
    hz = np.linspace(0, rate / 2, db.size)
    if db.size <= BINS:
        return Binned(hz, db, db)
    edges = np.linspace(0, db.size, BINS + 1).astype(np.int64)[:-1]
    centres = hz[np.minimum(edges + (db.size // BINS) // 2, db.size - 1)]
    return Binned(centres, np.minimum.reduceat(db, edges), np.maximum.reduceat(db, edges))


@dataclass(frozen=True)
class Probe:
    """Y[k] = X[k] · H[k] at one k, as complex numbers: magnitudes multiply, phases add."""

    k: int
    hz: float
    x: complex
    h: complex
    y: complex

    @property
    def product(self) -> complex:
        return self.x * self.h

    @staticmethod
    def degrees(value: complex) -> float:
        return float(np.degrees(np.angle(value)))


@dataclass(frozen=True)
class SoundSpectra:
    """The numbers of the frequency view of one sound setting."""

    rate: int
    response: Binned  # |H| in dB (gain 1 = 0 dB)
    # A short h has a smooth response, drawn as a line: |H| at BINS frequencies (Hz, dB), exact.
    response_line: tuple[np.ndarray, np.ndarray] | None
    gains: Gains  # of h, with frequencies in cycles per sample
    zoom: tuple[np.ndarray, np.ndarray] | None  # an echo's first teeth: (Hz, dB), exact (DTFT)
    comb: tuple[float, float, float] | None  # an echo: (tooth spacing Hz, lowest, highest gain)
    null: tuple[float, float] | None  # a moving average: (first zero Hz, |H| measured there)
    difference: tuple[float, float, float] | None  # |H| at 0, rate/4 and rate/2 Hz
    x: Binned  # |X| in dB relative to the largest |X|
    y: Binned  # |Y| on the same scale
    product: Binned  # |X·H| on the same scale
    n: int  # points of the three transforms, a fast size ≥ L + M − 1
    length: int  # L + M − 1
    error: float  # max |Y − X·H|
    relative_error: float  # ... / max |Y|
    circular_n: int  # without padding: max(L, M) points
    circular_error: float  # the relative error there (the tail of y wraps around)
    tail: int  # samples of y past circular_n, which wrap around
    tail_share: float  # their largest |value| over y's largest
    reflections: int  # non-zero taps of h after the first (a reverb's reflections)
    probe: Probe  # one frequency of the theorem in numbers: the loudest of Y

    @property
    def nbytes(self) -> int:
        arrays = [self.response, self.x, self.y, self.product]
        total = sum(a.hz.nbytes + a.low_db.nbytes + a.high_db.nbytes for a in arrays)
        lines = [line for line in (self.zoom, self.response_line) if line is not None]
        return total + sum(a.nbytes + b.nbytes for a, b in lines) + 1024


def sound_spectra(state: SoundFields, result: SoundResult, results) -> SoundSpectra:
    """The spectra of the state's sound, cached under its settings."""
    key = "signals:spectra:" + hashlib.sha256(urlencode(state.items()).encode()).hexdigest()
    return results.get_or_compute(key, lambda: _spectra(state, result))


def _spectra(state: SoundFields, result: SoundResult) -> SoundSpectra:
    rate = result.audio.rate
    h = result.ir.astype(np.float64)
    # The channels' mean: convolution is linear, so the mean of y is the mean of x through h.
    # y was scaled by `gain` to fit full scale; dividing it out gives x ∗ h as computed.
    x = result.audio.samples.astype(np.float64).mean(axis=0)
    y = result.output.astype(np.float64).mean(axis=0) / result.gain
    n = fast_len(y.size)
    check = frequency.theorem_check(x, h, y, n)
    circular_n = max(x.size, h.size)
    circular = frequency.theorem_check(x, h, y, circular_n).relative_error
    y_top = float(np.abs(y).max()) or 1.0
    tail_share = float(np.abs(y[circular_n:]).max()) / y_top if y.size > circular_n else 0.0
    response_n = max(4096, h.size)
    response_n = fast_len(response_n + response_n % 2)
    _, response = frequency.response_1d(h, response_n, rate)
    x_top = float(np.abs(check.x_spectrum).max()) or 1.0
    k = int(np.argmax(np.abs(check.y_spectrum)))
    probe = Probe(k, k * rate / n, complex(check.x_spectrum[k]), complex(check.h_spectrum[k]),
                  complex(check.y_spectrum[k]))  # fmt: skip
    zoom = comb = null = difference = response_line = None
    if h.size <= BINS // 4:  # its lobes, rate / M wide, span at least 8 of the chart's points
        line_hz = np.linspace(0, rate / 2, BINS)
        response_line = (
            line_hz,
            frequency.magnitude_db(frequency.dtft(h, line_hz, rate), FLOOR_DB),
        )
    if state.ir == "echo":
        spacing = rate / result.delay_samples
        hz = np.linspace(0, ZOOM_TEETH * spacing, BINS)
        gains = np.abs(frequency.dtft(h, hz, rate))
        zoom = (hz, frequency.magnitude_db(gains, FLOOR_DB))
        comb = (spacing, float(gains.min()), float(gains.max()))
    elif state.ir == "average":
        first = rate / h.size
        null = (first, float(abs(frequency.dtft(h, [first], rate)[0])))
    elif state.ir == "difference":
        at = np.abs(frequency.dtft(h, [0.0, rate / 4, rate / 2], rate))
        difference = (float(at[0]), float(at[1]), float(at[2]))
    return SoundSpectra(
        rate=rate,
        response=binned_db(response, rate),
        response_line=response_line,
        gains=frequency.gains_1d(h, response_n),
        zoom=zoom,
        comb=comb,
        null=null,
        difference=difference,
        x=binned_db(check.x_spectrum, rate, x_top),
        y=binned_db(check.y_spectrum, rate, x_top),
        product=binned_db(check.product, rate, x_top),
        n=n,
        length=y.size,
        error=check.max_error,
        relative_error=check.relative_error,
        circular_n=circular_n,
        circular_error=circular,
        tail=y.size - circular_n,
        tail_share=tail_share,
        reflections=max(0, int(np.count_nonzero(h[1:]))),
        probe=probe,
    )


def _envelope(binned: Binned, label: str) -> Envelope:
    return Envelope(label, binned.hz.tolist(), binned.low_db.tolist(), binned.high_db.tolist())


def _db_range(*arrays: np.ndarray, floor: float = FLOOR_DB) -> tuple[float, float]:
    """From the quietest value shown (at least `floor`) to the loudest, out to whole tens of
    dB so that the grid has round labels."""
    low = max(floor, min(float(a.min()) for a in arrays))
    high = max(float(a.max()) for a in arrays)
    return (math.floor((low - 1) / 10) * 10, math.ceil((high + 1) / 10) * 10)


def _response_chart(spectra: SoundSpectra, hz: str, gain_db: str, gettext, numbers) -> Markup:
    """|H| in dB: a line for a short h, else each point's min-max range (an echo's comb, a
    reverb's roughness), as a waveform is drawn."""
    title = gettext("Frequency response |H| of h, 0 Hz to Nyquist")
    nyquist = (0.0, spectra.rate / 2)
    if spectra.response_line is not None:
        line_hz, line_db = spectra.response_line
        return xy_chart([Series("|H|", line_hz.tolist(), line_db.tolist())], x_label=hz,
                        y_label=gain_db, title=title, x_range=nyquist,
                        y_range=_db_range(line_db, floor=-60.0), height=210,
                        numbers=numbers)  # fmt: skip
    response = spectra.response
    return envelope_chart([_envelope(response, "|H|")], x_label=hz, y_label=gain_db, title=title,
                          x_range=nyquist, y_range=_db_range(response.low_db, response.high_db,
                                                             floor=-60.0),
                          height=210, numbers=numbers)  # fmt: skip


def spectra_charts(spectra: SoundSpectra, gettext, numbers: Numbers) -> dict[str, Markup]:
    """The frequency response (and an echo's zoom) and the theorem's two spectra, as SVG."""
    hz, nyquist = gettext("frequency (Hz)"), (0.0, spectra.rate / 2)
    gain_db = gettext("gain (dB)")
    level_db = gettext("level (dB)")
    charts = {
        "response": _response_chart(spectra, hz, gain_db, gettext, numbers),
        "x": xy_chart(
            [Series("|X|", spectra.x.hz.tolist(), spectra.x.high_db.tolist())],
            x_label=hz,
            y_label=level_db,
            title=gettext("Spectrum of the input, |X|"),
            x_range=nyquist,
            y_range=_db_range(spectra.x.high_db),
            height=230,
            numbers=numbers,
        ),
        "y": xy_chart(
            [
                Series(
                    gettext("|Y|: the output's spectrum"),
                    spectra.y.hz.tolist(),
                    spectra.y.high_db.tolist(),
                ),
                Series(
                    gettext("|X|·|H|: the product"),
                    spectra.product.hz.tolist(),
                    spectra.product.high_db.tolist(),
                ),
            ],  # fmt: skip
            x_label=hz,
            y_label=level_db,
            title=gettext("Spectrum of the output |Y|, and |X| times |H|"),
            x_range=nyquist,
            y_range=_db_range(spectra.y.high_db, spectra.product.high_db),
            height=270,
            numbers=numbers,
        ),
    }
    if spectra.zoom is not None:
        zoom_hz, zoom_db = spectra.zoom
        charts["zoom"] = xy_chart(
            [Series("|H|", zoom_hz.tolist(), zoom_db.tolist())],
            x_label=hz,
            y_label=gain_db,
            title=gettext("The echo's comb, magnified: the first teeth"),
            x_range=(0.0, float(zoom_hz[-1])),
            y_range=_db_range(zoom_db, floor=-60.0),
            height=210,
            numbers=numbers,
        )
    return charts


def sound_frequency(state: SoundFields, result: SoundResult, results, gettext,
                    numbers: Numbers) -> dict:  # fmt: skip
    """What templates/signals/_frequency.html needs."""
    spectra = sound_spectra(state, result, results)
    return {
        "spectra": spectra,
        "spectra_charts": spectra_charts(spectra, gettext, numbers),
        "kind_names": KIND_NAMES,
        "decibels": decibels,
    }


def decibels(gain: float) -> float:
    """20·log10(gain); −inf for a gain of (about) zero, which `num` writes as "-∞"."""
    return 20 * float(np.log10(gain)) if gain > 1e-12 else float("-inf")
