"""Long 1-D convolutions and 3-D video kernels, against SciPy measured in the same run.

    python -m benchmarks.bench_signals [--quick]

1. A 30 s, 44.1 kHz mono clip convolved with a 2 s reverb (full length, 1,411,199 samples):
   engine.signals.convolve (which picks the FFT by its cost model) against
   scipy.signal.fftconvolve, in float32 (what the lab uses) and float64. Target: within 1.5× of
   SciPy and well under a second. For scale, direct np.convolve on the first second of the clip,
   with the time for all 30 s extrapolated (it grows linearly with the clip).
2. A 32-frame 128×128 clip through a 3×3×3 kernel (engine.signals.filter_volume, which is
   engine.conv.conv3d), grey and colour, against scipy.ndimage.correlate on the same volume.
"""

from __future__ import annotations

import argparse

import numpy as np

from benchmarks.bench_conv import _median_seconds
from engine import signals

RATE = 44_100
TARGET_RATIO = 1.5


def bench_reverb(repeats: int, quick: bool) -> list[str]:
    from scipy.signal import fftconvolve

    rng = np.random.default_rng(0)
    x64 = rng.standard_normal(30 * RATE) * 0.1
    h64 = signals.reverb_ir(2 * RATE, 0.5, np.random.default_rng(1))
    plan = signals.plan_convolution(x64.size, h64)
    lines = [
        f"30 s at 44.1 kHz (L = {x64.size:,}) ∗ 2 s reverb (M = {h64.size:,}): "
        f"{plan.out_length:,} outputs, method chosen: {plan.method} "
        f"(estimated direct {plan.direct_ms:,.0f} ms, FFT {plan.fft_ms:.0f} ms)",
        f"{'dtype':<8} {'engine ms':>10} {'fftconvolve ms':>15} {'engine/scipy':>13}  verdict",
    ]
    for dtype in (np.float32, np.float64):
        x, h = x64.astype(dtype), h64.astype(dtype)
        ours = signals.convolve(x, h)
        ref = fftconvolve(x, h)
        scale = float(np.abs(ref).max())
        assert np.abs(ours - ref).max() <= (1e-3 if dtype == np.float32 else 1e-9) * scale
        t_ours = _median_seconds(lambda x=x, h=h: signals.convolve(x, h), repeats)
        t_ref = _median_seconds(lambda x=x, h=h: fftconvolve(x, h), repeats)
        ratio = t_ours / t_ref
        verdict = "PASS" if ratio <= TARGET_RATIO and t_ours < 1.0 else "MISS"
        lines.append(
            f"{np.dtype(dtype).name:<8} {t_ours * 1e3:10.1f} {t_ref * 1e3:15.1f} "
            f"{ratio:12.2f}×  {verdict} (target ≤ {TARGET_RATIO}× and < 1 s)"
        )
    seconds = 0.25 if quick else 1.0
    piece = x64[: int(seconds * RATE)]
    t_direct = _median_seconds(lambda: np.convolve(piece, h64), 1, warmup=0)
    t_fft64 = _median_seconds(lambda: signals.convolve(x64, h64), 1, warmup=0)
    lines.append(
        f"direct np.convolve, first {seconds:g} s: {t_direct * 1e3:,.0f} ms; all 30 s about "
        f"{t_direct * 30 / seconds:,.0f} s, {t_direct * 30 / seconds / t_fft64:,.0f}× the FFT"
    )
    return lines


def bench_video(repeats: int) -> list[str]:
    from scipy.ndimage import correlate

    rng = np.random.default_rng(2)
    grey = rng.uniform(0, 255, (32, 128, 128)).astype(np.float32)  # (T, H, W)
    colour = rng.uniform(0, 255, (3, 32, 128, 128)).astype(np.float32)  # (C, T, H, W)
    header = (
        f"{'32×128×128 clip, 3×3×3 kernel':<34} {'engine ms':>10} {'ndimage ms':>11} "
        f"{'engine/ndimage':>15}"
    )
    lines = [header, "-" * len(header)]
    for name in ("stedge", "tblur"):
        kernel = signals.video_kernel(name, 3).astype(np.float32)
        out = signals.filter_volume(grey, kernel)
        # ndimage centres the kernel: its 'valid' part is our output.
        valid = tuple(
            slice(k // 2, n - (k - 1 - k // 2))
            for n, k in zip(grey.shape, kernel.shape, strict=True)
        )
        ref = correlate(grey, kernel, mode="constant")[valid]
        np.testing.assert_allclose(out, ref, rtol=1e-4, atol=1e-2)
        t_ours = _median_seconds(lambda k=kernel: signals.filter_volume(grey, k), repeats)
        t_ref = _median_seconds(lambda k=kernel: correlate(grey, k, mode="constant"), repeats)
        lines.append(
            f"{'grey (T, H, W), ' + name:<34} {t_ours * 1e3:10.2f} {t_ref * 1e3:11.2f} "
            f"{t_ours / t_ref:14.2f}×"
        )
    kernel = signals.video_kernel("stedge").astype(np.float32)
    t_colour = _median_seconds(lambda: signals.filter_volume(colour, kernel), repeats)
    t_ref = _median_seconds(
        lambda: sum(correlate(colour[c], kernel, mode="constant") for c in range(3)), repeats
    )
    lines.append(
        f"{'colour (C=3, T, H, W), stedge':<34} {t_colour * 1e3:10.2f} {t_ref * 1e3:11.2f} "
        f"{t_colour / t_ref:14.2f}×"
    )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats, shorter reference")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 7
    print("Signals: long 1-D convolution by FFT, and 3-D kernels on video")
    for line in bench_reverb(repeats, args.quick):
        print(line)
    print()
    for line in bench_video(repeats):
        print(line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
