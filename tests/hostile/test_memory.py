"""Memory stays within the configured budget: the caches count all they keep, the same cold
result is computed once however many students ask at once, and heavy work waits its turn."""

from __future__ import annotations

import http.client
import io
import threading
import time
import tracemalloc
import uuid
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageDraw

from app.media.cache import HeavyWork, LRUBytesCache
from tests.hostile.server import rss_bytes, server_process

MB = 1 << 20


# --- single flight and the work limit ---------------------------------------------------------


def test_twenty_requests_for_one_cold_key_compute_it_once():
    cache = LRUBytesCache(64 * MB)
    calls = []
    start = threading.Barrier(20)

    def compute():
        calls.append(1)
        time.sleep(0.2)  # long enough that every thread asks while it runs
        return np.ones(1000)

    results = []

    def ask():
        start.wait()
        results.append(cache.get_or_compute("cold", compute))

    threads = [threading.Thread(target=ask) for _ in range(20)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert len(calls) == 1 and len(results) == 20
    assert all(result is results[0] for result in results)  # one array, not twenty copies


def test_the_waiters_get_the_leaders_error_and_the_next_ask_computes_again():
    cache = LRUBytesCache(MB)
    start = threading.Barrier(5)
    errors = []

    def fail():
        time.sleep(0.2)
        raise ValueError("no output for these settings")

    def ask():
        start.wait()
        try:
            cache.get_or_compute("bad", fail)
        except ValueError as error:
            errors.append(str(error))

    threads = [threading.Thread(target=ask) for _ in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert errors == ["no output for these settings"] * 5
    assert cache.get_or_compute("bad", lambda: np.zeros(3)).tolist() == [0, 0, 0]


def test_no_more_than_the_work_limit_computes_at_once():
    heavy = HeavyWork(2)
    cache = LRUBytesCache(64 * MB, heavy)

    def compute(i):
        time.sleep(0.05)
        return np.full(10, i)

    threads = [threading.Thread(target=cache.get_or_compute, args=(f"k{i}", lambda i=i: compute(i)))
               for i in range(12)]  # fmt: skip
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(10)
    assert heavy.peak == 2 and len(cache) == 12


def test_a_computation_that_needs_another_does_not_wait_for_a_second_slot():
    """Pooling on a Filters map: one slot each would deadlock a server at its limit."""
    heavy = HeavyWork(1)
    cache = LRUBytesCache(64 * MB, heavy)
    outer = threading.Thread(target=cache.get_or_compute, args=(
        "pool", lambda: cache.get_or_compute("filters", lambda: np.ones(4)) * 2))  # fmt: skip
    outer.start()
    outer.join(5)
    assert not outer.is_alive()
    assert cache.get("pool").tolist() == [2, 2, 2, 2]


def test_a_cold_pooling_experiment_opened_by_twenty_students_is_computed_once(client):
    from app.labs.pooling import views

    calls = []
    original = views.edgenet.invariance_curve

    def counted(*args, **kwargs):
        calls.append(1)
        time.sleep(0.1)
        return original(*args, **kwargs)

    views.edgenet.invariance_curve = counted
    try:
        start = threading.Barrier(20)
        statuses = []

        def open_page():
            start.wait()
            statuses.append(client.get("/pooling?sample=coffee&dx=5").status_code)

        threads = [threading.Thread(target=open_page) for _ in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        views.edgenet.invariance_curve = original
    assert statuses == [200] * 20
    assert len(calls) == 1


# --- what a cached result keeps ----------------------------------------------------------------


def test_a_cached_filter_result_does_not_keep_the_decoded_upload(client, make_png):
    from app.media import filterbank

    response = client.post("/filters/upload", files={"image": ("a.png", make_png(500, 400))},
                           follow_redirects=False)  # fmt: skip
    client.get(response.headers["location"])
    results = client.app.state.results
    kept = [
        value for value in results._items.values() if isinstance(value[0], filterbank.FilterResult)
    ]
    assert kept
    for value, counted in kept:
        arrays = [v for v in vars(value).values() if isinstance(v, np.ndarray)]
        assert sum(a.nbytes for a in arrays) <= counted  # every array it holds is counted
        assert not any(hasattr(v, "pixels") for v in vars(value).values())


def test_a_large_drawing_is_prepared_at_a_bounded_size():
    from app.labs.training.drawing import prepare_drawing

    image = Image.new("L", (1999, 1999), 255)  # 4 megapixels, just within the limit
    ImageDraw.Draw(image).rectangle([600, 400, 700, 1500], fill=0)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    tracemalloc.start()
    steps, prepared = prepare_drawing(buffer.getvalue(), 16, 4_000_000)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert prepared.shape == (1, 16, 16) and prepared.max() > 0.5
    assert max(step.shape[1] for _, step in steps) <= 512
    assert peak < 8 * MB  # NumPy's arrays: was 4 × 16 MB at full size


# --- a server after hundreds of uploads ------------------------------------------------------


def picture(i: int) -> bytes:
    """A 512×512 picture of its own (a colour and a box where no other has it), a few KB."""
    image = Image.new("RGB", (512, 512), (i % 256, (i * 7) % 256, (i * 13) % 256))
    corner = (i % 400, (i * 3) % 400)
    ImageDraw.Draw(image).rectangle([*corner, corner[0] + 100, corner[1] + 80],
                                    fill=(255 - i % 256, 20, 200))  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def upload_and_open(connection, lab: str, data: bytes) -> None:
    boundary = uuid.uuid4().hex
    body = (
        (
            f'--{boundary}\r\nContent-Disposition: form-data; name="image"; filename="p.png"\r\n'
            "Content-Type: image/png\r\n\r\n"
        ).encode()
        + data
        + f"\r\n--{boundary}--\r\n".encode()
    )
    connection.request(
        "POST",
        f"/{lab}/upload",
        body=body,
        headers={"Content-Type": f"multipart/form-data; boundary={boundary}"},
    )
    response = connection.getresponse()
    response.read()
    assert response.status == 303, response.status
    connection.request("GET", response.getheader("location"))
    page = connection.getresponse()
    page.read()
    assert page.status == 200


BUDGET = 64 * MB  # the two caches below
OVERHEAD = 32 * MB  # what the server may add beyond its caches: allocator slack, templates


@pytest.mark.skipif(not Path("/proc").is_dir(), reason="reads memory from /proc")
def test_rss_stays_within_the_cache_budget_after_hundreds_of_uploads():
    settings = {"upload_cache_bytes": 32 * MB, "result_cache_bytes": 32 * MB}
    with server_process(**settings) as (base, server):
        host, port = base.removeprefix("http://").split(":")
        connection = http.client.HTTPConnection(host, int(port), timeout=60)
        for i in range(10):  # every lab's code loaded and warm, before the baseline
            upload_and_open(connection, ("filters", "pooling", "pipeline")[i % 3], picture(i))
        idle = rss_bytes(server.pid)
        for i in range(10, 210):
            upload_and_open(connection, ("filters", "pooling", "pipeline")[i % 3], picture(i))
        grown = rss_bytes(server.pid) - idle
        assert grown <= BUDGET + OVERHEAD, (
            f"RSS grew {grown / MB:.0f} MB over 200 uploads; the caches may hold "
            f"{BUDGET / MB:.0f} MB, plus {OVERHEAD / MB:.0f} MB allowed"
        )


def test_uploads_decode_within_the_work_limit(make_png, monkeypatch):
    from starlette.testclient import TestClient

    from app.config import Settings
    from app.main import create_app
    from app.media import uploads

    running, peak, lock = [0], [0], threading.Lock()
    decode = uploads.decode_image

    def counted(*args, **kwargs):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.1)
        try:
            return decode(*args, **kwargs)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(uploads, "decode_image", counted)
    with TestClient(create_app(Settings(max_heavy_work=2))) as client:
        start = threading.Barrier(8)
        statuses = []

        def upload(seed):
            start.wait()
            response = client.post(
                "/filters/upload",
                follow_redirects=False,
                files={"image": ("a.png", make_png(64, 48, seed=seed))},
            )
            statuses.append(response.status_code)

        threads = [threading.Thread(target=upload, args=(seed,)) for seed in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert statuses == [303] * 8
    assert peak[0] == 2  # eight at once, two decoding at a time
