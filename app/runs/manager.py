"""Training runs as a service: each run in its own process, its progress kept here in memory.

- At most `max_active` runs train at once; one more gets a clear "busy" (429).
- A finished run is kept for `ttl` seconds, and at most `max_runs` runs are kept in all (the oldest
  finished go first), so memory stays bounded however many runs are started.
- Pause, resume and stop are events the worker checks between steps; stop also terminates the
  process if it has not ended within a few seconds, so the CPU is always freed.
- Time paused counts against the time limit: the worker stops itself there, and the manager stops
  a run that outlives it by LIMIT_GRACE seconds (a worker stuck in one long step).
- Each run remembers its owner (app.runs.owner): only that browser may pause, resume or stop it.
"""

from __future__ import annotations

import math
import multiprocessing
import secrets
import threading
import time
from dataclasses import dataclass, field
from queue import Empty

from app.runs.entry import run_worker
from app.runs.reporter import TIME_LIMIT
from app.web.errors import UserError
from app.web.i18n import N_

ACTIVE = ("starting", "running", "paused")
LIMIT_GRACE = 5.0  # seconds past its time limit before the manager stops a run itself
# The statuses as the pages show them (translated there with gettext).
STATUS_NAMES = (
    N_("starting"), N_("running"), N_("paused"), N_("finished"), N_("stopped"), N_("diverged"),
    N_("failed"),
)  # fmt: skip


@dataclass
class Run:
    id: str
    config: dict
    created: float
    status: str = "starting"  # starting, running, paused, finished, stopped, diverged, failed
    message: str = ""  # why the run ended: an English msgid, translated by the page
    message_params: dict = field(default_factory=dict)  # the msgid's %(name)s fields
    total_steps: int = 0
    epoch: int = 0
    step_loss: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    histograms: list[dict] = field(default_factory=list)  # before training, then per epoch
    filters: object = None  # the first layer's weights, latest snapshot
    test_accuracy: float | None = None
    test_loss: float | None = None
    seconds: float = 0.0
    started: float | None = None
    first_point: float | None = None  # when the first curve point arrived
    finished: float | None = None
    state: dict | None = None  # trained weights (state_dict) once finished
    extra: dict = field(default_factory=dict)  # anything else a worker reports when done
    owner: str = ""  # a digest of the starting browser's token (app.runs.owner)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def steps_done(self) -> int:
        return len(self.step_loss)

    @property
    def progress(self) -> float:
        return self.steps_done / self.total_steps if self.total_steps else 0.0

    @property
    def eta_seconds(self) -> float | None:
        if not self.active or not self.started or self.steps_done < 3 or not self.total_steps:
            return None
        elapsed = time.monotonic() - self.started
        return elapsed / self.steps_done * (self.total_steps - self.steps_done)

    @property
    def lr(self) -> float | None:
        return self.step_lr[-1] if self.step_lr else None


class RunManager:
    def __init__(self, max_active: int, ttl: float, max_runs: int, max_seconds: float) -> None:
        self.max_active = max_active
        self.ttl = ttl
        self.max_runs = max_runs
        self.max_seconds = max_seconds
        self._runs: dict[str, Run] = {}
        self._controls: dict[str, tuple] = {}  # id -> (process, stop_event, pause_event)
        self._lock = threading.Lock()
        self._context = multiprocessing.get_context("spawn")

    # --- lifecycle ---------------------------------------------------------------------------

    def start(self, config: dict, target, owner: str = "") -> Run:
        """Start a run of `target(config, queue, stop_event, pause_event, max_seconds)` in a new
        process: a lab's worker, as "package.module:function" (imported in the worker process)
        or a function. It reports with (kind, payload) messages: "started", "steps", "epoch",
        "filters", "done" or "error"."""
        return self.start_all([(config, target)], owner)[0]

    def start_all(self, jobs: list[tuple[dict, object]], owner: str = "") -> list[Run]:
        """Start several runs together, or none: an experiment of two runs needs two slots."""
        with self._lock:
            self._expire()
            active = sum(run.active for run in self._runs.values())
            if active + len(jobs) > self.max_active:
                raise self._busy(active, len(jobs))
            runs = [Run(secrets.token_hex(6), config, time.time(), owner=owner)
                    for config, _ in jobs]  # fmt: skip
            for run in runs:
                self._runs[run.id] = run
            self._evict()
        for run, (config, target) in zip(runs, jobs, strict=True):
            self._launch(run, config, target)
        return runs

    def _launch(self, run: Run, config: dict, target) -> None:
        queue = self._context.Queue()
        stop_event, pause_event = self._context.Event(), self._context.Event()
        process = self._context.Process(
            target=run_worker,
            args=(target, config, queue, stop_event, pause_event, self.max_seconds),
            daemon=True,
            name=f"train-{run.id}",
        )
        process.start()
        run.started = time.monotonic()
        self._controls[run.id] = (process, stop_event, pause_event)
        threading.Thread(
            target=self._collect, args=(run, queue, process), daemon=True, name=f"collect-{run.id}"
        ).start()

    def _busy(self, active: int, needed: int) -> UserError:
        wait = self.seconds_until_free()
        if needed > 1:
            error = UserError(
                N_("The server is busy: this experiment needs %(need)s free training slots and "
                   "%(n)s of %(max)s are in use. Try again in about %(s)s seconds."),
                status=429, need=needed, n=active, max=self.max_active, s=wait,
            )  # fmt: skip
        else:
            error = UserError(
                N_("The server is busy: %(n)s runs are training, the most it runs at once. "
                   "Try again in about %(s)s seconds, or stop a run."),
                status=429, n=active, s=wait,
            )  # fmt: skip
        error.headers = {"Retry-After": str(wait)}
        return error

    def seconds_until_free(self) -> int:
        """When the first training slot is expected to free up: the soonest of each active
        run's time left and its estimated finish (paused runs have only their time limit)."""
        now = time.monotonic()
        waits = []
        for run in self._runs.values():
            if not run.active or run.started is None:
                continue
            left = self.max_seconds - (now - run.started)
            eta = run.eta_seconds if run.status == "running" else None
            waits.append(min(left, eta) if eta is not None else left)
        return max(1, math.ceil(min(waits))) if waits else 1

    def get(self, run_id: str) -> Run | None:
        with self._lock:
            self._expire()
            return self._runs.get(run_id)

    def pause(self, run: Run) -> None:
        controls = self._controls.get(run.id)
        if controls and run.status == "running":
            controls[2].set()
            run.status = "paused"

    def resume(self, run: Run) -> None:
        controls = self._controls.get(run.id)
        if controls and run.status == "paused":
            controls[2].clear()
            run.status = "running"

    def stop(self, run: Run) -> None:
        controls = self._controls.get(run.id)
        if not controls or not run.active:
            return
        process, stop_event, pause_event = controls
        stop_event.set()
        pause_event.clear()

        def enforce() -> None:
            process.join(timeout=3)
            if process.is_alive():  # a step that takes long: end it, the CPU must come back
                process.terminate()

        threading.Thread(target=enforce, daemon=True).start()

    def shutdown(self) -> None:
        for process, stop_event, _ in list(self._controls.values()):
            stop_event.set()
            if process.is_alive():
                process.terminate()

    def runs(self) -> list[Run]:
        with self._lock:
            self._expire()
            return sorted(self._runs.values(), key=lambda r: r.created, reverse=True)

    # --- internals ---------------------------------------------------------------------------

    def _expire(self) -> None:
        now = time.time()
        for run_id, run in list(self._runs.items()):
            if not run.active and run.finished and now - run.finished > self.ttl:
                del self._runs[run_id]
                self._controls.pop(run_id, None)

    def _evict(self) -> None:
        finished = sorted((r for r in self._runs.values() if not r.active), key=lambda r: r.created)
        while len(self._runs) > self.max_runs and finished:
            oldest = finished.pop(0)
            del self._runs[oldest.id]
            self._controls.pop(oldest.id, None)

    def _collect(self, run: Run, queue, process) -> None:
        """Apply the worker's messages to the run until the worker is done."""
        while True:
            try:
                kind, payload = queue.get(timeout=0.25)
            except Empty:
                if self._past_limit(run):
                    self.stop(run)  # the worker should have stopped itself: it is stuck
                if not process.is_alive():
                    self._ended(run, queue, process)
                    return
                continue
            with run.lock:
                self._apply(run, kind, payload)
                if kind in ("done", "error"):
                    return

    def _ended(self, run: Run, queue, process) -> None:
        """The worker has gone: apply what it sent last (it may have been written just before it
        ended), and say why a run that did not close itself ended."""
        try:
            while True:
                kind, payload = queue.get(timeout=0.2)
                with run.lock:
                    self._apply(run, kind, payload)
                if kind in ("done", "error"):
                    return
        except (Empty, EOFError, OSError):  # nothing more, or a message cut off by the end
            pass
        with run.lock:
            if not run.active:
                return
            run.finished = time.time()
            if self._stop_requested(run):
                run.status = "stopped"
                if run.started is not None and time.monotonic() - run.started > self.max_seconds:
                    run.message, run.message_params = TIME_LIMIT, {"s": f"{self.max_seconds:g}"}
                return
            run.status = "failed"
            code = process.exitcode
            if code is not None and code < 0:
                run.message = N_(
                    "the training process was killed (signal %(signal)s), as a server short of "
                    "memory ends one: try a smaller network or batch"
                )
                run.message_params = {"signal": -code}
            else:
                run.message = N_(
                    "the training process ended without a word (exit code %(code)s): the server's "
                    "log has the details"
                )
                run.message_params = {"code": code}

    def _past_limit(self, run: Run) -> bool:
        return (
            run.active
            and run.started is not None
            and time.monotonic() - run.started > self.max_seconds + LIMIT_GRACE
            and not self._stop_requested(run)
        )

    def _stop_requested(self, run: Run) -> bool:
        controls = self._controls.get(run.id)
        return bool(controls and controls[1].is_set())

    @staticmethod
    def _apply(run: Run, kind: str, payload) -> None:
        if kind == "started":
            if payload.get("histogram0"):
                run.histograms.append(payload["histogram0"])
            if run.status == "starting":
                run.status = "running"
        elif kind == "steps":
            if run.status == "starting":
                run.status = "running"
            for _, loss, lr in payload["steps"]:
                run.step_loss.append(loss)
                run.step_lr.append(lr)
            if payload["total"]:
                run.total_steps = payload["total"]
            if payload["epoch"]:
                run.epoch = payload["epoch"]
            if run.first_point is None and run.step_loss and run.started:
                run.first_point = time.monotonic() - run.started
        elif kind == "epoch":
            histogram = payload.pop("histogram", None)
            if histogram:
                run.histograms.append(histogram)
            run.epochs.append(payload)
        elif kind == "filters":
            run.filters = payload
        elif kind == "done":
            run.status = payload["status"]
            run.message, run.message_params = _message(payload["message"])
            run.test_accuracy = payload["test_accuracy"]
            run.test_loss = payload["test_loss"]
            run.seconds = payload["seconds"]
            run.state = payload["state"]
            run.extra = payload.get("extra", {})
            run.finished = time.time()
        elif kind == "error":
            run.status = "failed"
            run.message, run.message_params = _message(payload)
            if not run.message:
                run.message = N_("the training process reported an error without a reason")
            run.finished = time.time()


def _message(sent) -> tuple[str, dict]:
    """(msgid, fields) from what a worker sent: {"msgid", "params"} (app.runs.reporter) or plain
    text."""
    if isinstance(sent, dict):
        return str(sent.get("msgid", "")), dict(sent.get("params") or {})
    return str(sent or ""), {}
