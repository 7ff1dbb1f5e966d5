"""Runs in a room full of students: a paused run cannot hold its slot forever, only the browser
that started a run controls it, a full class waits in line with its places shown, a full queue
says when to come back and starts nothing, and a server killed outright takes its training
processes with it."""

from __future__ import annotations

import re
import signal
import time
import urllib.request
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.hostile.server import alive, children_of, server_process

# Long enough that only the time limit or a stop can end it.
LONG = "dataset=digits&size=8&preset=tiny&epochs=50&batch=8&lr=0.05&seed=0"
FORM = {"content-type": "application/x-www-form-urlencoded"}


def start(client, query: str = LONG):
    return client.post("/train/runs", content=query, headers=FORM, follow_redirects=False)


def run_id_of(response) -> str:
    assert response.status_code == 303, response.text[:400]
    return response.headers["location"].rsplit("/", 1)[1]


def until(predicate, timeout: float, message: str):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(message)


def current(client_or_app, run_id: str):
    """The run as the store has it now (a record read is a snapshot)."""
    app = getattr(client_or_app, "app", client_or_app)
    return app.state.runs.get(run_id)


def test_a_paused_run_ends_at_the_time_limit_and_frees_its_slot():
    with TestClient(create_app(Settings(run_workers=1, run_max_seconds=3))) as client:
        run_id = run_id_of(start(client))
        until(lambda: current(client, run_id).status == "running", 30, "the run did not start")
        assert client.post(f"/train/runs/{run_id}/pause").status_code == 200
        assert current(client, run_id).status == "paused"
        until(lambda: not current(client, run_id).active, 15, "a paused run outlived its limit")
        assert current(client, run_id).status == "stopped"
        status = client.get(f"/train/runs/{run_id}/status").text
        assert "Stopped at the time limit of 3 seconds per run." in status
        # Its slot is free again for the next student: the next run starts.
        second = run_id_of(start(client))
        until(lambda: current(client, second).status == "running", 20, "the slot stayed taken")
        client.post(f"/train/runs/{second}/stop")


def test_only_the_browser_that_started_a_run_can_pause_resume_or_stop_it():
    app = create_app(Settings(run_workers=1, run_max_seconds=30))
    with TestClient(app) as teacher, TestClient(app) as student:
        run_id = run_id_of(start(teacher))
        until(lambda: current(app, run_id).status == "running", 30, "the run did not start")
        for action in ("pause", "resume", "stop", "name"):
            refused = student.post(f"/train/runs/{run_id}/{action}", data={"name": "mine now"})
            assert refused.status_code == 403
            assert "Only the browser that started this run" in refused.text
            assert current(app, run_id).active
        assert current(app, run_id).name == ""
        watching = student.get(f"/train/runs/{run_id}/status").text
        assert 'data-testid="not-owner"' in watching and "/pause" not in watching
        assert "rename-form" not in student.get(f"/train/runs/{run_id}").text
        # A token the student makes up is not the teacher's.
        student.cookies.set("cnnp_runs", "0" * 32)
        assert student.post(f"/train/runs/{run_id}/stop").status_code == 403
        own = teacher.get(f"/train/runs/{run_id}/status").text
        assert "/pause" in own and 'data-testid="not-owner"' not in own
        assert teacher.post(f"/train/runs/{run_id}/pause").status_code == 200
        assert current(app, run_id).status == "paused"
        assert teacher.post(f"/train/runs/{run_id}/stop").status_code == 200
        until(lambda: not current(app, run_id).active, 10, "the owner could not stop the run")


def test_text_runs_have_owners_too():
    app = create_app(Settings(run_workers=1, run_max_seconds=30))
    with TestClient(app) as teacher, TestClient(app) as student:
        response = teacher.post("/text/runs", data={"epochs": "60"}, follow_redirects=False)
        assert response.status_code == 303, response.text[:300]
        run_id = response.headers["location"].rsplit("/", 1)[1]
        assert student.post(f"/text/runs/{run_id}/stop").status_code == 403
        assert student.post(f"/text/runs/{run_id}/name", data={"name": "x"}).status_code == 403
        assert teacher.post(f"/text/runs/{run_id}/stop").status_code == 200
        until(lambda: not current(app, run_id).active, 10, "the owner could not stop the run")


def test_a_full_class_is_queued_not_turned_away():
    # One slot, no consumer yet busy: every run past the first waits its turn, with its place.
    with TestClient(create_app(Settings(run_workers=1, run_max_seconds=40))) as client:
        ids = [run_id_of(start(client)) for _ in range(4)]
        until(lambda: current(client, ids[0]).status == "running", 30, "the first did not start")
        for place, run_id in enumerate(ids[1:], start=1):
            run = current(client, run_id)
            assert run.status == "queued" and run.position == place
            status = client.get(f"/train/runs/{run_id}/status").text
            assert f"Number {place} in the queue" in status
            assert 'data-testid="queue-eta"' in status and "expected to start" in status
        # Stopping a waiting run takes it out of the line; the ones behind move up.
        assert client.post(f"/train/runs/{ids[1]}/stop").status_code == 200
        assert current(client, ids[1]).status == "stopped"
        assert current(client, ids[2]).position == 1
        for run_id in ids:
            client.post(f"/train/runs/{run_id}/stop")
        until(lambda: not any(current(client, i).active for i in ids), 15, "runs still active")


def test_a_full_queue_says_when_to_come_back_and_starts_nothing():
    settings = Settings(run_workers=1, run_max_seconds=40, max_queued_runs=2)
    with TestClient(create_app(settings)) as client:
        first, second = run_id_of(start(client)), run_id_of(start(client))
        before = len(client.app.state.runs.runs(limit=50))
        # Both are still waiting or the first has just started: a third and an experiment of
        # two are past the bound while two wait.
        refused = start(client)
        if refused.status_code == 303:  # the first had already left the line: fill it again
            refused = start(client)
        assert refused.status_code == 503
        assert int(refused.headers["Retry-After"]) >= 60
        assert re.search(r"Come back in about \d+ minutes", refused.text)
        experiment = client.post("/train/experiments/shift", follow_redirects=False)
        assert experiment.status_code == 503
        assert len(client.app.state.runs.runs(limit=50)) in (before, before + 1)
        for run_id in (first, second):
            client.post(f"/train/runs/{run_id}/stop")


def test_with_no_consumer_a_queued_run_says_so():
    with TestClient(create_app(Settings(run_workers=0))) as client:
        run_id = run_id_of(start(client))
        status = client.get(f"/train/runs/{run_id}/status").text
        assert 'data-testid="no-workers"' in status and "cnn-playground worker" in status
        assert "Number 1 in the queue" in status


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")
def test_training_processes_exit_when_the_server_is_killed():
    with server_process(run_max_seconds=120, run_workers=2) as (base, server):
        for _ in range(2):
            request = urllib.request.Request(f"{base}/train/runs", data=LONG.encode(),
                                             headers=FORM, method="POST")  # fmt: skip
            urllib.request.urlopen(request, timeout=30)
        # The server's consumer process, and the training processes under it.
        until(lambda: len(descendants(server.pid)) >= 3, 30, "no training process")
        time.sleep(1.0)  # let them train and fill their queues
        workers = descendants(server.pid)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        until(lambda: not any(alive(pid) for pid in workers), 10,
              f"training processes {workers} outlived their server")  # fmt: skip


def descendants(pid: int) -> list[int]:
    found, frontier = [], [pid]
    while frontier:
        children = [c for p in frontier for c in children_of(p)]
        found += children
        frontier = children
    return found


def test_a_worker_stuck_past_its_time_limit_is_ended_by_its_consumer(monkeypatch):
    from app.runs import supervisor

    monkeypatch.setattr(supervisor, "LIMIT_GRACE", 0.5)
    app = create_app(Settings(run_workers=0, run_max_seconds=1))
    run = app.state.runs.start({}, "tests.hostile.workers:stuck")
    # The consumer's own work, here in a thread: 1 s of limit, 0.5 s of grace, 3 s for the stop
    # to be heard, then terminate().
    began = time.monotonic()
    supervisor.supervise(app.state.store, run.id, "tests.hostile.workers:stuck", 1)
    assert time.monotonic() - began < 15
    assert current(app, run.id).status == "stopped"
