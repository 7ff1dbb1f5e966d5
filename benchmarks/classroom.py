"""A classroom on one server: N simulated students on a lab at once, against one student alone.

Protocol, the same for both sides: a fresh server process (`uvicorn app.main:app`, one worker, its
default settings) per lab and per side, and one warm-up action on one variant. Then each student,
for the given seconds, first opens the lab's page (its default settings, with its stylesheet and
scripts, as everyone does when told to), then repeats: choose one of the lab's setting variants at
random (a class following the teacher often asks for the same thing, and explores too), ask for
the lab's htmx fragment, fetch every picture it shows that its browser has not cached yet, at once
(as a browser does, up to 6 connections), and think for 1 to 3 seconds. An action's latency is
the time until the page or fragment and all its pictures are in: what a student waits for.
Students join within the first second, as a class told "open the Filters lab now" does.

Reported per lab: actions, errors (any non-2xx or failed request), p50 and p95 action latency,
and peak RSS of the server process (sampled every 0.1 s) beyond its idle RSS after the warm-up,
each with the ratio of N students to one. The budget is the two caches' configured bytes. The
simulated browsers (class Browser) share the machine's cores with the server: their own work is
in the figures, and the CPU seconds of both sides are printed.
"""

from __future__ import annotations

import asyncio
import os
import random
import re
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import h11

ROOT = Path(__file__).resolve().parents[1]
HX = {"HX-Request": "true"}
PICTURES = re.compile(r'(?:src|href)="(/(?:filters|pooling|optimizers)/[a-z]+\.png\?[^"]*)"')
ASSETS = re.compile(r'(?:src|href)="(/static/[^"]+)"')
P95_TARGET_S = 1.0
IDLE_REUSE_S = 4.0  # a kept-alive connection older than this is not reused


def _variants() -> dict[str, list[str]]:
    samples = ("astronaut", "coffee", "camera", "brick")
    kernels = ("sobel_x", "sobel_y", "laplacian", "box_blur", "gaussian", "sharpen")
    filters = [f"sample={s}&f={k}&res={r}" for s in samples for k in kernels for r in (128, 256)]
    surfaces = ("rosenbrock", "beale", "himmelblau", "saddle", "rastrigin")
    optimizers = [f"surface={s}&o1=sgd&o2=momentum&o3=adam&lr3={lr}"
                  for s in surfaces for lr in (0.005, 0.01, 0.05, 0.1)]  # fmt: skip
    pooling = [f"sample={s}&dx={dx}&dy={dy}&ptype={t}"
               for s in samples for dx, dy in ((4, 0), (2, 2), (-6, 0), (0, 8), (12, -3))
               for t in ("max", "avg")]  # fmt: skip
    return {"filters": filters, "optimizers": optimizers, "pooling": pooling}


@dataclass(eq=False)
class Side:
    """One lab, one number of students."""

    students: int
    latencies: list[float] = field(default_factory=list)
    started: list[float] = field(default_factory=list)  # when each action began (monotonic s)
    errors: list[str] = field(default_factory=list)
    retries: int = 0  # requests sent again on a fresh connection, as a browser does
    requests: list[float] = field(default_factory=list)  # every request's latency
    idle_rss: int = 0
    peak_rss: int = 0

    server_cpu: float = 0.0  # CPU seconds of the server process during the run
    client_cpu: float = 0.0  # CPU seconds of the simulated browsers (this process)

    @property
    def rss_growth(self) -> int:
        return max(0, self.peak_rss - self.idle_rss)

    def settled(self, after: float = 10.0) -> list[float]:
        """Latencies of actions begun `after` seconds or more into the run."""
        if not self.started:
            return []
        first = min(self.started)
        return [
            lat for t, lat in zip(self.started, self.latencies, strict=True) if t - first >= after
        ]

    def percentile(self, q: float, values: list[float] | None = None) -> float:
        ordered = sorted(self.latencies if values is None else values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))] if ordered else 0.0


@dataclass
class LabResult:
    lab: str
    alone: Side
    together: Side
    budget: int


def _rss(pid: int, name: str = "VmRSS") -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(name + ":"):
            return int(line.split()[1]) * 1024
    return 0


def _cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Browser:
    """A student's browser as a load generator: keep-alive HTTP/1.1 over asyncio streams with h11
    (what uvicorn parses with), up to 6 connections. Lighter than a full client library, so that
    on one machine the sixty simulated browsers take as little as possible of the cores the
    server needs. Like a browser, it retries a request once when a kept-alive connection turns
    out to be closed."""

    def __init__(self, host: str, port: int, connections: int = 6) -> None:
        self.host, self.port = host, port
        self.idle: list[tuple] = []  # (reader, writer, h11 connection, last used)
        self.slots = asyncio.Semaphore(connections)
        self.retries = 0
        self.request_times: list[float] = []  # each request, from asking to the last byte

    async def get(self, target: str, headers: dict[str, str] | None = None) -> tuple[int, bytes]:
        start = time.perf_counter()
        try:
            return await self._get_in_a_slot(target, headers)
        finally:
            self.request_times.append(time.perf_counter() - start)

    async def _get_in_a_slot(self, target: str, headers) -> tuple[int, bytes]:
        async with self.slots:
            # uvicorn closes a connection idle for 5 s; a browser does not reuse one that old.
            now = time.monotonic()
            for entry in [e for e in self.idle if now - e[3] > IDLE_REUSE_S]:
                self.idle.remove(entry)
                entry[1].close()
            reused = bool(self.idle)
            try:
                return await self._get(target, headers or {}, fresh=False)
            except (ConnectionError, h11.RemoteProtocolError, asyncio.IncompleteReadError):
                if not reused:
                    raise
                self.retries += 1
                return await self._get(target, headers or {}, fresh=True)

    async def _get(self, target: str, headers: dict[str, str], fresh: bool) -> tuple[int, bytes]:
        if self.idle and not fresh:
            reader, writer, connection, _ = self.idle.pop()
        else:
            reader, writer = await asyncio.open_connection(self.host, self.port)
            connection = h11.Connection(h11.CLIENT)
        sent = [("host", f"{self.host}:{self.port}"), *headers.items()]
        writer.write(connection.send(h11.Request(method="GET", target=target, headers=sent)))
        writer.write(connection.send(h11.EndOfMessage()))
        status, body = 0, bytearray()
        while True:
            event = connection.next_event()
            if event is h11.NEED_DATA:
                data = await reader.read(65536)
                if not data:
                    writer.close()
                    raise ConnectionError(f"the server closed the connection ({target[:60]})")
                connection.receive_data(data)
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, h11.Data):
                body += event.data
            elif isinstance(event, h11.EndOfMessage):
                break
        if connection.our_state is h11.DONE and connection.their_state is h11.DONE:
            connection.start_next_cycle()
            self.idle.append((reader, writer, connection, time.monotonic()))
        else:
            writer.close()
        return status, bytes(body)

    def close(self) -> None:
        for entry in self.idle:
            entry[1].close()


class Server:
    """The app in its own process, on 127.0.0.1, as it runs in a classroom."""

    def __init__(self) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.process = subprocess.Popen(
            [sys.executable, "-m", "uvicorn", "app.main:app", "--host", "127.0.0.1",
             "--port", str(self.port), "--log-level", "warning"],
            cwd=ROOT, env=dict(os.environ),
        )  # fmt: skip
        self.base = f"http://127.0.0.1:{self.port}"
        deadline = time.monotonic() + 30
        while True:
            try:
                urllib.request.urlopen(f"{self.base}/healthz", timeout=1)
                return
            except OSError:
                if time.monotonic() > deadline:
                    raise RuntimeError("the server did not start") from None
                time.sleep(0.1)

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=15)


async def _action(browser, lab: str, query: str, seen: set[str], whole_page: bool = False) -> None:
    """One change of a control: the fragment, then the pictures this browser has not cached
    (they are sent with Cache-Control: max-age=3600, so a browser asks for each once). Opening
    the lab is the whole page, with its stylesheet and scripts."""
    url = f"/{lab}?{query}" if query else f"/{lab}"
    status, body = await browser.get(url, {} if whole_page else HX)
    if status != 200:
        raise RuntimeError(f"{url} answered {status}")
    text = body.decode()
    found = PICTURES.findall(text) + (ASSETS.findall(text) if whole_page else [])
    urls = sorted({url.replace("&amp;", "&") for url in found} - seen)
    seen.update(urls)
    answers = await asyncio.gather(*(browser.get(url) for url in urls))
    for url, (status, _) in zip(urls, answers, strict=True):
        if status != 200:
            raise RuntimeError(f"{url} answered {status}")


async def _student(base, lab, variants, seconds, seed, side: Side) -> None:
    rng = random.Random(seed)
    host, port = base.removeprefix("http://").split(":")
    browser = Browser(host, int(port))
    try:
        await asyncio.sleep(rng.uniform(0, 1))
        deadline = time.monotonic() + seconds
        cached: set[str] = set()  # this browser's HTTP cache
        opened = False
        while time.monotonic() < deadline:
            start, began = time.perf_counter(), time.monotonic()
            try:
                if opened:
                    await _action(browser, lab, rng.choice(variants), cached)
                else:  # the teacher says "open the lab": everyone loads its page first
                    await _action(browser, lab, "", cached, whole_page=True)
                    opened = True
                side.latencies.append(time.perf_counter() - start)
                side.started.append(began)
            except Exception as error:  # every failure counts; the class goes on
                side.errors.append(f"{type(error).__name__}: {error}"[:200])
            await asyncio.sleep(rng.uniform(1.0, 3.0))
    finally:
        side.retries += browser.retries
        side.requests += browser.request_times
        browser.close()


def _run_side(lab: str, variants: list[str], students: int, seconds: float) -> Side:
    side = Side(students)
    server = Server()
    try:
        asyncio.run(_warm_up(server.base, lab, variants[-1]))
        side.idle_rss = _rss(server.process.pid)
        peak = [side.idle_rss]
        sampling = threading.Event()

        def sample() -> None:
            while not sampling.wait(0.1):
                peak[0] = max(peak[0], _rss(server.process.pid))

        sampler = threading.Thread(target=sample, daemon=True)
        sampler.start()

        async def everyone() -> None:
            await asyncio.gather(*(_student(server.base, lab, variants, seconds, seed, side)
                                   for seed in range(students)))  # fmt: skip

        server_cpu, client_cpu = _cpu_seconds(server.process.pid), time.process_time()
        asyncio.run(everyone())
        side.server_cpu = _cpu_seconds(server.process.pid) - server_cpu
        side.client_cpu = time.process_time() - client_cpu
        sampling.set()
        sampler.join()
        side.peak_rss = max(peak[0], _rss(server.process.pid, "VmHWM"))
    finally:
        server.stop()
    return side


async def _warm_up(base: str, lab: str, query: str) -> None:
    host, port = base.removeprefix("http://").split(":")
    browser = Browser(host, int(port))
    await _action(browser, lab, query, set())
    browser.close()


def measure(students: int = 60, seconds: float = 30.0, labs=None) -> list[LabResult]:
    sys.path.insert(0, str(ROOT))
    from app.config import Settings

    settings = Settings()
    budget = settings.upload_cache_bytes + settings.result_cache_bytes
    results = []
    for lab, variants in _variants().items():
        if labs and lab not in labs:
            continue
        alone = _run_side(lab, variants, 1, seconds)
        together = _run_side(lab, variants, students, seconds)
        results.append(LabResult(lab, alone, together, budget))
    return results


def report(results: list[LabResult]) -> bool:
    """Print the tables; True when every lab met the goal: no errors, request p95 < 1 s, peak
    RSS growth within the cache budget."""
    mb = 1024 * 1024
    students = results[0].together.students
    print(f"Classroom: {students} students at once vs 1 alone, a fresh server for each. Request:"
          " one HTTP request. Action: a page or fragment and all its new pictures, what a student"
          " waits for. Settled: actions begun 10 s or more after the start.")  # fmt: skip
    header = (f"{'lab':<11}{'students':>9}{'actions':>8}{'requests':>9}{'errors':>7}{'retried':>8}"
              f"{'req p50':>8}{'req p95':>8}{'act p50':>8}{'act p95':>8}{'settled':>8}"
              f"{'RSS +MB':>8}{'CPU s':>7}")  # fmt: skip
    print(header)
    print(f"{'':<11}{'':>9}{'':>8}{'':>9}{'':>7}{'':>8}{'ms':>8}{'ms':>8}{'ms':>8}{'ms':>8}"
          f"{'p95 ms':>8}{'':>8}{'srv/cl':>7}")  # fmt: skip
    all_met = True
    for result in results:
        for side in (result.alone, result.together):
            print(f"{result.lab:<11}{side.students:>9}{len(side.latencies):>8}"
                  f"{len(side.requests):>9}{len(side.errors):>7}{side.retries:>8}"
                  f"{side.percentile(0.5, side.requests) * 1000:>8.0f}"
                  f"{side.percentile(0.95, side.requests) * 1000:>8.0f}"
                  f"{side.percentile(0.5) * 1000:>8.0f}{side.percentile(0.95) * 1000:>8.0f}"
                  f"{_ms(side.percentile(0.95, side.settled())) if side.settled() else '–':>8}"
                  f"{side.rss_growth / mb:>8.0f}"
                  f"{side.server_cpu:>4.0f}/{side.client_cpu:<2.0f}")  # fmt: skip
        alone, together = result.alone, result.together
        ratios = {
            "request p50": (together.percentile(0.5, together.requests),
                            alone.percentile(0.5, alone.requests)),
            "request p95": (together.percentile(0.95, together.requests),
                            alone.percentile(0.95, alone.requests)),
            "action p50": (together.percentile(0.5), alone.percentile(0.5)),
            "action p95": (together.percentile(0.95), alone.percentile(0.95)),
            "peak RSS growth": (together.rss_growth, alone.rss_growth),
        }  # fmt: skip
        print(f"{'':<11}{students} ÷ 1: " + ", ".join(
            f"{name} {_ratio(*pair)}" for name, pair in ratios.items()))  # fmt: skip
        met = (not together.errors
               and together.percentile(0.95, together.requests) < P95_TARGET_S
               and together.rss_growth <= result.budget)  # fmt: skip
        all_met &= met
        print(f"{'':<11}goal: no errors, request p95 < {P95_TARGET_S:g} s, peak RSS growth within "
              f"the {result.budget / mb:.0f} MB cache budget: {'PASS' if met else 'MISS'}"
              f" (action p95 < {P95_TARGET_S:g} s: "
              f"{'yes' if together.percentile(0.95) < P95_TARGET_S else 'no'})")  # fmt: skip
        for error in sorted(set(together.errors))[:3]:
            print(f"{'':<11}error: {error}")
    return all_met


def _ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f}"


def _ratio(value: float, reference: float) -> str:
    return f"{value / reference:.1f}×" if reference > 0 else "–"


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--labs", nargs="*", choices=list(_variants()), help="all by default")
    args = parser.parse_args()
    raise SystemExit(0 if report(measure(args.students, args.seconds, args.labs)) else 1)
