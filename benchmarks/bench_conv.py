"""Time engine.conv against SciPy and NumPy's matmul, measured in the same run.

    python -m benchmarks.bench_conv [--quick]

1. conv2d on a 1024×1024 float32 image with 3×3, 7×7 and 31×31 kernels and padding="same",
   against the faster of scipy.ndimage.correlate and scipy.signal.fftconvolve (flipped kernel,
   mode="same"). Target: at most 1.5× the faster reference.
2. conv2d as a CNN layer on a batch, in GFLOP/s beside a 1024×1024 float32 matmul.

SciPy is a test/bench extra, not a runtime dependency, so it is imported inside main().
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import time
from pathlib import Path

import numpy as np

import engine.conv as ec
import engine.conv_fast as fast
from engine.conv import conv2d

TARGET = 1.5  # ours / best reference


def _median_seconds(fn, repeats: int, warmup: int = 1) -> float:
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def _blas_threads() -> str | None:
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return None
    parts = [
        f"{info.get('internal_api', '?')} {info.get('version', '')} "
        f"({info.get('num_threads', '?')} threads)"
        for info in threadpool_info()
        if info.get("user_api") == "blas"
    ]
    return ", ".join(parts) or None


def bench_images(ndimage, signal, repeats: int) -> tuple[list[str], int]:
    """Case 1: one big single-channel image. Returns the table lines and the number of misses."""
    rng = np.random.default_rng(0)
    image = rng.standard_normal((1024, 1024)).astype(np.float32)
    header = (
        f"{'kernel':>7} {'method':>7} {'ours ms':>8} {'ndimage ms':>11} {'fftconv ms':>11} "
        f"{'best ref':>9} {'ours/best':>10} {'max |diff|':>11}  verdict"
    )
    lines = [header, "-" * len(header)]
    misses = 0
    for k in (3, 7, 31):
        kernel = rng.standard_normal((k, k)).astype(np.float32)
        x = image[None, None]  # (H, W) -> (1, 1, H, W)
        w = kernel[None, None]  # (K, K) -> (1, 1, K, K)
        flipped = np.ascontiguousarray(kernel[::-1, ::-1])

        def ours(x=x, w=w):
            return conv2d(x, w, padding="same")

        def nd_ref(kernel=kernel):
            return ndimage.correlate(image, kernel, mode="constant", cval=0.0)

        def fft_ref(flipped=flipped):
            return signal.fftconvolve(image, flipped, mode="same")

        t_ours = _median_seconds(ours, repeats)
        # ndimage at 31×31 takes about a second; a single run says enough.
        t_nd = _median_seconds(nd_ref, repeats if k < 15 else 1, warmup=1 if k < 15 else 0)
        t_fft = _median_seconds(fft_ref, repeats)
        best_name, best = min(("ndimage", t_nd), ("fftconv", t_fft), key=lambda p: p[1])
        ratio = t_ours / best
        diff = float(np.max(np.abs(ours()[0, 0] - fft_ref())))
        verdict = "PASS" if ratio <= TARGET else "MISS"
        misses += verdict == "MISS"
        method = fast.choose(ec._plan(x, w, None, 1, "same", 1, "zeros", 2, "conv2d"), w)
        lines.append(
            f"{f'{k}×{k}':>7} {method:>7} {t_ours * 1e3:8.2f} {t_nd * 1e3:11.2f} "
            f"{t_fft * 1e3:11.2f} {best_name:>9} {ratio:9.2f}× {diff:11.2e}  "
            f"{verdict} (target ≤ {TARGET}×)"
        )
    return lines, misses


LAYER_CASES = ((64, 1, 16, 28, 5), (64, 16, 32, 14, 3))  # (N, C, F, H=W, K)


def torch_layer_times(python: str, repeats: int) -> dict | None:
    """PyTorch CPU timings of LAYER_CASES, from a separate environment's Python, or None."""
    script = Path(__file__).with_name("torch_layers.py")
    try:
        done = subprocess.run(
            [python, str(script), json.dumps(LAYER_CASES), str(max(repeats, 5))],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        print(f"(PyTorch reference unavailable: {exc})")
        return None


def bench_layers(repeats: int, torch_python: str | None = None) -> list[str]:
    """Case 2: conv2d as a CNN layer, in GFLOP/s against a big float32 matmul (and PyTorch)."""
    rng = np.random.default_rng(1)
    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    b = rng.standard_normal((1024, 1024)).astype(np.float32)
    t_mm = _median_seconds(lambda: a @ b, repeats)
    mm_gflops = 2 * 1024**3 / t_mm / 1e9
    torch_times = torch_layer_times(torch_python, repeats) if torch_python else None
    header = f"{'layer':<32} {'ms':>8} {'GFLOP/s':>9} {'matmul GFLOP/s':>15} {'ratio':>7}"
    if torch_times:
        header += f" {'torch ms':>9} {'ours/torch':>11}"
    lines = [header, "-" * len(header)]
    for n, c, f, size, k in LAYER_CASES:
        x = rng.standard_normal((n, c, size, size)).astype(np.float32)
        w = rng.standard_normal((f, c, k, k)).astype(np.float32)
        bias = rng.standard_normal(f).astype(np.float32)
        t = _median_seconds(lambda x=x, w=w, bias=bias: conv2d(x, w, bias), repeats)
        out = size - k + 1
        gflops = 2 * n * f * c * k * k * out * out / t / 1e9
        name = f"N={n} {c}→{f} ch {size}×{size} {k}×{k}"
        line = (
            f"{name:<32} {t * 1e3:8.2f} {gflops:9.1f} {mm_gflops:15.1f} {gflops / mm_gflops:7.2f}"
        )
        if torch_times:
            t_torch = torch_times[f"{n},{c},{f},{size},{k}"]
            line += f" {t_torch * 1e3:9.2f} {t / t_torch:10.2f}×"
        lines.append(line)
    if torch_times:
        lines.append(
            f"PyTorch {torch_times['torch']} CPU, {torch_times['threads']} threads, "
            "from a separate environment (target: ours/torch ≤ 3×)"
        )
    return lines


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_conv", description="Time engine.conv against SciPy."
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    parser.add_argument(
        "--torch-python",
        default=os.environ.get("CNN_BENCH_TORCH_PYTHON"),
        help="Python of a separate environment with PyTorch, to time F.conv2d beside ours",
    )
    args = parser.parse_args(argv)
    try:
        from scipy import ndimage, signal
    except ImportError:
        print(
            "The benchmark compares against SciPy, which is not installed. "
            "Install it with: pip install scipy  (or pip install -e '.[test]')."
        )
        return 2
    repeats = 2 if args.quick else 9
    print(f"NumPy {np.__version__}, repeats per timing: {repeats} (median, after a warm-up)")
    print(f"engine threads: {fast._THREADS} (os.cpu_count() = {os.cpu_count()})")
    blas = _blas_threads()
    if blas:
        print(f"BLAS: {blas}")
    print()
    print("1. conv2d, 1024×1024 float32, one channel, padding='same'")
    lines, misses = bench_images(ndimage, signal, repeats)
    print("\n".join(lines))
    print()
    print("2. conv2d as a CNN layer, float32, padding 0 (FLOPs = 2·N·F·C·K·K·H'·W')")
    print("\n".join(bench_layers(repeats, args.torch_python)))
    print()
    print("All image cases within target." if not misses else f"{misses} image case(s) MISS.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
