"""Time a LeNet-style network built from engine.layers, forward and backward, beside NumPy's own
float32 matmul throughput (and PyTorch's CPU time for the same network, when available).

    python -m benchmarks.bench_layers [--quick] [--torch-python PATH]

The network, on (64, 1, 28, 28) float32: conv 6 5×5 same → ReLU → maxpool 2 → conv 16 5×5 →
ReLU → maxpool 2 → flatten → dense 120 → ReLU → dense 84 → ReLU → dense 10, with a mean
cross-entropy loss. FLOPs count the convolutions and dense layers only: 2·MACs forwards, and
twice that backwards (dW and dx), less the first layer's dx, which a training step skips.

PyTorch (never a dependency) is timed from a separate environment's Python given by
--torch-python or CNN_BENCH_TORCH_PYTHON, running benchmarks/torch_lenet.py with the same timing
protocol (benchmarks/protocol.py) and thread count. Target (issue 18): a whole Adam training
step within 1.5× of PyTorch's.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np

from benchmarks import protocol
from engine.layers import Conv2D, Dense, Flatten, MaxPool2D, ReLU
from engine.losses import cross_entropy
from engine.model import Sequential
from engine.optim import Adam

BATCH = 64
TARGET = 1.5  # ours / torch for a whole Adam training step (issue 18)


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


def torch_times(python: str, repeats: int, threads: int) -> dict | None:
    """PyTorch CPU timings of the same network from a separate environment, or None."""
    script = Path(__file__).with_name("torch_lenet.py")
    try:
        done = subprocess.run(
            [
                python,
                str(script),
                json.dumps({"batch": BATCH, "repeats": repeats, "threads": threads}),
            ],
            env=protocol.torch_environment(),
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
        t_fwd = protocol.best_and_median(
            lambda layer=layer, i=i: layer.forward(inputs[i]), repeats
        )[1]
        t_bwd = protocol.best_and_median(
            lambda layer=layer, i=i: layer.backward(douts[i], input_grad=i > 0), repeats
        )[1]
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
    memory = protocol.same_allocator()  # before anything is timed, the child's too
    repeats = 5 if args.quick else 30
    rng = np.random.default_rng(0)
    model = lenet(rng)
    x = rng.standard_normal((BATCH, 1, 28, 28)).astype(np.float32)
    labels = rng.integers(0, 10, BATCH)

    def forward() -> None:
        model.forward(x)

    def step() -> None:
        _, grad = cross_entropy(model.forward(x), labels)
        model.backward(grad, input_grad=False)  # as a training loop (and PyTorch) does

    adam = Adam(model.parameters(), lr=1e-3)

    def adam_step() -> None:  # a whole training step, as engine.fit takes one
        _, grad = cross_entropy(model.forward(x), labels)
        model.backward(grad, input_grad=False)
        adam.step(model.gradients())

    if args.step_only:  # the child of one_thread_step
        print(json.dumps({"step": protocol.best_and_median(step, repeats)[1]}))
        return 0

    a = rng.standard_normal((1024, 1024)).astype(np.float32)
    b = rng.standard_normal((1024, 1024)).astype(np.float32)
    t_mm = protocol.best_and_median(lambda: a @ b, repeats)[0]
    mm_gflops = 2 * 1024**3 / t_mm / 1e9

    timed = {
        "forward_eval": protocol.best_and_median(lambda: model.forward(x, training=False), repeats),
        "forward": protocol.best_and_median(forward, repeats),
        "forward_backward": protocol.best_and_median(step, repeats),
        "adam_step": protocol.best_and_median(adam_step, repeats),
    }
    t_step = timed["forward_backward"][1]
    per_layer = forward_flops(model, (1, 28, 28), BATCH)
    flops = sum(per_layer)
    step_flops = 3 * flops - per_layer[0]  # backward: dW and dx, but no dx for the first layer
    threads = protocol.blas_threads()
    torch_result = torch_times(args.torch_python, repeats, threads) if args.torch_python else None
    single = None if os.environ.get("OPENBLAS_NUM_THREADS") == "1" else one_thread_step(repeats)

    print(f"NumPy {np.__version__}; {repeats} runs per timing after 3 warm-ups: best and median")
    print(f"BLAS: {protocol.describe_blas()}; {', '.join(protocol.CORETYPE_VARIABLES)}: "
          f"{protocol.coretype_setting()}")  # fmt: skip
    print(protocol.machine_load())
    print(f"Cores: {protocol.cores_in_step()}")
    print(f"Memory: {memory}")
    print(f"os.cpu_count() = {os.cpu_count()}, BLAS threads = {threads}")
    print()
    print(f"LeNet-style stack on ({BATCH}, 1, 28, 28) float32, {model.num_params():,} parameters")
    print(f"NumPy float32 matmul 1024×1024: {mm_gflops:.1f} GFLOP/s")
    header = f"{'pass':<22} {'best ms':>8} {'median ms':>10} {'GFLOP/s':>8}"
    if torch_result:
        header += f" {'torch best':>11} {'torch median':>13} {'ratio best':>11} {'median':>7}"
    print(header)
    print("-" * len(header))
    passes = (
        ("forward, evaluation", "forward_eval", flops),
        ("forward, training", "forward", flops),
        ("forward + backward", "forward_backward", step_flops),
        ("Adam training step", "adam_step", step_flops),
    )
    misses = 0
    for name, key, count in passes:
        best, median = timed[key]
        line = f"{name:<22} {best * 1e3:8.2f} {median * 1e3:10.2f} {count / best / 1e9:8.2f}"
        if torch_result:
            t_best, t_median = torch_result[key]
            line += f" {t_best * 1e3:11.2f} {t_median * 1e3:13.2f} {best / t_best:10.2f}×"
            line += f" {median / t_median:6.2f}×"
            misses += key == "adam_step" and best / t_best > TARGET
        print(line)
    if torch_result:
        print(
            f"PyTorch {torch_result['torch']} CPU, {torch_result['threads']} threads, from a "
            f"separate environment (target: an Adam step ≤ {TARGET:g}× PyTorch's, best of runs)"
        )
    if single:
        print(
            f"forward + backward with OPENBLAS_NUM_THREADS=1: {single * 1e3:.2f} ms median "
            f"(the default above takes {t_step / single:.2f}× as long)"
        )
    print(f"{BATCH / t_step:,.0f} training samples per second (forward + backward, batch {BATCH})")
    print()
    print("Per layer (ms; the first layer's backward finds dW alone, as a training step does):")
    print(f"{'layer':<28} {'forward':>8} {'backward':>9}")
    for name, t_f, t_b in per_layer_times(model, x, repeats):
        print(f"{name:<28} {t_f * 1e3:8.3f} {t_b * 1e3:9.3f}")
    if torch_result:
        print()
        print("Within target." if not misses else "Training step MISSES the target.")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
