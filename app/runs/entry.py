"""The first code a worker process runs. It sets the process's thread counts, the one place that
does, before NumPy is imported, then runs the lab's worker.

A run gets one BLAS thread: with one run per core, more threads only fight each other and the web
server. It also yields the CPU to page requests (nice 10).

A worker whose server has gone (SIGKILL, the OOM killer) exits by itself within PARENT_CHECK
seconds: nobody reads its queue any more, and its next write to the pipe could block forever.
"""

from __future__ import annotations

import contextlib
import importlib
import multiprocessing
import os
import threading
import time

from app.runs.reporter import error_payload
from engine.memory import keep_freed_memory  # ctypes only: NumPy is not loaded yet

THREAD_VARIABLES = ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS")


def one_thread_per_run() -> None:
    """The one place that sets a training process's thread count: one BLAS/OpenMP thread, as
    every slot trains one run at once and more threads per run only fight each other. Called by
    the process that starts training processes (they inherit it before NumPy loads) and by each
    training process itself. Never on import: importing the app changes nothing."""
    for name in THREAD_VARIABLES:
        os.environ[name] = "1"


PARENT_CHECK = 1.0  # seconds between looks at whether the server is still there


def exit_with_parent(parent_pid: int, check: float = PARENT_CHECK) -> threading.Thread:
    """A watchdog thread: once this process's parent is no longer `parent_pid` (the orphan was
    adopted by init or a subreaper), end the process at once. os._exit skips the queue's
    feeder-thread join, which would block on a pipe nobody reads."""

    def watch() -> None:
        while os.getppid() == parent_pid:
            time.sleep(check)
        os._exit(3)

    thread = threading.Thread(target=watch, daemon=True, name="exit-with-parent")
    thread.start()
    return thread


def resolve(target):
    """A worker given as "package.module:function" (imported here, in the worker process)."""
    if callable(target):
        return target
    module, _, name = target.partition(":")
    return getattr(importlib.import_module(module), name)


def run_worker(target, config: dict, queue, stop_event, pause_event, max_seconds: float) -> None:
    # The pid multiprocessing recorded at spawn: right even if the server died before this line.
    parent = multiprocessing.parent_process()
    exit_with_parent(parent.pid if parent is not None else os.getppid())
    one_thread_per_run()
    keep_freed_memory()  # each step allocates what the last one freed (engine.memory)
    with contextlib.suppress(AttributeError, OSError):
        os.nice(10)
    try:
        worker = resolve(target)
        worker(config, queue, stop_event, pause_event, max_seconds)
    except Exception as error:  # report, never die silently: the page must say what happened
        queue.put(("error", error_payload(error)))
