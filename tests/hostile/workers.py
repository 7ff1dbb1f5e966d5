"""Workers that misbehave, run in worker processes by the run manager (imported by name)."""

import time


def stuck(config, queue, stop_event, pause_event, max_seconds):
    """One step that never ends: ignores its time limit and the stop event."""
    queue.put(("started", {}))
    time.sleep(600)
