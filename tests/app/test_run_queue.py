"""The web side of the queue, on the embedded store: lost runs, the queue's estimates, names,
each browser's own runs first, expiry, and what survives a restart."""

from __future__ import annotations

import time

import pytest
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.runs import record
from app.runs.manager import DEAD_AFTER, LOST, RunManager
from app.runs.record import Run
from app.store.sqlite_store import SQLiteStore


@pytest.fixture
def manager(tmp_path):
    settings = Settings(data_dir=tmp_path, run_workers=0, run_ttl_seconds=60, max_runs=3)
    return RunManager(settings, SQLiteStore(tmp_path, blob_budget=1 << 20))


def put(manager, status="running", beat_ago=0.0, owner="", finished_ago=None, **extra) -> Run:
    now = time.time()
    run = Run(f"r{manager.store.incr('test-ids'):05d}", {"kind": "image"}, now, status=status,
              beat=now - beat_ago, started=now - beat_ago, owner=owner, max_seconds=120,
              finished=None if finished_ago is None else now - finished_ago, **extra)  # fmt: skip
    record.save(manager.store, run)
    manager.store.zadd("runs", run.id, run.created)
    if owner:
        manager.store.zadd(f"owner:{owner}", run.id, run.created)
    if status == "running":
        manager.store.zadd("active", run.id, now + 10)
    if finished_ago is not None:
        manager.store.zadd("finished", run.id, run.finished)
    return run


def test_a_run_whose_consumer_went_silent_is_marked_failed_with_the_reason(manager):
    alive = put(manager, beat_ago=1.0, step_loss=[1.0, 0.9])
    lost = put(manager, beat_ago=DEAD_AFTER + 1, step_loss=[1.0, 0.9, 0.8])
    assert manager.get(alive.id).status == "running"
    seen = manager.get(lost.id)
    assert seen.status == "failed" and seen.message == LOST
    assert seen.message_params == {"steps": 3}
    # Written back: every process now reads it as failed, and its slot is no longer counted.
    assert record.load(manager.store, lost.id).status == "failed"
    assert [run_id for run_id, _ in manager.store.zrange("active")] == [alive.id]


def test_a_lost_run_is_found_by_a_waiting_run_even_if_nobody_watches_it(manager):
    lost = put(manager, beat_ago=DEAD_AFTER + 1)
    waiting = put(manager, status="queued")
    manager.store.zadd("queue", waiting.id, 1)
    assert manager.get(waiting.id).position == 1
    assert record.load(manager.store, lost.id).status == "failed"


def test_the_expected_start_fills_the_slots_as_they_free_up(manager, monkeypatch):
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    manager.store.zadd("active", "a", now + 10)
    manager.store.zadd("active", "b", now + 30)
    for seconds in (15, 20, 25):  # the median of recent runs: 20 s
        manager.store.zadd("stats:run-seconds", f"{seconds}", seconds)
    starts = [manager._start_estimate(position, slots=2) for position in range(1, 6)]
    assert starts == [10, 30, 30, 50, 50]  # 10, then 30 and 10+20, then 30+20 and 30+20
    assert manager._start_estimate(1, slots=3) == 0  # a free slot: at once
    assert manager._start_estimate(3, slots=0) > 0  # no consumer: counted as one slot


def test_names_are_trimmed_cut_and_reset(manager):
    run = put(manager)
    manager.rename(run, "  Ana's   <b>net</b>  ")
    assert manager.get(run.id).name == "Ana's <b>net</b>"
    manager.rename(run, "x" * 100)
    assert manager.get(run.id).name == "x" * 40
    manager.rename(run, "   ")
    assert manager.get(run.id).name == ""


def test_each_browser_sees_its_own_runs_first(manager):
    mine = put(manager, owner="me")
    others = [put(manager, owner="you") for _ in range(3)]
    listed = [run.id for run in manager.runs(owner="me", limit=3)]
    assert listed == [mine.id, others[2].id, others[1].id]
    assert [run.id for run in manager.runs(limit=2)] == [others[2].id, others[1].id]


def test_finished_runs_expire_and_the_oldest_go_past_the_limit(manager):
    expired = put(manager, status="finished", finished_ago=120)
    kept = [put(manager, status="finished", finished_ago=50 - i) for i in range(4)]
    manager.store.set(record.key(kept[0].id, "state"), b"weights")
    assert manager.get(expired.id) is None  # past its time to live
    manager.runs()
    # max_runs=3: the oldest of the four goes, with every key it had.
    assert record.load(manager.store, expired.id) is None
    assert record.load(manager.store, kept[0].id) is None
    assert manager.store.get(record.key(kept[0].id, "state")) is None
    assert [r.id for r in manager.runs(limit=10)] == [k.id for k in reversed(kept[1:])]


def test_finished_runs_and_uploads_survive_a_restart(tmp_path, make_png):
    settings = Settings(data_dir=tmp_path, run_workers=1, run_max_seconds=60)
    with TestClient(create_app(settings)) as client:
        form = {"dataset": "digits", "size": "8", "preset": "tiny", "epochs": "1"}
        response = client.post("/train/runs", data=form, follow_redirects=False)
        run_id = response.headers["location"].rsplit("/", 1)[1]
        picture = {"image": ("a.png", make_png(), "image/png")}
        uploaded = client.post("/filters/upload", files=picture, follow_redirects=False)
        upload_url = uploaded.headers["location"]
        deadline = time.time() + 60
        while client.app.state.runs.get(run_id).active and time.time() < deadline:
            time.sleep(0.1)
        before = client.app.state.runs.get(run_id)
        assert before.status == "finished"
    # A new app on the same data folder: another process, after a restart.
    with TestClient(create_app(Settings(data_dir=tmp_path, run_workers=0))) as client:
        after = client.app.state.runs.get(run_id)
        assert after.status == "finished" and after.test_accuracy == before.test_accuracy
        assert after.state.keys() == before.state.keys()
        assert client.get(f"/train/runs/{run_id}/inside").status_code == 200
        assert client.get(upload_url).status_code == 200


def test_a_starting_run_is_expected_to_take_a_typical_runs_time_not_its_limit(monkeypatch):
    now = time.time()
    monkeypatch.setattr(time, "time", lambda: now)
    run = Run("r", {}, now, status="starting", started=now - 2, max_seconds=120)
    assert run.expected_end(typical=5.0) == now + 3  # started 2 s ago, typical run 5 s
    assert run.expected_end() == now + 118  # nothing known: its time limit
    assert run.expected_end(typical=500.0) == now + 118  # never past the limit


def test_a_run_that_waits_behind_others_polls_slowly_one_about_to_start_does_not(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path, run_workers=0))) as client:
        form = {"dataset": "digits", "size": "8", "preset": "tiny", "epochs": "1"}
        location = client.post("/train/runs", data=form, follow_redirects=False).headers["location"]
        status = client.get(f"{location}/status").text
        assert 'hx-trigger="every 500ms"' in status  # nothing ahead of it: it starts at once
        # A run ahead holds the only slot for another 100 s: this one polls every 2 s.
        client.app.state.store.zadd("slots", "host:1:0", time.time())
        client.app.state.store.zadd("active", "ahead", time.time() + 100)
        status = client.get(f"{location}/status").text
        assert 'hx-trigger="every 2s"' in status and "expected to start in about 2 min" in status


def test_renaming_with_and_without_javascript(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path, run_workers=0))) as client:
        form = {"dataset": "digits", "size": "8", "preset": "tiny", "epochs": "1"}
        location = client.post("/train/runs", data=form, follow_redirects=False).headers["location"]
        plain = client.post(f"{location}/name", data={"name": "A <i>b</i>"}, follow_redirects=False)
        assert plain.status_code == 303 and plain.headers["location"] == location
        page = client.get(location).text
        assert "A &lt;i&gt;b&lt;/i&gt;</h1>" in page and "<i>b</i>" not in page
        fragment = client.post(f"{location}/name", data={"name": ""}, headers={"HX-Request": "1"})
        assert fragment.status_code == 200 and 'data-testid="run-name">Run #1<' in fragment.text
        long = client.post(
            f"{location}/name", data={"name": "x" * 500}, headers={"HX-Request": "1"}
        )
        assert long.status_code == 400 and "at most 40 characters" in long.text
        assert client.app.state.runs.get(location.rsplit("/", 1)[1]).name == ""


def test_the_first_run_says_the_servers_own_worker_is_starting_not_that_there_is_none(tmp_path):
    with TestClient(create_app(Settings(data_dir=tmp_path, run_workers=1))) as client:
        form = {"dataset": "digits", "size": "8", "preset": "tiny", "epochs": "1"}
        location = client.post("/train/runs", data=form, follow_redirects=False).headers["location"]
        # The consumer process was started by this first run: it needs a second to report in.
        status = client.get(f"{location}/status").text
        assert 'data-testid="workers-starting"' in status and "no-workers" not in status
        run_id = location.rsplit("/", 1)[1]
        deadline = time.time() + 60
        while client.app.state.runs.get(run_id).active and time.time() < deadline:
            time.sleep(0.1)
        assert client.app.state.runs.get(run_id).status == "finished"
