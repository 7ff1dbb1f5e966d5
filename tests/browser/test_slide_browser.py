"""The sliding-window player (static/js/slide.js) in the Filters and Pooling labs, in Chromium:
play, step and the keyboard; the numbers it writes against the server's; one timer at most,
whatever htmx swaps in meanwhile; and the first step without JavaScript."""

import re

import pytest

from app.web.numbers import numbers_for
from tests.browser.test_every_lab_rules import latency

pytestmark = pytest.mark.browser

# Which intervals the player keeps running: every setInterval whose callback is its tick.
TIMERS_JS = """
(() => {
  const live = window.__slideTimers = new Set();
  const set = window.setInterval, clear = window.clearInterval;
  window.setInterval = function (fn, ms, ...rest) {
    const id = set.call(this, fn, ms, ...rest);
    if (fn && fn.name === "slideTick") live.add(id);
    return id;
  };
  window.clearInterval = function (id) { live.delete(id); return clear.call(this, id); };
})();
"""
LIVE_TIMERS = "() => window.__slideTimers.size"
SMALL_POOL = "/pooling?sample=camera&pres=16&psize=4"  # a 4×4 pooled map: 16 positions


def settle(page):
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    page.wait_for_timeout(150)


def status(page) -> str:
    return page.locator("[data-slide-status]").inner_text()


def filled(page) -> int:
    return page.locator(".slide-cell.filled").count()


def set_speed(page, value: int) -> None:
    """Move the speed slider as a drag would (Playwright cannot fill a range)."""
    page.get_by_label("Speed").evaluate(
        "(e, v) => { e.value = v; e.dispatchEvent(new Event('input', {bubbles: true})); }",
        str(value),
    )


def cells(page, selector: str) -> list[str]:
    return page.locator(f"{selector} td").all_inner_texts()


@pytest.fixture
def timed(page):
    page.add_init_script(TIMERS_JS)
    return page


def test_play_fills_the_pooled_strip_to_the_end_and_stops(timed, live_server, screenshot):
    page = timed
    page.goto(f"{live_server}{SMALL_POOL}")
    assert status(page).startswith("Position 1 of 16:")
    assert filled(page) == 1
    set_speed(page, 20)
    play = page.get_by_role("button", name=re.compile("Play"))
    play.click()
    assert page.locator("[data-slide-play]").get_attribute("aria-pressed") == "true"
    page.wait_for_function("() => document.querySelectorAll('.slide-cell.filled').length === 16")
    page.wait_for_function("() => window.__slideTimers.size === 0")  # it stops by itself
    assert status(page).startswith("Position 16 of 16: pooled row 3, column 3")
    assert page.locator("[data-slide-play]").get_attribute("aria-pressed") == "false"
    # Each filled cell has the pooled map's colour and value; the last window's numbers show.
    colours = page.locator(".slide-cell").evaluate_all("cs => cs.map(c => c.style.backgroundColor)")
    assert all(colour for colour in colours)
    values = cells(page, "[data-slide-values]")
    assert len(values) == 16
    assert page.locator("[data-slide-value]").inner_text() == max(values, key=float)
    assert page.locator("[data-slide-values] td.slide-winner").inner_text() == max(
        values, key=float
    )
    screenshot(page, "slide-pooling-end-en")


def test_step_back_and_the_keyboard(page, live_server):
    page.goto(f"{live_server}/filters?sample=astronaut&f=sobel_x&res=128")
    page.get_by_role("button", name="Step ▶").click()
    page.get_by_role("button", name="Step ▶").click()
    assert status(page).startswith("Position 3 of 256: output row 0, column 2,")
    assert filled(page) == 3
    page.get_by_role("button", name="◀ Step back").click()
    assert status(page).startswith("Position 2 of 256: output row 0, column 1,")
    # With the focus in the player: → and ← step, Space plays and pauses.
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    assert status(page).startswith("Position 4 of 256: output row 0, column 3,")
    page.keyboard.press("ArrowLeft")
    assert filled(page) == 3
    page.keyboard.press(" ")
    assert page.locator("[data-slide-play]").get_attribute("aria-pressed") == "true"
    page.keyboard.press(" ")
    assert page.locator("[data-slide-play]").get_attribute("aria-pressed") == "false"
    # Space toggled only: it did not also press the focused button (Step back).
    assert page.evaluate("document.activeElement.hasAttribute('data-slide-back')")
    shown = status(page)
    page.wait_for_timeout(600)  # paused: nothing moves
    assert status(page) == shown
    # A click on a cell of the output moves the window there.
    page.locator(".slide-cell").nth(17).click()
    assert status(page).startswith("Position 18 of 256: output row 1, column 1,")
    assert filled(page) == 18
    page.locator("[data-slide-back]").focus()
    # At the start, stepping back stays at the first position.
    for _ in range(20):
        page.keyboard.press("ArrowLeft")
    assert status(page).startswith("Position 1 of 256") and filled(page) == 1


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_the_products_written_in_the_browser_equal_the_servers_explained_pixel(
    page, live_server, lang, screenshot
):
    """The player's numbers at the explained pixel, written by slide.js, against those of
    "Explain this pixel", written by the server (Python's rounding and the locale's decimal)."""
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
    page.goto(f"{live_server}/filters?sample=astronaut&f=gaussian&size=5&sigma=1.3&colour=rgb"
              "&res=128&stride=2&dilation=2&padding=full&row=9&col=20")  # fmt: skip
    explained = page.evaluate(
        "JSON.parse(document.querySelector('[data-slide-data]').getAttribute('data-slide-data')).explained"
    )
    columns = page.locator(".slide-grid").evaluate(
        "g => getComputedStyle(g).gridTemplateColumns.split(' ').length"
    )
    steps = explained[0] * columns + explained[1]
    page.locator("[data-slide-step]").focus()
    for _ in range(steps):
        page.keyboard.press("ArrowRight")
    assert page.locator(".slide-cell.current.explained").count() == 1
    for c in range(3):
        explain_products = page.locator("#explain .num-table.products").nth(c)
        assert (
            cells(page, f"[data-slide-products='{c}']")
            == explain_products.locator("td").all_inner_texts()
        )
        explain_patch = page.locator("#explain .num-table[aria-label]").nth(3 * c)
        assert (
            cells(page, f"[data-slide-patch='{c}']")
            == explain_patch.locator("td").all_inner_texts()
        )
    sums = page.locator(".slide-readout .slide-channel [data-slide-sum]").all_inner_texts()
    assert sums == page.get_by_test_id("channel-sum").all_inner_texts()
    assert (
        page.locator("[data-slide-total]").inner_text()
        == page.get_by_test_id("explain-value").inner_text()
    )
    if lang == "pt_BR":
        assert any("," in text for text in cells(page, "[data-slide-products='0']"))
    page.locator("#slide").scroll_into_view_if_needed()
    screenshot(page, f"slide-filters-products-{lang}")


TRICKY = [0.0625, -0.0625, 0.125, 2.5, 0.0015, 0.0005, 0.00012345, -0.00049, 1e-7, 99999.9995,
          100000.0, 123456.5, 1245000.0, -3.0, 0.0, 2406.5, 1 / 3, 255 / 9, 0.1 + 0.2, 9.9995,
          -1009.1234567, 31.875, 1.0005, 4.0625e-4]  # fmt: skip


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
def test_the_players_number_formatter_writes_as_the_server_does(page, live_server, lang):
    page.goto(f"{live_server}{SMALL_POOL}")
    numbers = numbers_for(lang)
    products = [v * w for v in (0, 1, 17, 128, 255) for w in (1 / 9, 0.0625, -0.125, 1 / 273, 0.3)]
    values = TRICKY + products
    for digits in (3, 4):
        shown = page.evaluate(
            "([values, digits, decimal]) =>"
            " values.map(v => window.cnnSlide.shortNumber(v, digits, decimal))",
            [values, digits, numbers.decimal_symbol],
        )
        assert shown == [numbers.short(v, digits) for v in values]


def test_two_quick_changes_while_playing_leave_no_second_timer(timed, live_server):
    page = timed
    page.goto(f"{live_server}/filters?sample=astronaut&f=sobel_x&res=128")
    page.get_by_role("button", name=re.compile("Play")).click()
    assert page.evaluate(LIVE_TIMERS) == 1
    latency(page, 400)  # the second change goes out before the first one's answer
    page.get_by_label("Stride").fill("2")
    page.keyboard.press("Tab")
    page.keyboard.type("2")  # Dilation, the next box
    page.keyboard.press("Tab")
    page.wait_for_url(re.compile(r"dilation=2"))
    settle(page)
    latency(page, 0)
    # A new strip: the old player stopped, the new one waits at its first step.
    assert page.evaluate(LIVE_TIMERS) == 0
    assert status(page).startswith("Position 1 of 256")
    assert page.locator("[data-slide-play]").get_attribute("aria-pressed") == "false"
    data = page.evaluate(
        "JSON.parse(document.querySelector('[data-slide-data]').getAttribute('data-slide-data'))"
    )
    assert (data["stride"], data["dilation"]) == (2, 2)
    # Played again, then two more quick changes: still one timer at most.
    page.get_by_role("button", name=re.compile("Play")).click()
    page.get_by_role("button", name=re.compile("Pause")).click()
    page.get_by_role("button", name=re.compile("Play")).click()
    assert page.evaluate(LIVE_TIMERS) == 1
    page.get_by_label("Stride").fill("3")
    page.keyboard.press("Tab")
    page.keyboard.type("1")
    page.keyboard.press("Tab")
    page.wait_for_url(re.compile(r"stride=3.*dilation=1|dilation=1.*stride=3"))
    settle(page)
    assert page.evaluate(LIVE_TIMERS) == 0


def test_a_swap_that_leaves_the_strip_alone_keeps_one_player_going(timed, live_server):
    page = timed
    page.goto(f"{live_server}/pooling?sample=camera&pres=64")
    set_speed(page, 2)
    page.get_by_role("button", name=re.compile("Play")).click()
    latency(page, 300)
    # The translation experiment's shift: a new answer, twice, with the same strip.
    slider = page.get_by_label(re.compile("Shift right"))
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"dx=6"))
    settle(page)
    latency(page, 0)
    assert page.evaluate(LIVE_TIMERS) == 1
    assert page.locator("[data-slide-play]").get_attribute("aria-pressed") == "true"
    # The morph drew the first step again; the player drew its own over it.
    page.wait_for_function("() => document.querySelectorAll('.slide-cell.filled').length > 2")
    shown = filled(page)
    assert page.locator(".slide-cell.current").count() == 1
    assert int(re.match(r"Position (\d+)", status(page)).group(1)) >= shown - 1
    # A hidden tab stops it.
    page.evaluate("""() => {
        Object.defineProperty(document, "hidden", {configurable: true, get: () => true});
        document.dispatchEvent(new Event("visibilitychange"));
    }""")
    assert page.evaluate(LIVE_TIMERS) == 0
    assert page.locator("[data-slide-play]").get_attribute("aria-pressed") == "false"


def test_the_strips_arrows_move_it_and_the_player_starts_over(timed, live_server):
    page = timed
    page.goto(f"{live_server}/filters?sample=astronaut&f=sobel_x&res=128")
    page.get_by_role("button", name="Step ▶").click()
    page.get_by_role("button", name=re.compile("Play")).click()
    page.get_by_role("link", name="↓ down").click()
    page.wait_for_url(re.compile(r"row=24&col=8"))
    settle(page)
    assert status(page).startswith("Position 1 of 256: output row 16, column 0,")
    assert page.evaluate(LIVE_TIMERS) == 0
    assert page.locator("input[name=row]").input_value() == "24"  # the explained pixel moved
    assert page.locator(".slide-cell.explained").count() == 1
    page.go_back()
    page.wait_for_url(re.compile(r"/filters\?(?!.*row=)"))
    settle(page)
    assert status(page).startswith("Position 1 of 256: output row 0, column 0,")


def test_without_javascript_the_first_step_is_shown(browser, live_server, screenshot):
    context = browser.new_context(java_script_enabled=False, viewport={"width": 375, "height": 812})
    page = context.new_page()
    page.goto(f"{live_server}/filters?sample=astronaut&f=sobel_x")
    assert page.locator("[data-slide-controls]").first.is_hidden()
    assert page.get_by_text("Click a cell to move the window there.").is_hidden()
    assert page.locator(".slide-cell.filled").count() == 1
    assert status(page).startswith("Position 1 of 256: output row 0, column 0,")
    assert cells(page, "[data-slide-patch='0']")[:3] == ["0", "0", "0"]  # the zero padding above
    page.get_by_role("link", name="→ right").click()  # a plain link without htmx
    page.wait_for_url(re.compile(r"col=24"))
    assert status(page).startswith("Position 1 of 256: output row 0, column 16,")
    page.locator("#slide").scroll_into_view_if_needed()
    screenshot(page, "slide-no-js-375")
    context.close()
