"""Keyboard stepping in every lab (static/js/keys.js, templates/_keys.html), in Chromium: each
lab's ← → (and Space where it plays something) change what its legend says they change, as a
click would (the same fields in the address); keys typed in a field, or pressed with Ctrl or
Alt, step nothing; quick presses leave one request in flight; and the legend is there in
English and in Portuguese."""

import re
from urllib.parse import parse_qs, urlparse

import pytest
from playwright.sync_api import expect

from tests.browser.test_every_lab_rules import latency
from tests.browser.test_training_browser import train_from

pytestmark = pytest.mark.browser


def settle(page):
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('.htmx-request, .htmx-settling')")
    page.wait_for_timeout(150)


def address(page) -> dict[str, str]:
    return {key: values[-1] for key, values in parse_qs(urlparse(page.url).query).items()}


def press(page, key: str, times: int = 1) -> None:
    """Keys pressed with the focus on the page itself, as after a click on its background."""
    page.evaluate("() => document.activeElement && document.activeElement.blur()")
    for _ in range(times):
        page.keyboard.press(key)


def value(page, selector: str) -> str:
    return page.locator(selector).first.input_value()


def status(page) -> str:
    return page.locator("[data-keys-status]").inner_text()


# --- Filters and Pooling: the explained cell in reading order; Space plays the sliding window --


def test_filters_arrows_step_the_explained_pixel_and_space_plays(page, live_server):
    page.goto(f"{live_server}/filters?sample=astronaut&f=sobel_x&res=64&row=3&col=62")
    out_w = int(page.locator("#fmap-0").get_attribute("data-out-w"))
    assert out_w == 64
    press(page, "ArrowRight")
    settle(page)
    assert (value(page, "input[name=row]"), value(page, "input[name=col]")) == ("3", "63")
    press(page, "ArrowRight")  # the end of the row goes on to the next row
    settle(page)
    assert (value(page, "input[name=row]"), value(page, "input[name=col]")) == ("4", "0")
    assert (address(page)["row"], address(page)["col"]) == ("4", "0")
    expect(page.locator("#explain p").first).to_contain_text("row 4, column 0")
    expect(page.locator("[data-keys-status]")).to_contain_text("row 4, column 0")
    press(page, "ArrowLeft", 2)
    settle(page)
    assert (value(page, "input[name=row]"), value(page, "input[name=col]")) == ("3", "62")
    # Space plays the sliding window, and pauses it.
    play = page.locator("[data-slide-play]")
    expect(play).to_have_attribute("aria-pressed", "false")
    press(page, " ")
    expect(play).to_have_attribute("aria-pressed", "true")
    press(page, " ")
    expect(play).to_have_attribute("aria-pressed", "false")


def test_filters_keys_typed_in_a_field_or_with_a_modifier_step_nothing(page, live_server):
    page.goto(f"{live_server}/filters?sample=astronaut&f=sobel_x&res=64&row=3&col=5")
    kernel = page.locator("#kernel")
    kernel.click()
    kernel.press("ArrowRight")
    kernel.press("ArrowLeft")
    kernel.press(" ")
    page.locator("input[name=size]").press("ArrowLeft")  # a number box keeps its own keys
    press(page, "Control+ArrowRight")
    press(page, "Alt+ArrowRight")
    page.wait_for_timeout(300)
    settle(page)
    assert (value(page, "input[name=row]"), value(page, "input[name=col]")) == ("3", "5")
    assert (address(page)["row"], address(page)["col"]) == ("3", "5")
    expect(page.locator("[data-slide-play]")).to_have_attribute("aria-pressed", "false")


def test_pooling_arrows_step_the_explained_window(page, live_server):
    page.goto(f"{live_server}/pooling?sample=camera&pres=16&psize=4")
    out_w = int(page.locator("#pooled-map").get_attribute("data-out-w"))
    assert out_w == 4
    assert value(page, "input[name=prow]") == ""
    press(page, "ArrowRight")  # nothing explained yet: the first window
    settle(page)
    assert (value(page, "input[name=prow]"), value(page, "input[name=pcol]")) == ("0", "0")
    press(page, "ArrowRight", 4)
    settle(page)
    assert (value(page, "input[name=prow]"), value(page, "input[name=pcol]")) == ("1", "0")
    assert (address(page)["prow"], address(page)["pcol"]) == ("1", "0")
    expect(page.locator("#explain p").first).to_contain_text("Output row 1, column 0")
    press(page, "ArrowLeft")
    settle(page)
    assert (value(page, "input[name=prow]"), value(page, "input[name=pcol]")) == ("0", "3")
    play = page.locator("[data-slide-play]")
    press(page, " ")
    expect(play).to_have_attribute("aria-pressed", "true")
    press(page, " ")
    expect(play).to_have_attribute("aria-pressed", "false")


# --- Pipeline: a highlight along the layers ---------------------------------------------------


def test_pipeline_arrows_walk_the_layers(page, live_server):
    page.goto(f"{live_server}/pipeline")
    rows = page.locator("tr.layer-row")
    count = rows.count()
    assert count > 3
    press(page, "ArrowRight")
    expect(rows.nth(0)).to_have_attribute("aria-current", "step")
    press(page, "ArrowRight", 2)
    expect(rows.nth(2)).to_have_attribute("aria-current", "step")
    assert page.locator("tr.keys-current").count() == 1
    expect(page.locator("[data-keys-status]")).to_contain_text(f"3 / {count}")
    expect(page.locator("[data-keys-status]")).to_contain_text(
        rows.nth(2).locator("th code").inner_text()
    )
    press(page, "ArrowLeft")
    expect(rows.nth(1)).to_have_attribute("aria-current", "step")
    press(page, "ArrowRight", count + 2)  # it stops at the last layer
    expect(rows.nth(count - 1)).to_have_attribute("aria-current", "step")
    # Typing in the shape calculator's boxes walks nothing.
    page.locator("#calc-input").press("ArrowLeft")
    page.locator("#calc-arch").press("ArrowLeft")
    expect(rows.nth(count - 1)).to_have_attribute("aria-current", "step")


def test_pipeline_row_is_in_the_address(page, live_server):
    """A presented row is a link: the address names it, a reload or the language switch shows
    it again, and a control changed while it is highlighted keeps it."""
    page.goto(f"{live_server}/pipeline?present=1")
    rows = page.locator("tr.layer-row")
    press(page, "ArrowRight", 3)
    expect(rows.nth(2)).to_have_attribute("aria-current", "step")
    assert address(page)["stage"] == "3" and address(page)["present"] == "1"
    page.reload()
    expect(rows.nth(2)).to_have_attribute("aria-current", "step")
    assert page.locator("tr.keys-current").count() == 1
    choices = page.locator("#pres option")
    page.select_option("#pres", choices.nth(choices.count() - 1).get_attribute("value"))
    settle(page)
    assert address(page)["stage"] == "3"
    assert address(page)["pres"] == choices.nth(choices.count() - 1).get_attribute("value")
    expect(rows.nth(2)).to_have_attribute("aria-current", "step")
    page.locator("a.lang-link:not([aria-current])").first.click()
    page.wait_for_load_state("networkidle")
    assert address(page)["stage"] == "3"
    expect(rows.nth(2)).to_have_attribute("aria-current", "step")
    page.goto(f"{live_server}/pipeline?stage=99")  # past the last row: none, and no error
    assert page.locator("tr.keys-current").count() == 0


# --- Training: the network in the setup, the test image inside a run --------------------------


def test_training_setup_arrows_choose_the_next_network(page, live_server):
    page.goto(f"{live_server}/train?dataset=digits&size=16&preset=lenet")
    options = page.locator("#preset option").evaluate_all("(all) => all.map((o) => o.value)")
    start = options.index("lenet")
    press(page, "ArrowRight")
    settle(page)
    assert value(page, "#preset") == options[start + 1]
    assert address(page)["preset"] == options[start + 1]
    expect(page.locator("[data-keys-status]")).to_contain_text(
        page.locator("#preset option:checked").inner_text()
    )
    press(page, "ArrowLeft")
    settle(page)
    assert value(page, "#preset") == "lenet"
    page.locator("#arch").press("ArrowRight")  # typing in the layers box
    settle(page)
    assert value(page, "#preset") == "lenet"


@pytest.fixture(scope="module")
def finished_run(browser, live_server):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    run_id = train_from(page, live_server, "dataset=digits&size=16&preset=lenet&epochs=1")
    page.get_by_test_id("test-accuracy").wait_for(timeout=90_000)
    context.close()
    return run_id


def test_look_inside_arrows_step_the_test_image(page, live_server, finished_run):
    page.goto(f"{live_server}/train/runs/{finished_run}/inside?sample=4")
    sample = "#inside input[name=sample]"
    press(page, "ArrowRight")
    settle(page)
    assert value(page, sample) == "5"  # (this form, typed in, does not change the address either)
    expect(page.locator("#inside img.big")).to_have_attribute("src", re.compile(r"index=5$"))
    expect(page.locator("[data-keys-status]")).to_contain_text(": 5")
    press(page, "ArrowLeft", 2)
    settle(page)
    assert value(page, sample) == "3"
    page.get_by_test_id("test-temperature").press("ArrowRight")
    settle(page)
    assert value(page, sample) == "3"


def test_space_pauses_and_resumes_a_run_on_its_page(page, live_server):
    page.goto(f"{live_server}/train?dataset=digits&size=28&preset=lenet&epochs=30")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_url(re.compile(r"/train/runs/\w+$"))
    badge = page.get_by_test_id("run-status")
    page.get_by_role("button", name="Pause").wait_for()
    press(page, " ")
    expect(badge).to_have_text("paused")
    expect(page.get_by_role("button", name="Resume")).to_be_visible()
    press(page, " ")
    expect(badge).to_have_text("running")
    page.get_by_role("button", name="Stop").click()  # the worker is free for the next tests
    expect(badge).not_to_have_text("running")


# --- Text: the sentence followed ---------------------------------------------------------------


def test_text_arrows_follow_the_next_sentence(page, live_server):
    page.goto(f"{live_server}/text?text=the+film+was+great%0Aa+dull+film%0Aloved+it")
    assert value(page, "#follow") == "1"
    press(page, "ArrowRight", 2)
    settle(page)
    assert value(page, "#follow") == "3"
    assert address(page)["follow"] == "3"
    expect(page.locator("tr.text-followed")).to_have_count(1)
    expect(page.locator("[data-testid=matrix-row]").nth(2)).to_have_class(
        re.compile("text-followed")
    )
    press(page, "ArrowRight")  # the last sentence stays
    settle(page)
    assert value(page, "#follow") == "3"
    page.locator("#text").press("ArrowLeft")  # the caret moves, not the sentence
    settle(page)
    assert value(page, "#follow") == "3"
    press(page, "ArrowLeft")
    settle(page)
    assert value(page, "#follow") == "2"


# --- Signals: the flip-and-slide position; Space plays the output sound -----------------------


def test_signals_arrows_slide_and_space_plays_the_output(page, live_server):
    page.goto(f"{live_server}/signals")
    start = int(value(page, "#pos"))
    press(page, "ArrowRight", 3)
    settle(page)
    assert int(value(page, "#pos")) == start + 3
    assert address(page)["pos"] == str(start + 3)
    expect(page.locator("#pos-value")).to_have_text(str(start + 3))
    expect(page.get_by_test_id("slide-sum")).to_contain_text(f"y[{start + 3}]")
    press(page, "ArrowLeft")
    settle(page)
    assert int(value(page, "#pos")) == start + 2
    page.locator("#slide-form input[name=xs]").press("ArrowRight")
    settle(page)
    assert int(value(page, "#pos")) == start + 2
    audio = page.get_by_test_id("audio-output")
    assert audio.evaluate("(a) => a.paused")
    press(page, " ")
    page.wait_for_function("() => !document.querySelector('[data-testid=audio-output]').paused")
    press(page, " ")
    page.wait_for_function("() => document.querySelector('[data-testid=audio-output]').paused")


# --- Losses: the last slider used ---------------------------------------------------------------


def test_losses_arrows_move_the_last_slider_used(page, live_server):
    page.goto(f"{live_server}/losses")
    yhat = float(value(page, "#yhat"))
    press(page, "ArrowRight", 2)
    settle(page)
    assert float(value(page, "#yhat")) == pytest.approx(yhat + 0.2)
    assert float(address(page)["yhat"]) == pytest.approx(yhat + 0.2)
    mse = float(page.get_by_test_id("mse-value").inner_text())
    assert mse == pytest.approx((yhat + 0.2 - float(value(page, "#y"))) ** 2, abs=1e-4)
    # The user moves p with its own keys: the page's arrows now move p.
    p_before = float(value(page, "#p"))
    page.locator("#p").focus()
    page.keyboard.press("ArrowRight")
    settle(page)
    assert float(value(page, "#p")) == pytest.approx(p_before + 0.01)
    press(page, "ArrowLeft", 3)
    settle(page)
    assert float(value(page, "#p")) == pytest.approx(p_before - 0.02)
    assert float(value(page, "#yhat")) == pytest.approx(yhat + 0.2)


# --- Optimizers: a step forward or back, one request at a time ---------------------------------


def test_optimizers_arrows_step_the_race_one_request_at_a_time(page, live_server):
    page.goto(f"{live_server}/optimizers")
    start = int(value(page, "#steps"))
    press(page, "ArrowRight")
    settle(page)
    assert value(page, "#steps") == str(start + 1)
    expect(page.get_by_test_id("step-count")).to_contain_text(f"Step {start + 1}")
    expect(page.locator("[data-keys-status]")).to_contain_text(f"Step {start + 1}")
    assert address(page)["steps"] == str(start + 1)
    press(page, "ArrowLeft", 2)
    settle(page)
    assert value(page, "#steps") == str(start - 1)
    page.goto(f"{live_server}/optimizers?steps=0")
    press(page, "ArrowLeft")  # no step before the first
    settle(page)
    assert value(page, "#steps") == "0"
    # Ten quick presses on a slow network: never two requests at once.
    in_flight, most = set(), [0]

    def started(request):
        if "/optimizers" in request.url and request.resource_type in ("xhr", "fetch"):
            in_flight.add(request)
            most[0] = max(most[0], len(in_flight))

    page.on("request", started)
    page.on("requestfinished", lambda request: in_flight.discard(request))
    page.on("requestfailed", lambda request: in_flight.discard(request))
    latency(page, 300)
    press(page, "ArrowRight", 10)
    settle(page)
    steps = int(value(page, "#steps"))
    assert most[0] == 1
    assert 1 <= steps < 10  # presses made while a step was on its way were not sent
    expect(page.get_by_test_id("step-count")).to_contain_text(f"Step {steps}")
    # S still takes one step; typed in a field it is a letter.
    latency(page, 0)
    page.locator("#lr1").press("ArrowRight")
    settle(page)
    assert int(value(page, "#steps")) == steps


# --- The legend, in both languages ------------------------------------------------------------

LAB_PAGES = ["/filters", "/pooling", "/pipeline", "/train", "/text", "/signals", "/losses",
             "/optimizers"]  # fmt: skip


LEGEND_WORDS = [("en", ("Keys", "not while typing in a field")),
                ("pt_BR", ("Teclas", "não enquanto você digita"))]  # fmt: skip


@pytest.mark.parametrize(("lang", "words"), LEGEND_WORDS)
def test_every_lab_shows_its_legend_in_its_language(page, live_server, finished_run, lang, words):
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
    for path in [*LAB_PAGES, f"/train/runs/{finished_run}/inside", f"/train/runs/{finished_run}"]:
        page.goto(f"{live_server}{path}")
        legend = page.get_by_test_id("keys-legend")
        expect(legend).to_be_visible()
        text = legend.inner_text()
        assert words[0] in text and words[1] in text, (path, text)
        assert "←" in text and "→" in text, path
        english = ("step", "move", "choose", "follow", "slide", "play")
        if lang == "pt_BR":
            assert not any(re.search(rf"\b{word}\b", text) for word in english), (path, text)
