"""Make the Signals lab's built-in sound clips in static/signals/ (mono, 16 kHz, 16-bit PCM).

    python scripts/make_signal_clips.py [--out static/signals]

* voice-en.wav, voice-pt.wav: a short phrase spoken by espeak-ng (GPL-3.0 speech synthesiser; the
  sound it makes is not covered by its licence), resampled to 16 kHz by SoX. Only this script
  needs them (`apt-get install espeak-ng sox`); the app reads the committed files.
* clap.wav: three hand claps synthesised with NumPy (band-limited noise bursts, seeded);
* melody.wav: a short arpeggio synthesised with NumPy (a few harmonics, soft attack and release).

The same command makes the same clap and melody bytes every time; the voices depend on the
espeak-ng version (1.51 made the committed ones).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from app.audio import encode_wav  # noqa: E402

RATE = 16_000
PHRASES = {
    "voice-en.wav": ("en-us", "Convolution makes an echo."),
    "voice-pt.wav": ("pt-br", "A convolução faz um eco."),
}


def speak(text: str, voice: str, out: Path) -> None:
    """espeak-ng -> SoX: 16 kHz, mono, 16-bit, peak at -1 dBFS, a little silence around it."""
    for tool in ("espeak-ng", "sox"):
        if shutil.which(tool) is None:
            raise SystemExit(f"{tool} is needed for the voices: apt-get install espeak-ng sox")
    with tempfile.TemporaryDirectory() as tmp:
        raw = Path(tmp) / "raw.wav"
        subprocess.run(["espeak-ng", "-v", voice, "-s", "140", "-w", str(raw), text], check=True)
        subprocess.run(
            ["sox", str(raw), "-r", str(RATE), "-c", "1", "-b", "16", str(out),
             "norm", "-1", "pad", "0.1", "0.5"],
            check=True,
        )  # fmt: skip


def clap(rng: np.random.Generator) -> np.ndarray:
    """Three claps, 0.45 s apart. A real clap is a few quick bursts (the palms meet unevenly),
    band-limited to the 1-3 kHz a clap sounds like, decaying in tens of milliseconds."""
    out = np.zeros(int(1.6 * RATE))
    t = np.arange(int(0.12 * RATE)) / RATE
    for start in (0.1, 0.55, 1.0):
        burst = np.zeros_like(t)
        for offset, level in ((0.0, 0.6), (0.006, 1.0), (0.011, 0.7)):
            shifted = np.clip(t - offset, 0, None)
            burst += level * (t >= offset) * np.exp(-shifted / 0.012)
        noise = rng.standard_normal(t.size)
        spectrum = np.fft.rfft(noise)
        freqs = np.fft.rfftfreq(t.size, 1 / RATE)
        spectrum[(freqs < 800) | (freqs > 3500)] *= 0.15
        noise = np.fft.irfft(spectrum, t.size)
        i = int(start * RATE)
        out[i : i + t.size] += burst * noise
    return 0.9 * out / np.abs(out).max()


def melody() -> np.ndarray:
    """C E G C' G E C, 0.25 s a note: a fundamental and three softer harmonics per note."""
    notes = [261.63, 329.63, 392.00, 523.25, 392.00, 329.63, 261.63]
    length = int(0.25 * RATE)
    t = np.arange(length) / RATE
    attack, release = int(0.01 * RATE), int(0.08 * RATE)
    shape = np.ones(length)
    shape[:attack] = np.linspace(0, 1, attack)
    shape[-release:] = np.linspace(1, 0, release)
    shape *= np.exp(-t / 0.4)
    pieces = []
    for f in notes:
        tone = sum(
            a * np.sin(2 * np.pi * f * k * t) for k, a in ((1, 1.0), (2, 0.4), (3, 0.2), (4, 0.1))
        )
        pieces.append(tone * shape)
    out = np.concatenate([np.zeros(int(0.1 * RATE)), *pieces, np.zeros(int(0.3 * RATE))])
    return 0.8 * out / np.abs(out).max()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "static" / "signals")
    parser.add_argument("--skip-voices", action="store_true", help="only the synthesised clips")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "clap.wav").write_bytes(encode_wav(clap(np.random.default_rng(7)), RATE))
    (args.out / "melody.wav").write_bytes(encode_wav(melody(), RATE))
    if not args.skip_voices:
        for name, (voice, text) in PHRASES.items():
            speak(text, voice, args.out / name)
    for path in sorted(args.out.glob("*.wav")):
        print(f"{path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}: "
              f"{path.stat().st_size:,} bytes")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
