"""`cnn-playground worker`: queue consumers on this host, for the store and queue the settings
name (the data folder, or CNN_REDIS_URL for many hosts).

Each of the `slots` Huey worker threads trains one run at a time, in its own process
(app.runs.supervisor). Every second the consumer tells the store its slots are alive: the web
processes count them for the queue's estimates, and say so when no consumer is running.

SIGTERM stops at once and SIGINT after the runs in flight (Huey's own signals); either way the
runs still training are marked failed with the reason before the process ends. With `parent`,
the consumer also ends when that process (the `serve` that started it) is gone.
"""

from __future__ import annotations

import os
import threading
import time

from app.runs.entry import one_thread_per_run
from app.runs.queue import RunQueue
from app.runs.supervisor import WORKER_NAME, abandon_in_flight
from app.store import open_store
from app.web.i18n import N_

BEAT_EVERY = 1.0  # seconds between the slots' heartbeats
SHUT_DOWN = N_("the training worker was shut down while this run trained: start it again")


def serve_queue(settings, slots: int, parent: int | None = None) -> int:
    # Before any training process starts, so that each inherits it before it imports NumPy.
    one_thread_per_run()
    store = open_store(settings)
    queue = RunQueue(settings, store)
    consumer = queue.consumer(slots)
    names = [f"{WORKER_NAME}:{i}" for i in range(slots)]
    beating = threading.Event()

    def beat() -> None:
        while not beating.wait(BEAT_EVERY):
            if parent is not None and os.getppid() != parent:
                abandon_in_flight(store, SHUT_DOWN)
                store.zrem("slots", *names)
                os._exit(3)  # the server that started us is gone; so are we
            now = time.time()
            for name in names:
                store.zadd("slots", name, now)

    for name in names:
        store.zadd("slots", name, time.time())
    threading.Thread(target=beat, daemon=True, name="slot-heartbeat").start()
    try:
        consumer.run()
    finally:
        beating.set()
        abandon_in_flight(store, SHUT_DOWN)
        store.zrem("slots", *names)
    return 0
