"""Benchmarks with references measured in the same run (SciPy is a bench/test extra).

python -m benchmarks.bench_conv [--quick]    engine.conv against SciPy and a float32 matmul
python -m benchmarks.bench_server [--quick]  the Filters lab over HTTP
python -m benchmarks.bench_pool [--quick]    pooling vs a naive loop; the Pooling lab over HTTP
"""

from __future__ import annotations


def run_all(quick: bool = False) -> int:
    """Every benchmark, one after the other: what `cnn-playground bench` runs.

    Returns the worst exit status (0 when all ran).
    """
    from benchmarks import bench_conv, bench_pool, bench_server

    argv = ["--quick"] if quick else []
    status = 0
    for bench in (bench_conv, bench_server, bench_pool):
        status = max(status, bench.main(argv))
        print()
    return status
