"""Confidence that means something, in a real browser: the softmax temperature on a test image
and on an upload, a temperature out of range, the reliability diagrams, and the warning for a
photo that looks nothing like the digits."""

import re
from pathlib import Path

import pytest
from playwright.sync_api import expect

from tests.browser.drawing import draw_a_one
from tests.browser.test_training_browser import train_from

pytestmark = pytest.mark.browser

COFFEE = Path(__file__).parents[2] / "static" / "samples" / "coffee.png"


@pytest.fixture(scope="module")
def finished_run(browser, live_server):
    """One finished 16-pixel LeNet run for the module's tests: its id."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    run_id = train_from(page, live_server, "dataset=digits&size=16&preset=lenet&epochs=3&seed=0")
    page.get_by_test_id("test-accuracy").wait_for(timeout=60_000)
    context.close()
    return run_id


def test_temperature_on_a_test_image_and_a_mistyped_one(page, live_server, finished_run,
                                                        screenshot):  # fmt: skip
    page.goto(f"{live_server}/train/runs/{finished_run}/inside?sample=3")
    form = page.locator("form", has=page.get_by_label(re.compile("Test image number")))
    temperature = form.get_by_label(re.compile("Softmax temperature"))
    sentence = page.get_by_test_id("temperature-sentence").first
    expect(sentence).to_contain_text("At temperature 1 this is the plain softmax")
    bars = page.get_by_test_id("probabilities").first
    before = bars.locator(".bar-value").all_inner_texts()

    temperature.fill("3")
    temperature.press("Enter")
    expect(sentence).to_contain_text("At temperature 3 every logit is divided by 3")
    after = bars.locator(".bar-value").all_inner_texts()
    assert after != before and max(float(v.rstrip("%")) for v in after) < max(
        float(v.rstrip("%")) for v in before
    )  # hotter: the top class is less sure
    expect(page.get_by_test_id("chosen-ece")).to_contain_text("At your temperature, 3, the ECE is")
    screenshot(page, "training-confidence-en")

    # Out of range: the message sits next to the control, what was typed stays, nothing else moves.
    temperature.fill("20")
    temperature.press("Enter")
    message = form.locator(".field-error")
    expect(message).to_have_text("Temperature must be between 0.25 and 10 (got 20).")
    expect(temperature).to_have_value("20")
    expect(temperature).to_have_attribute("aria-invalid", "true")
    expect(sentence).to_contain_text("At temperature 3")
    temperature.fill("0.5")
    temperature.press("Enter")
    expect(sentence).to_contain_text("At temperature 0.5 every logit")
    expect(message).to_have_count(0)


def test_reliability_diagrams_are_there_with_their_numbers(page, live_server, finished_run):
    page.goto(f"{live_server}/train/runs/{finished_run}/inside")
    panel = page.get_by_test_id("reliability")
    expect(panel.get_by_role("heading", name="Does its confidence mean something?")).to_be_visible()
    charts = panel.locator("svg.chart")
    expect(charts).to_have_count(2)
    texts = charts.first.locator("[data-bin-count]").all_text_contents()  # SVG text
    counts = [int(v) for v in texts]
    assert len(counts) == 10 and sum(counts) == 359
    for testid in ("reliability-plain", "reliability-fitted"):
        ece = panel.get_by_test_id(testid).get_by_test_id("ece").inner_text()
        assert re.fullmatch(r"\d+(\.\d)?%", ece)
    panel.get_by_text("The numbers per bin").click()
    rows = panel.get_by_test_id("bins-plain").locator("tbody tr")
    expect(rows).to_have_count(10)
    expect(panel.get_by_test_id("test-familiarity")).to_contain_text("of the 359 test images")


def test_a_photo_is_flagged_and_a_new_temperature_asks_again(page, live_server, finished_run,
                                                             screenshot):  # fmt: skip
    page.goto(f"{live_server}/train/runs/{finished_run}/inside")
    form = page.locator("#predict-form")
    # A temperature changed before there is a picture sends nothing (no "blank" message).
    form.get_by_label(re.compile("Softmax temperature")).fill("2")
    form.get_by_label(re.compile("Softmax temperature")).press("Tab")
    page.wait_for_timeout(300)
    expect(page.locator("#predict-error .error-message")).to_have_count(0)
    form.get_by_label("or upload a picture").set_input_files(str(COFFEE))
    form.get_by_role("button", name="Predict").click()
    warning = page.locator("#prediction").get_by_test_id("ood-warning")
    expect(warning).to_contain_text(
        "This picture looks nothing like the digits this network was trained on: its prediction "
        "means little."
    )
    expect(warning).to_contain_text("Its unfamiliarity is")
    prediction = page.locator("#prediction")
    expect(prediction.get_by_test_id("temperature-sentence")).to_contain_text("At temperature 2 ")
    warning.scroll_into_view_if_needed()
    screenshot(page, "training-confidence-photo-en")
    # Changing the temperature asks for the same picture again, by itself.
    temperature = form.get_by_label(re.compile("Softmax temperature"))
    temperature.fill("0.25")
    temperature.press("Tab")
    expect(prediction.get_by_test_id("temperature-sentence")).to_contain_text(
        "At temperature 0.25 every logit"
    )
    expect(prediction.get_by_test_id("ood-warning")).to_be_visible()
    # A drawing is predicted at the chosen temperature too.
    form.get_by_label("or upload a picture").set_input_files([])
    draw_a_one(page)
    form.get_by_role("button", name="Predict").click()
    expect(prediction.get_by_test_id("predicted-class")).to_have_text(re.compile(r"^\d$"))
    expect(prediction.get_by_test_id("temperature-sentence")).to_contain_text("At temperature 0.25")


def test_in_portuguese_numbers_and_words_are_translated(page, live_server, finished_run):
    page.goto(f"{live_server}/train/runs/{finished_run}/inside?sample=2&temperature=1.5")
    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    expect(page.get_by_test_id("reliability").get_by_role("heading", level=2)).to_have_text(
        "A confiança dela quer dizer alguma coisa?"
    )
    sentence = page.get_by_test_id("temperature-sentence").first
    expect(sentence).to_contain_text("À temperatura 1,5 cada logit é dividido por 1,5")
    assert re.search(r"\d,\d\s%", sentence.inner_text())  # 61,2 %, the Brazilian way
    ece = page.get_by_test_id("reliability-plain").get_by_test_id("ece").inner_text()
    assert re.fullmatch(r"\d+(,\d)?\s%", ece)


def test_two_quick_changes_both_stay(page, live_server, finished_run):
    page.goto(f"{live_server}/train/runs/{finished_run}/inside?sample=0")
    form = page.locator("form", has=page.get_by_label(re.compile("Test image number")))
    sample = form.get_by_label(re.compile("Test image number"))
    temperature = form.get_by_label(re.compile("Softmax temperature"))
    sample.fill("9")
    sample.dispatch_event("change")
    temperature.fill("4")
    temperature.dispatch_event("change")  # before the first answer is back
    sentence = page.get_by_test_id("temperature-sentence").first
    expect(sentence).to_contain_text("At temperature 4 every logit")
    expect(page.get_by_role("img", name="Test image").first).to_have_attribute(
        "src", re.compile(r"index=9$")
    )
    expect(sample).to_have_value("9")
    expect(temperature).to_have_value("4")
