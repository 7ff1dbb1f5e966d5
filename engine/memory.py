"""Keeping freed memory for the next training step.

Every step of a training loop allocates the same large arrays again (each layer's output and
gradients), and frees last step's. glibc's malloc hands blocks above its mmap threshold (128 KB
at first) back to the kernel when they are freed, so each step faults fresh, zeroed pages in
again: for a LeNet layer that is as long as its matrix product, and PyTorch pays the same (its
CPU tensors come from the same malloc). Raising the thresholds keeps freed blocks for reuse, as
a caching allocator would. The process's peak memory does not grow: what is kept was in use.

The training processes and `cnn-playground train` call keep_freed_memory() when they start;
benchmarks call it for the engine's side and give the PyTorch side the same setting through
malloc_environment(). Nothing calls it on import.
"""

from __future__ import annotations

import ctypes
import sys

MMAP_THRESHOLD = 32 * 1024 * 1024  # bytes: glibc's largest on 64-bit machines
TRIM_THRESHOLD = 256 * 1024 * 1024  # free memory kept at the top of the heap
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # from glibc's <malloc.h>


def keep_freed_memory() -> bool:
    """Ask malloc to keep freed blocks for reuse; whether it agreed (glibc on Linux only)."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD)
    )


def malloc_environment() -> dict[str, str]:
    """The same setting for a process about to start (glibc reads these when it starts)."""
    return {
        "MALLOC_MMAP_THRESHOLD_": str(MMAP_THRESHOLD),
        "MALLOC_TRIM_THRESHOLD_": str(TRIM_THRESHOLD),
    }
