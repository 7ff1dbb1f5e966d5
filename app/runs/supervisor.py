"""Training one run, inside a queue consumer: the lab's worker in its own process (as before the
queue: memory comes back when it ends, and a stuck step can be ended), its messages applied to
the run's record, and the record written to the store a few times a second, with a heartbeat.

Pause, resume and stop arrive through the store (`run:<id>:control`), so a press on any web
process reaches the consumer on any host. A run outliving its time limit by LIMIT_GRACE seconds
is stopped here; its process is terminated if it has not ended 3 seconds after a stop.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import statistics
import threading
import time
from queue import Empty

from app.runs import record
from app.runs.entry import run_worker
from app.runs.record import Run
from app.runs.reporter import TIME_LIMIT
from app.web.i18n import N_

LIMIT_GRACE = 5.0  # seconds past its time limit before the consumer stops a run itself
SAVE_EVERY = 0.25  # seconds between writes of a training run's record (its heartbeat)
CONTROL_EVERY = 0.1  # seconds between reads of the run's control key
STOP_GRACE = 3.0  # seconds a stopped worker has to end before it is terminated
DURATIONS = "stats:run-seconds"  # recent run durations, for the queue's estimates

WORKER_NAME = f"{socket.gethostname()}:{os.getpid()}"
# The runs this process is training now: marked failed if the consumer shuts down under them.
IN_FLIGHT: dict[str, Run] = {}
_in_flight_lock = threading.Lock()
_typical: dict[str, float | None] = {}  # a run's guess of its length until it has an estimate


def supervise(store, run_id: str, target, max_seconds: float) -> None:
    """Train the queued run `run_id` with `target` (a lab's worker) and keep its record."""
    run = record.load(store, run_id)
    if run is None or run.status != "queued":
        store.zrem("queue", run_id)
        return  # expired, or stopped while it waited
    # Out of the queue only once the record says so: a page reading in between saw a queued run
    # with no place in the queue, shown as "Number 1" beside the real first.
    if _control(store, run_id) == "stop":
        _finish(store, run, "stopped")
        store.zrem("queue", run_id)
        return
    durations = recent_durations(store)
    _typical[run.id] = statistics.median(durations) if durations else None
    run.status, run.started, run.beat = "starting", time.time(), time.time()
    run.worker, run.max_seconds = WORKER_NAME, max_seconds
    _save(store, run)
    store.zrem("queue", run_id)
    with _in_flight_lock:
        IN_FLIGHT[run.id] = run
    try:
        _train(store, run, target, max_seconds)
    finally:
        with _in_flight_lock:
            IN_FLIGHT.pop(run.id, None)
        _typical.pop(run.id, None)
        store.zrem("active", run.id)
        if run.finished and run.started:
            _remember_duration(store, run.finished - run.started)


def _train(store, run: Run, target, max_seconds: float) -> None:
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    stop_event, pause_event = context.Event(), context.Event()
    process = context.Process(
        target=run_worker,
        args=(target, run.config, queue, stop_event, pause_event, max_seconds),
        daemon=True, name=f"train-{run.id}",
    )  # fmt: skip
    process.start()
    watch = _Watch(store, run, process, stop_event, pause_event)
    while True:
        try:
            kind, payload = queue.get(timeout=CONTROL_EVERY)
        except Empty:
            kind = None
        if kind is not None:
            _apply(store, run, kind, payload)
            if kind in ("done", "error"):
                break
        watch.tick()
        if kind is None and not process.is_alive():
            _ended(store, run, queue, process, watch)
            break
    process.join(timeout=STOP_GRACE)
    if process.is_alive():
        process.terminate()
    _save(store, run)


class _Watch:
    """The consumer's side of one run: obey its control key, stop it past its limit, and write
    its record (the heartbeat) every SAVE_EVERY seconds."""

    def __init__(self, store, run: Run, process, stop_event, pause_event) -> None:
        self.store, self.run, self.process = store, run, process
        self.stop_event, self.pause_event = stop_event, pause_event
        self.saved = 0.0
        self.stop_sent: float | None = None

    def tick(self) -> None:
        run = self.run
        control = _control(self.store, run.id)
        if control == "stop" or self._past_limit():
            self.stop()
        elif control == "pause" and run.status == "running":
            self.pause_event.set()
            run.status = "paused"
        elif control == "resume" and run.status == "paused":
            self.pause_event.clear()
            run.status = "running"
        late = self.stop_sent and time.monotonic() - self.stop_sent > STOP_GRACE
        if late and self.process.is_alive():  # a step that takes long: the CPU must come back
            self.process.terminate()
        now = time.monotonic()
        if now - self.saved >= SAVE_EVERY:
            _save(self.store, run)
            self.saved = now

    def stop(self) -> None:
        if self.stop_sent is None:
            self.stop_event.set()
            self.pause_event.clear()
            self.stop_sent = time.monotonic()

    def _past_limit(self) -> bool:
        run = self.run
        return (run.started is not None and self.stop_sent is None
                and time.time() - run.started > run.max_seconds + LIMIT_GRACE)  # fmt: skip

    @property
    def stop_requested(self) -> bool:
        return self.stop_event.is_set()


def _control(store, run_id: str) -> str:
    value = store.get(record.key(run_id, "control"))
    return value.decode() if value else ""


def _save(store, run: Run) -> None:
    if run.active:
        run.beat = time.time()
        store.zadd("active", run.id, run.expected_end(_typical.get(run.id)))
    record.save(store, run)


def _finish(store, run: Run, status: str) -> None:
    run.status, run.finished = status, time.time()
    record.save(store, run)
    store.zrem("active", run.id)
    store.zadd("finished", run.id, run.finished)


def _remember_duration(store, seconds: float) -> None:
    # A score per run, newest kept: the queue's estimate is their median.
    store.zadd(DURATIONS, f"{time.time():.6f}", seconds)
    old = store.zrange(DURATIONS, newest_first=True)[20:]
    store.zrem(DURATIONS, *(member for member, _ in old))


def recent_durations(store) -> list[float]:
    return [seconds for _, seconds in store.zrange(DURATIONS)]


def _ended(store, run: Run, queue, process, watch: _Watch) -> None:
    """The worker has gone: apply what it sent last (it may have been written just before it
    ended), and say why a run that did not close itself ended."""
    with contextlib.suppress(Empty, EOFError, OSError):  # nothing more, or a message cut off
        while True:
            kind, payload = queue.get(timeout=0.2)
            _apply(store, run, kind, payload)
            if kind in ("done", "error"):
                return
    if not run.active:
        return
    if watch.stop_requested:
        if run.started is not None and time.time() - run.started > run.max_seconds:
            run.message, run.message_params = TIME_LIMIT, {"s": f"{run.max_seconds:g}"}
        _finish(store, run, "stopped")
        return
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
    _finish(store, run, "failed")


def _apply(store, run: Run, kind: str, payload) -> None:
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
            run.first_point = time.time() - run.started
    elif kind == "epoch":
        histogram = payload.pop("histogram", None)
        if histogram:
            run.histograms.append(histogram)
        run.epochs.append(payload)
    elif kind == "filters":
        run.filters = payload
    elif kind == "done":
        run.message, run.message_params = _message(payload["message"])
        run.test_accuracy = payload["test_accuracy"]
        run.test_loss = payload["test_loss"]
        run.seconds = payload["seconds"]
        run.extra = payload.get("extra", {})
        record.save_state(store, run, payload["state"])
        _finish(store, run, payload["status"])
    elif kind == "error":
        run.message, run.message_params = _message(payload)
        if not run.message:
            run.message = N_("the training process reported an error without a reason")
        _finish(store, run, "failed")


def _message(sent) -> tuple[str, dict]:
    """(msgid, fields) from what a worker sent: {"msgid", "params"} (app.runs.reporter) or plain
    text."""
    if isinstance(sent, dict):
        return str(sent.get("msgid", "")), dict(sent.get("params") or {})
    return str(sent or ""), {}


def abandon_in_flight(store, reason: str) -> None:
    """The consumer is shutting down: the runs it trains end now, marked failed with `reason`,
    rather than waiting for the web processes to notice their silence."""
    with _in_flight_lock:
        runs = list(IN_FLIGHT.values())
    for run in runs:
        if run.active:
            run.message, run.message_params = reason, {}
            _finish(store, run, "failed")
