"""The Training lab's attributions in a real browser: pick a test image, switch the class, click
a cell of Grad-CAM and read its number (by mouse and by keyboard), in English and Portuguese;
then the same on a drawing."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.drawing import draw_a_one
from tests.browser.test_training_browser import train_from

pytestmark = pytest.mark.browser

ENGLISH_NUMBER = re.compile(r"^−?\d+(\.\d+)?(e[−+]\d+)?$")
PORTUGUESE_NUMBER = re.compile(r"^−?\d+(,\d+)?(e[−+]\d+)?$")


def click_cell(page, image, row: int, col: int, rows: int, cols: int) -> None:
    """Click the middle of cell (row, col) of a rows×cols map shown on `image`."""
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    page.mouse.click(box["x"] + box["width"] * (col + 0.5) / cols,
                     box["y"] + box["height"] * (row + 0.5) / rows)  # fmt: skip


@pytest.fixture(scope="module")
def finished_run(browser, live_server):
    """One LeNet run on 16×16 digits, trained once for the module."""
    context = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    page = context.new_page()
    run_id = train_from(page, live_server, "dataset=digits&size=16&preset=lenet&epochs=2")
    page.get_by_test_id("test-accuracy").wait_for(timeout=60_000)
    context.close()
    return run_id


@pytest.mark.parametrize(
    ("lang", "texts"),
    [
        ("en", {"image": "Test image number", "answer": "the network's answer",
                "cell": "row 5, column 3", "moved": "row 5, column 4", "title": "Why did it"}),
        ("pt_BR", {"image": "Número da imagem de teste", "answer": "a resposta da rede",
                   "cell": "linha 5, coluna 3", "moved": "linha 5, coluna 4",
                   "title": "Por que ela"}),
    ],
)  # fmt: skip
def test_pick_an_image_switch_the_class_and_click_grad_cam(
    page, live_server, finished_run, screenshot, lang, texts
):
    page.context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
    page.goto(f"{live_server}/train/runs/{finished_run}/inside")
    section = page.locator("#attr-test")
    expect(section.get_by_role("heading", level=2)).to_contain_text(texts["title"])
    # Pick a test image: the maps follow it.
    picker = page.get_by_label(re.compile(texts["image"]))
    picker.fill("12")
    picker.press("Enter")
    expect(section.locator("input[name=sample]")).to_have_value("12")
    chooser = section.get_by_test_id("attr-class")
    predicted = chooser.input_value()
    assert texts["answer"] in chooser.locator("option:checked").inner_text()
    other = "7" if predicted != "7" else "4"
    cam = section.locator("img[data-map=cam2]")
    expect(cam).to_have_attribute("src", re.compile(rf"sample=12&target={predicted}&map=cam2"))
    # Another class: the maps are that class's, and its row in the table is marked.
    chooser.select_option(other)
    expect(cam).to_have_attribute("src", re.compile(rf"target={other}&map=cam2"))
    expect(section.locator("tr.chosen th")).to_have_text(other)
    # A click on Grad-CAM (8×8 at stage 2) shows the number of the cell under the pointer.
    click_cell(page, cam, 5, 3, 8, 8)
    cell = section.get_by_test_id("attr-cell-test")
    expect(cell).to_contain_text(texts["cell"])
    value = cell.get_by_test_id("attr-cell-value").inner_text()
    assert (ENGLISH_NUMBER if lang == "en" else PORTUGUESE_NUMBER).match(value), value
    expect(section.locator(".attr-map.selected")).to_have_count(1)
    outlined = section.locator("[data-testid=attr-map-test-cam2] [data-testid=attr-box]")
    expect(outlined).to_be_visible()
    # The class stays chosen; the same cell for the predicted class has its own number.
    expect(chooser).to_have_value(other)
    # The keyboard moves the cell: the focused map keeps the focus.
    cam.focus()
    page.keyboard.press("ArrowRight")
    expect(cell).to_contain_text(texts["moved"])
    assert page.evaluate("document.activeElement.dataset.map") == "cam2"
    screenshot(page, f"training-attribution-{lang}")
    # A class out of range (sent by hand) is told next to the class chooser.
    page.evaluate("""() => { const s = document.querySelector('#attr-test select[name=target]');
        const o = document.createElement('option'); o.value = '12'; o.textContent = '12';
        s.append(o); s.value = '12'; s.dispatchEvent(new Event('change', {bubbles: true})); }""")
    message = section.locator(".field-error")
    expect(message).to_contain_text("12")
    expect(section.locator("select[name=target]")).to_have_attribute("aria-invalid", "true")


def test_a_drawing_gets_its_maps_and_its_numbers(page, live_server, finished_run, screenshot):
    page.goto(f"{live_server}/train/runs/{finished_run}/inside")
    draw_a_one(page)
    page.get_by_role("button", name="Predict").click()
    drawn = page.locator("#attr-drawn")
    expect(drawn.locator("img[data-map=occlusion]")).to_be_visible()
    drawn.get_by_test_id("attr-class").select_option("1")
    occlusion = drawn.locator("img[data-map=occlusion]")
    expect(occlusion).to_have_attribute("src", re.compile(r"input=[0-9a-f]{20}&target=1&"))
    # Occlusion on 16 px: 4×4 patches at stride 2, 7×7 of them; the middle of the picture
    # belongs to patch (3, 3), which covers rows and columns 6–9.
    occlusion.scroll_into_view_if_needed()
    box = occlusion.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2 + 1, box["y"] + box["height"] / 2 + 1)
    cell = drawn.get_by_test_id("attr-cell-drawn")
    expect(cell).to_contain_text("row 3, column 3")
    expect(cell).to_contain_text("rows 6–9 and columns 6–9")
    assert ENGLISH_NUMBER.match(cell.get_by_test_id("attr-cell-value").inner_text())
    # Input pixel (2, 13) is nearest the centres of patch row 0 (1.5) and column 6 (13.5),
    # though a plain stretch of the 7×7 grid would put it in row 1, column 5.
    page.mouse.click(box["x"] + box["width"] * 13.5 / 16, box["y"] + box["height"] * 2.5 / 16)
    expect(cell).to_contain_text("row 0, column 6")
    expect(cell).to_contain_text("rows 0–3 and columns 12–15")
    # Integrated gradients, asked for, joins the maps.
    drawn.get_by_label(re.compile("also integrated gradients")).check()
    expect(drawn.locator("img[data-map=ig]")).to_be_visible()
    screenshot(page, "training-attribution-drawing-en")
