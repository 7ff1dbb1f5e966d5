"""The Loss lab in a real browser: drag a prediction along a plot, move a slider, bad input."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser


def test_drag_the_prediction_along_the_plot(page, live_server, screenshot):
    page.goto(f"{live_server}/losses?y=1&yhat=2.5")
    assert page.get_by_test_id("mse-value").inner_text() == "2.25"
    svg = page.get_by_test_id("mse-chart").locator("svg")
    svg.scroll_into_view_if_needed()
    box = svg.bounding_box()
    left = box["x"] + box["width"] * 64 / 560  # the plot area starts at x = 64 of 560
    width = box["width"] * (560 - 64 - 16) / 560
    y = box["y"] + box["height"] * 0.4
    # From ŷ = 2.5 to ŷ = −3: the x axis runs from −5 to 5.
    page.mouse.move(left + width * 0.75, y)
    page.mouse.down()
    page.mouse.move(left + width * 0.5, y, steps=4)
    page.mouse.move(left + width * 0.2, y, steps=4)
    assert page.locator("#yhat-value").inner_text() == "-3"  # follows the pointer at once
    page.mouse.up()
    page.wait_for_url(re.compile(r"yhat=-3&"))
    page.get_by_test_id("mse-value").filter(has_text="16").wait_for()  # (−3 − 1)² = 16
    assert page.get_by_test_id("mse-grad").inner_text() == "-8"
    assert page.get_by_test_id("mae-value").inner_text() == "4"
    screenshot(page, "losses-drag-en")


def test_sliders_and_a_bad_dataset(page, live_server):
    page.goto(f"{live_server}/losses")
    page.get_by_role("slider", name=re.compile(r"^Logit z:")).fill("-8")  # saturation
    page.wait_for_url(re.compile(r"zs=-8$"))
    # σ(−8) = 0.00034: MSE's gradient has almost vanished, cross-entropy's has not.
    page.get_by_test_id("steps-mse").filter(has_text="1507").wait_for()
    assert page.get_by_test_id("steps-bce").inner_text() == "9"
    page.get_by_label("Coin tosses").fill("")
    page.get_by_label("Coin tosses").press("Enter")
    error = page.locator(".field-error")
    error.wait_for()
    assert "There are no coin tosses" in error.inner_text()
    # Next to the box that caused it, on screen, even this far down the page.
    assert page.get_by_label("Coin tosses").get_attribute("aria-invalid") == "true"
    box, field = error.bounding_box(), page.get_by_label("Coin tosses").bounding_box()
    assert abs(box["y"] - (field["y"] + field["height"])) < 80
    assert 0 <= box["y"] <= page.viewport_size["height"] - box["height"]
    page.screenshot(path=str(SCREENSHOTS / "losses-error-viewport-en.png"))


def test_losses_in_portuguese(page, live_server, screenshot):
    page.goto(f"{live_server}/losses?tosses=HTTHTTTHTT&pc=0.6&zs=-6&k=3")
    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert "Funções de perda: o que uma perda mede" in page.locator("h1").first.inner_text()
    assert "tosses=HTTHTTTHTT" in page.url
    screenshot(page, "losses-pt")
