"""The Signals lab in a real browser: hear an echo, step through a convolution, watch motion."""

import io
import re

import numpy as np
import pytest
from PIL import Image

pytestmark = pytest.mark.browser

PLAY = """async (audio) => {
  audio.muted = true;  // autoplay rules allow muted playback without a click
  await audio.play();
  await new Promise((resolve) => setTimeout(resolve, 400));
  const played = audio.currentTime;
  audio.pause();
  return {played, duration: audio.duration, src: audio.currentSrc, error: audio.error};
}"""


def all_images_loaded(page) -> bool:
    """Waits (up to the page's timeout) until every image has loaded and has pixels."""
    page.wait_for_function(
        "() => [...document.images].every(img => img.complete && img.naturalWidth > 0)"
    )
    return True


def moving_square_gif(frames: int = 8) -> bytes:
    images = []
    for t in range(frames):
        pixels = np.full((48, 64), 20, dtype=np.uint8)
        pixels[16:32, 4 + 4 * t : 20 + 4 * t] = 230
        images.append(Image.fromarray(pixels))
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=90,
                   loop=0)  # fmt: skip
    return buffer.getvalue()


def test_pick_the_voice_add_an_echo_see_and_play_it(page, live_server, screenshot):
    page.goto(f"{live_server}/signals?clip=melody&ir=difference")
    page.get_by_label("Sound clip").select_option(label="Spoken phrase (English)")
    page.wait_for_url(re.compile(r"clip=voice_en"))
    page.get_by_label("Echo", exact=True).check()
    page.wait_for_url(re.compile(r"ir=echo"))
    page.get_by_label("Echo delay (ms)").fill("300")
    page.get_by_label("Echo delay (ms)").press("Enter")
    page.wait_for_url(re.compile(r"delay=300"))
    formula = page.get_by_test_id("echo-formula")
    assert "x[n − 4,800]" in formula.inner_text()  # 300 ms at 16 kHz
    output = page.get_by_test_id("audio-output")
    assert "delay=300" in output.get_attribute("src")
    result = output.evaluate(PLAY)
    assert result["error"] is None and result["played"] > 0
    before = page.get_by_test_id("audio-input").evaluate(PLAY)
    # The echo rings on: the output lasts 3 × 300 ms longer than the input.
    assert result["duration"] == pytest.approx(before["duration"] + 0.9, abs=0.01)
    page.wait_for_load_state("networkidle")
    assert all_images_loaded(page)
    assert page.get_by_test_id("wave-after").locator("svg path").count() == 1
    screenshot(page, "signals-sound-en")


def test_flip_and_slide_with_buttons_and_keys(page, live_server, screenshot):
    page.goto(f"{live_server}/signals?xs=1+0+0+2&hs=1+0.5+0.25#slide")
    step = page.get_by_role("button", name="Step →")
    step.click()
    page.wait_for_url(re.compile(r"pos=1"))
    page.get_by_role("button", name="Step →").click()
    page.wait_for_url(re.compile(r"pos=2"))
    assert page.get_by_test_id("y-now").inner_text() == "0.25"
    assert page.get_by_test_id("flipped").all_inner_texts() == ["0.25", "0.5", "1"]
    # Focus stays on the Step button across the swap, so Enter keeps stepping.
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r"pos=3"))
    assert page.get_by_test_id("y-now").inner_text() == "2"
    slider = page.get_by_label(re.compile("Output position n"))
    slider.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"pos=4"))
    assert "y[4] = " in page.get_by_test_id("slide-sum").inner_text()
    assert page.get_by_test_id("y-now").inner_text() == "1"
    screenshot(page, "signals-slide-en")


def test_upload_a_gif_and_see_the_motion_map(page, live_server, screenshot):
    page.goto(f"{live_server}/signals#video")
    page.get_by_label("Upload an animated GIF").set_input_files(
        files=[{"name": "square.gif", "mimeType": "image/gif", "buffer": moving_square_gif()}]
    )
    page.locator("#gif-form").get_by_role("button", name="Upload", exact=True).click()
    page.wait_for_url(re.compile(r"video=gif%3A"))
    assert "square.gif" in page.get_by_label("Video clip").inner_text()
    page.wait_for_load_state("networkidle")
    assert all_images_loaded(page)
    output = page.get_by_test_id("video-output")
    assert output.evaluate("img => img.naturalWidth") == 64
    frame = page.get_by_label(re.compile("Output frame t"))
    frame.focus()
    page.keyboard.press("ArrowRight")
    page.wait_for_url(re.compile(r"t=1"))
    assert "index=1" in page.get_by_test_id("frame-output").get_attribute("src")
    page.wait_for_load_state("networkidle")
    assert all_images_loaded(page)
    screenshot(page, "signals-video-en")


def test_signals_in_portuguese(page, live_server, screenshot):
    page.goto(f"{live_server}/signals?clip=voice_pt&ir=reverb&k3=stedge")
    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert "Sinais: convolução que você pode ouvir e ver" in page.locator("h1").first.inner_text()
    assert "clip=voice_pt" in page.url
    assert all_images_loaded(page)
    screenshot(page, "signals-pt")
