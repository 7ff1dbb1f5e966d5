"""One timing protocol for both sides of every comparison: the engine's side imports it, and the
PyTorch side (a separate environment's Python) loads this same file by path, so the warm-up,
the repeats and the statistics are the same code. Standard library only, plus threadpoolctl when
it is installed, to name the BLAS kernel in use.
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import time

# These machines set them for older OpenBLAS builds; they slow NumPy's float32 GEMM here.
CORETYPE_VARIABLES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
UNSET_FLAG = "--coretype-unset"  # marks the child run that has them unset


def best_and_median(fn, repeats: int, warmup: int = 3) -> tuple[float, float]:
    """Seconds: the minimum and the median of `repeats` calls, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times), statistics.median(times)


def blas_kernels() -> list[dict]:
    """What threadpoolctl sees: each BLAS/OpenMP library with its kernel and thread count."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return []
    return [
        {
            "api": info.get("internal_api", "?"),
            "version": info.get("version") or "",
            "kernel": info.get("architecture") or "",
            "threads": info.get("num_threads"),
        }
        for info in threadpool_info()
    ]


def describe_blas(kernels: list[dict] | None = None) -> str:
    kernels = blas_kernels() if kernels is None else kernels
    if not kernels:
        return "unknown (pip install threadpoolctl to see it)"
    return ", ".join(
        f"{k['api']} {k['version']} {k['kernel']} ({k['threads']} threads)".replace("  ", " ")
        for k in kernels
    )


def blas_threads(kernels: list[dict] | None = None) -> int:
    """The BLAS thread count in use (what the PyTorch side is told to use as well)."""
    kernels = blas_kernels() if kernels is None else kernels
    counts = [k["threads"] for k in kernels if k["api"] in ("openblas", "mkl", "blis")]
    return int(counts[0]) if counts and counts[0] else (os.cpu_count() or 1)


def machine_load() -> str:
    """The 1-minute load average against the cores: timings on a busy machine are not the
    machine's, and PyTorch's OpenMP threads, which spin while they wait, suffer most."""
    try:
        load = os.getloadavg()[0]
    except OSError:
        return "load unknown"
    cores = os.cpu_count() or 1
    note = (
        ""
        if load < 1.0  # the benchmark itself counts for up to one
        else " — BUSY: other work shares the cores, the figures are not the machine's"
    )
    return f"load average {load:.2f} on {cores} cores{note}"


def cores_in_step() -> str:
    """Whether a plain copy right after a two-thread matrix product runs at its own speed.

    Some hours these virtual machines' two cores pass cache lines slowly between them: the
    copy that follows a product then takes up to 10× as long, every engine layer with it,
    while PyTorch, whose copies run inside its own threads, barely changes. Say so, rather
    than print such figures as the machine's."""
    import numpy as np

    src = np.ones((144, 12544), np.float32)
    dst, w = np.empty_like(src), np.ones((32, 144), np.float32)

    def copy_alone() -> None:
        dst[...] = src

    def copy_after_product() -> None:
        w @ dst
        start = time.perf_counter()
        dst[...] = src
        copy_after_product.seconds = min(copy_after_product.seconds, time.perf_counter() - start)

    copy_after_product.seconds = float("inf")
    alone = best_and_median(copy_alone, 10)[0]
    best_and_median(copy_after_product, 10)
    ratio = copy_after_product.seconds / alone
    slow = " — SLOW: the cores pass data slowly now; the engine's figures suffer"
    note = "" if ratio < 3 else slow
    return f"a copy after a matrix product takes {ratio:.1f}× its own time{note}"


def same_allocator() -> str:
    """Keep freed memory for reuse in this process, as the training processes do, and say so.
    The PyTorch side gets the same setting through torch_environment(): with malloc's defaults
    a fresh 3 MB output faults its pages in on every call, which made PyTorch's LeNet-sized
    forward 7× slower than its own warm time and flattered the engine."""
    from engine.memory import MMAP_THRESHOLD, TRIM_THRESHOLD, keep_freed_memory

    kept = keep_freed_memory()
    setting = f"malloc keeps freed blocks (mmap threshold {MMAP_THRESHOLD >> 20} MB, trim "
    setting += f"{TRIM_THRESHOLD >> 20} MB), on both sides"
    return setting if kept else "malloc left at its defaults (not glibc), on both sides"


def torch_environment() -> dict[str, str]:
    """The environment for the PyTorch side: this one, with the allocator set as ours."""
    from engine.memory import keep_freed_memory, malloc_environment

    return dict(os.environ, **(malloc_environment() if keep_freed_memory() else {}))


def coretype_setting() -> str:
    shown = [f"{name}={os.environ[name]}" for name in CORETYPE_VARIABLES if name in os.environ]
    return ", ".join(shown) if shown else "not set"


def rerun_with_coretype_unset(module: str, argv: list[str]) -> int | None:
    """Run `python -m module argv` again with the coretype variables unset for that command
    alone, streaming its output; None when they are not set (the run above is already that)."""
    if not any(name in os.environ for name in CORETYPE_VARIABLES) or UNSET_FLAG in argv:
        return None
    env = {k: v for k, v in os.environ.items() if k not in CORETYPE_VARIABLES}
    print(f"\n--- the same, with {' and '.join(CORETYPE_VARIABLES)} unset for this command ---")
    sys.stdout.flush()
    done = subprocess.run([sys.executable, "-m", module, *argv, UNSET_FLAG], env=env, check=False)
    return done.returncode
