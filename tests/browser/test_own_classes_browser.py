"""Train on your own classes in a real Chromium: classes named, generated pictures uploaded and
one removed, a run trained and looked inside, tried on an upload; with Chromium's fake camera,
holding a class's button adds several pictures and "try it live" shows the class bars."""

from __future__ import annotations

import io
import re

import numpy as np
import pytest
from PIL import Image

from app.config import Settings
from tests.browser.conftest import CHROMIUM_ARGS, require_chromium

FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]


def stripes(direction: str, seed: int, side: int = 48) -> bytes:
    rng = np.random.default_rng(seed)
    period = int(rng.integers(6, 12))
    on = (np.arange(side) + int(rng.integers(0, period))) % period < period // 2
    pixels = np.tile(on, (side, 1)) if direction == "v" else np.tile(on[:, None], (1, side))
    noisy = pixels * 190.0 + 30 + rng.normal(0, 12, pixels.shape)  # never two alike
    out = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).save(out, "PNG")
    return out.getvalue()


def picture_files(direction: str, count: int, first: int = 0) -> list[dict]:
    return [{"name": f"{direction}{i}.png", "mimeType": "image/png",
             "buffer": stripes(direction, first + i)} for i in range(count)]  # fmt: skip


@pytest.fixture(scope="module")
def server(serve):
    return serve(Settings(run_workers=1, run_max_seconds=60))


@pytest.fixture(scope="module")
def camera_browser(playwright_driver):
    """This module's own Chromium, with a fake camera that is allowed without asking."""
    browser = playwright_driver.chromium.launch(executable_path=require_chromium(),
                                                args=CHROMIUM_ARGS + FAKE_CAMERA)  # fmt: skip
    yield browser
    browser.close()


@pytest.fixture
def own_page(camera_browser, server):
    context = camera_browser.new_context(viewport={"width": 1280, "height": 900},
                                         locale="en-US", permissions=["camera"])  # fmt: skip
    page = context.new_page()
    page.set_default_timeout(20_000)
    refused = []
    page.on("console", lambda m: refused.append(m.text)
            if "Content Security Policy" in m.text else None)  # fmt: skip
    yield page
    context.close()
    assert not refused, refused


def counts(page) -> list[int]:
    return [int(n) for n in page.locator('[data-testid="own-count"]').evaluate_all(
        "nodes => nodes.map(n => n.dataset.count)")]  # fmt: skip


def make_set(page, server: str, per_class: int) -> None:
    page.goto(f"{server}/train/own")
    page.get_by_label("Class 1").fill("horizontal")
    page.get_by_label("Class 2").fill("vertical")
    page.get_by_label("Class 3").fill("")
    page.get_by_role("button", name="Make these classes").click()
    page.wait_for_url(re.compile(r"/train/own\?set="))
    for index, direction in enumerate("hv"):
        page.locator(".own-add input[type=file]").nth(index).set_input_files(
            picture_files(direction, per_class, 100 * index)
        )  # sent as soon as chosen
        shown = f"document.querySelectorAll('.own-class')[{index}].querySelectorAll('.own-thumb')"
        page.wait_for_function(f"() => {shown}.length === {per_class}")


def fits_a_phone(page) -> None:
    """At 375 px nothing sticks out sideways (the page never scrolls left and right)."""
    size = page.viewport_size
    page.set_viewport_size({"width": 375, "height": 800})
    page.wait_for_timeout(200)
    wide = page.evaluate("document.documentElement.scrollWidth")
    page.set_viewport_size(size)
    assert wide <= 375, f"{page.url} is {wide} px wide on a phone"


def train(page, epochs: int) -> None:
    page.get_by_label("Network").select_option("tiny")
    page.get_by_label("Epochs").fill(str(epochs))
    page.get_by_label("Epochs").press("Tab")
    page.wait_for_timeout(300)
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_url(re.compile(r"/train/runs/"))
    page.locator('[data-testid="own-summary"]').wait_for(timeout=60_000)


def test_upload_remove_train_and_try(own_page, server):
    page = own_page
    make_set(page, server, 7)
    assert counts(page) == [7, 7]
    second = page.locator(".own-class").nth(1)
    second.get_by_role("button", name=re.compile("Remove picture 3")).click()
    page.wait_for_function("() => document.querySelectorAll('.own-class')[1]"
                           ".querySelectorAll('.own-thumb').length === 6")  # fmt: skip
    assert counts(page) == [7, 6]
    # The setup below follows the set: its summary counts the pictures now kept.
    page.wait_for_function("() => document.querySelector('#start-form').textContent"
                           ".includes('9 training and 4 test')")  # fmt: skip
    page.get_by_label("Class 2").fill("HORIZONTAL")  # a name already taken: refused in place
    page.locator(".own-class").nth(1).get_by_role("button", name="Rename").click()
    message = page.locator("#own-pictures .error-message")
    message.wait_for()
    assert "same name" in message.inner_text() and counts(page) == [7, 6]
    fits_a_phone(page)
    train(page, 12)
    summary = page.locator('[data-testid="own-summary"]')
    assert page.locator('[data-testid="own-small-test"]').is_visible()  # 2 test pictures a class
    test_accuracy = summary.locator('[data-testid="own-test-accuracy"]').inner_text()
    assert re.fullmatch(r"\d+(\.\d)?%", test_accuracy)
    matrix = page.locator('[data-testid="confusion"] tr').first.inner_text()
    assert "horizontal" in matrix and "vertical" in matrix
    page.locator("#own-predict-form input[type=file]").set_input_files(
        {"name": "new.png", "mimeType": "image/png", "buffer": stripes("v", 777)}
    )
    page.locator("#own-predict-form").get_by_role("button", name="Predict").click()
    bars = page.locator('[data-testid="own-bars"] li')
    bars.first.wait_for()
    assert bars.count() == 2
    assert page.locator('[data-testid="own-predicted"]').inner_text() in ("horizontal", "vertical")
    fits_a_phone(page)


def test_camera_hold_adds_pictures_and_try_it_live_shows_bars(own_page, server):
    page = own_page
    make_set(page, server, 5)
    page.get_by_role("button", name="Start the camera").click()
    capture = page.locator(".own-class").first.get_by_role("button", name="Hold to take pictures")
    capture.wait_for()
    capture.hover()
    page.mouse.down()
    page.wait_for_timeout(2500)  # held: about four shots a second
    page.mouse.up()
    page.wait_for_function("() => Number(document.querySelector('[data-testid=own-count]')"
                           ".dataset.count) >= 8")  # fmt: skip
    assert counts(page)[0] >= 8 and counts(page)[1] == 5
    page.get_by_role("button", name="Stop the camera").click()
    train(page, 2)
    page.get_by_role("button", name="Try it live on the camera").click()
    page.locator('[data-testid="own-bars"] li').first.wait_for()
    first = page.locator('[data-testid="own-prediction"] img').get_attribute("src")
    newer = "document.querySelector('[data-testid=own-prediction] img')"
    page.wait_for_function(f"(first) => {newer} && {newer}.src !== first", arg=first)
    assert page.locator('[data-testid="own-bars"] li').count() == 2
    page.get_by_role("button", name="Stop the camera").click()
