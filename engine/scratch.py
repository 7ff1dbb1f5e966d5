"""Scratch arrays reused from one training step to the next, in the thread that trains.

A convolution's backward pass needs a few large temporaries (the im2col matrix's gradient is
7 MB for a 16→32 3×3 layer at batch 64). Fresh arrays of that size come from the kernel as new,
untouched pages, and faulting them in costs as much as the matrix product that fills them.
Reusing them keeps the pages mapped. A buffer is lent for the length of one call and is never
handed back to the caller.

Only a process's main thread pools, where a training loop runs (engine.fit, a training worker):
a web server's many request threads get fresh arrays, so they never each hold a pool.
"""

from __future__ import annotations

import threading
from collections import OrderedDict

import numpy as np

POOL_BYTES = 64 * 1024 * 1024  # least recently used buffers go first past this

_LOCAL = threading.local()


def scratch(name: str, shape: tuple[int, ...], dtype) -> np.ndarray:
    """An uninitialised array of `shape` and `dtype` for temporary use under `name`: the same
    memory as the last call with these arguments, when it is still pooled (main thread only)."""
    if threading.current_thread() is not threading.main_thread():
        return np.empty(shape, dtype=dtype)
    pool: OrderedDict | None = getattr(_LOCAL, "pool", None)
    if pool is None:
        pool = _LOCAL.pool = OrderedDict()
        _LOCAL.nbytes = 0  # of every pooled buffer, kept as they come and go
    key = (name, tuple(shape), np.dtype(dtype).str)
    buffer = pool.pop(key, None)
    if buffer is None:
        buffer = np.empty(shape, dtype=dtype)
        _LOCAL.nbytes += buffer.nbytes
    pool[key] = buffer  # most recently used last
    while _LOCAL.nbytes > POOL_BYTES and len(pool) > 1:
        _, dropped = pool.popitem(last=False)
        _LOCAL.nbytes -= dropped.nbytes
    return buffer
