"""The run queue: Huey, an existing task queue, with the same storage choice as the store.

- Embedded (the default): Huey's SQLite storage in the data folder; consumers are processes on
  the same machine.
- CNN_REDIS_URL: Huey's Redis storage; consumers run on any host that reaches that Redis.

One task, `train_run(run_id, target, max_seconds)`, registered by every process that builds a
RunQueue: the web processes enqueue it, `cnn-playground worker` consumes it. Its work is
app.runs.supervisor.supervise; its progress goes through the store, not through Huey's results.
"""

from __future__ import annotations

from huey import RedisHuey, SqliteHuey

from app.runs.supervisor import supervise

QUEUE_NAME = "cnn-playground-runs"


class RunQueue:
    def __init__(self, settings, store) -> None:
        self.store = store
        if settings.redis_url:
            # blocking: an idle consumer waits on the list (BRPOP) instead of polling it
            self.huey = RedisHuey(QUEUE_NAME, url=settings.redis_url, results=False,
                                  blocking=True, read_timeout=1)  # fmt: skip
        else:
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            self.huey = SqliteHuey(QUEUE_NAME, filename=str(settings.data_dir / "queue.sqlite3"),
                                   results=False)  # fmt: skip

        def train_run(run_id: str, target, max_seconds: float) -> None:
            supervise(self.store, run_id, target, max_seconds)

        self.train_run = self.huey.task(name="train_run")(train_run)

    def enqueue(self, run_id: str, target, max_seconds: float) -> None:
        self.train_run(run_id, target, max_seconds)

    def consumer(self, slots: int):
        """A Huey consumer with `slots` worker threads, each supervising one training process at
        a time. Idle threads look at the SQLite queue at least four times a second (Redis
        answers a waiting consumer at once)."""
        return self.huey.create_consumer(
            workers=slots, worker_type="thread", periodic=False,
            initial_delay=0.05, backoff=1.3, max_delay=0.25, check_worker_health=True,
        )  # fmt: skip
