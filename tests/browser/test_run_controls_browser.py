"""A run page in a real browser: Pause and Stop stay where they are while the progress text
around them changes width (step counts gain digits, the time left shrinks), so a click aimed at
them lands on them."""

import re
import time

import pytest

pytestmark = pytest.mark.browser

# Long enough to watch for a few seconds and still be running when Pause is clicked (it is
# stopped then) on an idle machine too: 28-pixel digits train about 3 times slower than 16.
LONG_RUN = "dataset=digits&size=28&preset=lenet&epochs=30"
MEASURE = """() => {
    const panel = document.querySelector('#run-status');
    if (!panel) return null;
    const button = name => [...panel.querySelectorAll('button')]
        .find(b => b.textContent.trim() === name);
    const x = name => { const b = button(name); return b ? b.getBoundingClientRect().x : null; };
    // The progress text: the percentage and every hint beside it, as wide as it is drawn.
    const texts = [...panel.querySelectorAll('[data-testid=run-progress], .run-head .hint')];
    const width = texts.reduce((sum, t) => sum + t.getBoundingClientRect().width, 0);
    return {text: texts.map(t => t.textContent).join(' | '), width, pause: x('Pause'),
            resume: x('Resume'), stop: x('Stop'),
            status: panel.querySelector('[data-testid=run-status]').textContent};
}"""


def samples_while_running(page, seconds: float) -> list[dict]:
    found = []
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        sample = page.evaluate(MEASURE)
        if sample and sample["stop"] is not None:
            found.append(sample)
        page.wait_for_timeout(150)
    return found


def test_pause_and_stop_do_not_move_while_the_progress_text_changes(page, live_server, screenshot):
    page.goto(f"{live_server}/train?{LONG_RUN}")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_url(re.compile(r"/train/runs/\w+$"))
    page.get_by_role("button", name="Pause").wait_for()
    page.wait_for_function(
        "() => /step [1-9]\\d* of/.test(document.querySelector('#run-status').textContent)"
    )
    samples = [s for s in samples_while_running(page, 5.0) if s["pause"] is not None]
    widths = {round(s["width"]) for s in samples}
    assert len(widths) >= 2, f"the progress text never changed width: {samples[:3]}"
    narrow = min(samples, key=lambda s: s["width"])
    wide = max(samples, key=lambda s: s["width"])
    assert wide["width"] - narrow["width"] >= 2, (narrow, wide)
    for name in ("pause", "stop"):
        assert {round(s[name], 1) for s in samples} == {round(samples[0][name], 1)}, (
            name, narrow, wide,
        )  # fmt: skip
    screenshot(page, "training-run-controls")

    # Pause becomes Resume: Stop stays put again.
    stop_x = samples[0]["stop"]
    page.get_by_role("button", name="Pause").click()
    page.get_by_role("button", name="Resume").wait_for()
    paused = page.evaluate(MEASURE)
    assert round(paused["stop"], 1) == round(stop_x, 1), paused
    assert round(paused["resume"], 1) == round(samples[0]["pause"], 1), paused
    page.get_by_role("button", name="Stop").click()
    page.get_by_test_id("run-status").filter(has_text="stopped").wait_for(timeout=20_000)
