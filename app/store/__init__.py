"""Where the app keeps what outlives a request: uploads, runs and their progress.

One interface (app.store.base.Store), two homes: the embedded store (SQLite from the standard
library, with large blobs as content-addressed files in the data folder) that `make run` uses, and
Redis (`CNN_REDIS_URL`), which many web processes and hosts share. `open_store(settings)` picks.
"""

from __future__ import annotations

from app.store.base import Store


def open_store(settings) -> Store:
    if settings.redis_url:
        from app.store.redis_store import RedisStore

        return RedisStore(settings.redis_url, blob_budget=settings.store_blob_bytes)
    from app.store.sqlite_store import SQLiteStore

    return SQLiteStore(settings.data_dir, blob_budget=settings.store_blob_bytes)


__all__ = ["Store", "open_store"]
