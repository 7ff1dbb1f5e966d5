"""The embedded store: one SQLite file in the data folder (standard library, WAL mode, so the
web processes and the training consumers of one machine share it), and blobs as files named by
their SHA-256 in `blobs/`, written whole and then renamed, so a reader never sees half of one."""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import threading
import time
from pathlib import Path

from app.store.base import INF, Store

SCHEMA = """
create table if not exists kv (key text primary key, value blob not null, expires real);
create table if not exists zset (name text not null, member text not null, score real not null,
                                 primary key (name, member));
create index if not exists zset_by_score on zset (name, score);
create table if not exists blob (key text primary key, digest text not null,
                                 size integer not null, ttl real not null, expires real not null);
create index if not exists blob_by_expiry on blob (expires);
"""
PURGE_EVERY = 200  # writes between sweeps of expired values


class SQLiteStore(Store):
    def __init__(self, folder: Path, blob_budget: int) -> None:
        self.folder = Path(folder)
        self.blob_dir = self.folder / "blobs"
        self.blob_dir.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / "store.sqlite3"
        self.blob_budget = blob_budget
        self._local = threading.local()
        self._writes = 0
        self._db().executescript(SCHEMA)

    def _db(self) -> sqlite3.Connection:
        # One connection per thread and process: sqlite3 connections are not shared safely.
        db = getattr(self._local, "db", None)
        if db is None or self._local.pid != os.getpid():
            db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
            db.execute("pragma journal_mode=wal")
            db.execute("pragma synchronous=normal")
            self._local.db, self._local.pid = db, os.getpid()
        return db

    @contextlib.contextmanager
    def _transaction(self):
        db = self._db()
        db.execute("begin immediate")
        try:
            yield db
        except BaseException:
            db.execute("rollback")
            raise
        db.execute("commit")

    # --- values ------------------------------------------------------------------------------
    def get(self, key: str) -> bytes | None:
        row = self._db().execute("select value, expires from kv where key = ?", (key,)).fetchone()
        if row is None or (row[1] is not None and row[1] <= time.time()):
            return None
        return bytes(row[0])

    def set(self, key: str, value: bytes, ttl: float | None = None) -> None:
        expires = time.time() + ttl if ttl is not None else None
        self._db().execute(
            "insert or replace into kv (key, value, expires) values (?, ?, ?)",
            (key, sqlite3.Binary(value), expires),
        )
        self._writes += 1
        if self._writes % PURGE_EVERY == 0:
            self._db().execute("delete from kv where expires <= ?", (time.time(),))

    def delete(self, *keys: str) -> None:
        if keys:
            marks = ",".join("?" * len(keys))
            self._db().execute(f"delete from kv where key in ({marks})", keys)

    def incr(self, key: str) -> int:
        with self._transaction() as db:
            row = db.execute("select value, expires from kv where key = ?", (key,)).fetchone()
            if row is not None and row[1] is not None and row[1] <= time.time():
                row = None  # expired: the counter starts again, as in Redis
            value = int(bytes(row[0])) + 1 if row else 1
            # A live key keeps its expiry, as Redis's INCR keeps it.
            db.execute(
                "insert or replace into kv (key, value, expires) values (?, ?, ?)",
                (key, str(value).encode(), row[1] if row else None),
            )
        return value

    # --- sorted sets -------------------------------------------------------------------------
    def zadd(self, name: str, member: str, score: float) -> None:
        self._db().execute(
            "insert or replace into zset (name, member, score) values (?, ?, ?)",
            (name, member, float(score)),
        )

    def zrem(self, name: str, *members: str) -> None:
        if members:
            marks = ",".join("?" * len(members))
            self._db().execute(
                f"delete from zset where name = ? and member in ({marks})", (name, *members)
            )

    def zrank(self, name: str, member: str) -> int | None:
        db = self._db()
        row = db.execute(
            "select score from zset where name = ? and member = ?", (name, member)
        ).fetchone()
        if row is None:
            return None
        # Ties are ordered by member, as Redis orders them.
        (rank,) = db.execute(
            "select count(*) from zset "
            "where name = ? and (score < ? or (score = ? and member < ?))",
            (name, row[0], row[0], member),
        ).fetchone()
        return rank

    def zrange(
        self,
        name: str,
        low: float = -INF,
        high: float = INF,
        newest_first: bool = False,
        limit: int | None = None,
    ) -> list[tuple[str, float]]:
        order = "desc" if newest_first else "asc"
        rows = (
            self._db()
            .execute(
                f"select member, score from zset where name = ? and score >= ? and score <= ? "
                f"order by score {order}, member {order} limit ?",
                (name, low, high, -1 if limit is None else limit),
            )
            .fetchall()
        )
        return [(member, score) for member, score in rows]

    def zcard(self, name: str) -> int:
        return self._db().execute("select count(*) from zset where name = ?", (name,)).fetchone()[0]

    # --- blobs -------------------------------------------------------------------------------
    def _blob_path(self, digest: str) -> Path:
        return self.blob_dir / digest[:2] / digest

    def put_blob(self, key: str, data: bytes, ttl: float) -> None:
        if len(data) > self.blob_budget:
            return
        digest = hashlib.sha256(data).hexdigest()
        path = self._blob_path(digest)
        if not path.exists():
            path.parent.mkdir(exist_ok=True)
            part = path.with_name(f"{digest}.{os.getpid()}.{threading.get_ident()}.part")
            part.write_bytes(data)
            os.replace(part, path)
        with self._transaction() as db:
            # The bytes this key named before: their file goes too if no other key names them.
            replaced = [d for (d,) in db.execute("select digest from blob where key = ?", (key,))]
            db.execute(
                "insert or replace into blob (key, digest, size, ttl, expires) values (?,?,?,?,?)",
                (key, digest, len(data), ttl, time.time() + ttl),
            )
            dropped = replaced + self._shrink(db)
        self._remove_unused(dropped)

    def _shrink(self, db) -> list[str]:
        """Drop expired blobs, then the least recently used until the rest fits the budget.
        Returns the digests whose rows went (their files go once nothing else names them)."""
        now = time.time()
        gone = [d for (d,) in db.execute("select digest from blob where expires <= ?", (now,))]
        db.execute("delete from blob where expires <= ?", (now,))
        (total,) = db.execute("select coalesce(sum(size), 0) from blob").fetchone()
        if total > self.blob_budget:
            # Expiry is refreshed on use, so expires - ttl is the last use (not expires alone:
            # a blob with a short ttl used just now would go before one with a long ttl).
            for key, digest, size in db.execute(
                "select key, digest, size from blob order by expires - ttl"
            ).fetchall():
                if total <= self.blob_budget:
                    break
                db.execute("delete from blob where key = ?", (key,))
                gone.append(digest)
                total -= size
        return gone

    def _remove_unused(self, digests: list[str]) -> None:
        db = self._db()
        for digest in set(digests):
            if db.execute("select 1 from blob where digest = ?", (digest,)).fetchone() is None:
                with contextlib.suppress(FileNotFoundError):
                    self._blob_path(digest).unlink()

    def get_blob(self, key: str) -> bytes | None:
        db = self._db()
        row = db.execute("select digest, expires, ttl from blob where key = ?", (key,)).fetchone()
        if row is None or row[1] <= time.time():
            return None
        try:
            data = self._blob_path(row[0]).read_bytes()
        except FileNotFoundError:  # removed by another process between the two reads
            return None
        db.execute("update blob set expires = ? where key = ?", (time.time() + row[2], key))
        return data

    def blob_bytes(self) -> int:
        (total,) = (
            self._db()
            .execute("select coalesce(sum(size), 0) from blob where expires > ?", (time.time(),))
            .fetchone()
        )
        return total

    def close(self) -> None:
        db = getattr(self._local, "db", None)
        if db is not None:
            db.close()
            self._local.db = None
