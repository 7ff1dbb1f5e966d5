"""The Filters lab's live camera in a real Chromium with its fake camera: the maps follow the
camera one frame at a time, Freeze makes the frame an upload the rest of the lab works on, and
a camera that cannot start says why and what to do."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import CHROMIUM_ARGS, require_chromium

pytestmark = pytest.mark.browser

FAKE_CAMERA = ["--use-fake-device-for-media-stream", "--use-fake-ui-for-media-stream"]
LIVE = "/filters?camera=1&f=sobel_x&f=sobel_y&f=gaussian&f=laplacian"

# Counts the frame requests in flight (never more than one) and keeps every stream the page
# opened, so a test can see that leaving the camera stops its tracks.
WATCH = """
window.cameraWatch = { inFlight: 0, most: 0, answers: 0, streams: [] };
const realFetch = window.fetch;
window.fetch = async (...args) => {
  const isFrame = String(args[0]).includes("/filters/camera/frame");
  if (!isFrame) return realFetch(...args);
  const watch = window.cameraWatch;
  watch.inFlight += 1;
  watch.most = Math.max(watch.most, watch.inFlight);
  try {
    const answer = await realFetch(...args);
    if (answer.ok) watch.answers += 1;
    return answer;
  } finally {
    watch.inFlight -= 1;
  }
};
if (navigator.mediaDevices) {
  const realGet = navigator.mediaDevices.getUserMedia.bind(navigator.mediaDevices);
  navigator.mediaDevices.getUserMedia = async (constraints) => {
    const stream = await realGet(constraints);
    window.cameraWatch.streams.push(stream);
    return stream;
  };
}
window.cameraLive = () => window.cameraWatch.streams.some(
  (s) => s.getTracks().some((t) => t.readyState === "live"));
"""


def launch(playwright, fake_ui=True):
    flags = FAKE_CAMERA if fake_ui else FAKE_CAMERA[:1]
    return playwright.chromium.launch(
        executable_path=require_chromium(), args=[*CHROMIUM_ARGS, *flags]
    )


@pytest.fixture(scope="module")
def camera_playwright(playwright_driver):
    return playwright_driver


@pytest.fixture(scope="module")
def camera_browser(camera_playwright):
    browser = launch(camera_playwright)
    yield browser
    browser.close()


def new_page(browser, locale="en-US", width=1280, script=WATCH):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.add_init_script(script)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.js_errors = errors
    return page


def wait_for_live_map(page):
    page.wait_for_function("() => window.cameraWatch.answers >= 2")
    page.wait_for_function(
        "() => { const img = document.getElementById('camera-map');"
        " return img && img.complete && img.naturalWidth > 0; }"
    )


def test_live_maps_follow_the_camera_one_frame_at_a_time(camera_browser, live_server):
    page = new_page(camera_browser)
    page.goto(live_server + LIVE)
    wait_for_live_map(page)
    # The rate shows once two answers are in, in this locale's numbers.
    expect_rate = re.compile(r"^\d+\.\d frames per second$")
    page.wait_for_function(
        "() => /frames per second/.test(document.getElementById('camera-fps').textContent)"
    )
    assert expect_rate.match(page.locator("#camera-fps").inner_text())
    sources = set()
    before = page.evaluate("() => window.cameraWatch.answers")
    for _ in range(6):
        page.wait_for_timeout(500)
        sources.add(page.locator("#camera-map").get_attribute("src"))
    updates = page.evaluate("() => window.cameraWatch.answers") - before
    assert updates >= 5, f"{updates} new maps in 3 s"
    assert len(sources) >= 5  # each answer is a new picture in the page
    assert page.evaluate("() => window.cameraWatch.most") == 1  # never two frames in flight
    # The 4 maps in rows of two: 256×192 frames at stride 1 give a 516×388 picture.
    size = page.evaluate(
        "() => [document.getElementById('camera-map').naturalWidth,"
        " document.getElementById('camera-map').naturalHeight]"
    )
    assert size == [256 * 2 + 4, 192 * 2 + 4]
    assert page.locator("#camera-scales").inner_text().startswith("map 1:")
    assert not page.js_errors
    page.context.close()


def test_a_control_changed_while_live_changes_the_next_maps(camera_browser, live_server):
    page = new_page(camera_browser)
    page.goto(live_server + "/filters?camera=1&f=sobel_x")
    wait_for_live_map(page)
    video = page.locator("#camera-video").element_handle()
    width = page.evaluate("() => document.getElementById('camera-map').naturalWidth")
    assert width == 256
    # Two controls changed in quick succession: a second filter and stride 2.
    page.get_by_label("Sobel y").check()
    page.locator("input[name=stride]").fill("2")
    page.locator("input[name=stride]").dispatch_event("change")
    page.wait_for_function(
        "() => document.getElementById('camera-map').naturalWidth === 128 * 2 + 4"
    )
    expect(page.locator(".camera-maps figcaption")).to_contain_text("2. Sobel y")
    assert page.evaluate("v => document.contains(v) && v.srcObject !== null", video)
    assert page.evaluate("() => window.cameraLive()")
    assert "stride=2" in page.url and "camera=1" in page.url
    page.context.close()


def test_a_refused_frame_says_why_and_the_maps_resume_once_fixed(camera_browser, live_server):
    page = new_page(camera_browser)
    page.goto(live_server + "/filters?camera=1&f=sobel_x")
    wait_for_live_map(page)
    stride = page.locator("input[name=stride]")
    stride.fill("0")
    stride.dispatch_event("change")
    expect(page.locator("#camera-error")).to_contain_text("Stride must be between 1 and 64")
    expect(page.locator("#camera-fps")).to_have_text("0.0 frames per second")
    assert page.evaluate("() => window.cameraLive()")  # the camera waits, it is not stopped
    stride.fill("1")
    stride.dispatch_event("change")
    before = page.evaluate("() => window.cameraWatch.answers")
    page.wait_for_function("n => window.cameraWatch.answers > n + 1", arg=before)
    expect(page.locator("#camera-error")).to_have_text("")
    expect(page.locator("#camera-fps")).to_have_text(re.compile(r"^\d+\.\d frames per second$"))
    page.context.close()


HIDEABLE = (
    WATCH
    + """
window.fakeHidden = false;
Object.defineProperty(Document.prototype, "hidden", { get: () => window.fakeHidden });
window.setHidden = (hidden) => {
  window.fakeHidden = hidden;
  document.dispatchEvent(new Event("visibilitychange"));
};
"""
)


def test_a_tab_in_the_background_sends_no_frames(camera_browser, live_server):
    page = new_page(camera_browser, script=HIDEABLE)
    page.goto(live_server + "/filters?camera=1&f=sobel_x")
    wait_for_live_map(page)
    page.evaluate("() => window.setHidden(true)")
    page.wait_for_function("() => window.cameraWatch.inFlight === 0")
    hidden_at = page.evaluate("() => window.cameraWatch.answers")
    page.wait_for_timeout(1500)
    assert page.evaluate("() => window.cameraWatch.answers") == hidden_at
    page.evaluate("() => window.setHidden(false)")
    page.wait_for_function("n => window.cameraWatch.answers >= n + 2", arg=hidden_at)
    page.context.close()


def test_freeze_makes_the_frame_an_upload_that_the_lab_explains(camera_browser, live_server):
    page = new_page(camera_browser)
    page.goto(live_server + "/filters?camera=1&f=sobel_x")
    wait_for_live_map(page)
    with page.expect_response(lambda r: "/filters/upload" in r.url) as upload:
        page.get_by_role("button", name="Freeze this frame").click()
    assert upload.value.status == 200
    page.wait_for_url(re.compile(r"upload=[0-9a-f]{20}"))
    assert "camera=1" not in page.url and "f=sobel_x" in page.url
    assert "camera.jpg" in page.locator("#source option:checked").inner_text()
    page.wait_for_function("() => !window.cameraLive()")  # the camera is released
    assert page.locator("#camera-video").count() == 0
    # Explain this pixel works on the frozen frame.
    fmap = page.locator("img.fmap[data-map-index='0']")
    fmap.wait_for()
    assert fmap.get_attribute("data-out-w") == "256" and fmap.get_attribute("data-out-h") == "192"
    box = fmap.bounding_box()
    page.mouse.click(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
    page.get_by_test_id("explain-value").wait_for()
    assert re.search(r"row \d+, column \d+", page.locator("#explain").inner_text())
    # The link alone brings the frozen frame back.
    again = new_page(camera_browser)
    again.goto(page.url)
    assert "camera.jpg" in again.locator("#source option:checked").inner_text()
    again.context.close()
    page.context.close()


def test_choosing_a_picture_stops_the_camera(camera_browser, live_server):
    page = new_page(camera_browser)
    page.goto(live_server + "/filters?camera=1")
    wait_for_live_map(page)
    page.locator("#source").select_option("sample:dot")
    page.wait_for_function("() => !document.getElementById('camera-video')")
    page.wait_for_function("() => !window.cameraLive()")
    assert "camera" not in page.url
    page.context.close()


def test_stop_releases_the_camera_and_start_brings_it_back(camera_browser, live_server):
    page = new_page(camera_browser)
    page.goto(live_server + "/filters?camera=1")
    wait_for_live_map(page)
    page.get_by_role("button", name="Stop the camera").click()
    page.wait_for_function("() => !window.cameraLive()")
    assert page.locator("#camera-fps").inner_text() == "The camera is off."
    assert page.get_by_role("button", name="Freeze this frame").is_disabled()
    page.get_by_role("button", name="Start the camera").click()
    page.wait_for_function("() => window.cameraLive()")
    page.context.close()


REFUSE = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Permission denied", "NotAllowedError"));
"""
NO_CAMERA = """
navigator.mediaDevices.getUserMedia = () =>
  Promise.reject(new DOMException("Requested device not found", "NotFoundError"));
"""
NO_MEDIA_DEVICES = "delete Navigator.prototype.mediaDevices;"
PLAIN_HTTP = "Object.defineProperty(window, 'isSecureContext', { get: () => false });"


@pytest.mark.parametrize(
    ("script", "words"),
    [
        (REFUSE, "Allow the camera for this site"),
        (NO_CAMERA, "No camera was found"),
        (NO_MEDIA_DEVICES, "no access to a camera"),
        (PLAIN_HTTP, "Open the app at an https:// address, or at http://localhost"),
    ],
    ids=["denied", "none", "unsupported", "insecure"],
)
def test_a_camera_that_cannot_start_says_why_next_to_its_button(
    camera_browser, live_server, script, words
):
    page = new_page(camera_browser, script=script)
    page.goto(live_server + LIVE)
    alert = page.locator(".camera-controls [role=alert]")
    alert.wait_for()
    assert words in alert.inner_text()
    assert page.get_by_role("button", name="Start the camera").is_visible()
    assert page.locator("#camera-fps").inner_text() == "The camera is off."
    # The message stays when a control re-renders the lab.
    page.get_by_label("Sobel y").uncheck()
    page.wait_for_function("() => !location.search.includes('sobel_y')")
    assert words in page.locator(".camera-controls [role=alert]").inner_text()
    assert not page.js_errors
    page.context.close()


def test_a_refused_permission_is_explained_in_portuguese(camera_playwright, live_server):
    # The real permission prompt, answered "no": Chromium without the fake-UI flag, and the
    # camera permission withheld from the context.
    browser = launch(camera_playwright, fake_ui=False)
    context = browser.new_context(locale="pt-BR", permissions=[])
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(live_server + LIVE)
    alert = page.locator(".camera-controls [role=alert]")
    alert.wait_for()
    assert "Permita a câmera para este site" in alert.inner_text()
    assert page.get_by_role("button", name="Iniciar a câmera").is_visible()
    browser.close()
