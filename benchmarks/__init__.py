"""Benchmarks with references measured in the same run (SciPy is a bench/test extra).

python -m benchmarks.bench_conv [--quick]    engine.conv against SciPy and a float32 matmul
python -m benchmarks.bench_server [--quick]  the Filters lab over HTTP, then a classroom
python -m benchmarks.classroom [--students]  60 students at once on three labs vs one alone
python -m benchmarks.bench_pool [--quick]    pooling vs a naive loop; the Pooling lab over HTTP
python -m benchmarks.bench_layers [--quick]  a LeNet training step in GFLOP/s (and vs PyTorch)
python -m benchmarks.bench_train [--quick]   LeNet on the digits from the command line
python -m benchmarks.bench_training_lab      the Training lab over HTTP: first point, page latency
python -m benchmarks.class_training [--redis] 60 students press Train at once vs one alone
python -m benchmarks.bench_signals [--quick] long 1-D convolution by FFT; 3-D kernels on video
python -m benchmarks.bench_optimizers        the optimizer race and the Optimizer lab over HTTP
python -m benchmarks.bench_text [--quick]    tokenizing and padding; the text CNN on the reviews
python -m benchmarks.bench_interpret [--quick] saliency, Grad-CAM, occlusion on LeNet vs one forward
python -m benchmarks.bench_camera [--quick]  a live camera frame vs the Filters page, per core
"""

from __future__ import annotations


def run_all(quick: bool = False) -> int:
    """Every benchmark, one after the other: what `cnn-playground bench` runs.

    Returns the worst exit status (0 when all ran).
    """
    from benchmarks import (
        bench_camera,
        bench_conv,
        bench_interpret,
        bench_layers,
        bench_optimizers,
        bench_pool,
        bench_server,
        bench_signals,
        bench_text,
        bench_train,
        bench_training_lab,
        class_training,
    )

    argv = ["--quick"] if quick else []
    status = 0
    benches = (
        bench_conv, bench_server, bench_pool, bench_layers, bench_train, bench_training_lab,
        class_training, bench_signals, bench_optimizers, bench_text, bench_interpret, bench_camera,
    )  # fmt: skip
    for bench in benches:
        status = max(status, bench.main(argv))
        print()
    return status
