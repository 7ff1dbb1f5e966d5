"""The Text lab's character limit in a real browser: a paste the box cuts says so next to it."""

import re

import pytest

from app.labs.text.fields import MAX_TEXT

pytestmark = pytest.mark.browser

LONG = " ".join(f"word{i % 97}" for i in range(10_000))  # a 10,000-word paste


def paste(page, box, text: str) -> None:
    """A real paste (Ctrl+V from the clipboard), which the browser cuts at maxlength."""
    page.context.grant_permissions(["clipboard-read", "clipboard-write"])
    page.evaluate("text => navigator.clipboard.writeText(text)", text)
    box.focus()
    box.press("Control+A")
    box.press("Control+V")


def test_a_paste_cut_at_the_limit_says_so_next_to_the_box(page, live_server, screenshot):
    page.goto(f"{live_server}/text")
    box = page.get_by_label("Sentences, one per line")
    note = page.get_by_test_id("text-cut")
    assert note.inner_text() == ""  # nothing cut yet: nothing said
    paste(page, box, LONG)
    assert len(box.input_value()) == MAX_TEXT  # the browser kept what fits
    dropped = len(LONG) - MAX_TEXT
    note.filter(has_text="left out").wait_for()
    said = note.inner_text()
    assert f"{len(LONG):,} characters" in said and f"holds {MAX_TEXT:,}" in said, said
    assert f"last {dropped:,} characters" in said, said
    # It sits right under the box (with the hint stating the limit), not somewhere else.
    box_bottom = box.bounding_box()["y"] + box.bounding_box()["height"]
    assert 0 <= note.bounding_box()["y"] - box_bottom < 80

    # Leaving the box sends the cut text; the lab comes back and the note stays.
    with page.expect_response(re.compile(r"/text\?")):
        page.get_by_role("button", name="Show the stages").click()
    page.wait_for_load_state("networkidle")
    assert box.input_value() == LONG[:MAX_TEXT]
    assert f"last {dropped:,} characters" in note.inner_text()
    screenshot(page, "text-paste-cut")

    # An edit makes it out of date: it goes.
    box.press("End")
    box.press("Backspace")
    page.wait_for_function("() => document.getElementById('text-cut').textContent === ''")

    # A paste that fits says nothing.
    paste(page, box, "a short review")
    page.wait_for_timeout(100)
    assert note.inner_text() == ""


def test_the_note_in_portuguese_has_brazilian_numbers(page, live_server):
    page.goto(f"{live_server}/text")
    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    box = page.locator("#text")
    paste(page, box, LONG)
    note = page.get_by_test_id("text-cut")
    note.filter(has_text=re.compile(r"\d")).wait_for()
    said = note.inner_text()
    assert f"{len(LONG):,}".replace(",", ".") in said and "1.000" in said, said


def test_the_try_box_of_a_run_says_so_too(page, live_server):
    page.goto(f"{live_server}/text")
    page.get_by_label("Epochs").fill("1")
    page.get_by_role("button", name="Train the text CNN").click()
    page.wait_for_url(re.compile(r"/text/runs/[0-9a-f]{12}$"))
    box = page.get_by_label("A sentence to classify")
    box.wait_for(timeout=60_000)
    lines = "\n".join(["The food was great"] * 100)  # a one-line box turns line breaks into spaces
    paste(page, box, lines)
    assert len(box.input_value()) == MAX_TEXT and "\n" not in box.input_value()
    note = page.get_by_test_id("try-cut")
    note.filter(has_text="left out").wait_for()
    assert f"last {len(lines) - MAX_TEXT:,} characters" in note.inner_text()
