"""The store in Redis, for many web processes and hosts: the `redis` client, every key under
one prefix. Blobs carry a Redis expiry, renewed on use, and a sorted set of last uses by which
the least recently used go first when the blob budget is reached."""

from __future__ import annotations

import time

import redis

from app.store.base import INF, Store

PREFIX = "cnnp:"


class RedisStore(Store):
    def __init__(self, url: str, blob_budget: int, prefix: str = PREFIX) -> None:
        self.redis = redis.Redis.from_url(url)
        self.blob_budget = blob_budget
        self.prefix = prefix
        self._used = prefix + "blobs:used"  # key -> last use
        self._sizes = prefix + "blobs:size"  # key -> bytes
        self.redis.ping()  # fail at start, with the client's own message, not at first use

    def _k(self, key: str) -> str:
        return self.prefix + key

    # --- values ------------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        return self.redis.get(self._k(key))

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        px = max(1, int(ttl * 1000)) if ttl is not None else None
        self.redis.set(self._k(key), value, px=px)

    def delete(self, *keys: str) -> None:
        if keys:
            self.redis.delete(*(self._k(k) for k in keys))

    def incr(self, key: str) -> int:
        return int(self.redis.incr(self._k(key)))

    # --- sorted sets -------------------------------------------------------------------------
    def zadd(self, name: str, member: str, score: float) -> None:
        self.redis.zadd(self._k(name), {member: float(score)})

    def zrem(self, name: str, *members: str) -> None:
        if members:
            self.redis.zrem(self._k(name), *members)

    def zrank(self, name: str, member: str) -> int | None:
        rank = self.redis.zrank(self._k(name), member)
        return None if rank is None else int(rank)

    def zrange(
        self,
        name: str,
        low: float = -INF,
        high: float = INF,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[tuple[str, float]]:
        key = self._k(name)
        paging = {"start": 0, "num": limit} if limit is not None else {}
        if newest_first:
            rows = self.redis.zrevrangebyscore(key, high, low, withscores=True, **paging)
        else:
            rows = self.redis.zrangebyscore(key, low, high, withscores=True, **paging)
        return [(member.decode(), float(score)) for member, score in rows]

    def zcard(self, name: str) -> int:
        return int(self.redis.zcard(self._k(name)))

    # --- blobs -------------------------------------------------------------------------------
    def put_blob(self, key: str, data: bytes, ttl: float) -> None:
        if len(data) > self.blob_budget:
            return
        now = time.time()
        with self.redis.pipeline() as pipe:
            pipe.set(self._k("blob:" + key), data, px=max(1, int(ttl * 1000)))
            pipe.set(self._k("blob-ttl:" + key), str(ttl), px=max(1, int(ttl * 1000)))
            pipe.zadd(self._used, {key: now})
            pipe.hset(self._sizes, key, len(data))
            pipe.execute()
        self._shrink()

    def _shrink(self) -> None:
        """Forget blobs Redis has expired, then drop the least recently used past the budget."""
        sizes = {k.decode(): int(v) for k, v in self.redis.hgetall(self._sizes).items()}
        total = sum(sizes.values())
        if total <= self.blob_budget:
            return
        # Redis expires a blob but not its size here: the expired count for nothing.
        with self.redis.pipeline(transaction=False) as pipe:
            for key in sizes:
                pipe.exists(self._k("blob:" + key))
            alive = dict(zip(list(sizes), pipe.execute(), strict=True))
        for key, exists in alive.items():
            if not exists:
                self._forget(key)
                total -= sizes.pop(key)
        for member, _ in self.redis.zrange(self._used, 0, -1, withscores=True):
            if total <= self.blob_budget:
                break
            key = member.decode()
            self._forget(key)
            total -= sizes.get(key, 0)

    def _forget(self, key: str) -> None:
        with self.redis.pipeline() as pipe:
            pipe.delete(self._k("blob:" + key), self._k("blob-ttl:" + key))
            pipe.zrem(self._used, key)
            pipe.hdel(self._sizes, key)
            pipe.execute()

    def get_blob(self, key: str) -> bytes | None:
        with self.redis.pipeline() as pipe:
            pipe.get(self._k("blob:" + key))
            pipe.get(self._k("blob-ttl:" + key))
            data, ttl = pipe.execute()
        if data is None:
            if self.redis.hexists(self._sizes, key):
                self._forget(key)  # expired by Redis: its bookkeeping goes too
            return None
        px = max(1, int(float(ttl or 1) * 1000))
        with self.redis.pipeline() as pipe:
            pipe.pexpire(self._k("blob:" + key), px)
            pipe.pexpire(self._k("blob-ttl:" + key), px)
            pipe.zadd(self._used, {key: time.time()})
            pipe.execute()
        return data

    def blob_bytes(self) -> int:
        sizes = {k.decode(): int(v) for k, v in self.redis.hgetall(self._sizes).items()}
        return sum(size for key, size in sizes.items() if self.redis.exists(self._k("blob:" + key)))

    def close(self) -> None:
        self.redis.close()
