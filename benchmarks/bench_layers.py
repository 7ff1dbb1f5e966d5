"""Time a LeNet-style network built from engine.layers, forward and backward, beside NumPy's own
float32 matmul throughput (and PyTorch's CPU time for the same network, when available).

    python -m benchmarks.bench_layers [--quick] [--torch-python PATH]

The network, on (64, 1, 28, 28) float32: conv 6 5×5 same → ReLU → maxpool 2 → conv 16 5×5 →
ReLU → maxpool 2 → flatten → dense 120 → ReLU → dense 84 → ReLU → dense 10, with a mean
cross-entropy loss. FLOPs count the convolutions and dense layers only: 2·MACs forwards, and
twice that backwards (dW and dx), less the first layer's dx, which a training step skips.

PyTorch (never a dependency) is timed from a separate environment's Python given by
--torch-python or CNN_BENCH_TORCH_PYTHON, running benchmarks/torch_lenet.py. Target: a training
step within 3× of PyTorch's, the bar bench_conv sets for single layers.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks.bench_conv import _blas_threads, _median_seconds
from engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from engine.losses import cross_entropy
from engine.model import Sequential

BATCH = 64
TARGET = 3.0  # ours / torch for a training step


def lenet(rng: np.random.Generator) -> Sequential:
    return Sequential(
        [
            Conv2D(1, 6, 5, padding="same", rng=rng),
            ReLU(),
            MaxPool2D(2),
            Conv2D(6, 16, 5, rng=rng),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(400, 120, rng=rng),
            ReLU(),
            Dense(120, 84, rng=rng),
            ReLU(),
            Dense(84, 10, rng=rng),
        ]
    )


def forward_flops(model: Sequential, input_shape: tuple[int, ...], batch: int) -> list[int]:
    """2·MACs of each layer (convolutions and dense layers; 0 for the rest) for one forward
    pass of the batch."""
    flops = []
    for row, layer in zip(model.summary(input_shape), model, strict=True):
        if isinstance(layer, Conv2D):  # every output value: one MAC per weight of its filter
            out_pixels = int(np.prod(row.output_shape[1:]))
            flops.append(2 * batch * layer.params["weight"].size * out_pixels)
        elif isinstance(layer, Dense):
            flops.append(2 * batch * layer.params["weight"].size)
        else:
            flops.append(0)
    return flops


def torch_times(python: str, repeats: int) -> dict | None:
    """PyTorch CPU timings of the same network from a separate environment, or None."""
    script = Path(__file__).with_name("torch_lenet.py")
    try:
        done = subprocess.run(
            [python, str(script), json.dumps({"batch": BATCH, "repeats": max(repeats, 5)})],
            capture_output=True,
            text=True,
            timeout=300,
            check=True,
        )
        return json.loads(done.stdout.strip().splitlines()[-1])
    except (OSError, subprocess.SubprocessError, ValueError, IndexError) as exc:
        print(f"(PyTorch reference unavailable: {exc})")
        return None


def one_thread_step(repeats: int) -> float | None:
    """Median training step in a child process whose OpenBLAS uses one thread, or None.

    OpenBLAS reads OPENBLAS_NUM_THREADS when NumPy loads, hence the child. On two cores shared
    with other work (the web server, another training run), two BLAS threads can wait on each
    other for whole scheduler ticks: this shows whether one thread is the better setting.
    """
    env = dict(os.environ, OPENBLAS_NUM_THREADS="1")
    command = [sys.executable, "-m", "benchmarks.bench_layers", "--step-only"]
    command += ["--quick"] if repeats < 15 else []
    try:
        done = subprocess.run(
            command, env=env, capture_output=True, text=True, timeout=300, check=True
        )
        return json.loads(done.stdout.strip().splitlines()[-1])["step"]
    except (OSError, subprocess.SubprocessError, ValueError, IndexError, KeyError) as exc:
        print(f"(one-thread run unavailable: {exc})")
        return None


def per_layer_times(
    model: Sequential, x: np.ndarray, repeats: int
) -> list[tuple[str, float, float]]:
    """(description, forward s, backward s) of each layer on the activations of x."""
    inputs = [x]
    for layer in model:
        inputs.append(layer.forward(inputs[-1]))
    rows = []
    dout = np.ones_like(inputs[-1])
    douts = [None] * len(model)
    for i in reversed(range(len(model))):
        douts[i] = dout
        dout = model[i].backward(dout)
    for i, layer in enumerate(model):
        t_fwd = _median_seconds(lambda layer=layer, i=i: layer.forward(inputs[i]), repeats)
        t_bwd = _median_seconds(lambda layer=layer, i=i: layer.backward(douts[i]), repeats)
        rows.append((layer.describe(), t_fwd, t_bwd))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.bench_layers",
        description="Time a LeNet-style engine.layers network against NumPy's matmul and PyTorch.",
    )
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    parser.add_argument("--step-only", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument(
        "--torch-python",
        default=os.environ.get("CNN_BENCH_TORCH_PYTHON"),
        help="Python of a separate environment with PyTorch, to time the same network there",
    )
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 15
    rng = np.random.default_rng(0)
    model = lenet(rng)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, BATCH)

    def forward() -> None:
        model.forward(x)

    def step() -> None:
        _, grad = cross_entropy(model.forward(x), labels)
        model.backward(grad, input_grad=False)  # as a training loop (and PyTorch) does

    if args.step_only:  # the child of one_thread_step
        print(json.dumps({"step": _median_seconds(step, repeats, warmup=2)}))
        return 0

    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    b = rng.standard_normal((1024, 1024)).astype(np.float32)
    t_mm = _median_seconds(lambda: a @ b, repeats)
    mm_gflops = 2 * 1024**3 / t_mm / 1e9

    t_fwd = _median_seconds(forward, repeats, warmup=2)
    t_eval = _median_seconds(lambda: model.forward(x, training=False), repeats, warmup=2)
    t_step = _median_seconds(step, repeats, warmup=2)
    per_layer = forward_flops(model, (1, 28, 28), BATCH)
    flops = sum(per_layer)
    step_flops = 3 * flops - per_layer[0]  # backward: dW and dx, but no dx for the first layer
    torch_result = torch_times(args.torch_python, repeats) if args.torch_python else None
    single = None if os.environ.get("OPENBLAS_NUM_THREADS") == "1" else one_thread_step(repeats)

    print(f"NumPy {np.__version__}, repeats per timing: {repeats} (median, after a warm-up)")
    blas = _blas_threads()
    if blas:
        print(f"BLAS: {blas}")
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset: one per core")
    print(f"os.cpu_count() = {os.cpu_count()}, OPENBLAS_NUM_THREADS = {threads}")
    print()
    print(f"LeNet-style stack on ({BATCH}, 1, 28, 28) float32, {model.num_params():,} parameters")
    print(f"NumPy float32 matmul 1024×1024: {mm_gflops:.1f} GFLOP/s")
    header = f"{'pass':<20} {'ms':>8} {'GFLOP/s':>9} {'/ matmul':>9}"
    if torch_result:
        header += f" {'torch ms':>9} {'ours/torch':>11}"
    print(header)
    print("-" * len(header))
    passes = (
        ("forward, evaluation", t_eval, flops, "forward_eval"),
        ("forward, training", t_fwd, flops, "forward"),
        ("forward + backward", t_step, step_flops, "forward_backward"),
    )
    misses = 0
    for name, t, count, key in passes:
        gflops = count / t / 1e9
        line = f"{name:<20} {t * 1e3:8.2f} {gflops:9.2f} {gflops / mm_gflops:9.3f}"
        if torch_result:
            ratio = t / torch_result[key]
            line += f" {torch_result[key] * 1e3:9.2f} {ratio:10.2f}×"
            misses += key == "forward_backward" and ratio > TARGET
        print(line)
    if torch_result:
        print(
            f"PyTorch {torch_result['torch']} CPU, {torch_result['threads']} threads, from a "
            f"separate environment (target: a training step ≤ {TARGET:g}× PyTorch's)"
        )
    if single:
        print(
            f"forward + backward with OPENBLAS_NUM_THREADS=1: {single * 1e3:.2f} ms "
            f"(the default above takes {t_step / single:.2f}× as long)"
        )
    print(f"{BATCH / t_step:,.0f} training samples per second (forward + backward, batch {BATCH})")
    print()
    print("Per layer (ms):")
    print(f"{'layer':<28} {'forward':>8} {'backward':>9}")
    for name, t_f, t_b in per_layer_times(model, x, repeats):
        print(f"{name:<28} {t_f * 1e3:8.3f} {t_b * 1e3:9.3f}")
    if torch_result:
        print()
        print("Within target." if not misses else "Training step MISSES the target.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
