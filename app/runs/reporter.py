"""What every training process tells the web server, and how it listens back.

Used inside worker processes (the labs' worker modules), so it imports nothing heavy:
progress messages are batched (one queue message per SEND_EVERY seconds, not per step), a paused
run waits between steps, and a run past its time limit is told to stop.

Every sentence a worker sends is {"msgid": English template, "params": its fields}: the page
translates it when it renders, in its own language (app.runs.views.run_message).
"""

from __future__ import annotations

import time

from engine.errors import N_

SEND_EVERY = 0.15  # seconds between progress messages
TIME_LIMIT = N_("Stopped at the time limit of %(s)s seconds per run.")
UNEXPECTED = N_("an unexpected error in the training process (%(error)s)")


def message_payload(message) -> dict:
    """A closing message for the page: an engine Message (or EngineError) keeps its template
    and fields; plain text goes as it is."""
    template = getattr(message, "template", None)
    if template is None:
        return {"msgid": str(message), "params": {}}
    return {"msgid": template, "params": dict(getattr(message, "params", {}))}


def error_payload(error: BaseException) -> dict:
    """Why a run failed: an EngineError's own sentence, else the exception as a programmer
    would read it, inside a sentence the page translates."""
    if getattr(error, "template", None) is not None:
        return message_payload(error)
    return {"msgid": UNEXPECTED, "params": {"error": f"{type(error).__name__}: {error}"[:500]}}


class Reporter:
    def __init__(self, queue, stop_event, pause_event, max_seconds: float) -> None:
        self.queue = queue
        self.stop_event = stop_event
        self.pause_event = pause_event
        self.max_seconds = max_seconds
        self.started = time.monotonic()
        self.sent = 0.0
        self.pending: list[tuple[int, float, float]] = []
        self.limit_hit = False

    def flush(self, epoch: int = 0, total: int = 0) -> None:
        if self.pending:
            payload = {"steps": self.pending, "epoch": epoch, "total": total}
            self.queue.put(("steps", payload))
            self.pending = []

    def step(self, info) -> None:
        """After each training step: batch it, send now and then, and wait while paused."""
        self.pending.append((info.step, info.loss, info.lr))
        now = time.monotonic()
        if now - self.sent >= SEND_EVERY or info.step == info.total_steps:
            self.flush(info.epoch, info.total_steps)
            self.sent = now
        # Paused time counts against the limit: a run left paused ends there and frees its slot.
        while self.pause_event.is_set() and not self.stop_event.is_set() and not self.over_time():
            time.sleep(0.05)

    def epoch(self, payload: dict) -> None:
        self.flush(payload.get("epoch", 0))
        self.queue.put(("epoch", payload))

    def over_time(self) -> bool:
        if time.monotonic() - self.started > self.max_seconds:
            self.limit_hit = True
        return self.limit_hit

    def should_stop(self) -> bool:
        return self.over_time() or self.stop_event.is_set()

    def message(self, result_message) -> dict:
        """The run's closing message: the time limit, when that is what ended it."""
        if self.limit_hit:
            return {"msgid": TIME_LIMIT, "params": {"s": f"{self.max_seconds:g}"}}
        return message_payload(result_message)

    def done(self, result, extra: dict) -> None:
        """The closing message: how the run ended, its test score and its weights (none for a
        run that diverged). `result` is an engine TrainResult or TextTrainResult."""
        self.flush()
        state = result.model.state_dict() if result.status != "diverged" else None
        self.queue.put((
            "done",
            {
                "status": result.status,
                "message": self.message(result.message),
                "test_accuracy": result.test_accuracy,
                "test_loss": result.test_loss,
                "seconds": result.seconds,
                "state": state,
                "extra": extra,
            },
        ))  # fmt: skip
