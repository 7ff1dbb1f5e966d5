"""The Filters lab in a real browser: upload, pick a filter, explain a pixel, switch language."""

import re
from pathlib import Path

import pytest
from PIL import Image

pytestmark = pytest.mark.browser

SAMPLES = Path(__file__).resolve().parents[2] / "static" / "samples"


def photo_jpeg(tmp_path: Path) -> Path:
    """A real photo (the CC0 cat) as a JPEG, the way a phone would send it."""
    path = tmp_path / "cat photo.jpg"
    Image.open(SAMPLES / "chelsea.png").convert("RGB").save(path, format="JPEG", quality=90)
    return path


def wait_for_map(page, index: int = 0):
    image = page.locator(f"img.fmap[data-map-index='{index}']")
    image.wait_for()
    page.wait_for_function(
        "i => { const img = document.querySelector(`img.fmap[data-map-index='${i}']`);"
        " return img && img.complete && img.naturalWidth > 0; }",
        arg=index,
    )
    return image


def test_upload_photo_choose_sobel_and_see_feature_map(page, live_server, tmp_path, screenshot):
    page.goto(f"{live_server}/filters?f=identity")
    page.get_by_label("Upload an image").set_input_files(str(photo_jpeg(tmp_path)))
    with page.expect_response(lambda r: "/filters/upload" in r.url) as upload:
        page.get_by_role("button", name="Upload", exact=True).click()
    assert upload.value.status == 200
    page.wait_for_url(re.compile(r"upload=[0-9a-f]{20}"))
    assert "cat photo.jpg" in page.locator("#source").inner_text()

    page.get_by_label("Identity").uncheck()
    page.get_by_label("Sobel x").check()
    page.wait_for_url(re.compile(r"f=sobel_x"))
    image = wait_for_map(page)
    assert "f=sobel_x" in image.get_attribute("src")
    assert "upload=" in image.get_attribute("src")
    # The map is the photo's size (same padding keeps it): the cat is 451×300 at 256 long side.
    assert image.evaluate("img => [img.naturalWidth, img.naturalHeight]") == [256, 170]
    assert page.locator(".map-figure figcaption").first.inner_text().startswith("1. Sobel x")
    screenshot(page, "filters-upload-sobel-en")


def test_click_pixel_explains_it_with_numbers(page, live_server, screenshot):
    page.goto(f"{live_server}/filters?sample=step&f=sobel_x&padding=valid")
    image = wait_for_map(page)
    image.scroll_into_view_if_needed()
    box = image.bounding_box()
    # The step edge sits at column 24 of 48; valid 3×3 output is 46 wide, so column 22 touches it.
    out_w = 46
    image.click(position={"x": (22.5 / out_w) * box["width"], "y": box["height"] / 2})
    page.wait_for_url(re.compile(r"row=\d+&col=22"))
    total = page.get_by_test_id("explain-value")
    total.wait_for()
    # Sobel x across a 40→220 step: (−1 −2 −1)·40 + (1 + 2 + 1)·220 = 720.
    assert total.inner_text() == "720"
    assert page.get_by_test_id("receptive-field").is_visible()
    products = page.locator(".num-table.products td").all_inner_texts()
    assert products == ["-40", "0", "220", "-80", "0", "440", "-40", "0", "220"]
    screenshot(page, "filters-explain-en")


def test_bad_kernel_shows_message_and_keeps_the_maps(page, live_server, screenshot):
    page.goto(f"{live_server}/filters?sample=dot&f=custom&kernel=1+2%0A3+4")
    wait_for_map(page)
    before = page.locator("img.fmap").get_attribute("src")
    page.get_by_label(re.compile("Custom kernel: one row per line")).fill("1 2\n3 x")
    page.get_by_role("button", name="Apply").click()
    message = page.locator("#kernel + .field-error")  # right under the kernel editor
    message.wait_for()
    assert "'x' is not a number" in message.inner_text()
    assert page.locator("#kernel").get_attribute("aria-invalid") == "true"
    # What was on the page is still there, marked as not updated: the map and what was typed.
    assert page.locator("img.fmap").get_attribute("src") == before
    assert page.locator(".results[data-stale] .stale-note").is_visible()
    assert page.get_by_label(re.compile("Custom kernel: one row")).input_value() == "1 2\n3 x"
    screenshot(page, "filters-error-en")


def test_switch_to_portuguese_translates_the_page(page, live_server, screenshot):
    page.goto(f"{live_server}/filters?sample=camera&f=sobel_x&f=gaussian")
    wait_for_map(page)
    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert page.get_by_role("heading", name=re.compile("Filtros")).first.is_visible()
    assert page.get_by_text("Mapas de características").first.is_visible()
    assert "f=gaussian" in page.url  # the switch kept the lab's settings
    wait_for_map(page, 1)
    screenshot(page, "filters-pt")
    page.get_by_role("link", name="English").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "en"


def test_rgb_view_shows_three_channel_maps(page, live_server, screenshot):
    page.goto(f"{live_server}/filters?sample=coffee&colour=rgb&f=sobel_y&res=128&row=10&col=20")
    wait_for_map(page)
    partials = page.locator(".rgb-sum img")
    assert partials.count() == 4
    assert page.locator(".explain-channel").count() == 3
    sums = [float(t) for t in page.get_by_test_id("channel-sum").all_inner_texts()]
    value = float(page.get_by_test_id("explain-value").inner_text())
    assert abs(sum(sums) - value) < 1e-2
    screenshot(page, "filters-rgb-en")


def test_plain_form_submit_works_without_javascript(browser, live_server):
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(f"{live_server}/filters?sample=dot&f=identity")
    page.get_by_label("Stride").fill("2")
    page.get_by_role("button", name="Apply").click()
    page.wait_for_url(re.compile(r"stride=2"))
    assert (
        "⌊(33 + 1 + 1 − 1·(3 − 1) − 1) / 2⌋ + 1 = 17" in page.locator(".shape-panel").inner_text()
    )
    context.close()


def test_upload_error_is_shown_in_place(page, live_server, tmp_path):
    page.goto(f"{live_server}/filters?sample=dot")
    wait_for_map(page)
    bad = tmp_path / "<img src=x onerror=alert(1)>.png"
    bad.write_bytes(b"this is not a picture")
    page.get_by_label("Upload an image").set_input_files(str(bad))
    page.get_by_role("button", name="Upload", exact=True).click()
    message = page.locator("#upload-form .field-error")  # by the upload box, not at the top
    message.wait_for()
    assert "not an image" in message.inner_text()
    assert page.locator("img.fmap").count() == 1  # the lab is untouched


def test_keyboard_explains_and_moves_the_pixel(page, live_server):
    page.goto(f"{live_server}/filters?sample=dot&f=identity&padding=same")
    wait_for_map(page)
    page.locator("#fmap-0").focus()
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"row=16&col=16"))
    page.get_by_test_id("explain-value").wait_for()
    assert page.get_by_test_id("explain-value").inner_text() == "255"
    page.locator("#fmap-0").focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"row=16&col=17"))
    assert page.get_by_test_id("explain-value").inner_text() == "0"
