"""Screens, in a real browser: every lab fits a phone, reads on a 1280×720 projector and uses a
1920×1080 one, in both languages.

A finished training run and the comparison of two runs are walked too: the `finished_runs`
fixture trains two tiny networks through the setup form once for this module.
"""

from __future__ import annotations

import re
from contextlib import contextmanager

import pytest

pytestmark = pytest.mark.browser

LABS = [
    "/filters", "/pooling", "/pipeline", "/train", "/text", "/signals", "/losses", "/optimizers",
]  # fmt: skip
PAGES = [*LABS, "run", "compare"]  # the last two: a finished run, and two runs compared
LANGUAGES = ["en", "pt_BR"]
PHONE, LAPTOP, BIG = (375, 812), (1280, 720), (1920, 1080)

# Elements that stick out of the window on the right, outside any box that scrolls on its own:
# the reason a page is wider than the screen.
STICKING_OUT = """() => {
  const w = document.documentElement.clientWidth, out = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (typeof el.className === 'string' && el.className.trim()
       ? '.' + el.className.trim().split(/\\s+/).join('.') : '');
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    if (box.width === 0 || box.right <= w + 0.5) continue;
    let up = el.parentElement, scrolls = false;
    for (; up && up !== document.body; up = up.parentElement)
      if (getComputedStyle(up).overflowX !== 'visible'
          && up.getBoundingClientRect().right <= w + 0.5) { scrolls = true; break; }
    if (!scrolls && ![...el.children].some(c => c.getBoundingClientRect().right > w + 0.5))
      out.push(name(el.parentElement) + ' > ' + name(el) + ' (' + Math.round(box.right) + ' px)');
  }
  return [...new Set(out)].slice(0, 8);
}"""

# Every visible piece of chart text, with the size it is drawn at on the screen: its font size in
# the SVG's coordinates times the scale from those coordinates to the screen.
CHART_TEXT = """() => [...document.querySelectorAll('main svg text')].flatMap(t => {
  if (t.getBoundingClientRect().width === 0) return [];
  const m = t.getScreenCTM();
  const px = parseFloat(getComputedStyle(t).fontSize) * Math.hypot(m.a, m.b);
  const chart = t.closest('[data-testid]');
  const where = chart ? chart.dataset.testid : 'svg';
  return [[Math.round(px * 10) / 10, where + ': ' + t.textContent.trim()]];
})"""


@pytest.fixture(scope="module")
def finished_runs(browser, live_server):
    """Two tiny runs, trained to the end through the setup form: their ids."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    ids = []
    for preset in ("tiny", "mlp"):
        page.goto(f"{live_server}/train?size=8&preset={preset}&epochs=2")
        page.get_by_role("button", name="Train", exact=True).click()
        page.wait_for_url(re.compile(r"/train/runs/\w+$"))
        page.get_by_test_id("test-accuracy").wait_for(timeout=60_000)
        ids.append(page.url.rsplit("/", 1)[1])
    context.close()
    return ids


@pytest.fixture
def url_of(request, live_server):
    def url(where: str) -> str:
        if where in LABS:
            return live_server + where
        first, second = request.getfixturevalue("finished_runs")
        if where == "run":
            return f"{live_server}/train/runs/{first}"
        return f"{live_server}/train/compare?run={first}&run={second}"

    return url


@contextmanager
def opened(browser, live_server, url: str, size: tuple[int, int], language: str = "en"):
    context = browser.new_context(viewport={"width": size[0], "height": size[1]})
    context.add_cookies([{"name": "lang", "value": language, "url": live_server}])
    page = context.new_page()
    page.set_default_timeout(15_000)
    try:
        page.goto(url)
        page.wait_for_load_state("networkidle")
        yield page
    finally:
        context.close()


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("where", PAGES)
def test_no_page_is_wider_than_a_phone(browser, live_server, url_of, where, language):
    with opened(browser, live_server, url_of(where), PHONE, language) as page:
        assert page.evaluate("document.documentElement.lang") == language.replace("_", "-")
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= PHONE[0], f"{where} is {width} px wide: {page.evaluate(STICKING_OUT)}"


@pytest.mark.parametrize("language", LANGUAGES)
@pytest.mark.parametrize("where", PAGES)
def test_chart_text_is_at_least_12_px_at_1280(browser, live_server, url_of, where, language):
    with opened(browser, live_server, url_of(where), LAPTOP, language) as page:
        texts = page.evaluate(CHART_TEXT)
        small = [(size, text) for size, text in texts if size < 12]
        assert not small, f"{len(small)} of {len(texts)} chart labels under 12 px: {small[:6]}"


@pytest.mark.parametrize("where", PAGES)
def test_a_large_screen_is_used(browser, live_server, url_of, where):
    with opened(browser, live_server, url_of(where), BIG) as page:
        width = page.evaluate(
            "(() => { const m = document.querySelector('main'), s = getComputedStyle(m);"
            " return m.clientWidth - parseFloat(s.paddingLeft) - parseFloat(s.paddingRight); })()"
        )
        assert width > 1500


def overlap(a: dict, b: dict, start: str, size: str) -> float:
    return min(a[start] + a[size], b[start] + b[size]) - max(a[start], b[start])


def boxes_pair(label: dict, field: dict) -> bool:
    """The field sits right under its label (their columns overlap), or right beside it."""
    gap_below = field["y"] - (label["y"] + label["height"])
    gap_right = field["x"] - (label["x"] + label["width"])
    under = overlap(label, field, "x", "width") > 0 and -2 <= gap_below <= 16
    beside = overlap(label, field, "y", "height") > 0 and -2 <= gap_right <= 32
    return under or beside


@pytest.mark.parametrize("size", [(1366, 768), BIG, LAPTOP])
def test_each_losses_label_sits_with_its_own_slider(browser, live_server, size):
    with opened(browser, live_server, f"{live_server}/losses", size) as page:
        sliders = page.locator(".losses-controls input[type=range]")
        assert sliders.count() >= 8
        for i in range(sliders.count()):
            slider = sliders.nth(i)
            name = slider.get_attribute("id")
            label = page.locator(f"label[for='{name}']")
            slider.scroll_into_view_if_needed()
            assert boxes_pair(label.bounding_box(), slider.bounding_box()), (
                f"at {size[0]} px the label {label.inner_text()!r} is not by its slider {name}"
            )


def test_explained_pixel_is_in_view_with_the_maps_at_1280x720(browser, live_server):
    with opened(browser, live_server, f"{live_server}/filters?f=sobel_x", LAPTOP) as page:
        feature_map = page.locator("#fmap-0")
        feature_map.click(position={"x": 40, "y": 60})
        page.get_by_test_id("explain-value").wait_for()
        page.wait_for_load_state("networkidle")
        height = LAPTOP[1]
        for part in ("#fmap-0", "#explain-title", "#explain .explain-tables",
                     "[data-testid=explain-total]"):  # fmt: skip
            box = page.locator(part).first.bounding_box()
            assert box["y"] >= 0 and box["y"] + box["height"] <= height, (
                f"{part} is out of the 1280×720 window: top {box['y']:.0f}, "
                f"bottom {box['y'] + box['height']:.0f}"
            )
