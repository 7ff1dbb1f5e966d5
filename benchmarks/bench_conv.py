"""Time engine.conv against SciPy and NumPy's matmul, measured in the same run.

    python -m benchmarks.bench_conv [--quick]

1. conv2d on a 1024×1024 float32 image with 3×3, 7×7 and 31×31 kernels and padding="same",
   against the faster of scipy.ndimage.correlate and scipy.signal.fftconvolve (flipped kernel,
   mode="same"). Target: at most 1.5× the faster reference.
2. Conv2D as CNN layers (issue 18's two cases and LeNet's two), forward and backward, against
   PyTorch timed with the same protocol (benchmarks/protocol.py) and thread count, best and
   median. Target: 2× PyTorch (goal 1.5×).

Then the same again with OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE unset, when they are set.

SciPy is a test/bench extra, not a runtime dependency, so it is imported inside main().
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

import engine.conv as ec
import engine.conv_fast as fast
from benchmarks import protocol
from engine.conv import conv2d
from engine.layers import Conv2D
from engine.layout import batch_first_view, batch_last_view

TARGET = 1.5  # ours / best reference


def _median_seconds(fn, repeats: int, warmup: int = 1) -> float:
    """The median of `repeats` timed calls after `warmup`: benchmarks.protocol's statistic."""
    return protocol.best_and_median(fn, repeats, warmup)[1]


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


# (N, C, F, H=W, K, padding): the issue's two CNN-layer cases, then LeNet's two convolutions.
LAYER_CASES = (
    (64, 1, 16, 28, 5, 2),
    (64, 16, 32, 14, 3, 1),
    (64, 1, 6, 28, 5, 2),
    (64, 6, 16, 14, 5, 0),
)
LAYER_TARGET, LAYER_GOAL = 2.0, 1.5  # ours / PyTorch, forward and backward


def torch_layer_times(python: str, repeats: int, threads: int) -> dict | None:
    """PyTorch CPU timings of LAYER_CASES, from a separate environment's Python, or None."""
    script = Path(__file__).with_name("torch_layers.py")
    try:
        done = subprocess.run(
            [python, str(script), json.dumps(LAYER_CASES), str(repeats), str(threads)],
            env=protocol.torch_environment(),
            capture_output=True,
            text=True,
            timeout=600,
            check=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        print(f"(PyTorch reference unavailable: {exc})")
        return None


def bench_layers(repeats: int, torch_python: str | None = None) -> tuple[list[str], int]:
    """Case 2: Conv2D layers of a CNN, forward and backward (dL/dx, dL/dW, dL/db), float32,
    against PyTorch timed with the same protocol and thread count. Returns the lines and the
    number of ratios over LAYER_TARGET."""
    rng = np.random.default_rng(1)
    threads = protocol.blas_threads()
    torch_times = torch_layer_times(torch_python, repeats, threads) if torch_python else None
    header = f"{'layer':<30} {'pass':<8} {'best ms':>8} {'median ms':>10}"
    if torch_times:
        header += f" {'torch best':>11} {'torch median':>13} {'ratio best':>11} "
        header += f"{'ratio median':>13}"
    lines = [header, "-" * len(header)]
    misses = 0
    for n, c, f, size, k, p in LAYER_CASES:
        layer = Conv2D(c, f, k, padding=p, rng=rng)
        x = rng.standard_normal((n, c, size, size)).astype(np.float32)
        # Each side gets its arrays in the memory order its own layers hand on (PyTorch's side:
        # NCHW). Here that is batch-last for an inner layer's input, which a Conv, ReLU and
        # pooling before it produced, and for every gradient coming back, which ReLU and
        # pooling after it return in the order of the layer's output. A first layer's input
        # is the data batch, batch-first on both sides.
        if c > 1:
            x = batch_first_view(np.ascontiguousarray(batch_last_view(x)))
        dy = np.empty_like(layer.forward(x))
        dy[...] = rng.standard_normal(dy.shape)

        def forward(conv=layer, x=x):
            conv.forward(x)

        def backward(conv=layer, dy=dy):  # dL/dx, dL/dW and dL/db, as PyTorch's side
            conv.backward(dy, input_grad=True)

        ours = {
            "forward": protocol.best_and_median(forward, repeats),
            "backward": protocol.best_and_median(backward, repeats),
        }
        name = f"N={n} {c}→{f} {size}² {k}×{k} pad {p}"
        for which, (best, median) in ours.items():
            line = f"{name:<30} {which:<8} {best * 1e3:8.3f} {median * 1e3:10.3f}"
            if torch_times:
                t_best, t_median = torch_times["cases"][f"{n},{c},{f},{size},{k},{p}"][which]
                ratio_best, ratio_median = best / t_best, median / t_median
                misses += ratio_best > LAYER_TARGET
                line += (
                    f" {t_best * 1e3:11.3f} {t_median * 1e3:13.3f} {ratio_best:10.2f}×"
                    f" {ratio_median:12.2f}×"
                )
            lines.append(line)
            name = ""
    lines.append(
        "Inner layers' inputs and all gradients come in the memory order each side's own layers "
        "hand on (batch-last for the engine, NCHW for PyTorch)"
    )
    if torch_times:
        lines.append(
            f"PyTorch {torch_times['torch']} CPU, {torch_times['threads']} threads "
            f"({torch_times['blas']}), from a separate environment; target ours/torch ≤ "
            f"{LAYER_TARGET}× (goal {LAYER_GOAL}×) on the best of {repeats} runs"
        )
    else:
        lines.append("(no PyTorch reference: set CNN_BENCH_TORCH_PYTHON to a Python with torch)")
    return lines, misses


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_conv", description="Time engine.conv against SciPy."
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    parser.add_argument(protocol.UNSET_FLAG, action="store_true", help=argparse.SUPPRESS)
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
    layer_repeats = 5 if args.quick else 50
    print(f"NumPy {np.__version__}, repeats per timing: {repeats} (median, after a warm-up)")
    print(f"engine threads: {fast._THREADS} (os.cpu_count() = {os.cpu_count()})")
    print(f"BLAS: {protocol.describe_blas()}; {', '.join(protocol.CORETYPE_VARIABLES)}: "
          f"{protocol.coretype_setting()}")  # fmt: skip
    print(protocol.machine_load())
    print(f"Cores: {protocol.cores_in_step()}")
    print(f"Memory: {protocol.same_allocator()}")
    print()
    print("1. conv2d, 1024×1024 float32, one channel, padding='same'")
    lines, misses = bench_images(ndimage, signal, repeats)
    print("\n".join(lines))
    print()
    print(f"2. Conv2D as a CNN layer, float32: {layer_repeats} runs after 3 warm-ups, best, median")
    layer_lines, layer_misses = bench_layers(layer_repeats, args.torch_python)
    print("\n".join(layer_lines))
    print()
    print("All image cases within target." if not misses else f"{misses} image case(s) MISS.")
    if layer_misses:
        print(f"{layer_misses} layer pass(es) over {LAYER_TARGET}× PyTorch: MISS.")
    argv = sys.argv[1:] if argv is None else argv
    protocol.rerun_with_coretype_unset("benchmarks.bench_conv", argv)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
