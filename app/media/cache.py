"""A bounded, thread-safe cache: uploads and computed results, counted in bytes."""

from __future__ import annotations

import threading
from collections import OrderedDict


class LRUBytesCache:
    """A thread-safe LRU map bounded by the total size of its values, in bytes."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, tuple[object, int]] = OrderedDict()
        self._total = 0
        self._lock = threading.Lock()

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

    def get_or_compute(self, key: str, compute, nbytes=None):
        """The cached value, or `compute()` kept under `key` (`nbytes(value)` or value.nbytes)."""
        value = self.get(key)
        if value is None:
            value = compute()
            self.put(key, value, nbytes(value) if nbytes else value.nbytes)
        return value

    @property
    def total_bytes(self) -> int:
        return self._total

    def __len__(self) -> int:
        return len(self._items)
