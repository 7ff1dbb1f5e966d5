"""The training processes' reporter: batched progress, the time limit, the closing message."""

import threading
from types import SimpleNamespace

from app.runs.reporter import TIME_LIMIT, Reporter


class ListQueue(list):
    def put(self, item):
        self.append(item)


def step(n: int, total: int = 100):
    return SimpleNamespace(step=n, total_steps=total, epoch=1, loss=1.0 / n, lr=0.1)


def test_steps_are_batched_and_the_last_one_always_sent():
    queue = ListQueue()
    reporter = Reporter(queue, threading.Event(), threading.Event(), max_seconds=60)
    for n in range(1, 4):
        reporter.step(step(n, total=3))
    sent = [item for kind, payload in queue for item in payload["steps"] if kind == "steps"]
    assert [s[0] for s in sent] == [1, 2, 3]  # nothing lost, the final step included
    assert len(queue) < 3  # steps 2 and 3 left together, not one message each


def test_epoch_flushes_pending_steps_first():
    queue = ListQueue()
    reporter = Reporter(queue, threading.Event(), threading.Event(), max_seconds=60)
    reporter.step(step(1))
    reporter.step(step(2))
    reporter.epoch({"epoch": 1, "val_accuracy": 0.5})
    assert [kind for kind, _ in queue][-2:] == ["steps", "epoch"]


def test_time_limit_and_stop():
    stop = threading.Event()
    reporter = Reporter(ListQueue(), stop, threading.Event(), max_seconds=60)
    assert not reporter.should_stop()
    stop.set()
    assert reporter.should_stop() and reporter.message("done") == {"msgid": "done", "params": {}}
    timed = Reporter(ListQueue(), threading.Event(), threading.Event(), max_seconds=0)
    assert timed.should_stop()
    assert timed.message("done") == {"msgid": TIME_LIMIT, "params": {"s": "0"}}


def test_a_paused_run_waits_until_resumed():
    pause = threading.Event()
    pause.set()
    reporter = Reporter(ListQueue(), threading.Event(), pause, max_seconds=60)
    done = threading.Event()
    worker = threading.Thread(target=lambda: (reporter.step(step(1)), done.set()))
    worker.start()
    assert not done.wait(0.3)  # held while paused
    pause.clear()
    assert done.wait(2)
    worker.join()
