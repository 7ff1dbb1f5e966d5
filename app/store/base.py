"""The store interface: a few Redis-shaped operations that SQLite does as well.

- Values: bytes under a key, with an optional expiry in seconds.
- Counters: `incr`.
- Sorted sets: members (strings) ordered by a score; the run queue, the runs by age, the
  training slots by their last heartbeat.
- Blobs: large bytes (decoded uploads), bounded in total by a byte budget, the least recently
  used dropped first, and each kept `ttl` seconds after its last use.

Both implementations pass one contract suite (tests/app/test_store_contract.py). Values are bytes:
what they mean (pickles of the app's own records) is the caller's business.
"""

from __future__ import annotations

from abc import ABC, abstractmethod

INF = float("inf")


class Store(ABC):
    blob_budget: int

    # --- values ------------------------------------------------------------------------------
    @abstractmethod
    def get(self, key: str) -> bytes | None: ...

    @abstractmethod
    def set(self, key: str, value: bytes, ttl: float | None = None) -> None: ...

    @abstractmethod
    def delete(self, *keys: str) -> None: ...

    @abstractmethod
    def incr(self, key: str) -> int:
        """Add one to the counter and return it (1 the first time)."""

    # --- sorted sets -------------------------------------------------------------------------
    @abstractmethod
    def zadd(self, name: str, member: str, score: float) -> None: ...

    @abstractmethod
    def zrem(self, name: str, *members: str) -> None: ...

    @abstractmethod
    def zrank(self, name: str, member: str) -> int | None:
        """The member's 0-based place by ascending score, or None if absent."""

    @abstractmethod
    def zrange(
        self,
        name: str,
        low: float = -INF,
        high: float = INF,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[tuple[str, float]]:
        """(member, score) with low <= score <= high, by ascending score (or descending)."""

    @abstractmethod
    def zcard(self, name: str) -> int: ...

    # --- blobs -------------------------------------------------------------------------------
    @abstractmethod
    def put_blob(self, key: str, data: bytes, ttl: float) -> None:
        """Keep `data` for `ttl` seconds after its last use, within the blob budget (a blob
        larger than the whole budget is not kept)."""

    @abstractmethod
    def get_blob(self, key: str) -> bytes | None:
        """The blob, which counts as a use: it moves to the back of the eviction line."""

    @abstractmethod
    def blob_bytes(self) -> int:
        """The bytes of the blobs kept now."""

    def close(self) -> None:  # noqa: B027 - optional
        """Release connections."""
