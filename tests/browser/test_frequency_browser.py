"""The frequency views in a real browser: the Filters lab's response pictures follow the bank,
the Signals lab's response and convolution theorem follow the impulse response; both languages,
and a phone's width."""

import re

import pytest

pytestmark = pytest.mark.browser

PURPLE, YELLOW = [68, 1, 84], [253, 231, 37]  # viridis: gain 0, the largest gain

# Each response picture of the page, loaded as the browser loads it: its size, and its colour at
# the centre (zero frequency) and at the left edge's middle (fx = −0.5, fy = 0).
PICTURES = """async () => Promise.all(
  [...document.querySelectorAll('svg.frequency-chart image')].map((node) => new Promise((done) => {
    const img = new Image();
    img.onload = () => {
      const canvas = document.createElement('canvas');
      canvas.width = img.naturalWidth; canvas.height = img.naturalHeight;
      const context = canvas.getContext('2d');
      context.drawImage(img, 0, 0);
      const middle = Math.floor(img.naturalHeight / 2);
      const at = (x, y) => [...context.getImageData(x, y, 1, 1).data.slice(0, 3)];
      done({width: img.naturalWidth, centre: at(middle, middle), edge: at(0, middle)});
    };
    img.onerror = () => done({width: 0});
    img.src = node.getAttribute('href');
  })))"""


def frequency_figures(page):
    return page.locator("#frequency figure.frequency-figure")


def test_ticking_an_edge_filter_adds_its_band_pass_response(page, live_server, screenshot):
    page.goto(f"{live_server}/filters?sample=camera&f=gaussian")
    figures = frequency_figures(page)
    assert figures.count() == 1
    kind = page.get_by_test_id("frequency-kind").first
    assert kind.inner_text().startswith("Low-pass:")
    assert (
        "keeps 100% of the average brightness"
        in page.get_by_test_id("frequency-sentence").first.inner_text()
    )
    page.get_by_label("Sobel x").check()
    page.wait_for_url(re.compile(r"f=sobel_x"))
    figures.nth(1).wait_for()
    assert "2. Sobel x" in figures.nth(1).inner_text()
    second = page.get_by_test_id("frequency-kind").nth(1).inner_text()
    assert "band-pass along x" in second and "passes nothing along y" in second
    pictures = page.evaluate(PICTURES)
    assert [p["width"] for p in pictures] == [64, 64]
    # The blur passes zero frequency (a yellow centre); Sobel x removes it (purple).
    assert pictures[0]["centre"] == YELLOW and pictures[0]["edge"][1] < 10
    assert pictures[1]["centre"] == PURPLE
    # The gains along the axes, one click away.
    figures.nth(1).get_by_text("Gains along the two axes").click()
    profile = figures.nth(1).get_by_test_id("frequency-profile")
    assert profile.is_visible() and profile.locator("polyline").count() == 2
    figures.nth(1).scroll_into_view_if_needed()
    screenshot(page, "frequency-filters-en")


def test_dilation_changes_the_response_and_says_why(page, live_server):
    page.goto(f"{live_server}/filters?sample=camera&f=box_blur&size=3")
    assert page.evaluate(PICTURES)[0]["edge"] != YELLOW
    dilation = page.get_by_label("Dilation")
    dilation.fill("2")
    dilation.press("Tab")
    page.wait_for_url(re.compile(r"dilation=2"))
    hint = page.locator("#frequency").get_by_text(re.compile("With dilation 2"))
    hint.wait_for()
    # H(2f): the bright centre comes back at the edges.
    assert page.evaluate(PICTURES)[0]["edge"] == YELLOW


def test_colour_kernel_shows_each_slice_and_their_sum_in_portuguese(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="pt-BR")
    context.add_cookies([{"name": "lang", "value": "pt_BR", "url": live_server}])
    page = context.new_page()
    kernel = "1 1 1%0A%0A0 1 0%0A%0A-1 2 -1"
    page.goto(f"{live_server}/filters?sample=camera&colour=rgb&f=custom&kernel={kernel}")
    slices = page.get_by_test_id("frequency-slice")
    assert slices.count() == 4
    assert "soma das três fatias" in slices.nth(3).inner_text()
    assert "Passa-tudo" in slices.nth(3).inner_text()  # [0 4 0]: the same gain everywhere
    assert "mantém 300\u00a0% do brilho médio" in slices.nth(0).inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    page.locator("#frequency").screenshot(path="tests/browser/screenshots/frequency-rgb-pt.png")
    context.close()


def test_signals_response_follows_the_impulse_response(page, live_server, screenshot):
    page.goto(f"{live_server}/signals?ir=echo&delay=250&decay=0.5&repeats=1")
    detail = page.get_by_test_id("response-detail")
    assert "every 4 Hz" in detail.inner_text()
    assert page.get_by_test_id("zoom-chart").locator("polyline").count() == 1
    page.get_by_label("Difference (high-pass)").check()
    page.wait_for_url(re.compile(r"ir=difference"))
    page.get_by_test_id("response-sentence").filter(has_text="High-pass").wait_for()
    assert page.get_by_test_id("zoom-chart").count() == 0
    assert "1.41 at 4,000 Hz" in page.get_by_test_id("response-detail").inner_text()
    page.get_by_label("Moving average (low-pass)").check()
    width = page.get_by_label("Moving average width (samples)")
    width.fill("4")
    width.press("Enter")
    page.wait_for_url(re.compile(r"width=4"))
    page.get_by_test_id("response-detail").filter(has_text="16,000 / 4 = 4,000 Hz").wait_for()
    theorem = page.get_by_test_id("theorem")
    error = theorem.get_by_test_id("theorem-error").inner_text()
    assert float(error.rsplit("=", 1)[1].replace("−", "-")) < 1e-5
    # The output's spectrum and the product, solid and dashed.
    assert page.get_by_test_id("spectrum-y").locator("polyline").count() == 2
    theorem.scroll_into_view_if_needed()
    screenshot(page, "frequency-signals-en")


def test_signals_frequency_view_in_portuguese_on_a_phone(browser, live_server):
    context = browser.new_context(viewport={"width": 375, "height": 812}, locale="pt-BR")
    context.add_cookies([{"name": "lang", "value": "pt_BR", "url": live_server}])
    page = context.new_page()
    page.goto(f"{live_server}/signals?ir=difference")
    sentence = page.get_by_test_id("response-sentence").inner_text()
    assert sentence.startswith("Em 0 Hz o ganho é 0,00") and "Passa-altas" in sentence
    assert "O teorema da convolução" in page.get_by_test_id("theorem").inner_text()
    assert page.evaluate("document.documentElement.scrollWidth") <= 375
    context.close()
