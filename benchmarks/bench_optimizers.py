"""The Optimizer lab's race: its speed against a bare NumPy loop, and the page's server time.

    python -m benchmarks.bench_optimizers [--quick]

1. All seven optimizers for 500 steps on Rosenbrock through app.labs.optimizers.views.race (the
   engine's optimizers and schedules, with the path, values and divergence checks recorded), in
   steps per second, against the reference: plain gradient descent written as a bare
   Python/NumPy loop on the same surface, which is about as fast as one update per Python
   iteration can go.
2. The same race over HTTP (/optimizers with 7 × 500 steps, the numbers, charts and map SVG) and
   the surface picture (map.png, drawn cold), median and p95, against /healthz as the HTTP floor.
   Target: median server time for the page and its map under 150 ms.
3. Where the time goes, in-process: the race alone, the whole page and the map PNG, run
   interleaved; the share spent on rendering is (page − race + map) / (page + map).
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np

from benchmarks.bench_conv import _median_seconds

TARGET_MS = 150.0
STEPS = 500
ALL_SEVEN = "&".join(
    f"o{i}={k}"
    for i, k in enumerate(("gd", "sgd", "momentum", "nesterov", "adagrad", "rmsprop", "adam"), 1)
)
QUERY = f"surface=rosenbrock&{ALL_SEVEN}&steps={STEPS}"


def bare_gd(steps: int) -> np.ndarray:
    """The reference: GD on Rosenbrock as a bare loop, recording the path."""
    p = np.array([-1.2, 1.0])
    path = np.empty((steps + 1, 2))
    path[0] = p
    for t in range(steps):
        x, y = p
        r = y - x * x
        p = p - 0.001 * np.array([-2 * (1 - x) - 400 * x * r, 200 * r])
        path[t + 1] = p
    return path


def bench_race(repeats: int) -> tuple[list[str], float]:
    from starlette.datastructures import QueryParams

    from app.labs.optimizers import views
    from app.labs.optimizers.fields import OptFields

    state = OptFields.parse(QueryParams(QUERY))
    t_race = _median_seconds(lambda: views.race(state), repeats)
    t_bare = _median_seconds(lambda: bare_gd(STEPS * 7), repeats)
    steps = STEPS * 7
    lines = [
        f"Race: 7 optimizers × {STEPS} steps on Rosenbrock ({steps:,} updates)",
        f"  lab race (engine optimizers + schedules) {t_race * 1e3:7.1f} ms  "
        f"{steps / t_race:10,.0f} steps/s",
        f"  bare NumPy GD loop (reference)           {t_bare * 1e3:7.1f} ms  "
        f"{steps / t_bare:10,.0f} steps/s",
        f"  lab / reference time: {t_race / t_bare:.2f}×",
    ]
    return lines, t_race


def bench_breakdown(repeats: int) -> tuple[float, float, float]:
    """In-process medians, interleaved so machine load hits all alike: the race alone, the whole
    page (parse, race, numbers, charts, map SVG, HTML) and the Rosenbrock map PNG drawn cold."""
    from starlette.datastructures import QueryParams
    from starlette.requests import Request

    from app.labs.optimizers import picture, views
    from app.labs.optimizers.fields import OptFields
    from app.main import create_app
    from app.web.png import png_bytes

    app = create_app()
    scope = {"type": "http", "method": "GET", "path": "/optimizers", "headers": [],
             "query_string": QUERY.encode(), "app": app}  # fmt: skip
    request = Request(scope)
    templates = app.state.templates
    gettext = templates.gettext(request)
    state = OptFields.parse(QueryParams(QUERY))
    surface = state.make_surface()

    def page() -> None:
        fields = OptFields.parse(request.query_params)
        context = views.lab_context(fields, gettext)
        templates.page(request, "optimizers/page.html", "optimizers/_lab.html", context)

    jobs = {
        "race": lambda: views.race(state),
        "page": page,
        "map": lambda: png_bytes(picture.surface_pixels(surface, "contour")),
    }
    times: dict[str, list[float]] = {name: [] for name in jobs}
    for job in jobs.values():
        job()  # warm up
    for _ in range(repeats):
        for name, job in jobs.items():
            start = time.perf_counter()
            job()
            times[name].append(time.perf_counter() - start)
    return tuple(statistics.median(times[name]) for name in ("race", "page", "map"))


def bench_http(count: int, breakdown: tuple[float, float, float]) -> list[str]:
    import httpx

    from benchmarks.bench_server import _p95, _start_server, _times_ms

    server, base = _start_server()
    try:
        with httpx.Client(base_url=base, timeout=60) as client:
            client.get(f"/optimizers?{QUERY}")  # warm up: templates, thread pool
            floor = _times_ms(client, ["/healthz"] * count)
            # A new seed each time: the same race shape, nothing reused between requests.
            pages = _times_ms(client, [f"/optimizers?{QUERY}&seed={i + 1}" for i in range(count)])
            # The picture is cached per surface: a new rotation of the bowl draws it cold.
            maps = _times_ms(
                client, [f"/optimizers/map.png?surface=bowl&angle={i + 1}" for i in range(count)]
            )
    finally:
        server.should_exit = True
    floor_ms, page_ms, map_ms = (statistics.median(v) for v in (floor, pages, maps))
    t_race, t_page, t_map = (t * 1e3 for t in breakdown)
    total = page_ms + map_ms
    rendering = (t_page - t_race + t_map) / (t_page + t_map)
    verdict = "PASS" if total < TARGET_MS else "MISS"
    return [
        f"Server time over HTTP, median of {count} (p95):",
        f"  /healthz (HTTP floor, reference)     {floor_ms:7.1f} ms ({_p95(floor):.1f})",
        f"  /optimizers, 7 × {STEPS} steps          {page_ms:7.1f} ms ({_p95(pages):.1f})  "
        f"{page_ms / floor_ms:.0f}× the floor",
        f"  map.png, drawn cold (bowl)            {map_ms:7.1f} ms ({_p95(maps):.1f})",
        f"page + map: {total:.1f} ms vs target {TARGET_MS:.0f} ms: {verdict}",
        "",
        "Where the time goes, in-process medians (interleaved runs):",
        f"  race (7 optimizers × {STEPS} steps)      {t_race:7.1f} ms",
        f"  whole page (race, numbers, charts,  {t_page:7.1f} ms",
        "    map SVG and HTML)",
        f"  Rosenbrock map PNG, drawn cold        {t_map:7.1f} ms",
        f"  rendering (everything but the race, map included): {rendering:.0%}; "
        f"the race: {1 - rendering:.0%}",
    ]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer repeats")
    args = parser.parse_args(argv)
    repeats = 3 if args.quick else 15
    start = time.perf_counter()
    lines, _ = bench_race(repeats)
    print("\n".join(lines))
    print()
    breakdown = bench_breakdown(repeats)
    print("\n".join(bench_http(8 if args.quick else 40, breakdown)))
    print(f"(benchmark took {time.perf_counter() - start:.1f} s)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
