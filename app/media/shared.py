"""Decoded media shared by every web process: a process's own LRU in front of the store.

What one web process received (a picture, a sound, a GIF, decoded once), every other finds: the
decoded value is kept in the store's blobs under its content id, within the store's budget and
the uploads' expiry, and each process keeps the ones it uses in its own bounded LRU, so a class
following the teacher reads the store once per process, not once per request.
"""

from __future__ import annotations

import pickle

from app.media.cache import LRUBytesCache


class SharedMedia:
    """The LRUBytesCache calls the labs use (get, put, get_or_compute, heavy), backed by the
    store. Values are the labs' own upload records, pickled (app.store explains why a pickle)."""

    def __init__(self, local: LRUBytesCache, store, ttl: float) -> None:
        self.local = local
        self.store = store
        self.ttl = ttl

    @property
    def heavy(self):
        return self.local.heavy

    @staticmethod
    def _key(key: str) -> str:
        return "media:" + key

    def _fetch(self, key: str):
        data = self.store.get_blob(self._key(key))
        return pickle.loads(data) if data is not None else None

    def get(self, key: str):
        value = self.local.get(key)
        if value is not None:
            return value
        value = self._fetch(key)
        if value is not None:
            self.local.put(key, value, value.nbytes)
        return value

    def put(self, key: str, value, nbytes: int) -> None:
        self.local.put(key, value, nbytes)
        self.store.put_blob(self._key(key), pickle.dumps(value, protocol=5), self.ttl)

    def get_or_compute(self, key: str, compute, nbytes=None, heavy: bool = True):
        def fetch_or_compute():
            value = self._fetch(key)
            if value is None:
                value = compute()
                self.store.put_blob(self._key(key), pickle.dumps(value, protocol=5), self.ttl)
            return value

        return self.local.get_or_compute(key, fetch_or_compute, nbytes, heavy)

    @property
    def total_bytes(self) -> int:
        return self.local.total_bytes

    def __len__(self) -> int:
        return len(self.local)
