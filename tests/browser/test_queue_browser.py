"""A class waiting in line, in Chromium: a run that cannot start at once shows its place and
expected start, and its page moves on by itself, in both languages, when the slot frees up."""

from __future__ import annotations

import re
import time

import pytest

from app.config import Settings

LONG = {"dataset": "digits", "size": "28", "preset": "lenet", "epochs": "50", "batch": "8"}
QUICK = {"dataset": "digits", "size": "8", "preset": "tiny", "epochs": "1"}


@pytest.fixture(scope="module")
def one_slot_server(serve):
    return serve(Settings(run_workers=1, run_max_seconds=60))


def started(page, base: str, form: dict) -> str:
    response = page.request.post(f"{base}/train/runs", form=form, max_redirects=0)
    assert response.status == 303, response.text()[:300]
    return response.headers["location"].rsplit("/", 1)[1]


@pytest.mark.parametrize(
    "lang, place, eta",
    [("en", "Number 1 in the queue", r"expected to start in about \d+ s|starting in a moment"),
     ("pt_BR", "Número 1 na fila", r"deve começar em cerca de \d+ s|começa em instantes")],
)  # fmt: skip
def test_a_waiting_run_shows_its_place_then_starts_by_itself(page, one_slot_server, lang, place,
                                                             eta):  # fmt: skip
    base = one_slot_server
    page.goto(f"{base}/lang/{lang}?next=/train")
    first = started(page, base, LONG)
    second = started(page, base, QUICK)
    page.goto(f"{base}/train/runs/{second}")
    page.get_by_test_id("queue-position").filter(has_text=place).wait_for(timeout=30_000)
    assert re.fullmatch(eta, page.get_by_test_id("queue-eta").inner_text().strip())
    # The first student stops their run: the second starts and finishes without a reload.
    page.request.post(f"{base}/train/runs/{first}/stop")
    page.get_by_test_id("test-accuracy").wait_for(timeout=60_000)
    assert page.get_by_test_id("queue-position").count() == 0
    assert re.search(r"\d", page.get_by_test_id("test-accuracy").inner_text())


def test_a_waiting_run_asks_less_often_then_every_half_second_once_it_trains(page, one_slot_server):
    """A class in line polls its place every 2 s (most of the web's work in a burst is status
    polls); the same page, once its run trains, follows it twice a second."""
    base = one_slot_server
    first = started(page, base, LONG)
    second = started(page, base, LONG)
    polls: list[float] = []
    page.on("request", lambda r: polls.append(time.monotonic())
            if f"/train/runs/{second}/status" in r.url else None)  # fmt: skip
    page.goto(f"{base}/train/runs/{second}")
    page.get_by_test_id("queue-position").wait_for()
    page.wait_for_timeout(4500)  # (a sleep would hold back the request events)
    waiting = len(polls)
    assert 1 <= waiting <= 3  # every 2 s, not 9 times at 500 ms
    page.request.post(f"{base}/train/runs/{first}/stop")
    page.get_by_test_id("run-progress").wait_for(timeout=30_000)
    polls.clear()
    page.wait_for_timeout(3000)
    assert len(polls) >= 4  # every 500 ms now
    page.request.post(f"{base}/train/runs/{second}/stop")
