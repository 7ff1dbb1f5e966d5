"""Runs in a room full of students: a paused run cannot hold its slot forever, only the browser
that started a run controls it, a refusal says when to try again and starts nothing, and a
server killed outright takes its training processes with it."""

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


def test_a_paused_run_ends_at_the_time_limit_and_frees_its_slot():
    with TestClient(create_app(Settings(run_workers=1, run_max_seconds=3))) as client:
        run_id = run_id_of(start(client))
        run = client.app.state.runs.get(run_id)
        until(lambda: run.status == "running", 20, "the run did not start")
        assert client.post(f"/train/runs/{run_id}/pause").status_code == 200
        assert run.status == "paused"
        until(lambda: not run.active, 10, "a paused run outlived its time limit")
        assert run.status == "stopped"
        status = client.get(f"/train/runs/{run_id}/status").text
        assert "Stopped at the time limit of 3 seconds per run." in status
        # Its slot is free again for the next student.
        second = run_id_of(start(client))
        client.post(f"/train/runs/{second}/stop")


def test_only_the_browser_that_started_a_run_can_pause_resume_or_stop_it():
    app = create_app(Settings(run_workers=1, run_max_seconds=30))
    with TestClient(app) as teacher, TestClient(app) as student:
        run_id = run_id_of(start(teacher))
        run = app.state.runs.get(run_id)
        until(lambda: run.status == "running", 20, "the run did not start")
        for action in ("pause", "resume", "stop"):
            refused = student.post(f"/train/runs/{run_id}/{action}")
            assert refused.status_code == 403
            assert "Only the browser that started this run" in refused.text
            assert run.active
        watching = student.get(f"/train/runs/{run_id}/status").text
        assert 'data-testid="not-owner"' in watching and "/pause" not in watching
        # A token the student makes up is not the teacher's.
        student.cookies.set("cnnp_runs", "0" * 32)
        assert student.post(f"/train/runs/{run_id}/stop").status_code == 403
        own = teacher.get(f"/train/runs/{run_id}/status").text
        assert "/pause" in own and 'data-testid="not-owner"' not in own
        assert teacher.post(f"/train/runs/{run_id}/pause").status_code == 200
        assert run.status == "paused"
        assert teacher.post(f"/train/runs/{run_id}/stop").status_code == 200
        until(lambda: not run.active, 10, "the owner could not stop the run")


def test_text_runs_have_owners_too():
    app = create_app(Settings(run_workers=1, run_max_seconds=30))
    with TestClient(app) as teacher, TestClient(app) as student:
        response = teacher.post("/text/runs", data={"epochs": "60"}, follow_redirects=False)
        assert response.status_code == 303, response.text[:300]
        run_id = response.headers["location"].rsplit("/", 1)[1]
        assert student.post(f"/text/runs/{run_id}/stop").status_code == 403
        assert teacher.post(f"/text/runs/{run_id}/stop").status_code == 200
        run = app.state.runs.get(run_id)
        until(lambda: not run.active, 10, "the owner could not stop the text run")


def test_a_busy_server_says_when_to_try_again():
    with TestClient(create_app(Settings(run_workers=1, run_max_seconds=40))) as client:
        first = run_id_of(start(client))
        refused = start(client)
        assert refused.status_code == 429
        wait = int(refused.headers["Retry-After"])
        assert 1 <= wait <= 40
        assert re.search(r"Try again in about \d+ seconds", refused.text)
        client.post(f"/train/runs/{first}/stop")


def test_a_refused_shift_experiment_starts_no_run():
    with TestClient(create_app(Settings(run_workers=1, run_max_seconds=40))) as client:
        refused = client.post("/train/experiments/shift", follow_redirects=False)
        assert refused.status_code == 429
        assert "needs 2 free training slots" in refused.text
        assert int(refused.headers["Retry-After"]) >= 1
        assert client.app.state.runs.runs() == []


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads processes from /proc")
def test_training_processes_exit_when_the_server_is_killed():
    with server_process(run_max_seconds=120, run_workers=2) as (base, server):
        for _ in range(2):
            request = urllib.request.Request(f"{base}/train/runs", data=LONG.encode(),
                                             headers=FORM, method="POST")  # fmt: skip
            urllib.request.urlopen(request, timeout=30)
        until(lambda: children_of(server.pid), 20, "no training process")
        time.sleep(1.0)  # let them train and fill their queues
        workers = children_of(server.pid)
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
        until(lambda: not any(alive(pid) for pid in workers), 8,
              f"training processes {workers} outlived their server")  # fmt: skip


def test_a_worker_stuck_past_its_time_limit_is_ended_by_the_manager(monkeypatch):
    from app.runs import manager as manager_module

    monkeypatch.setattr(manager_module, "LIMIT_GRACE", 0.5)
    runs = manager_module.RunManager(max_active=1, ttl=60, max_runs=4, max_seconds=1)
    run = runs.start({}, "tests.hostile.workers:stuck")
    process = runs._controls[run.id][0]
    # 1 s of limit, 0.5 s of grace, 3 s for the stop to be heard, then terminate().
    until(lambda: not process.is_alive(), 15, "a stuck worker kept its slot")
    until(lambda: not run.active, 5, "the run still counts as active")
    assert run.status == "stopped"
