"""A class presses Train at once: N students start LeNet on the digits together, against one alone.

    python -m benchmarks.class_training [--students 60] [--epochs 5] [--quick]
                                        [--redis URL | --with-redis] [--deadline 15]

Protocol. Each setup is a fresh server, started with the command a user types, with a fresh
CNN_DATA_DIR (a temporary folder), on 127.0.0.1:
  (a) embedded: `cnn-playground serve --host 127.0.0.1 --port P` (one web process; its consumer,
      `cnn-playground worker --concurrency <cores>`, is started by serve beside it);
  (b) Redis (--redis URL, an empty database; or --with-redis: a `redis-server --save ""
      --appendonly no` of our own on a free loopback port): `cnn-playground serve --workers 2
      --run-workers 0` and two `cnn-playground worker --concurrency 1`.
A student is a browser of its own (its own cookie jar and keep-alive connection, HTTP/1.1 with
h11 as in benchmarks.classroom): it POSTs the Training form (dataset=digits&size=16&preset=lenet
&epochs=5, with its Origin), follows the 303 to the run page as a browser does, then asks for the
run's status partial (HX-Request) at the interval the partial's own hx-trigger says, as htmx
does (`every 2s` while the run waits in line, `every 500ms` once it trains; a tick that comes
while a request is in flight is dropped), until data-status leaves queued/starting/running/
paused. A student's time is from sending the POST to reading the status that says the run ended,
so it moves in the poll's 0.5 s steps: a lone run of about 1 s of server time reads as 1.0 or
1.5 s depending on which side of a tick it ends. The same ratio is also given by the store's
clock (each run's created and finished times), which has no such steps.
On each server, in this order: one warm-up run (not counted); the reference, one student alone
three times (best and median); as many students as slots at once, three times (how this machine
runs that many side by side, its own scaling, printed beside the ideal); the Filters page idle
(the prober below, 40 requests); then the burst: all students press Train at the same instant
while the prober keeps asking. The burst's
time is until the last student reads its run's end; its ideal is students × the reference's
median ÷ the consumer slots (runs trained at once: the cores in (a), 2 in (b)).
The prober is one more browser that GETs the Filters lab's full page (no HX-Request: what a
student opening the lab waits for, the HTML without its pictures) at a fixed address every
0.25 s; a late answer is followed at once by the next request, without catching up.
Every 0.1 s a sampler thread reads VmRSS and Threads of every process the server started: the
web processes (serve itself with one worker; uvicorn's worker children with two), the consumers
(`cnn-playground worker`) and their training processes (one per run). CPU seconds come from
/proc (a consumer's reaped training processes are in its cutime), and the whole machine's from
/proc/stat: on a shared machine, other people's processes show there. After the burst the runs'
records are read back from the store: when each was created, started and finished, and the
training loop's own seconds, which splits a run's time into its parts.
Errors: any answer other than 2xx (and the POST's 303), a failed request, any run that did not
end "finished", a student past the deadline. The goal, printed and not asserted: the burst within
1.3× its ideal (the stricter of the two ratios: as students saw it, and by the store's clock),
no errors, Filters p95 under 1 s during the burst. Every loop is bounded in
count and by an overall deadline; everything started is stopped in `finally`.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import h11

ROOT = Path(__file__).resolve().parents[1]
FILTERS = "/filters?sample=astronaut&f=sobel_x"
HX = {"hx-request": "true"}
POLL_S = 0.5  # the status partial's fastest hx-trigger: every 500ms (the loop's bound)
TRIGGER = re.compile(r'hx-trigger="every (\d+)(ms|s)"')


def _interval_of(page: str) -> float | None:
    """The polling interval the page asks htmx for, in seconds."""
    match = TRIGGER.search(page)
    if not match:
        return None
    return int(match.group(1)) / (1000 if match.group(2) == "ms" else 1)


PROBE_S = 0.25
IDLE_PROBES = 40
REPEATS = 3  # the reference: one student alone, this many times
SAMPLE_S = 0.1
ACTIVE = ("queued", "starting", "running", "paused")
STATUS = re.compile(r'id="run-status"[^>]*?data-status="([a-z]+)"')
POSITION = re.compile(r'data-testid="queue-position">\D*(\d+)')
RATIO_GOAL, P95_GOAL_S = 1.3, 1.0
REQUEST_TIMEOUT_S = 60.0


def _form(epochs: int) -> bytes:
    return f"dataset=digits&size=16&preset=lenet&epochs={epochs}".encode()


# --- a browser -----------------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict[str, str]
    body: bytes


class Browser:
    """One browser: a keep-alive HTTP/1.1 connection (h11 over asyncio streams, as in
    benchmarks.classroom) and a cookie jar. A request on a kept-alive connection that turns out
    closed is sent again once on a new one, as browsers do."""

    def __init__(self, host: str, port: int) -> None:
        self.host, self.port = host, port
        self.origin = f"http://{host}:{port}"
        self.connection: tuple | None = None  # (reader, writer, h11 connection)
        self.cookies: dict[str, str] = {}
        self.retries = 0

    async def request(self, method: str, target: str, headers: dict[str, str] | None = None,
                      body: bytes = b"") -> Answer:  # fmt: skip
        reused = self.connection is not None
        try:
            return await asyncio.wait_for(
                self._request(method, target, headers or {}, body), REQUEST_TIMEOUT_S
            )
        except (ConnectionError, h11.RemoteProtocolError, asyncio.IncompleteReadError):
            self.close()
            if not reused:
                raise
            self.retries += 1
            return await asyncio.wait_for(
                self._request(method, target, headers or {}, body), REQUEST_TIMEOUT_S
            )
        except BaseException:
            self.close()
            raise

    async def _request(self, method, target, headers, body) -> Answer:
        if self.connection is None:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            self.connection = (reader, writer, h11.Connection(h11.CLIENT))
        reader, writer, connection = self.connection
        sent = [("host", f"{self.host}:{self.port}"), *headers.items()]
        if self.cookies:
            sent.append(("cookie", "; ".join(f"{k}={v}" for k, v in self.cookies.items())))
        if method != "GET":
            sent.append(("content-length", str(len(body))))
        writer.write(connection.send(h11.Request(method=method, target=target, headers=sent)))
        if body:
            writer.write(connection.send(h11.Data(data=body)))
        writer.write(connection.send(h11.EndOfMessage()))
        status, answer_headers, data = 0, {}, bytearray()
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                chunk = await reader.read(65536)
                if not chunk:
                    raise ConnectionError(f"the server closed the connection ({target[:60]})")
                connection.receive_data(chunk)
            elif isinstance(event, h11.Response):
                status = event.status_code
                for name, value in event.headers:
                    name, value = name.decode().lower(), value.decode()
                    if name == "set-cookie":
                        cookie_name, _, rest = value.partition("=")
                        self.cookies[cookie_name.strip()] = rest.split(";", 1)[0].strip()
                    answer_headers[name] = value
            elif isinstance(event, h11.Data):
                data += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
        if connection.our_state is h11.DONE and connection.their_state is h11.DONE:
            connection.start_next_cycle()
        else:
            self.close()
        return Answer(status, answer_headers, bytes(data))

    def close(self) -> None:
        if self.connection is not None:
            self.connection[1].close()
            self.connection = None


# --- students and the prober ---------------------------------------------------------------------


@dataclass
class Student:
    pressed: float = 0.0  # perf_counter when the POST was sent
    ended: float | None = None  # perf_counter when the end was read
    ended_wall: float | None = None  # the same instant, wall clock (to compare with the store)
    run_id: str = ""
    status: str = ""
    polls: int = 0
    first_position: int | None = None
    requests: int = 0
    retries: int = 0
    errors: list[str] = field(default_factory=list)

    @property
    def seconds(self) -> float | None:
        return self.ended - self.pressed if self.ended is not None else None


def _status_of(text: str) -> str:
    match = STATUS.search(text)
    return match.group(1) if match else ""


async def press_train(base: str, body: bytes, deadline: float) -> Student:
    """One student: press Train, land on the run page, watch the status until the run ends."""
    host, port = base.removeprefix("http://").split(":")
    browser, student = Browser(host, int(port)), Student()
    max_polls = int(max(0.0, deadline - time.monotonic()) / POLL_S) + 10
    try:
        form = {"content-type": "application/x-www-form-urlencoded", "origin": browser.origin}
        student.pressed = time.perf_counter()
        answer = await browser.request("POST", "/train/runs", form, body)
        student.requests += 1
        if answer.status != 303:
            student.errors.append(f"POST /train/runs answered {answer.status}")
            return student
        location = answer.headers.get("location", "")
        student.run_id = location.rsplit("/", 1)[-1]
        answer = await browser.request("GET", location)  # the run page the browser lands on
        student.requests += 1
        if answer.status != 200:
            student.errors.append(f"the run page answered {answer.status}")
        page = answer.body.decode()
        status = _status_of(page) or "queued"
        interval = _interval_of(page) or POLL_S
        tick = time.perf_counter() + interval
        while status in ACTIVE:
            if student.polls >= max_polls or time.monotonic() > deadline:
                student.errors.append(f"still {status} at the deadline")
                break
            await asyncio.sleep(max(0.0, tick - time.perf_counter()))
            answer = await browser.request("GET", f"/train/runs/{student.run_id}/status", HX)
            student.requests += 1
            student.polls += 1
            now = time.perf_counter()
            while tick <= now:  # htmx drops the ticks that came while the request was out
                tick += interval
            if answer.status != 200:
                student.errors.append(f"the status partial answered {answer.status}")
                continue  # htmx keeps polling after an error
            text = answer.body.decode()
            status = _status_of(text) or status
            asked = _interval_of(text)
            if asked and asked != interval:  # htmx restarts the element's timer with the new one
                interval, tick = asked, now + asked
            position = POSITION.search(text)
            if position and student.first_position is None:
                student.first_position = int(position.group(1))
        student.ended, student.ended_wall = time.perf_counter(), time.time()
        student.status = status
        if status != "finished":
            student.errors.append(f"the run ended {status}")
    except Exception as error:  # every failure counts; the class goes on
        student.errors.append(f"{type(error).__name__}: {error}"[:200])
    finally:
        student.retries = browser.retries
        browser.close()
    return student


@dataclass
class Probe:
    latencies: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    def percentile(self, q: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


async def probe_filters(base: str, probe: Probe, count: int, stop: asyncio.Event | None,
                        deadline: float) -> None:  # fmt: skip
    """GET the Filters page every PROBE_S seconds, `count` times at most, until `stop`."""
    host, port = base.removeprefix("http://").split(":")
    browser = Browser(host, int(port))
    tick = time.perf_counter()
    try:
        for _ in range(count):
            if (stop is not None and stop.is_set()) or time.monotonic() > deadline:
                break
            start = time.perf_counter()
            try:
                answer = await browser.request("GET", FILTERS)
                probe.latencies.append(time.perf_counter() - start)
                if answer.status != 200:
                    probe.errors.append(f"{FILTERS} answered {answer.status}")
            except Exception as error:
                probe.errors.append(f"{type(error).__name__}: {error}"[:200])
            tick = max(tick + PROBE_S, time.perf_counter())
            await asyncio.sleep(tick - time.perf_counter())
    finally:
        browser.close()


# --- processes -----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _read(path: str) -> str:
    try:
        return Path(path).read_text()
    except OSError:
        return ""


def _argv(pid: int) -> list[str]:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().decode(errors="replace").split("\0")
    except OSError:
        return []


def _children(pid: int) -> list[int]:
    found = []
    try:
        tasks = os.listdir(f"/proc/{pid}/task")
    except OSError:
        return found
    for task in tasks:  # a child started from another thread is listed under that thread
        found += [int(c) for c in _read(f"/proc/{pid}/task/{task}/children").split()]
    return found


def _status_fields(pid: int) -> tuple[int, int]:
    """(VmRSS bytes, threads) of a live process, (0, 0) once it is gone."""
    rss = threads = 0
    for line in _read(f"/proc/{pid}/status").splitlines():
        if line.startswith("VmRSS:"):
            rss = int(line.split()[1]) * 1024
        elif line.startswith("Threads:"):
            threads = int(line.split()[1])
    return rss, threads


def _cpu(pid: int, with_children: bool = False) -> float:
    text = _read(f"/proc/{pid}/stat")
    if not text:
        return 0.0
    fields = text.rsplit(")", 1)[1].split()
    ticks = int(fields[11]) + int(fields[12])
    if with_children:  # children reaped by this process (a consumer's training processes)
        ticks += int(fields[13]) + int(fields[14])
    return ticks / os.sysconf("SC_CLK_TCK")


def _machine() -> dict[str, float]:
    """CPU seconds the whole machine spent so far (/proc/stat): busy (user, nice, system, irq,
    softirq) and stolen by the hypervisor."""
    fields = [int(v) for v in _read("/proc/stat").splitlines()[0].split()[1:]]
    tick = os.sysconf("SC_CLK_TCK")
    busy = fields[0] + fields[1] + fields[2] + fields[5] + fields[6]
    return {"busy": busy / tick, "steal": (fields[7] if len(fields) > 7 else 0) / tick}


class Setup:
    """One server setup: the processes a user starts, on 127.0.0.1, with a fresh data folder."""

    def __init__(self, label: str, description: str, web_workers: int,
                 run_workers: int | None, consumers: int, redis_url: str = "",
                 start_redis: bool = False) -> None:  # fmt: skip
        self.label, self.description = label, description
        self.web_workers = web_workers
        self.run_workers = run_workers
        self.consumers = consumers  # `cnn-playground worker --concurrency 1` started beside
        self.redis_url = redis_url
        self.start_redis = start_redis
        self.slots = (run_workers if run_workers is not None else os.cpu_count() or 1) + consumers
        self.folder = self.data_dir = Path()
        self.processes: list[tuple[str, subprocess.Popen]] = []  # (role, process)
        self.port = _free_port()
        self.base = f"http://127.0.0.1:{self.port}"

    def command(self) -> list[str]:
        cli = Path(sys.executable).with_name("cnn-playground")
        return [str(cli) if cli.exists() else shutil.which("cnn-playground") or "cnn-playground"]

    def _spawn(self, role: str, argv: list[str], env: dict[str, str]) -> subprocess.Popen:
        log = open(self.folder / f"{role}-{len(self.processes)}.log", "wb")  # noqa: SIM115
        process = subprocess.Popen(argv, env=env, cwd=self.folder, stdout=log,
                                   stderr=subprocess.STDOUT, start_new_session=True)  # fmt: skip
        log.close()
        self.processes.append((role, process))
        return process

    def start(self) -> None:
        self.folder = Path(tempfile.mkdtemp(prefix="cnn-class-training-"))
        self.data_dir = self.folder / "data"
        env = {k: v for k, v in os.environ.items()
               if k not in ("CNN_REDIS_URL", "CNN_DATA_DIR", "CNN_RUN_WORKERS")}  # fmt: skip
        env["CNN_DATA_DIR"] = str(self.data_dir)
        if self.start_redis:
            redis_port = _free_port()
            self._spawn("redis", ["redis-server", "--port", str(redis_port), "--bind",
                                  "127.0.0.1", "--save", "", "--appendonly", "no",
                                  "--dir", str(self.folder)], env)  # fmt: skip
            self.redis_url = f"redis://127.0.0.1:{redis_port}/0"
        if self.redis_url:
            self._check_redis()
            env["CNN_REDIS_URL"] = self.redis_url
        serve = [*self.command(), "serve", "--host", "127.0.0.1", "--port", str(self.port)]
        if self.web_workers != 1:
            serve += ["--workers", str(self.web_workers)]
        if self.run_workers is not None:
            serve += ["--run-workers", str(self.run_workers)]
        self._spawn("serve", serve, env)
        for _ in range(self.consumers):
            self._spawn("worker", [*self.command(), "worker", "--concurrency", "1"], env)
        self._wait_healthy()

    def _check_redis(self) -> None:
        import redis

        client = redis.Redis.from_url(self.redis_url, socket_timeout=2)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.exceptions.ConnectionError:
                time.sleep(0.05)
        keys = client.dbsize()
        if keys and not self.start_redis:
            raise RuntimeError(
                f"{self.redis_url} holds {keys} keys: give an empty database (another "
                "number, e.g. /15); this benchmark does not flush one"
            )

    def _wait_healthy(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            for role, process in self.processes:
                if process.poll() is not None:
                    raise RuntimeError(f"{role} exited with {process.returncode}: {self.logs()}")
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the server did not start: {self.logs()}") from None
                time.sleep(0.1)

    def logs(self, lines: int = 15) -> str:
        tails = []
        for path in sorted(self.folder.glob("*.log")):
            tail = path.read_text(errors="replace").splitlines()[-lines:]
            tails.append(f"--- {path.name}\n" + "\n".join(tail))
        return "\n".join(tails)

    def tree(self) -> list[tuple[int, str]]:
        """(pid, role) of every process the setup runs now: web, supervisor (uvicorn's parent
        of its web workers), consumer, training, redis or other (resource trackers)."""
        found: list[tuple[int, str]] = []

        def walk(pid: int, role: str) -> None:
            argv = _argv(pid)
            if any("resource_tracker" in part for part in argv):
                role = "other"
            elif role != "training" and "worker" in argv[1:5]:
                role = "consumer"  # (a consumer's child just forked still has its argv)
            found.append((pid, role))
            child_role = {"consumer": "training", "supervisor": "web"}.get(role, "other")
            for child in _children(pid):
                walk(child, child_role)

        for role, process in self.processes:
            if process.poll() is None:
                if role == "serve":
                    role = "web" if self.web_workers == 1 else "supervisor"
                walk(process.pid, role)
        return found

    def cpu(self) -> dict[str, float]:
        """CPU seconds so far by role: "consumer" is the consumers with their training
        processes (reaped ones are in their cutime), "supervising" the consumers alone."""
        totals: dict[str, float] = {}
        for pid, role in self.tree():
            seconds = _cpu(pid, with_children=role == "consumer")
            key = "consumer" if role == "training" else role
            totals[key] = totals.get(key, 0.0) + seconds
            if role == "consumer":
                totals["supervising"] = totals.get("supervising", 0.0) + _cpu(pid)
        return totals

    def stop(self) -> None:
        for _, process in reversed(self.processes):
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
        for _, process in reversed(self.processes):
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        for _, process in self.processes:  # what they left behind in their own session
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)
        if self.folder != Path():
            shutil.rmtree(self.folder, ignore_errors=True)


class Sampler(threading.Thread):
    """Every SAMPLE_S seconds: VmRSS and threads of each of the setup's processes. `phase()`
    returns the peaks since the last call and starts counting anew."""

    def __init__(self, setup: Setup) -> None:
        super().__init__(daemon=True, name="rss-sampler")
        self.setup = setup
        self.done = threading.Event()
        self.lock = threading.Lock()
        self.cpu_seconds = 0.0
        self._reset()

    def _reset(self) -> None:
        self.one: dict[str, int] = {}  # role: peak RSS of one process
        self.total: dict[str, int] = {}  # role: peak of the role's sum
        self.threads: dict[str, int] = {}  # role: most threads in one process
        self.pids: dict[str, set[int]] = {}  # role: processes seen
        self.lifetimes: dict[int, list[float]] = {}  # training pid: [first seen, last seen]

    def phase(self) -> dict:
        with self.lock:
            peaks = {"one": self.one, "total": self.total, "threads": self.threads,
                     "pids": self.pids, "lifetimes": self.lifetimes}  # fmt: skip
            self._reset()
        return peaks

    def run(self) -> None:
        while not self.done.wait(SAMPLE_S):
            now = time.monotonic()
            sums: dict[str, int] = {}
            readings = [(pid, role, *_status_fields(pid)) for pid, role in self.setup.tree()]
            with self.lock:
                for pid, role, rss, threads in readings:
                    if not rss:
                        continue
                    self.one[role] = max(self.one.get(role, 0), rss)
                    self.threads[role] = max(self.threads.get(role, 0), threads)
                    self.pids.setdefault(role, set()).add(pid)
                    sums[role] = sums.get(role, 0) + rss
                    if role == "training":
                        self.lifetimes.setdefault(pid, [now, now])[1] = now
                for role, rss in sums.items():
                    self.total[role] = max(self.total.get(role, 0), rss)
        self.cpu_seconds = time.thread_time()


# --- one setup -----------------------------------------------------------------------------------


@dataclass
class Result:
    setup: Setup
    students: int
    warm_up: Student
    alone: list[Student]
    pairs: list[list[Student]]  # slots students at once, REPEATS times
    idle: Probe
    busy: Probe
    burst: list[Student]
    burst_seconds: float
    peaks: dict
    cpu: dict[str, float]  # CPU seconds during the burst, by role, and "clients"
    cpu_alone: dict[str, float]  # during the reference runs
    machine: dict[str, float]  # the whole machine's CPU seconds during the burst
    records_alone: list
    records_burst: list
    sampler_cpu: float = 0.0
    error: str = ""

    @property
    def reference(self) -> float:
        times = [s.seconds for s in self.alone if s.seconds is not None and not s.errors]
        return statistics.median(times) if times else float("nan")

    @property
    def best(self) -> float:
        times = [s.seconds for s in self.alone if s.seconds is not None and not s.errors]
        return min(times) if times else float("nan")

    @property
    def pair(self) -> float:
        """Median time until all of `slots` students pressing Train together see the end."""
        times = [max(s.ended for s in group) - min(s.pressed for s in group)
                 for group in self.pairs
                 if all(s.ended is not None and not s.errors for s in group)]  # fmt: skip
        return statistics.median(times) if times else float("nan")

    @property
    def store_ratio(self) -> float:
        """The burst ÷ its ideal from the store's clock, without the poll's 0.5 s steps: the
        first creation to the last finish, against students × a lone run's created→finished
        (median) ÷ slots."""
        alone = [r.finished - r.created for r in self.records_alone if r.finished]
        burst = [r for r in self.records_burst if r.finished]
        if not alone or len(burst) < self.students:
            return float("nan")
        span = max(r.finished for r in burst) - min(r.created for r in burst)
        return span / self.ideal(statistics.median(alone))

    def ideal(self, seconds: float) -> float:
        return self.students * seconds / self.setup.slots

    @property
    def errors(self) -> list[str]:
        pairs = [s for group in self.pairs for s in group]
        found = [e for s in [self.warm_up, *self.alone, *pairs, *self.burst] for e in s.errors]
        return found + self.idle.errors + self.busy.errors + ([self.error] if self.error else [])


def _delta(after: dict[str, float], before: dict[str, float]) -> dict[str, float]:
    return {k: after.get(k, 0.0) - before.get(k, 0.0) for k in after.keys() | before.keys()}


def _records(setup: Setup, run_ids: list[str]) -> list:
    from app.config import Settings
    from app.runs import record
    from app.store import open_store

    store = open_store(Settings(data_dir=setup.data_dir, redis_url=setup.redis_url))
    return [run for run in (record.load(store, i) for i in run_ids if i) if run is not None]


def measure(setup: Setup, students: int, epochs: int, deadline: float) -> Result:
    body = _form(epochs)
    setup.start()
    sampler = Sampler(setup)
    sampler.start()
    try:
        warm_up = asyncio.run(press_train(setup.base, body, deadline))
        cpu_before, alone = setup.cpu(), []
        for _ in range(REPEATS):
            alone.append(asyncio.run(press_train(setup.base, body, deadline)))
        cpu_alone = _delta(setup.cpu(), cpu_before)
        pairs = []  # as many students as slots, at once: how the machine itself scales
        for _ in range(REPEATS):
            pairs.append(asyncio.run(_together(setup.base, body, setup.slots, deadline)))
        idle = Probe()
        asyncio.run(probe_filters(setup.base, idle, IDLE_PROBES, None, deadline))
        sampler.phase()  # the peaks from here on are the burst's

        busy = Probe()

        async def burst() -> tuple[list[Student], float]:
            stop = asyncio.Event()
            prober = asyncio.create_task(
                probe_filters(setup.base, busy, 10**6, stop, deadline)
            )  # fmt: skip
            start = time.perf_counter()
            everyone = await asyncio.gather(
                *(press_train(setup.base, body, deadline) for _ in range(students))
            )
            ends = [s.ended for s in everyone if s.ended is not None]
            stop.set()
            await prober
            return list(everyone), (max(ends) if ends else time.perf_counter()) - start

        cpu_before, client_before, machine = setup.cpu(), time.process_time(), _machine()
        everyone, seconds = asyncio.run(burst())
        cpu = _delta(setup.cpu(), cpu_before) | {"clients": time.process_time() - client_before}
        machine = _delta(_machine(), machine)
        peaks = sampler.phase()
        records_alone = _records(setup, [s.run_id for s in alone])
        records_burst = _records(setup, [s.run_id for s in everyone])
    finally:
        sampler.done.set()
        sampler.join(timeout=5)
        setup.stop()
    return Result(setup, students, warm_up, alone, pairs, idle, busy, everyone, seconds, peaks,
                  cpu, cpu_alone, machine, records_alone, records_burst,
                  sampler.cpu_seconds)  # fmt: skip


async def _together(base: str, body: bytes, count: int, deadline: float) -> list[Student]:
    return list(await asyncio.gather(*(press_train(base, body, deadline) for _ in range(count))))


# --- the report ----------------------------------------------------------------------------------

MB = 1024 * 1024


def _median(values) -> float:
    values = [v for v in values if v is not None]
    return statistics.median(values) if values else float("nan")


def _breakdown(records: list) -> dict[str, float]:
    """From the runs' records: queue wait, the slot's time (start to finish: the training
    process's spawn, imports, data and the loop), the loop's own seconds."""
    done = [r for r in records if r.started and r.finished]
    if not done:
        return {}
    slot = [r.finished - r.started for r in done]
    return {
        "wait": _median(r.started - r.created for r in done),
        "slot": _median(slot),
        "slot_mean": statistics.fmean(slot),
        "loop": _median(r.seconds for r in done),
        "loop_mean": statistics.fmean(r.seconds for r in done),
        "span": max(r.finished for r in done) - min(r.created for r in done),
        "busy": sum(slot),
        "last_start": max(r.started for r in done) - min(r.created for r in done),
    }


def _ratio(value: float, reference: float) -> float:
    return value / reference if reference and reference == reference else float("nan")


def _poll_lag(result: Result) -> float:
    finished = {r.id: r.finished for r in result.records_burst if r.finished}
    return _median(s.ended_wall - finished[s.run_id] for s in result.burst
                   if s.ended_wall is not None and s.run_id in finished)  # fmt: skip


def report(result: Result) -> bool:
    """Print one setup's figures; True when it met the goal."""
    setup, peaks = result.setup, result.peaks
    reference, best, students = result.reference, result.best, result.students
    ideal = result.ideal(reference)
    ratio = _ratio(result.burst_seconds, ideal)
    errors = result.errors
    busy_p50, busy_p95 = result.busy.percentile(0.5), result.busy.percentile(0.95)
    idle_p50, idle_p95 = result.idle.percentile(0.5), result.idle.percentile(0.95)
    print(f"({setup.label}) {setup.description}")
    alone = ", ".join(f"{s.seconds:.2f}" if s.seconds else "–" for s in result.alone)
    print(f"  warm-up run {result.warm_up.seconds or float('nan'):.2f} s (not counted); one "
          f"student alone: {alone} s: best {best:.2f} s, median {reference:.2f} s (the "
          f"reference); {setup.slots} students at once: {result.pair:.2f} s median of "
          f"{len(result.pairs)} ({_ratio(result.pair, reference):.2f}× one alone: how the "
          f"machine runs {setup.slots} at a time)")  # fmt: skip
    pair_ideal = students / setup.slots * result.pair
    print(f"  burst: {students} students at once, the last run finished after "
          f"{result.burst_seconds:.1f} s; ideal {students} × {reference:.2f} s ÷ {setup.slots} "
          f"slots = {ideal:.1f} s: {ratio:.2f}× ideal "
          f"({_ratio(result.burst_seconds, result.ideal(best)):.2f}× with the best; "
          f"{_ratio(result.burst_seconds, pair_ideal):.2f}× {students} ÷ {setup.slots} × the "
          f"{setup.slots} at once)")  # fmt: skip
    times = sorted(s.seconds for s in result.burst if s.seconds is not None)
    positions = [s.first_position for s in result.burst if s.first_position is not None]
    print(f"  a student's wait in the burst: median {_median(times):.1f} s, first "
          f"{times[0] if times else float('nan'):.1f} s; queue positions shown "
          f"{min(positions, default=0)} to {max(positions, default=0)}; requests "
          f"{sum(s.requests for s in result.burst)} ({sum(s.polls for s in result.burst)} "
          f"status polls), sent again {sum(s.retries for s in result.burst)}")  # fmt: skip
    print(f"  errors: {len(errors)}" + "".join(f"\n    {e}" for e in sorted(set(errors))[:5]))
    print(f"  Filters page ({FILTERS}, full page, every {PROBE_S:g} s): idle p50 "
          f"{idle_p50 * 1000:.0f} ms, p95 {idle_p95 * 1000:.0f} ms ({len(result.idle.latencies)}"
          f" requests); in the burst p50 {busy_p50 * 1000:.0f} ms, p95 {busy_p95 * 1000:.0f} ms,"
          f" max {max(result.busy.latencies, default=0) * 1000:.0f} ms "
          f"({len(result.busy.latencies)} requests): {_ratio(busy_p50, idle_p50):.1f}× and "
          f"{_ratio(busy_p95, idle_p95):.1f}× idle")  # fmt: skip
    one, total, threads, pids = peaks["one"], peaks["total"], peaks["threads"], peaks["pids"]

    def rss(role: str, name: str) -> str:
        count = len(pids.get(role, ()))
        return (f"{name} ({count}) {one.get(role, 0) / MB:.0f} MB one at most, "
                f"{total.get(role, 0) / MB:.0f} MB together")  # fmt: skip

    extra = [f"uvicorn's supervisor {one[r] / MB:.0f} MB" if r == "supervisor"
             else f"redis-server {one[r] / MB:.0f} MB" for r in ("supervisor", "redis")
             if r in one]  # fmt: skip
    print(f"  peak RSS in the burst (VmRSS every {SAMPLE_S:g} s): "
          + "; ".join([rss("web", "web processes"), rss("consumer", "consumers"),
                       rss("training", "training processes"), *extra]))  # fmt: skip
    lives = [last - first for first, last in peaks["lifetimes"].values()]
    print(f"  training processes: one per run ({len(pids.get('training', ()))} seen), each "
          f"alive {_median(lives):.2f} s median as sampled, {threads.get('training', 0)} "
          f"threads at most; a consumer {threads.get('consumer', 0)} threads")  # fmt: skip
    parts_alone, parts = _breakdown(result.records_alone), _breakdown(result.records_burst)
    if parts_alone and parts:
        idle_slots = setup.slots * parts["span"] - parts["busy"]
        print(f"  from the store, alone: queued→started {parts_alone['wait']:.2f} s, the slot "
              f"(started→finished) {parts_alone['slot']:.2f} s, of which the training loop "
              f"{parts_alone['loop']:.2f} s (medians); in the burst: slot median "
              f"{parts['slot']:.2f} s, mean {parts['slot_mean']:.2f} s, loop median "
              f"{parts['loop']:.2f} s, mean {parts['loop_mean']:.2f} s; the last run started "
              f"{parts['last_start']:.1f} s in; "
              f"slots busy {_ratio(parts['busy'], setup.slots * parts['span']):.0%} of the "
              f"burst ({idle_slots / max(1, students):.2f} slot-s idle per run); {students} × the "
              f"alone slot ÷ {setup.slots} = "
              f"{students * parts_alone['slot'] / setup.slots:.1f} s; by the store's clock "
              f"(created→finished, no polling steps) the burst took {parts['span']:.1f} s, "
              f"{result.store_ratio:.2f}× its ideal; a student read the end "
              f"{_poll_lag(result):.2f} s after it (median)")  # fmt: skip
    cpu, cores, machine = dict(result.cpu), os.cpu_count() or 1, result.machine
    supervising = cpu.pop("supervising", 0.0)
    web_cpu = cpu.get("web", 0) + cpu.get("supervisor", 0)
    requests = sum(s.requests for s in result.burst) + len(result.busy.latencies)
    ours = sum(cpu.values())
    available = cores * result.burst_seconds
    per_run_alone = result.cpu_alone.get("consumer", 0.0) / max(1, len(result.alone))
    print(f"  CPU seconds in the burst: web {web_cpu:.1f} ({_ratio(web_cpu, requests) * 1000:.1f}"
          f" ms a request), consumers with their training {cpu.get('consumer', 0):.1f} "
          f"({_ratio(cpu.get('consumer', 0), students):.2f} per run, of which supervising "
          f"{_ratio(supervising, students):.2f}; alone {per_run_alone:.2f}), simulated clients "
          f"{cpu['clients']:.1f}"
          + (f", redis {cpu.get('redis', 0):.1f}" if "redis" in cpu else "")
          + f": {ours:.0f} of {available:.0f} ({cores} cores × {result.burst_seconds:.0f} s); "
          f"the whole machine {machine['busy']:.0f} busy (others' processes "
          f"{max(0.0, machine['busy'] - ours):.0f}), {machine['steal']:.1f} stolen; the sampler "
          f"thread {result.sampler_cpu:.1f} in the whole setup")  # fmt: skip
    # The stricter of the two ratios: as students saw it, the poll's steps can flatter (a lone
    # run read at a 2 s poll makes a slow reference); the store's clock has no steps.
    judged = max(ratio, result.store_ratio)
    met = judged <= RATIO_GOAL and not errors and busy_p95 < P95_GOAL_S
    print(
        f"  goal: within {RATIO_GOAL:g}× ideal ({judged:.2f}×: the store's clock "
        f"{result.store_ratio:.2f}×, as students saw it {ratio:.2f}×), no errors ({len(errors)}), "
        f"Filters p95 < {P95_GOAL_S:g} s ({busy_p95:.2f} s): {'PASS' if met else 'MISS'}"
    )
    return met


def _table(results: list[Result]) -> None:
    print(f"{'setup':<10}{'slots':>6}{'alone s':>8}{'burst s':>8}{'÷ ideal':>8}{'÷ best':>7}"
          f"{'÷ pairs':>8}{'store':>7}{'errors':>7}{'F p50':>7}{'F p95':>7}{'F p95 s':>8}"
          f"{'web MB':>7}{'cons MB':>8}{'train MB':>9}")  # fmt: skip
    for r in results:
        pair_ideal = r.students / r.setup.slots * r.pair
        one = r.peaks["one"]
        print(f"{r.setup.label:<10}{r.setup.slots:>6}{r.reference:>8.2f}{r.burst_seconds:>8.1f}"
              f"{_ratio(r.burst_seconds, r.ideal(r.reference)):>7.2f}×"
              f"{_ratio(r.burst_seconds, r.ideal(r.best)):>6.2f}×"
              f"{_ratio(r.burst_seconds, pair_ideal):>7.2f}×{r.store_ratio:>6.2f}×"
              f"{len(r.errors):>7}"
              f"{_ratio(r.busy.percentile(0.5), r.idle.percentile(0.5)):>6.1f}×"
              f"{_ratio(r.busy.percentile(0.95), r.idle.percentile(0.95)):>6.1f}×"
              f"{r.busy.percentile(0.95):>8.2f}{one.get('web', 0) / MB:>7.0f}"
              f"{one.get('consumer', 0) / MB:>8.0f}"
              f"{one.get('training', 0) / MB:>9.0f}")  # fmt: skip


def _blas() -> str:
    names = sorted(k for k in os.environ if k.startswith("OPENBLAS"))
    shown = ", ".join(f"{k}={os.environ[k]}" for k in names) or "no OPENBLAS_* set"
    others = ", ".join(f"{k}={os.environ[k]}" for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS")
                       if k in os.environ)  # fmt: skip
    return shown + (f"; {others}" if others else "")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=None, help="60 (12 with --quick)")
    parser.add_argument("--epochs", type=int, default=None, help="5 (2 with --quick)")
    parser.add_argument("--quick", action="store_true", help="12 students, 2 epochs")
    where = parser.add_mutually_exclusive_group()
    where.add_argument("--redis", metavar="URL", help="setup (b) on this Redis (an empty db)")
    where.add_argument("--with-redis", action="store_true",
                       help="setup (b) on a redis-server of our own (on PATH)")  # fmt: skip
    parser.add_argument("--deadline", type=float, default=15.0, help="minutes, for everything")
    parser.add_argument("--only", choices=("embedded", "redis"), help="one setup")
    args = parser.parse_args(argv)
    students = args.students or (12 if args.quick else 60)
    epochs = args.epochs or (2 if args.quick else 5)
    deadline = time.monotonic() + args.deadline * 60
    sys.path.insert(0, str(ROOT))

    cores = os.cpu_count() or 1
    setups = []
    if args.only != "redis":
        setups.append(Setup("embedded", f"a: embedded store, `serve` (1 web process, its "
                             f"consumer with {cores} slots)", 1, None, 0))  # fmt: skip
    redis_note = ""
    if args.only != "embedded":
        if args.redis or (args.with_redis and shutil.which("redis-server")):
            kind = args.redis or "a redis-server of our own"
            setups.append(Setup("redis", f"b: Redis ({kind}), `serve --workers 2 "
                                 "--run-workers 0` and 2 × `worker --concurrency 1`", 2, 0, 2,
                                 args.redis or "", not args.redis))  # fmt: skip
        else:
            redis_note = ("(b) Redis: skipped, " + ("no redis-server on PATH" if args.with_redis
                          else "give --redis URL or --with-redis"))  # fmt: skip
    print(
        f"Class training: {students} students press Train on LeNet at once (digits, 16 px, "
        f"{epochs} epochs), against one student alone on the same server. {cores} cores; "
        f"BLAS: {_blas()} (training processes set 1 thread themselves, app.runs.entry). Load "
        f"average before: {' '.join(_read('/proc/loadavg').split()[:3])}."
    )
    results, status = [], 0
    for setup in setups:
        if time.monotonic() > deadline:
            print(f"({setup.label}) skipped: past the {args.deadline:g}-minute deadline")
            status = 1
            continue
        try:
            result = measure(setup, students, epochs, deadline)
        except Exception as error:
            print(f"({setup.label}) did not run: {type(error).__name__}: {error}")
            status = 1
            continue
        report(result)
        results.append(result)
    if redis_note:
        print(redis_note)
    if results:
        print("Ratios: burst ÷ ideal (students × alone's median ÷ slots), ÷ best (the same with"
              " alone's best), ÷ pairs (students ÷ slots × slots-at-once' median), store (÷ ideal"
              " by the store's clock); F = Filters page, burst ÷ idle; MB = peak RSS of one"
              " process in the burst")  # fmt: skip
        _table(results)
    return status


if __name__ == "__main__":
    raise SystemExit(main())
