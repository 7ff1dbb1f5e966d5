"""The Training lab as a service, measured over HTTP on this machine.

    python -m benchmarks.bench_training_lab [--quick]

1. Time from pressing Train (the POST) to the first point of the loss curve on the run page.
2. Median /filters latency while two runs train, against the same with no run: the ratio
   (target ≤ 2×). The reference is the idle server measured in the same run.
3. The LeNet-on-digits run started from the page, against the same run from the command line
   (benchmarks.bench_train's settings): accuracy and seconds side by side.
"""

from __future__ import annotations

import argparse
import re
import statistics
import time

FORM = {"content-type": "application/x-www-form-urlencoded"}
LENET = ("dataset=digits&size=16&preset=lenet&optimizer=adam&lr=0.002&schedule=cosine&epochs=20"
         "&batch=32&seed=0&aug=shift&aug=rotate&aug=scale")  # fmt: skip
SLOW = "dataset=digits&size=28&preset=lenet&epochs=50&batch=16&seed=1"
FILTERS = "/filters?sample=astronaut&colour=rgb&res=256&f=sobel_x&f=gaussian"


def _start(client, query: str) -> str:
    response = client.post("/train/runs", content=query, headers=FORM)
    if response.status_code != 303:
        raise RuntimeError(f"start failed: {response.status_code} {response.text[:200]}")
    return response.headers["location"].rsplit("/", 1)[1]


def _filters_latency(client, count: int, offset: int) -> list[float]:
    times = []
    for i in range(count):
        start = time.perf_counter()
        # A new bias each time: a fresh convolution, not a cache hit.
        response = client.get(f"{FILTERS}&bias={(offset + i) / 100}")
        if response.status_code != 200:
            raise RuntimeError(f"/filters answered {response.status_code}")
        times.append((time.perf_counter() - start) * 1000)
    return times


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args(argv)
    count = 10 if args.quick else 40

    import httpx

    from benchmarks.bench_server import _start_server

    server, base = _start_server()
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            client.get(FILTERS)  # warm up
            # 1. Train to first curve point.
            firsts = []
            for _ in range(1 if args.quick else 3):
                pressed = time.perf_counter()
                run_id = _start(client, "dataset=digits&size=16&preset=lenet&epochs=2")
                while "<polyline" not in client.get(f"/train/runs/{run_id}/status").text:
                    time.sleep(0.02)
                firsts.append(time.perf_counter() - pressed)
                client.post(f"/train/runs/{run_id}/stop")
                time.sleep(0.5)
            # 2. Page latency with and without two runs training.
            idle = _filters_latency(client, count, 100)
            busy_runs = [_start(client, SLOW), _start(client, SLOW)]
            time.sleep(1.5)  # both processes are training now
            busy = _filters_latency(client, count, 200)
            for run_id in busy_runs:
                client.post(f"/train/runs/{run_id}/stop")
            time.sleep(3)
            # 3. LeNet on digits from the page.
            run_id = _start(client, LENET)
            started = time.perf_counter()
            while True:
                status = client.get(f"/train/runs/{run_id}/status").text
                match = re.search(r'data-testid="test-accuracy">([\d.]+)%', status)
                if match or "status-failed" in status or "status-diverged" in status:
                    break
                time.sleep(0.2)
            web_seconds = time.perf_counter() - started
            web_accuracy = float(match.group(1)) / 100 if match else float("nan")
    finally:
        server.should_exit = True

    ratio = statistics.median(busy) / statistics.median(idle)
    print("Training lab over HTTP")
    print(f"  press Train -> first loss point: median {statistics.median(firsts):.2f} s "
          f"({', '.join(f'{t:.2f}' for t in firsts)})")  # fmt: skip
    print(f"  /filters median {statistics.median(idle):.1f} ms idle (reference), "
          f"{statistics.median(busy):.1f} ms while two runs train: {ratio:.2f}× "
          f"(target ≤ 2×: {'PASS' if ratio <= 2 else 'MISS'})")  # fmt: skip
    from benchmarks.bench_train import run_once

    cli = run_once(0)
    print(f"  LeNet on digits from the page: accuracy {web_accuracy:.4f} in {web_seconds:.1f} s; "
          f"from the command line: {cli['test_accuracy']:.4f} in {cli['wall']:.1f} s "
          f"(time ratio {web_seconds / cli['wall']:.2f}×)")  # fmt: skip
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
