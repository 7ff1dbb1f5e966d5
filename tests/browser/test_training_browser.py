"""The Training lab in a real browser: train, watch, draw, compare."""

import re

import pytest

from tests.browser.drawing import draw_a_one

pytestmark = pytest.mark.browser


def train_from(page, live_server, query: str) -> str:
    page.goto(f"{live_server}/train?{query}")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_url(re.compile(r"/train/runs/\w+$"))
    return page.url.rsplit("/", 1)[1]


def test_train_watch_and_draw(page, live_server, screenshot):
    run_id = train_from(page, live_server, "dataset=digits&size=16&preset=lenet&epochs=3")
    # The page updates itself: the progress reaches 100% and the final accuracy appears.
    accuracy = page.get_by_test_id("test-accuracy")
    accuracy.wait_for(timeout=60_000)
    assert float(accuracy.inner_text().rstrip("%")) > 60
    assert page.get_by_test_id("run-progress").inner_text() == "100%"
    assert page.locator("[data-testid=loss-chart] polyline").count() == 1
    assert page.locator("[data-testid=accuracy-chart] polyline").count() == 2
    page.get_by_test_id("inside").wait_for()
    page.wait_for_load_state("networkidle")
    screenshot(page, "training-run-en")

    draw_a_one(page)
    page.get_by_role("button", name="Predict").click()
    predicted = page.get_by_test_id("predicted-class")
    predicted.wait_for()
    assert predicted.inner_text() in [str(d) for d in range(10)]
    screenshot(page, "training-drawing-en")

    # A blank canvas gets a message where the user is looking, and the prediction stays.
    page.get_by_role("button", name="Clear").click()
    page.get_by_role("button", name="Predict").click()
    message = page.locator(".field-error")
    message.wait_for()
    assert "blank" in message.inner_text()
    assert predicted.is_visible()

    page.goto(f"{live_server}/train/runs/{run_id}")
    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert page.locator("h1").inner_text().startswith("Execução")
    assert page.get_by_test_id("run-status").inner_text() == "concluído"
    screenshot(page, "training-run-pt")


def test_setup_and_compare_two_runs(page, live_server, screenshot):
    first = train_from(page, live_server, "size=8&preset=tiny&epochs=2")
    page.get_by_test_id("test-accuracy").wait_for(timeout=60_000)
    # Its student names it; the name is text, shown as typed, on its page and on the list.
    page.get_by_text("Rename").click()
    page.get_by_test_id("run-name-input").fill("Ana's <b>tiny</b>")
    page.get_by_role("button", name="Save").click()
    page.get_by_test_id("run-name").filter(has_text="Ana's <b>tiny</b>").wait_for()
    second = train_from(page, live_server, "size=8&preset=mlp&epochs=2")
    page.get_by_test_id("test-accuracy").wait_for(timeout=60_000)
    page.goto(f"{live_server}/train?size=8&preset=tiny&aug=shift&aug=rotate")
    screenshot(page, "training-setup-en")
    assert page.get_by_role("link", name="Ana's <b>tiny</b>").count() == 1
    page.locator(f'input[name="run"][value="{first}"]').check()
    page.locator(f'input[name="run"][value="{second}"]').check()
    page.get_by_role("button", name="Compare the ticked runs").click()
    page.wait_for_url(re.compile(r"/train/compare"))
    runs = page.get_by_test_id("compared-runs").inner_text()
    assert "Tiny CNN" in runs and "MLP baseline" in runs
    assert page.locator("svg.chart").count() == 3
    assert page.locator("figure.histogram").count() > 2
    screenshot(page, "training-compare-en")


def test_layer_editor_buttons_edit_the_network(page, live_server, screenshot):
    page.goto(f"{live_server}/train?size=8&preset=tiny")
    total = page.get_by_test_id("train-total").inner_text()
    page.get_by_label("Add a layer at the end").select_option("dropout")
    page.get_by_role("button", name="Add", exact=True).click()
    page.wait_for_url(re.compile(r"preset=custom"))
    assert "dropout 0.25" in page.locator("#arch").input_value()
    page.get_by_role("button", name="Remove conv 16 3x3 same").click()
    page.wait_for_function("() => !document.querySelector('#arch').value.includes('conv 16')")
    assert page.get_by_test_id("train-total").inner_text() != total
    screenshot(page, "training-editor-en")
