"""A bounded, thread-safe cache: uploads and computed results, counted in bytes.

Two things keep a class of students from running the server out of memory:

- Single flight: when twenty students open the same cold experiment at once, one request computes
  it and the other nineteen wait for that result instead of each computing a copy.
- A work limit shared by the caches: at most `HeavyWork.limit` computations (or decodes) run at
  once, however many threads the server has. More would only share the same cores while each
  holds its own large arrays.
"""

from __future__ import annotations

import contextlib
import threading
from collections import OrderedDict


class HeavyWork:
    """A bounded semaphore, used as `with heavy:` around work that allocates a lot. Re-entrant
    per thread: a computation that needs another cached result (Pooling on a Filters map) does
    not wait for a second slot, which could deadlock a full server."""

    def __init__(self, limit: int) -> None:
        self.limit = max(1, limit)
        self._slots = threading.BoundedSemaphore(self.limit)
        self._lock = threading.Lock()
        self._held = threading.local()
        self.running = 0
        self.peak = 0  # the most that ever ran at once: what a test can check

    def __enter__(self) -> HeavyWork:
        depth = getattr(self._held, "depth", 0)
        if depth == 0:
            self._slots.acquire()
            with self._lock:
                self.running += 1
                self.peak = max(self.peak, self.running)
        self._held.depth = depth + 1
        return self

    def __exit__(self, *exc) -> None:
        self._held.depth -= 1
        if self._held.depth == 0:
            with self._lock:
                self.running -= 1
            self._slots.release()


class _Flight:
    """One computation in progress: the others asking for its key wait on `done`."""

    def __init__(self) -> None:
        self.done = threading.Event()
        self.value = None
        self.error: BaseException | None = None


class LRUBytesCache:
    """A thread-safe LRU map bounded by the total size of its values, in bytes."""

    def __init__(self, max_bytes: int, heavy: HeavyWork | None = None) -> None:
        self.max_bytes = max_bytes
        self.heavy = heavy or HeavyWork(1 << 16)  # a cache on its own: no work limit to speak of
        self._items: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()
        self._flights: dict[str, _Flight] = {}
        self.computed = 0  # computations run by get_or_compute (single flight makes it count)

    def get(self, key: str):
        with self._lock:
            item = self._items.get(key)
            if item is None:
                return None
            self._items.move_to_end(key)
            return item[0]

    def put(self, key: str, value: object, nbytes: int) -> None:
        if nbytes > self.max_bytes:
            return  # would evict everything else and still not fit
        with self._lock:
            if key in self._items:
                self._total -= self._items.pop(key)[1]
            self._items[key] = (value, nbytes)
            self._total += nbytes
            while self._total > self.max_bytes:
                _, (_, dropped) = self._items.popitem(last=False)
                self._total -= dropped

    def get_or_compute(self, key: str, compute, nbytes=None, heavy: bool = True):
        """The cached value, or `compute()` kept under `key` (`nbytes(value)` or value.nbytes).

        Computed once however many threads ask at the same time: the first computes (within the
        work limit, unless `heavy` is False: light work that must not queue behind it), the
        others wait and get its value, or its exception."""
        with self._lock:
            item = self._items.get(key)
            if item is not None:
                self._items.move_to_end(key)
                return item[0]
            flight = self._flights.get(key)
            leader = flight is None
            if leader:
                flight = self._flights[key] = _Flight()
        if not leader:
            flight.done.wait()
            if flight.error is not None:
                raise flight.error
            return flight.value
        try:
            with self.heavy if heavy else contextlib.nullcontext():
                value = compute()
            self.put(key, value, nbytes(value) if nbytes else value.nbytes)
            flight.value = value
            self.computed += 1
            return value
        except BaseException as error:  # the waiters get the same answer: a message, or a bug
            flight.error = error
            raise
        finally:
            with self._lock:
                del self._flights[key]
            flight.done.set()

    @property
    def total_bytes(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._items)


def cached_bytes(cache: LRUBytesCache, key: str, make) -> bytes:
    """An encoded picture (or any bytes) made once per key: a class following the teacher asks
    for the same PNGs, and encoding is most of a warm picture request's time. Encoding is light:
    it does not wait for a work slot (the results it encodes take their own)."""
    return cache.get_or_compute(key, make, nbytes=lambda data: len(data) + len(key), heavy=False)


def model_nbytes(model) -> int:
    """What a cached engine model holds: its parameters and their gradient buffers, as allocated
    (float64 counts 8 bytes, not the 4 a parameter count would suggest)."""
    arrays = [*model.parameters(), *model.gradients()]
    return sum(array.nbytes for array in arrays) + 4096
