"""Train the LeNet preset on the digits from the command line and check the targets.

    python -m benchmarks.bench_train [--quick]

Runs `cnn-playground train` in a fresh process, so its peak memory is the run's own, and reads the
JSON line it prints, for three seeds. Targets (issue 18): a median test accuracy of at least
97.5 % over the seeds (the test set has 359 images, so one image is 0.28 %), training under 3 s,
peak memory under 500 MB. The child inherits this process's environment unchanged: it measures
what `cnn-playground train` gives a user.
The reference for the time is NumPy's float32 matmul rate measured in the same run: the ratio
says how far from the machine's practical ceiling the seconds are.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time

import numpy as np

from benchmarks import protocol

ARGS = ["--dataset", "digits", "--image-size", "16", "--model", "lenet", "--optimizer", "adam",
        "--lr", "0.002", "--schedule", "cosine", "--epochs", "20", "--batch-size", "32",
        "--augment", "--quiet"]  # fmt: skip


def run_once(seed: int) -> dict:
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "app.cli", "train", *ARGS, "--seed", str(seed)],
        capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    wall = time.perf_counter() - start
    if done.returncode != 0:
        raise RuntimeError(f"train failed: {done.stderr.strip()}")
    summary = json.loads(done.stdout.strip().splitlines()[-1])
    summary["wall"] = wall
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="one seed instead of three")
    args = parser.parse_args(argv)
    seeds = [0] if args.quick else [0, 1, 2]
    a = np.random.default_rng(0).standard_normal((1024, 1024)).astype(np.float32)
    start = time.perf_counter()
    for _ in range(5):
        a @ a
    matmul_gflops = 5 * 2 * 1024**3 / (time.perf_counter() - start) / 1e9
    print(f"BLAS: {protocol.describe_blas()}; {', '.join(protocol.CORETYPE_VARIABLES)}: "
          f"{protocol.coretype_setting()}; {protocol.machine_load()}")  # fmt: skip
    print(f"Cores: {protocol.cores_in_step()}")
    print("LeNet preset on UCI digits (16×16), adam 0.002 cosine, 20 epochs, batch 32, augment")
    print(f"{'seed':>4} {'test acc':>9} {'train s':>8} {'process s':>10} {'peak MB':>8}")
    results = [run_once(seed) for seed in seeds]
    for seed, r in zip(seeds, results, strict=True):
        print(f"{seed:>4} {r['test_accuracy']:9.4f} {r['seconds']:8.2f} {r['wall']:10.2f} "
              f"{r['peak_memory_mb']:8.1f}")  # fmt: skip
    median_acc = statistics.median(r["test_accuracy"] for r in results)
    worst_s = max(r["seconds"] for r in results)
    worst_mb = max(r["peak_memory_mb"] for r in results)
    print(f"NumPy float32 matmul on this machine: {matmul_gflops:.0f} GFLOP/s (reference)")
    verdicts = [
        f"median accuracy ≥ 0.975: {'PASS' if median_acc >= 0.975 else 'MISS'} "
        f"({median_acc:.4f} over {len(results)} seed(s))",
        f"training ≤ 3 s: {'PASS' if worst_s <= 3 else 'MISS'} (slowest {worst_s:.2f} s)",
        f"memory < 500 MB: {'PASS' if worst_mb < 500 else 'MISS'} (worst {worst_mb:.0f} MB)",
    ]
    print("; ".join(verdicts))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
