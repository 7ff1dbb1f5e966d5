"""What "why did it decide that?" costs: each attribution on LeNet for one image, as a ratio to
one forward pass of that image, timed with one protocol (a warm-up, then the best and the median
of many runs) in this process.

Occlusion (8×8 patches, stride 4: 6×6 = 36 positions on 28²) runs its covered copies through the
network as one batch. The same map computed one forward pass per patch, as a naive loop would, is
timed beside it with the same protocol, so the batching's gain is measured, not claimed.

python -m benchmarks.bench_interpret [--quick]
"""

from __future__ import annotations

import argparse
import os

import numpy as np

from benchmarks import protocol
from benchmarks.bench_layers import lenet
from engine import interpret
from engine.padding import output_size

PATCH, STRIDE = 8, 4
IG_STEPS = 32
GOAL_OCCLUSION_VS_LOOP = 1.0  # the batched map must not be slower than the loop it replaces


def occlusion_one_pass_per_patch(model, x: np.ndarray, target: int) -> np.ndarray:
    """The reference: interpret.occlusion's map, with one forward pass for every patch."""
    rows, cols = output_size(x.shape[2], PATCH, STRIDE), output_size(x.shape[3], PATCH, STRIDE)
    base = _probability(model, x, target)
    drop = np.empty((rows, cols), dtype=x.dtype)
    for r, c in np.ndindex(rows, cols):
        covered = x.copy()
        covered[:, :, r * STRIDE : r * STRIDE + PATCH, c * STRIDE : c * STRIDE + PATCH] = 0.0
        drop[r, c] = base - _probability(model, covered, target)
    return drop


def _probability(model, x: np.ndarray, target: int) -> float:
    logits = model.predict(x)[0]
    e = np.exp(logits - logits.max())
    return float(e[target] / e.sum())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.bench_interpret",
                                     description=__doc__.split("\n\n")[0])  # fmt: skip
    parser.add_argument("--quick", action="store_true", help="fewer repeats, for a smoke run")
    args = parser.parse_args(argv)
    repeats = 5 if args.quick else 40
    rng = np.random.default_rng(0)
    model = lenet(rng)
    x = rng.standard_normal((1, 1, 28, 28)).astype(np.float32)
    target = int(np.argmax(model.predict(x)[0]))
    conv_stages = [i for i, layer in enumerate(model.layers) if type(layer).__name__ == "ReLU"
                   and model.forward_all(x)[i].ndim == 4]  # fmt: skip

    batched = interpret.occlusion(model, x, target, PATCH, STRIDE)[0]
    looped = occlusion_one_pass_per_patch(model, x, target)
    agreement = float(np.max(np.abs(batched - looped)))

    cases = [
        ("one forward pass", lambda: model.predict(x)),
        ("saliency (input gradient)", lambda: interpret.input_gradient(model, x, target)),
        *[
            (f"Grad-CAM at layer {i}", lambda i=i: interpret.grad_cam(model, x, target, i))
            for i in conv_stages
        ],
        (
            f"occlusion {PATCH}×{PATCH}, stride {STRIDE}, batched",
            lambda: interpret.occlusion(model, x, target, PATCH, STRIDE),
        ),  # fmt: skip
        (
            f"occlusion {PATCH}×{PATCH}, stride {STRIDE}, one pass per patch",
            lambda: occlusion_one_pass_per_patch(model, x, target),
        ),  # fmt: skip
        (
            f"integrated gradients, {IG_STEPS} steps",
            lambda: interpret.integrated_gradients(model, x, target, steps=IG_STEPS),
        ),  # fmt: skip
    ]
    timings = [(name, *protocol.best_and_median(fn, repeats)) for name, fn in cases]
    forward_best, forward_median = timings[0][1], timings[0][2]

    print(f"NumPy {np.__version__}; BLAS: {protocol.describe_blas()}; {protocol.machine_load()}")
    threads = os.environ.get("OPENBLAS_NUM_THREADS", "unset: one per core")
    print(f"os.cpu_count() = {os.cpu_count()}, OPENBLAS_NUM_THREADS = {threads}")
    print(f"LeNet on one 28×28 image, float32; {repeats} runs each after 2 warm-ups")
    positions = output_size(28, PATCH, STRIDE) ** 2
    print(f"occlusion: {positions} patch positions; batched vs looped map, max |diff| = "
          f"{agreement:.1e}")  # fmt: skip
    header = f"{'attribution':<46} {'best ms':>8} {'median ms':>10} {'/ forward (best)':>17} " \
             f"{'/ forward (median)':>19}"  # fmt: skip
    print(header)
    print("-" * len(header))
    for name, best, median in timings:
        print(f"{name:<46} {best * 1e3:8.3f} {median * 1e3:10.3f} {best / forward_best:16.1f}× "
              f"{median / forward_median:18.1f}×")  # fmt: skip
    by_name = {name: best for name, best, _ in timings}
    gain = by_name[cases[-2][0]] / by_name[cases[-3][0]]
    print(f"batched occlusion is {gain:.1f}× faster than one forward pass per patch (best of runs)")
    ok = agreement < 1e-5 and gain >= GOAL_OCCLUSION_VS_LOOP
    print("verdict:", "ok" if ok else "MISS")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
