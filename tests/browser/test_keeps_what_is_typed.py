"""The defects of issue 12, each as a student met it in a real browser: a choice reset by the
answer to another, a click dropped while an answer was on its way, an error far from its control,
a stale result left looking current."""

import re

import pytest

from tests.browser.drawing import draw_a_one

pytestmark = pytest.mark.browser


def settle(page):
    """Wait until no htmx request is in flight, and the last answer is in the page."""
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=10_000)
    page.wait_for_timeout(150)


def value(page, selector: str):
    return page.eval_on_selector(
        selector, "e => (e.type === 'checkbox' || e.type === 'radio') ? e.checked : e.value"
    )


def focused_name(page) -> str:
    return page.evaluate("document.activeElement && document.activeElement.name")


def vertical_gap(page, first: str, second: str) -> float:
    """Pixels between two elements' boxes, top to bottom (0 when they overlap)."""
    a = page.locator(first).first.bounding_box()
    b = page.locator(second).first.bounding_box()
    return max(0.0, b["y"] - (a["y"] + a["height"]), a["y"] - (b["y"] + b["height"]))


# --- Filters -------------------------------------------------------------------------------------


def test_start_from_loads_the_filter_chosen_not_identity(page, live_server):
    page.goto(f"{live_server}/filters?sample=dot&f=identity")
    page.select_option("select[name=load]", "sobel_x")
    page.wait_for_timeout(400)  # an answer to the choice would have reset the menu by now
    assert value(page, "select[name=load]") == "sobel_x"
    page.click("button[value=load]")
    settle(page)
    sobel_x = ["-1", "0", "1", "-2", "0", "2", "-1", "0", "1"]
    assert value(page, "textarea[name=kernel]").split() == sobel_x
    assert value(page, "select[name=load]") == "sobel_x"  # ready to load it again


def test_the_first_click_on_normalise_after_typing_is_not_dropped(page, live_server):
    page.goto(f"{live_server}/filters?sample=dot&f=custom")
    page.fill("textarea[name=kernel]", "1 2 1\n2 4 2\n1 2 1")
    page.click("button[value=normalise]")  # the typing's change event goes out first
    settle(page)
    assert value(page, "textarea[name=kernel]").split()[:3] == ["0.0625", "0.125", "0.0625"]


def test_ticking_custom_right_after_typing_a_kernel_stays_ticked(page, live_server):
    page.goto(f"{live_server}/filters?sample=astronaut&f=identity")
    # Typed, then ticked at once: the typing's answer cannot be back before the tick.
    page.evaluate(
        """() => {
        const kernel = document.querySelector("textarea[name=kernel]");
        kernel.value = "0 1 0\\n1 -4 1\\n0 1 0";
        kernel.dispatchEvent(new Event("change", { bubbles: true }));
        document.querySelector("input[name=f][value=custom]").click();
    }"""
    )
    settle(page)
    assert value(page, "input[name=f][value=custom]") is True
    assert value(page, "textarea[name=kernel]") == "0 1 0\n1 -4 1\n0 1 0"
    assert "f=custom" in page.url


@pytest.mark.parametrize(
    ("lab", "row", "col", "explained"),
    [
        ("/filters?sample=dot&f=identity", "row", "col", "[data-testid=explain-value]"),
        ("/pooling?sample=dot", "prow", "pcol", "#explain table"),
    ],
)
def test_a_position_can_be_typed_one_box_at_a_time(page, live_server, lab, row, col, explained):
    page.goto(f"{live_server}{lab}")
    page.fill(f"input[name={row}]", "5")
    page.keyboard.press("Tab")
    settle(page)
    assert value(page, f"input[name={row}]") == "5"  # not erased while the column is blank
    assert focused_name(page) == col
    page.keyboard.type("7")
    page.keyboard.press("Tab")
    settle(page)
    assert value(page, f"input[name={row}]") == "5"
    assert value(page, f"input[name={col}]") == "7"
    assert f"{row}=5" in page.url and f"{col}=7" in page.url
    assert page.locator(explained).count() >= 1  # both boxes filled: the pixel is explained


def test_two_changes_in_quick_succession_both_stay_and_focus_stays(page, live_server):
    page.goto(f"{live_server}/filters?sample=dot&f=identity")
    page.select_option("select[name=padding]", "same")  # its answer is still on its way…
    page.fill("input[name=stride]", "2")  # …when the student types the next value
    page.keyboard.press("Tab")
    page.keyboard.type("3")  # into Dilation, the next box
    page.keyboard.press("Tab")
    page.keyboard.press("Shift+Tab")
    settle(page)
    assert value(page, "select[name=padding]") == "same"
    assert value(page, "input[name=stride]") == "2"
    assert value(page, "input[name=dilation]") == "3"
    assert focused_name(page) == "dilation"
    assert all(part in page.url for part in ("padding=same", "stride=2", "dilation=3"))
    page.keyboard.press("ArrowUp")  # the arrow keys still step the focused box
    settle(page)
    assert value(page, "input[name=dilation]") == "4"
    assert "dilation=4" in page.url


def test_an_editor_error_shows_at_the_editor_and_marks_the_maps_stale(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{live_server}/filters?sample=dot&f=custom&kernel=1+-1")
    page.locator("button[value=normalise]").scroll_into_view_if_needed()
    page.click("button[value=normalise]")  # 1 − 1 sums to 0: it cannot be normalised
    message = page.locator(".field-error")
    message.wait_for()
    assert "sums to 0" in message.inner_text()
    assert message.is_visible()
    assert vertical_gap(page, "textarea[name=kernel]", ".field-error") < 150
    box = message.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= 720  # on screen
    assert page.locator("[data-result][data-stale] .stale-note").count() == 1
    page.fill("textarea[name=kernel]", "1 1")
    page.click("button[value=normalise]")
    settle(page)
    assert page.locator(".field-error").count() == 0
    assert page.locator("[data-stale]").count() == 0
    assert value(page, "textarea[name=kernel]").split() == ["0.5", "0.5"]


def test_an_out_of_range_value_is_refused_next_to_its_box_in_portuguese(page, live_server):
    page.context.add_cookies([{"name": "lang", "value": "pt_BR", "url": live_server}])
    page.goto(f"{live_server}/filters?sample=dot&f=identity")
    page.fill("input[name=stride]", "999")
    page.keyboard.press("Tab")
    message = page.locator(".field-error")
    message.wait_for()
    assert "entre 1 e 64" in message.inner_text()
    stride = page.locator("input[name=stride]")
    assert stride.get_attribute("aria-invalid") == "true"
    assert stride.input_value() == "999"  # what was typed stays in the box
    assert message.get_attribute("role") == "alert"
    assert vertical_gap(page, "input[name=stride]", ".field-error") < 150


# --- Pipeline's calculator -----------------------------------------------------------------------


def test_a_calculator_error_marks_the_old_table_and_goes_with_the_next_success(page, live_server):
    page.goto(f"{live_server}/pipeline")
    arch = page.locator("#calc-arch")
    arch.fill("conv 8 3x3, pool 2, dense 10")
    page.click("#calc-form button[type=submit]")
    settle(page)
    assert page.locator("[data-testid=calc-table]").count() == 1
    arch.fill("conv 8 99x99")  # larger than the input
    page.click("#calc-form button[type=submit]")
    page.locator(".field-error").wait_for()
    assert page.locator("#calc[data-stale]").count() == 1  # the old table is not left as current
    arch.fill("conv 4 3x3")
    page.click("#calc-form button[type=submit]")
    settle(page)
    assert page.locator(".field-error").count() == 0
    assert page.locator("#calc-error .error-message").count() == 0
    assert page.locator("#calc[data-stale]").count() == 0
    assert "conv 4 3x3" in page.locator("[data-testid=calc-table]").inner_text()


# --- Signals -------------------------------------------------------------------------------------


def test_signals_parts_keep_each_others_values(page, live_server):
    page.goto(f"{live_server}/signals")
    page.check("input[name=ir][value=reverb]")
    settle(page)
    page.fill("input[name=xs]", "1 2 3 4")
    page.keyboard.press("Tab")
    settle(page)
    page.fill("input[name=kt]", "3")
    page.keyboard.press("Tab")
    settle(page)
    page.check("input[name=ir][value=echo]")
    settle(page)
    page.click("#step-next")
    settle(page)
    assert value(page, "input[name=ir][value=echo]") is True
    assert value(page, "input[name=xs]") == "1 2 3 4"
    assert value(page, "input[name=kt]") == "3"
    assert value(page, "input[name=pos]") == "1"
    query = page.url
    assert all(p in query for p in ("ir=echo", "xs=1+2+3+4", "kt=3", "pos=1")), query
    # The <noscript> copies of the other forms' values never become real fields.
    copies = page.eval_on_selector_all(
        "form input[type=hidden]", "els => els.map(e => e.name).filter(n => n)"
    )
    assert not {"xs", "kt", "ir", "delay"} & set(copies), copies


def test_the_reset_link_brings_a_lab_back_to_its_defaults(page, live_server):
    page.goto(f"{live_server}/filters?sample=dot&f=identity&stride=3")
    page.click("a.reset-link")
    page.wait_for_url(re.compile(r"/filters$"))
    assert value(page, "input[name=stride]") == "1"


# --- Training: a prediction's error ---------------------------------------------------------------


def test_a_prediction_error_goes_with_the_next_prediction(page, live_server):
    page.goto(f"{live_server}/train?dataset=digits&size=8&preset=tiny&epochs=1")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_url(re.compile(r"/train/runs/\w+$"))
    page.get_by_test_id("inside").wait_for(timeout=90_000)
    settle(page)
    page.get_by_role("button", name="Predict").click()  # a blank canvas: nothing to predict
    message = page.locator(".field-error, #predict-error .error-message").first
    message.wait_for()
    assert "blank" in message.inner_text()
    draw_a_one(page)
    page.get_by_role("button", name="Predict").click()
    page.get_by_test_id("predicted-class").wait_for()
    settle(page)
    assert page.locator(".field-error, #predict-error .error-message").count() == 0
    assert page.locator("#prediction[data-stale]").count() == 0
    # A blank canvas again: the earlier prediction is marked as not this one.
    page.get_by_role("button", name="Clear").click()
    page.get_by_role("button", name="Predict").click()
    page.locator(".field-error, #predict-error .error-message").first.wait_for()
    assert page.locator("#prediction[data-stale] .stale-note").count() == 1


def test_a_link_with_a_bad_value_shows_its_message_next_to_the_box(page, live_server):
    page.goto(f"{live_server}/pooling?sample=dot&psize=99")  # a shared link, or a reload
    message = page.locator(
        "input[name=psize] ~ .field-error, label:has([name=psize]) + .field-error"
    )
    message.wait_for()
    assert "Pool size" in message.inner_text()
    assert page.locator("input[name=psize]").get_attribute("aria-invalid") == "true"
    assert page.locator("input[name=psize]").input_value() == "99"
