"""The app as many processes on one store, started with the commands a user types.

- Redis (CNN_REDIS_URL): `cnn-playground serve --workers 2 --run-workers 0` and a second
  `serve --workers 1 --run-workers 0` on another port (three web processes, as on two hosts), and
  two `cnn-playground worker --concurrency 1` queue consumers.
- Embedded (the default, no Redis): `cnn-playground serve --workers 2 --run-workers 2` on one
  data folder, which starts its own consumer.

The web processes of one `serve` share its listening socket, and the kernel picks which of them
takes a connection. So the requests here go through connections whose web process is known
(`Browser`): /proc tells which process holds the server's end of each one, and "uploaded through
one process, found by another" is tested, not left to chance.

Every process runs in a process group of its own, listening on 127.0.0.1 only, and its whole
group is killed when its test class ends, whatever happened.
"""

from __future__ import annotations

import contextlib
import http.client
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.conftest import free_port, png_file
from tests.hostile.server import alive, children_of

pytestmark = pytest.mark.skipif(
    not Path("/proc/net/tcp").exists(), reason="reads processes and connections from /proc"
)

FORM = "application/x-www-form-urlencoded"
QUICK = "dataset=digits&size=8&preset=tiny&epochs=2&batch=32"  # about a second
LONG = "dataset=digits&size=28&preset=lenet&epochs=50&batch=8"  # a stop or a kill ends it
IDLE = 2.0  # seconds a kept connection may idle (uvicorn closes them after 5)
LOST = "the training worker stopped answering"
ACTIVE = ("queued", "starting", "running", "paused")


def command() -> list[str]:
    """`cnn-playground`, as installed beside this Python (the venv `make test` builds)."""
    script = Path(sys.executable).parent / "cnn-playground"
    if script.exists():
        return [str(script)]
    found = shutil.which("cnn-playground")
    assert found, "the cnn-playground command is not installed (pip install -e .)"
    return [found]


def environment(**settings: str) -> dict[str, str]:
    """This environment without the developer's own CNN_* settings, plus `settings`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("CNN_")}
    return env | {f"CNN_{k.upper()}": v for k, v in settings.items()}


def until(predicate, timeout: float, message, every: float = 0.05):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(message() if callable(message) else message)
        time.sleep(every)


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def spawned_children(pid: int) -> list[int]:
    """The multiprocessing children of `pid` (uvicorn's web processes, training processes), not
    its resource tracker."""
    return [c for c in children_of(pid) if "spawn_main" in cmdline(c) and alive(c)]


# --- processes ----------------------------------------------------------------------------------


@dataclass
class Serve:
    """One `cnn-playground serve` and its web processes."""

    process: subprocess.Popen
    port: int
    args: tuple[str, ...]
    workers: int
    webs: list[Web] = field(default_factory=list)


@dataclass(frozen=True)
class Web:
    """One web process: the port it answers on and its pid."""

    port: int
    pid: int

    @property
    def origin(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Services:
    """The processes one test class starts, each the leader of its own process group, so that
    its web and training processes go with it."""

    def __init__(self, folder: Path, env: dict[str, str]) -> None:
        self.folder, self.env = folder, env
        self.processes: list[subprocess.Popen] = []

    def start(self, *args: str) -> subprocess.Popen:
        log = self.folder / f"{args[0]}-{len(self.processes)}.log"
        with open(log, "wb") as out:
            process = subprocess.Popen(
                [*command(), *args], env=self.env, cwd=self.folder, stdout=out,
                stderr=subprocess.STDOUT, start_new_session=True,
            )  # fmt: skip
        process.log = log
        self.processes.append(process)
        return process

    def serve(self, port: int, workers: int, run_workers: int) -> Serve:
        args = ("serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                "--run-workers", str(run_workers))  # fmt: skip
        return Serve(self.start(*args), port, args, workers)

    def ready(self, serve: Serve) -> Serve:
        """Wait until `serve` answers and all its web processes are up."""

        def up() -> bool:
            if serve.process.poll() is not None:
                raise AssertionError(f"serve exited: {tail(serve.process)}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", serve.port, timeout=2)
                connection.request("GET", "/healthz")
                ok = connection.getresponse().status == 200
                connection.close()
            except OSError:
                return False
            # --workers 1 serves in the serve process itself; more are its spawned children.
            pids = spawned_children(serve.process.pid) if serve.workers > 1 else [serve.process.pid]
            return ok and len(pids) == serve.workers

        until(up, 40, lambda: f"serve did not start: {tail(serve.process)}", every=0.1)
        pids = spawned_children(serve.process.pid) if serve.workers > 1 else [serve.process.pid]
        serve.webs = [Web(serve.port, pid) for pid in sorted(pids)]
        return serve

    def again(self, serve: Serve) -> Serve:
        """The same command again, once the old one has stopped."""
        return Serve(self.start(*serve.args), serve.port, serve.args, serve.workers)

    def stop_all(self) -> None:
        for process in self.processes:
            stop(process)


def stop(process: subprocess.Popen, timeout: float = 10) -> None:
    """SIGTERM to the process's group, then SIGKILL to whatever of the group is left."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        process.wait(timeout)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGKILL)
    process.wait(5)


def tail(process: subprocess.Popen, lines: int = 30) -> str:
    try:
        return "\n".join(process.log.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"


# --- a browser whose requests go to a chosen web process ----------------------------------------


@dataclass
class Reply:
    status: int
    headers: http.client.HTTPMessage
    body: bytes

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", "replace")


def accepted_by(connection: http.client.HTTPConnection, web: Web) -> bool:
    """Whether `web`'s process holds the server's end of this (answered) connection."""
    client_port = connection.sock.getsockname()[1]
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        local, remote = fields[1].split(":")[1], fields[2].split(":")[1]
        if int(local, 16) == web.port and int(remote, 16) == client_port:
            inode = fields[9]
    if inode is None:
        return False
    target = f"socket:[{inode}]"
    for fd in Path(f"/proc/{web.pid}/fd").iterdir():
        with contextlib.suppress(OSError):
            if os.readlink(fd) == target:
                return True
    return False


class Browser:
    """One student's browser: its owner cookie, and a kept connection to each web process."""

    def __init__(self) -> None:
        self.cookie = ""
        self.kept: dict[Web, tuple[http.client.HTTPConnection, float]] = {}

    def _connection(self, web: Web) -> http.client.HTTPConnection:
        kept = self.kept.pop(web, None)
        if kept is not None:
            connection, used = kept
            if connection.sock is not None and time.monotonic() - used < IDLE:
                return connection
            connection.close()
        for _ in range(200):  # the kernel hands each connection to one of the processes
            connection = http.client.HTTPConnection("127.0.0.1", web.port, timeout=30)
            connection.request("GET", "/healthz")
            connection.getresponse().read()
            if accepted_by(connection, web):
                return connection
            connection.close()
        raise AssertionError(f"no connection reached web process {web.pid}")

    def request(self, web: Web, method: str, path: str, body: bytes = b"",
                headers: dict | None = None) -> Reply:  # fmt: skip
        headers = dict(headers or {})
        if method == "POST":  # what a browser sends with a form of this site
            headers.setdefault("Origin", web.origin)
        if self.cookie:
            headers["Cookie"] = f"cnnp_runs={self.cookie}"
        connection = self._connection(web)
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        data = response.read()
        if response.will_close:
            connection.close()
        else:
            self.kept[web] = (connection, time.monotonic())
        cookie = re.search(r"cnnp_runs=([0-9a-f]+)", response.headers.get("set-cookie") or "")
        if cookie:
            self.cookie = cookie[1]
        return Reply(response.status, response.headers, data)

    def get(self, web: Web, path: str) -> Reply:
        return self.request(web, "GET", path)

    def close(self) -> None:
        for connection, _ in self.kept.values():
            connection.close()
        self.kept.clear()


def multipart(field_name: str, filename: str, data: bytes) -> tuple[bytes, dict]:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="{field_name}"; '
            f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


# --- what a run's status partial says ----------------------------------------------------------


def status_of(html: str) -> str:
    found = re.search(r'data-status="(\w+)"', html)
    assert found, html[:300]
    return found[1]


def position_of(html: str) -> int | None:
    found = re.search(r'data-testid="queue-position">Number (\d+) in the queue<', html)
    return int(found[1]) if found else None


def accuracy_of(html: str) -> str | None:
    found = re.search(r'data-testid="test-accuracy">([^<]+)<', html)
    return found[1] if found else None


def message_of(html: str) -> str:
    found = re.search(r'data-testid="run-message">(.*?)</p>', html, re.S)
    return found[1] if found else ""


# --- the deployments ----------------------------------------------------------------------------


@dataclass
class Cluster:
    services: Services
    serves: list[Serve]
    store: object  # the app's own store, read only to know when the consumers are up
    consumers: list[subprocess.Popen] = field(default_factory=list)  # separate `worker` commands
    runs: dict[str, str] = field(default_factory=dict)  # every run started here: its last status
    upload: str = ""  # the follow-up page of an upload made here

    @property
    def webs(self) -> list[Web]:
        return [web for serve in self.serves for web in serve.webs]

    def consumer_pids(self) -> list[int]:
        pids = [p.pid for p in self.consumers if p.poll() is None]
        for serve in self.serves:  # a serve's own consumer: `python -m app.cli worker`
            pids += [c for c in children_of(serve.process.pid) if " worker " in cmdline(c)]
        return pids

    def training_pids(self) -> list[int]:
        return [pid for c in self.consumer_pids() for pid in spawned_children(c)]

    def wait_for_slots(self, slots: int) -> None:
        # The slots the pages count: those whose heartbeat is under 5 s old (SLOT_ALIVE).
        until(lambda: len(self.store.zrange("slots", low=time.time() - 5)) >= slots, 30,
              lambda: "the consumers did not start: "
              + " | ".join(tail(p, 5) for p in self.services.processes), every=0.1)  # fmt: skip

    def restart_web(self) -> None:
        """Every serve stopped as a service manager stops it (SIGTERM to its process group), then
        the same commands again."""
        for serve in self.serves:
            stop(serve.process)
        self.serves = [self.services.again(serve) for serve in self.serves]
        self.serves = [self.services.ready(serve) for serve in self.serves]


def open_store_of(data_dir: Path, redis_url: str = ""):
    from app.config import Settings
    from app.store import open_store

    return open_store(Settings(data_dir=data_dir, redis_url=redis_url))


@pytest.fixture(scope="class")
def redis_cluster(redis_server, tmp_path_factory):
    import redis

    redis.Redis.from_url(redis_server).flushall()
    folder = tmp_path_factory.mktemp("many-redis")
    data = folder / "data"
    services = Services(folder, environment(redis_url=redis_server, data_dir=str(data)))
    store = open_store_of(data, redis_server)
    try:
        serves = [services.serve(free_port(), workers=2, run_workers=0),
                  services.serve(free_port(), workers=1, run_workers=0)]  # fmt: skip
        consumers = [services.start("worker", "--concurrency", "1") for _ in range(2)]
        cluster = Cluster(services, [services.ready(s) for s in serves], store, consumers)
        cluster.wait_for_slots(2)
        yield cluster
    finally:
        services.stop_all()
        store.close()


@pytest.fixture(scope="class")
def embedded_cluster(tmp_path_factory):
    folder = tmp_path_factory.mktemp("many-embedded")
    data = folder / "data"
    services = Services(folder, environment(data_dir=str(data)))
    store = open_store_of(data)
    try:
        serve = services.ready(services.serve(free_port(), workers=2, run_workers=2))
        cluster = Cluster(services, [serve], store)
        cluster.wait_for_slots(2)
        yield cluster
    finally:
        services.stop_all()
        store.close()


# --- the checks, for either deployment ----------------------------------------------------------


def upload_picture(cluster: Cluster, web: Web, browser: Browser) -> str:
    body, headers = multipart("image", "whiteboard.png", png_file(64, 48, seed=web.port))
    reply = browser.request(web, "POST", "/filters/upload", body, headers)
    assert reply.status == 303, reply.text[:400]
    location = reply.headers["location"]
    assert "upload=" in location
    cluster.upload = location
    return location


def picture_urls(html: str) -> list[str]:
    return [u.replace("&amp;", "&") for u in re.findall(r'src="(/filters/image\.png[^"]+)"', html)]


def check_upload_found_everywhere(cluster: Cluster) -> None:
    webs = cluster.webs
    uploader, student = Browser(), Browser()
    try:
        location = upload_picture(cluster, webs[0], uploader)
        pictures = picture_urls(uploader.get(webs[0], location).text)
        assert len(pictures) >= 2
        # 20 follow-ups (the page, then one of its pictures), every web process in turn, those
        # that did not receive the upload first.
        outcomes, seen_by = [], {}
        for i in range(10):
            web = webs[(i + 1) % len(webs)]
            page = student.get(web, location)
            outcomes.append((web.pid, "page", page.status, "whiteboard.png" in page.text))
            url = pictures[i % len(pictures)]
            png = student.get(web, url)
            is_png = png.body.startswith(b"\x89PNG") and png.headers["content-type"] == "image/png"
            outcomes.append((web.pid, url, png.status, is_png))
            seen_by.setdefault(url, {})[web.pid] = png.body
    finally:
        uploader.close()
        student.close()
    failed = [o for o in outcomes if o[2] != 200 or not o[3]]
    assert len(outcomes) == 20 and not failed, f"{len(failed)} of 20 follow-ups failed: {failed}"
    assert {pid for pid, *_ in outcomes} == {web.pid for web in webs}
    # The same upload in every process: each picture the same bytes wherever it was drawn.
    assert all(len(set(by_pid.values())) == 1 for by_pid in seen_by.values())
    assert any(len(by_pid) > 1 for by_pid in seen_by.values())


def start_run(browser: Browser, web: Web, query: str) -> str:
    reply = browser.request(web, "POST", "/train/runs", query.encode(), {"Content-Type": FORM})
    assert reply.status == 303, reply.text[:400]
    assert browser.cookie, "no owner cookie"
    return reply.headers["location"].rsplit("/", 1)[1]


def check_runs_wait_their_turn(cluster: Cluster, slots: int = 2, count: int = 8) -> None:
    webs = cluster.webs
    browser = Browser()
    seen: dict[str, list[tuple[str, int | None, str]]] = {}
    passes: list[list[tuple[int, int]]] = []  # (run's index, position) of the queued, per pass

    def look(run_id: str, web: Web) -> str:
        html = browser.get(web, f"/train/runs/{run_id}/status").text
        seen.setdefault(run_id, []).append((status_of(html), position_of(html), html))
        return status_of(html)

    try:
        ids = []
        for k in range(count):  # started through each web process in turn, watched from the next
            ids.append(start_run(browser, webs[k % len(webs)], QUICK))
            look(ids[-1], webs[(k + 1) % len(webs)])
        deadline = time.monotonic() + 90
        active = set(ids)
        while active and time.monotonic() < deadline:
            # Newest first: a run waiting now was waiting when the one behind it was read, so
            # the positions of one pass, in the runs' order, must grow.
            queued = []
            for k in reversed(range(count)):
                if ids[k] in active:
                    status = look(ids[k], webs[(len(passes) + k) % len(webs)])
                    if status == "queued":
                        queued.append((k, seen[ids[k]][-1][1]))
                    elif status not in ("starting", "running"):
                        active.discard(ids[k])
            passes.append(queued[::-1])
            time.sleep(0.1)
    finally:
        browser.close()
    final = {run_id: seen[run_id][-1] for run_id in ids}
    cluster.runs.update({run_id: status for run_id, (status, _, _) in final.items()})
    assert [status for status, _, _ in final.values()] == ["finished"] * count
    assert all(accuracy_of(html) for _, _, html in final.values())
    for k, run_id in enumerate(ids):
        waiting = [(pos, html) for status, pos, html in seen[run_id] if status == "queued"]
        positions = [position for position, _ in waiting]
        if k >= slots:  # more runs than slots: these waited, and their page said where
            assert positions, f"run {k + 1} of {count} was never seen waiting"
        assert all(position is not None and 1 <= position <= k + 1 for position in positions), (
            k, positions)  # fmt: skip
        assert positions == sorted(positions, reverse=True), (k, positions)  # only forward
        for _, html in waiting:
            assert 'data-testid="queue-eta"' in html
            assert f"{slots} runs train at a time on this server" in html
    for queued in passes:
        positions = [position for _, position in queued]
        assert positions == sorted(set(positions)), f"one pass saw the queue as {queued}"
    assert max(len(queued) for queued in passes) >= 2


def wait_for_status(browser, web, run_id, wanted, timeout) -> str:
    def reached():
        html = browser.get(web, f"/train/runs/{run_id}/status").text
        return html if status_of(html) in wanted else None

    return until(reached, timeout, f"run {run_id} never became {wanted}", every=0.1)


def check_stop_from_another_process(cluster: Cluster, start: Web, watch: Web, stop_on: Web):
    student = Browser()
    try:
        run_id = start_run(student, start, LONG)
        cluster.runs[run_id] = "started"
        wait_for_status(student, watch, run_id, ("running",), 30)
        trainers = until(cluster.training_pids, 10, "no training process")
        assert len(trainers) == 1, trainers
        reply = student.request(stop_on, "POST", f"/train/runs/{run_id}/stop", b"",
                                {"HX-Request": "true", "Content-Type": FORM})  # fmt: skip
        pressed = time.monotonic()
        assert reply.status == 200, reply.text[:400]
        html = wait_for_status(student, watch, run_id, ("stopped", "failed", "finished"), 8)
        stopped_after = time.monotonic() - pressed
        cluster.runs[run_id] = status_of(html)
        assert status_of(html) == "stopped", message_of(html)
        assert stopped_after < 5, stopped_after
        until(lambda: not any(alive(pid) for pid in trainers), 6,
              f"training process {trainers} outlived its stopped run")  # fmt: skip
        # Every web process now shows it ended: no Stop button on its page.
        assert "/stop" not in student.get(stop_on, f"/train/runs/{run_id}").text
    finally:
        student.close()


def check_restart_loses_nothing(cluster: Cluster, restart) -> None:
    browser = Browser()
    try:
        webs = cluster.webs
        if not any(status == "finished" for status in cluster.runs.values()):
            ids = [start_run(browser, webs[0], QUICK) for _ in range(2)]  # this test alone
            for run_id in ids:
                html = wait_for_status(browser, webs[-1], run_id, ("finished",), 60)
                cluster.runs[run_id] = status_of(html)
        if not cluster.upload:
            upload_picture(cluster, webs[0], browser)
        before = {}
        for run_id in cluster.runs:
            page = browser.get(webs[0], f"/train/runs/{run_id}").text
            status = browser.get(webs[0], f"/train/runs/{run_id}/status").text
            before[run_id] = (status_of(status), accuracy_of(status), page)
        assert all(status not in ACTIVE for status, *_ in before.values()), before.keys()
        upload_before = browser.get(webs[0], cluster.upload)
        assert upload_before.status == 200
        browser.close()
        old = {web.pid for web in webs}
        restart()
        webs = cluster.webs
        assert old.isdisjoint(web.pid for web in webs), "the web processes were not restarted"
        for web in webs:
            for run_id, (status, accuracy, page) in before.items():
                now = browser.get(web, f"/train/runs/{run_id}/status")
                assert now.status == 200, f"run {run_id} is gone after the restart ({now.status})"
                assert (status_of(now.text), accuracy_of(now.text)) == (status, accuracy), run_id
                assert browser.get(web, f"/train/runs/{run_id}").text == page, run_id
            again = browser.get(web, cluster.upload)
            assert again.status == 200 and "whiteboard.png" in again.text
            assert again.body == upload_before.body
            png = browser.get(web, picture_urls(again.text)[0])
            assert png.status == 200 and png.body.startswith(b"\x89PNG")
        # and a run started after the restart still trains
        run_id = start_run(browser, webs[-1], QUICK)
        html = wait_for_status(browser, webs[0], run_id, ("finished", "failed", "stopped"), 60)
        assert status_of(html) == "finished", message_of(html)
    finally:
        browser.close()
    finished = [accuracy for status, accuracy, _ in before.values() if status == "finished"]
    assert finished and all(finished)


# --- Redis: three web processes, two consumers --------------------------------------------------


class TestRedis:
    def test_an_upload_through_one_web_process_is_found_by_every_other(self, redis_cluster):
        assert len(redis_cluster.webs) == 3
        check_upload_found_everywhere(redis_cluster)

    def test_eight_runs_on_two_consumers_finish_and_show_their_place_while_they_wait(
        self, redis_cluster
    ):
        check_runs_wait_their_turn(redis_cluster, slots=2)

    def test_stop_pressed_on_one_web_process_stops_the_run_another_process_trains(
        self, redis_cluster
    ):
        (a1, a2), (b,) = (serve.webs for serve in redis_cluster.serves)
        check_stop_from_another_process(redis_cluster, start=a1, watch=a2, stop_on=b)

    def test_a_killed_consumer_leaves_its_run_failed_with_the_reason(self, redis_cluster):
        cluster = redis_cluster
        (a1, a2), (b,) = (serve.webs for serve in cluster.serves)
        student = Browser()
        try:
            run_id = start_run(student, b, LONG)
            cluster.runs[run_id] = "started"
            wait_for_status(student, a1, run_id, ("running",), 30)
            (trainer,) = until(cluster.training_pids, 10, "no training process")
            (consumer,) = [p for p in cluster.consumers if trainer in children_of(p.pid)]
            for pid in [*children_of(consumer.pid), consumer.pid]:  # as the OOM killer would
                os.kill(pid, signal.SIGKILL)
            killed = time.monotonic()
            consumer.wait(5)
            cluster.consumers.remove(consumer)
            html = wait_for_status(student, a2, run_id, ("failed", "stopped", "finished"), 20)
            noticed_after = time.monotonic() - killed
            cluster.runs[run_id] = status_of(html)
            assert status_of(html) == "failed"
            assert noticed_after < 15, noticed_after
            assert LOST in message_of(html), message_of(html)
            page = student.get(b, f"/train/runs/{run_id}")
            assert page.status == 200 and status_of(page.text) == "failed"
            shown = message_of(page.text)
            assert shown.startswith("The run failed: " + LOST), shown
            # The other consumer trains on, and a new one takes the killed one's place.
            cluster.consumers.append(cluster.services.start("worker", "--concurrency", "1"))
            run_id = start_run(student, a1, QUICK)
            html = wait_for_status(student, b, run_id, ("finished", "failed", "stopped"), 60)
            cluster.runs[run_id] = status_of(html)
            assert status_of(html) == "finished", message_of(html)
        finally:
            student.close()

    def test_restarting_every_web_process_loses_no_finished_run(self, redis_cluster):
        check_restart_loses_nothing(redis_cluster, redis_cluster.restart_web)


# --- Embedded (no Redis): one serve, two web processes, its own consumer of two slots -----------


class TestEmbedded:
    def test_an_upload_through_one_web_process_is_found_by_the_other(self, embedded_cluster):
        assert len(embedded_cluster.webs) == 2
        check_upload_found_everywhere(embedded_cluster)

    def test_eight_runs_on_two_slots_finish_and_show_their_place_while_they_wait(
        self, embedded_cluster
    ):
        check_runs_wait_their_turn(embedded_cluster, slots=2)

    def test_stop_pressed_on_one_web_process_stops_the_run_the_consumer_trains(
        self, embedded_cluster
    ):
        first, second = embedded_cluster.webs
        check_stop_from_another_process(embedded_cluster, start=first, watch=first, stop_on=second)

    def test_restarting_the_whole_serve_keeps_finished_runs_and_uploads(self, embedded_cluster):
        check_restart_loses_nothing(embedded_cluster, embedded_cluster.restart_web)
