"""Pooling against a naive loop and the reshape ideal, and the Pooling lab's server time.

    python -m benchmarks.bench_pool [--quick]

1. max_pool2d and avg_pool2d on N=64, 16 channels, 28×28, 2×2 (stride 2): ours vs a naive loop over
   output cells (in NumPy, one window at a time) and vs the reshape ideal for non-overlapping
   windows (x.reshape(N, C, 14, 2, 14, 2).max(axis=(3, 5))), which is as fast as NumPy gets.
2. The Pooling lab's translation experiment on a 256×256 picture (17 shifts through two
   conv → ReLU → pool stages, plus the page), median and p95 over HTTP; target median < 200 ms.
"""

from __future__ import annotations

import argparse
import itertools
import statistics

import numpy as np

from benchmarks.bench_conv import _median_seconds
from engine.pool import avg_pool2d, max_pool2d

TARGET_MS = 200.0


def naive_pool(x: np.ndarray, k: int, reduce) -> np.ndarray:
    n, c, h, w = x.shape
    out = np.empty((n, c, h // k, w // k), dtype=x.dtype)
    for i, j in itertools.product(range(h // k), range(w // k)):
        out[:, :, i, j] = reduce(x[:, :, i * k : i * k + k, j * k : j * k + k], axis=(2, 3))
    return out


def bench_pooling(repeats: int) -> list[str]:
    x = np.random.default_rng(0).standard_normal((64, 16, 28, 28)).astype(np.float32)
    header = (
        f"{'op':<12} {'ours ms':>8} {'naive ms':>9} {'reshape ms':>11} "
        f"{'naive/ours':>11} {'ours/ideal':>11}"
    )
    lines = [header, "-" * len(header)]
    for name, ours, reduce in (
        ("max_pool2d", max_pool2d, np.max),
        ("avg_pool2d", avg_pool2d, np.mean),
    ):
        t_ours = _median_seconds(lambda ours=ours: ours(x, 2), repeats)
        t_naive = _median_seconds(
            lambda reduce=reduce: naive_pool(x, 2, reduce), max(1, repeats // 3)
        )
        t_ideal = _median_seconds(
            lambda reduce=reduce: reduce(x.reshape(64, 16, 14, 2, 14, 2), axis=(3, 5)), repeats
        )
        np.testing.assert_allclose(ours(x, 2), naive_pool(x, 2, reduce), rtol=1e-6)
        lines.append(
            f"{name:<12} {t_ours * 1e3:8.2f} {t_naive * 1e3:9.2f} {t_ideal * 1e3:11.2f} "
            f"{t_naive / t_ours:10.1f}× {t_ours / t_ideal:10.2f}×"
        )
    return lines


def bench_experiment(count: int) -> list[str]:
    import httpx

    from benchmarks.bench_server import _p95, _start_server, _times_ms

    server, base = _start_server()
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            client.get("/pooling?sample=camera")  # warm up: decode, thread pools
            floor = _times_ms(client, ["/healthz"] * count)
            # A new direction each time, so the 17-shift curve is recomputed for every request.
            urls = [
                f"/pooling?sample=camera&dx={1 + i % 16}&dy={i // 16 + 1}" for i in range(count)
            ]
            pages = _times_ms(client, urls)
    finally:
        server.should_exit = True
    median = statistics.median(pages)
    verdict = "PASS" if median < TARGET_MS else "MISS"
    return [
        "Pooling lab, translation experiment on 256×256 (17 shifts, 2 stages), cold cache:",
        f"  /healthz median {statistics.median(floor):.1f} ms (HTTP floor, reference)",
        f"  page median {median:.1f} ms, p95 {_p95(pages):.1f} ms, "
        f"{median / statistics.median(floor):.0f}× the floor; "
        f"target < {TARGET_MS:.0f} ms: {verdict}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 15
    print("Pooling, N=64, 16 channels, 28×28, 2×2 stride 2, float32")
    print("\n".join(bench_pooling(repeats)))
    print()
    print("\n".join(bench_experiment(8 if args.quick else 40)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
