"""Training runs as the web processes see them: queued through Huey, trained by a consumer,
read back from the store.

- `start` writes a queued record and enqueues it: nobody is turned away while the queue has
  room (`max_queued_runs`); past that, the message says when to come back (503).
- `get` reads the record and adds what the page needs: its queue position and expected start,
  the student's name for it, a pause or resume just pressed. A run whose consumer has gone
  silent for DEAD_AFTER seconds is marked failed, with the reason.
- Pause, resume and stop write the run's control key, which its consumer obeys, on any host.
- A finished run is kept `ttl` seconds, and at most `max_runs` finished runs in all (the oldest
  go first).
- Each run remembers its owner (app.runs.owner): only that browser may pause, resume, stop or
  rename it, and its own runs are listed first.
"""

from __future__ import annotations

import heapq
import math
import secrets
import statistics
import time

from app.runs import record
from app.runs.local import LocalWorkers
from app.runs.queue import RunQueue
from app.runs.record import NAME_LENGTH, Run
from app.runs.supervisor import recent_durations
from app.web.errors import UserError
from app.web.i18n import N_

__all__ = ["Run", "RunManager", "ViewerRuns"]  # Run: the record, where the labs read it

DEAD_AFTER = 8.0  # seconds without a heartbeat before an active run counts as lost
SLOT_ALIVE = 5.0  # seconds since a consumer slot's last heartbeat for it to count
DEFAULT_RUN_SECONDS = 20.0  # the queue's guess of a run's length before any has finished
SWEEP_EVERY = 2.0  # seconds between a process's looks for lost runs among the active ones
LOST = N_(
    "the training worker stopped answering (it was shut down, killed or its machine went "
    "away) after %(steps)s steps"
)


class RunManager:
    def __init__(self, settings, store, local: LocalWorkers | None = None) -> None:
        self.settings = settings
        self.store = store
        self.queue = RunQueue(settings, store)
        self.local = local
        self.ttl = settings.run_ttl_seconds
        self.max_runs = settings.max_runs
        self.max_seconds = settings.run_max_seconds
        self.max_queued = settings.max_queued_runs
        self._swept = 0.0

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, config: dict, target, owner: str = "") -> Run:
        """Queue a run of `target(config, queue, stop_event, pause_event, max_seconds)`: a lab's
        worker, as "package.module:function" (imported in the training process) or a
        function. It reports with (kind, payload) messages: "started", "steps", "epoch",
        "filters", "done" or "error"."""
        return self.start_all([(config, target)], owner)[0]

    def start_all(self, jobs: list[tuple[dict, object]], owner: str = "") -> list[Run]:
        """Queue several runs together, or none: an experiment of two runs compares nothing
        with one."""
        self._expire()
        waiting = self.store.zcard("queue")
        if waiting + len(jobs) > self.max_queued:
            raise self._full(waiting)
        runs = []
        for config, target in jobs:
            seq = self.store.incr("run-seq")
            run = Run(secrets.token_hex(6), config, time.time(), seq=seq, owner=owner,
                      max_seconds=self.max_seconds)  # fmt: skip
            record.save(self.store, run)
            self.store.zadd("runs", run.id, run.created)
            self.store.zadd("queue", run.id, seq)
            if owner:
                self.store.zadd(f"owner:{owner}", run.id, run.created)
            runs.append((run, target))
        if self.local is not None:
            self.local.ensure_running()
        for run, target in runs:
            self.queue.enqueue(run.id, target, self.max_seconds)
        return [self._annotated(run) for run, _ in runs]

    def _full(self, waiting: int) -> UserError:
        minutes = max(1, math.ceil(self._start_estimate(waiting + 1, self._slots()) / 60))
        error = UserError(
            N_("The training queue is full: %(n)s runs are waiting, the most this server holds. "
               "Come back in about %(m)s minutes."),
            status=503, n=waiting, m=minutes,
        )  # fmt: skip
        error.headers = {"Retry-After": str(minutes * 60)}
        return error

    def get(self, run_id: str) -> Run | None:
        run = record.load(self.store, run_id)
        if run is None or (run.finished and time.time() - run.finished > self.ttl):
            return None  # gone, or past its time to live (the next listing forgets it)
        if run.active and self._lost(run):
            run.message, run.message_params = LOST, {"steps": run.steps_done}
            run.status, run.finished = "failed", time.time()
            record.save(self.store, run)
            self.store.zrem("active", run.id)
            self.store.zrem("queue", run.id)  # if its consumer died before taking it out
            self.store.zadd("finished", run.id, run.finished)
        return self._annotated(run)

    def _lost(self, run: Run) -> bool:
        return run.status != "queued" and time.time() - (run.beat or run.created) > DEAD_AFTER

    def _annotated(self, run: Run) -> Run:
        name = self.store.get(record.key(run.id, "name"))
        run.name = name.decode() if name else ""
        control = self.store.get(record.key(run.id, "control"))
        control = control.decode() if control else ""
        # A press just made shows at once; the consumer confirms it within a fraction of a second.
        if control == "pause" and run.status == "running":
            run.status = "paused"
        elif control == "resume" and run.status == "paused":
            run.status = "running"
        if run.status == "queued":
            self._sweep()
            rank = self.store.zrank("queue", run.id)
            run.slots = self._slots()
            run.workers_starting = bool(
                not run.slots and self.local is not None and self.local.starting()
            )
            run.position = rank + 1 if rank is not None else 1
            run.start_eta = self._start_estimate(run.position, run.slots)
        return run

    def _sweep(self) -> None:
        """Mark the active runs whose consumer went silent as failed, even if no one watches
        them: their slots are free, and the estimates of the runs waiting must know it."""
        if time.monotonic() - self._swept < SWEEP_EVERY:
            return
        self._swept = time.monotonic()
        for run_id, _ in self.store.zrange("active"):
            self.get(run_id)  # marks it failed if it is lost

    def _slots(self) -> int:
        return len(self.store.zrange("slots", low=time.time() - SLOT_ALIVE))

    def _start_estimate(self, position: int, slots: int) -> float:
        """Seconds until the run at `position` in the queue is expected to start: the slots
        free up at the active runs' expected ends, and each run ahead takes a typical run's
        time (the median of the last ones)."""
        now = time.time()
        durations = recent_durations(self.store)
        typical = statistics.median(durations) if durations else DEFAULT_RUN_SECONDS
        ends = [max(now, end) for _, end in self.store.zrange("active")]
        free = sorted(ends)[: max(slots, 1)]
        free += [now] * (max(slots, 1) - len(free))
        heapq.heapify(free)
        for _ in range(position - 1):
            heapq.heappush(free, heapq.heappop(free) + typical)
        return max(0.0, free[0] - now)

    def _control(self, run: Run, action: str) -> None:
        # Kept as long as a run can last: it matters only while the run is active.
        ttl = self.max_seconds + self.ttl
        self.store.set(record.key(run.id, "control"), action.encode(), ttl=ttl)

    def pause(self, run: Run) -> None:
        if run.status == "running":
            self._control(run, "pause")
            run.status = "paused"

    def resume(self, run: Run) -> None:
        if run.status == "paused":
            self._control(run, "resume")
            run.status = "running"

    def stop(self, run: Run) -> None:
        if not run.active:
            return
        self._control(run, "stop")
        if run.status == "queued":  # not started: it ends here; its consumer will skip it
            self.store.zrem("queue", run.id)
            run.status, run.finished = "stopped", time.time()
            record.save(self.store, run)
            self.store.zadd("finished", run.id, run.finished)

    def rename(self, run: Run, name: str) -> None:
        name = " ".join(name.split())[:NAME_LENGTH]
        if name:
            self.store.set(record.key(run.id, "name"), name.encode())
        else:
            self.store.delete(record.key(run.id, "name"))
        run.name = name

    def runs(self, kind: str | None = None, owner: str = "", limit: int = 8) -> list[Run]:
        """The newest runs of `kind` ("image" or "text"), the browser `owner`'s own first."""
        self._expire()
        own = self.store.zrange(f"owner:{owner}", newest_first=True) if owner else []
        newest = self.store.zrange("runs", newest_first=True, limit=4 * limit + 40)
        ids = [run_id for run_id, _ in [*own, *newest]]
        found, seen = [], set()
        for run_id in ids:
            if run_id in seen:
                continue
            seen.add(run_id)
            run = self.get(run_id)
            if run is not None and (kind is None or run.config.get("kind", "image") == kind):
                found.append(run)
                if len(found) >= limit:
                    break
        return found

    def shutdown(self) -> None:
        if self.local is not None:
            self.local.stop()

    # --- internals ---------------------------------------------------------------------------

    def _expire(self) -> None:
        """Forget finished runs past their time to live, and the oldest past `max_runs`."""
        old = [i for i, _ in self.store.zrange("finished", high=time.time() - self.ttl)]
        count = self.store.zcard("finished") - len(old)
        if count > self.max_runs:
            oldest = self.store.zrange("finished", limit=count - self.max_runs + len(old))
            old += [run_id for run_id, _ in oldest]
        for run_id in dict.fromkeys(old):
            run = record.load(self.store, run_id)
            parts = ("", "state", "control", "name", "evaluation")
            self.store.delete(*(record.key(run_id, part) for part in parts))
            self.store.zrem("finished", run_id)
            self.store.zrem("runs", run_id)
            if run is not None and run.owner:
                self.store.zrem(f"owner:{run.owner}", run_id)


class ViewerRuns:
    """The run manager as one browser sees it: its own runs listed first."""

    def __init__(self, manager: RunManager, owner: str) -> None:
        self.manager = manager
        self.owner = owner

    def __getattr__(self, name: str):
        return getattr(self.manager, name)

    def runs(self, kind: str | None = None, limit: int = 8) -> list[Run]:
        return self.manager.runs(kind, self.owner, limit)
