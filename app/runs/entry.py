"""The first code a worker process runs. It sets the process's thread counts, the one place that
does, before NumPy is imported, then runs the lab's worker.

A run gets one BLAS thread: with one run per core, more threads only fight each other and the web
server. It also yields the CPU to page requests (nice 10).
"""

from __future__ import annotations

import contextlib
import importlib
import os

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def resolve(target):
    """A worker given as "package.module:function" (imported here, in the worker process)."""
    if callable(target):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def run_worker(target, config: dict, queue, stop_event, pause_event, max_seconds: float) -> None:
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"
    with contextlib.suppress(AttributeError, OSError):
        os.nice(10)
    try:
        worker = resolve(target)
    except Exception as error:  # report, never die silently: the page must say what happened
        queue.put(("error", f"{type(error).__name__}: {error}"))
        return
    worker(config, queue, stop_event, pause_event, max_seconds)
