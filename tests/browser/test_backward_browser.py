"""Backward mode in a real browser: choosing the output gradient, clicking a dL/dkernel entry
and a dL/dinput pixel in the Filters lab, and a pooled cell's routed gradient in the Pooling lab,
in English and Portuguese."""

import re

import pytest

pytestmark = pytest.mark.browser


def settle(page):
    page.wait_for_load_state("networkidle")
    page.wait_for_function("() => !document.querySelector('.htmx-request')", timeout=10_000)


def backward_images_loaded(page) -> bool:
    return page.evaluate(
        "() => [...document.querySelectorAll('#backward img')]"
        ".every(img => img.complete && img.naturalWidth > 0)"
    )


def number(text: str) -> float:
    return float(text.strip().replace("−", "-").replace(",", "."))


def test_choosing_a_gradient_then_clicking_a_kernel_entry_and_an_input_pixel(
    page, live_server, screenshot
):
    page.goto(f"{live_server}/filters?sample=dot&f=sobel_x&padding=valid")
    assert page.locator("#backward").count() == 0
    page.get_by_label("Output gradient dL/dy").select_option("ones")
    page.wait_for_url(re.compile(r"grad=ones"))
    page.locator("#backward").wait_for()
    settle(page)
    assert page.get_by_test_id("bias-grad").inner_text() == "961"  # 31×31 ones

    entry = page.locator("button.kgrad-cell[data-i='2'][data-j='0']")
    shown = entry.inner_text()
    entry.click()
    page.wait_for_url(re.compile(r"ki=2&kj=0"))
    total = page.get_by_test_id("kernel-cell-total")
    total.wait_for()
    assert number(total.inner_text()) == pytest.approx(number(shown), rel=1e-3)
    assert page.get_by_label("Kernel row").input_value() == "2"

    image = page.locator("img.grad-input").first
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    # 33×33 dot: pixel (16, 10), on the dot's left edge, where Sobel x has something to say.
    image.click(position={"x": 10.5 / 33 * box["width"], "y": 16.5 / 33 * box["height"]})
    page.wait_for_url(re.compile(r"xi=16&xj=10"))
    page.get_by_test_id("input-cell").wait_for()
    marker = page.get_by_test_id("input-marker").bounding_box()
    image_box = page.locator("img.grad-input").first.bounding_box()
    # The marker sits on pixel (16, 10) of the 33×33 image, wherever the image is laid out.
    assert marker["x"] - image_box["x"] == pytest.approx(10 / 33 * image_box["width"], abs=2)
    assert marker["y"] - image_box["y"] == pytest.approx(16 / 33 * image_box["height"], abs=2)
    assert "9 windows covered this pixel" in page.get_by_test_id("input-cell").inner_text()
    checks = page.get_by_test_id("layer-check").locator("td:nth-child(2)").all_inner_texts()
    assert len(checks) == 3 and all(number(c) < 1e-9 for c in checks)
    settle(page)
    assert backward_images_loaded(page)
    screenshot(page, "backward-filters-en")


def test_the_arrow_keys_move_the_explained_input_pixel(page, live_server):
    page.goto(f"{live_server}/filters?sample=dot&f=identity&grad=map&xi=5&xj=5")
    image = page.locator("img.grad-input").first
    image.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"xi=5&xj=6"))
    settle(page)
    assert page.evaluate("document.activeElement.id") == "grad-input-0"  # focus kept
    page.keyboard.press("ArrowDown")
    page.wait_for_url(re.compile(r"xi=6&xj=6"))


def test_pooling_backward_routes_to_the_clicked_windows_winner_in_portuguese(
    page, live_server, screenshot
):
    page.context.add_cookies([{"name": "lang", "value": "pt_BR", "url": live_server}])
    page.goto(f"{live_server}/pooling?sample=square&pres=64")
    page.get_by_label("Gradiente de saída dL/dy").select_option("cell")
    page.locator("#backward").wait_for()
    pooled = page.locator("#pooled-map")
    pooled.scroll_into_view_if_needed()
    box = pooled.bounding_box()
    pooled.click(position={"x": 7.5 / 24 * box["width"], "y": 7.5 / 24 * box["height"]})
    page.wait_for_url(re.compile(r"prow=7&pcol=7"))
    window = page.get_by_test_id("pool-window-grad")
    window.wait_for()
    text = window.inner_text()
    assert "recebe dL/dy = 1" in text and "Tudo vai para a sua vencedora" in text
    assert window.locator("td.winner").inner_text() == "1"
    # One cell of dL/dy is 1: exactly one input cell receives a gradient.
    assert page.get_by_test_id("receivers").inner_text().startswith("1 das 2.304")
    assert "é 0 (calculada agora)" in page.get_by_test_id("pool-layer-check").inner_text()
    settle(page)
    assert backward_images_loaded(page)
    screenshot(page, "backward-pooling-pt")
