"""The server over HTTP: one request at a time, then a classroom of students at once.

    python -m benchmarks.bench_server [--quick] [--students 60] [--seconds 30]

1. The Filters lab for a 512×512 RGB image and a 3×3 kernel. Each request changes the bias, so no
   cached result is reused: every request convolves, renders the page, and (second series)
   encodes a feature map as PNG. The reference, measured in the same run, is a /healthz round
   trip: the HTTP floor of this machine. Target: median page time under 100 ms.
2. A classroom (benchmarks.classroom): 60 students on Filters, Optimizers and the Pooling
   experiment, 30 s each, against one student alone on a fresh server with the same protocol.
"""

from __future__ import annotations

import argparse
import socket
import statistics
import threading
import time

TARGET_MS = 100.0


def _start_server() -> tuple[object, str]:
    import uvicorn

    from app.main import create_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(create_app(), host="127.0.0.1", port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    while not server.started:
        time.sleep(0.05)
    return server, f"http://127.0.0.1:{port}"


def _times_ms(client, urls: list[str]) -> list[float]:
    times = []
    for url in urls:
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        if response.status_code != 200:
            raise RuntimeError(f"{url} answered {response.status_code}")
    return times


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer requests, shorter classroom")
    parser.add_argument("--students", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=None, help="per lab (30; 6 with --quick)")
    parser.add_argument("--no-classroom", action="store_true", help="only the single requests")
    args = parser.parse_args(argv)
    count = 10 if args.quick else 60

    import httpx

    server, base = _start_server()
    query = "sample=astronaut&colour=rgb&res=512&f=sobel_x&padding=same"
    try:
        with httpx.Client(base_url=base, timeout=30) as client:
            client.get(f"/filters?{query}")  # warm up: decode the sample once
            floor = _times_ms(client, ["/healthz"] * count)
            pages = _times_ms(client, [f"/filters?{query}&bias={i}" for i in range(1, count + 1)])
            pngs = _times_ms(
                client,
                [f"/filters/image.png?{query}&bias={-i}&view=map" for i in range(1, count + 1)],
            )
    finally:
        server.should_exit = True

    print("Filters lab server time, 512×512 RGB, one 3×3 filter (C×K×K = 3×3×3), cold cache")
    print(f"{'request':<34}{'median ms':>10}{'p95 ms':>9}{'÷ /healthz':>12}")
    floor_median = statistics.median(floor)
    for name, times in (
        ("/healthz (HTTP floor, reference)", floor),
        ("page: conv + partials + HTML", pages),
        ("feature map PNG: conv + encode", pngs),
    ):
        median = statistics.median(times)
        ratio = median / floor_median
        print(f"{name:<34}{median:>10.1f}{_p95(times):>9.1f}{ratio:>11.1f}×")
    page_median = statistics.median(pages)
    verdict = "PASS" if page_median < TARGET_MS else "MISS"
    print(f"page median {page_median:.1f} ms vs target {TARGET_MS:.0f} ms: {verdict}")
    if not args.no_classroom:
        from benchmarks import classroom

        print()
        seconds = args.seconds or (6.0 if args.quick else 30.0)
        classroom.report(classroom.measure(args.students, seconds))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
