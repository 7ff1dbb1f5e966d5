"""Presentation mode (?present=1, #15) in a real browser, on every lab, in both languages.

At 1280×720 and 1920×1080: the lab's main figure and its explanation are both inside the first
screen, side by side, without scrolling; and no chart text is drawn under 16 px (for an SVG's
<text>: its computed font size times the SVG's scale, the rendered height over the viewBox
height; for every other text in the figure and the explanation: its computed font size). Then
the flag survives what a teacher does: an htmx update, a pushed address, a link, the language
switch; and the leave button takes it away.
"""

import re

import pytest

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

LABS = ["/filters", "/pooling", "/pipeline", "/train", "/text", "/signals", "/losses",
        "/optimizers"]  # fmt: skip
SCREENS = [(1280, 720), (1920, 1080)]
LOCALES = {"en": "en-US", "pt_BR": "pt-BR"}
SMALLEST = 16  # px, the limit for chart text on a 1280×720 projector

MEASURE = """(smallest) => {
  const shown = (element) => element.getClientRects().length > 0;
  const first = (which) =>
    Array.from(document.querySelectorAll(`[data-present="${which}"]`)).find(shown);
  const box = (element) => {
    if (!element) return null;
    const r = element.getBoundingClientRect();
    return {top: r.top, left: r.left, right: r.right, bottom: r.bottom,
            width: r.width, height: r.height};
  };
  const small = [];
  const overlapping = [];
  const note = (text, size) => small.push(`${size.toFixed(1)} px: ${text.trim().slice(0, 40)}`);
  for (const svg of document.querySelectorAll("svg[viewBox]")) {
    const frame = svg.getBoundingClientRect();
    const view = svg.viewBox.baseVal;
    if (!frame.height || !view || !view.height) continue;
    const scale = frame.height / view.height;
    const placed = [];
    for (const text of svg.querySelectorAll("text")) {
      if (!text.textContent.trim() || !text.getClientRects().length) continue;
      const furniture = text.matches(".tick, .axis-label, .legend");  // not data labels
      const size = parseFloat(getComputedStyle(text).fontSize) * scale;
      if (size < smallest - 0.05) note(text.textContent, size);
      // Larger letters must not run into each other: two labels may touch, not overlap.
      const r = text.getBoundingClientRect();
      for (const [other, o] of furniture ? placed : []) {
        const across = Math.min(r.right, o.right) - Math.max(r.left, o.left);
        const down = Math.min(r.bottom, o.bottom) - Math.max(r.top, o.top);
        if (across > 3 && down > 3) {
          overlapping.push(`${text.textContent.trim().slice(0, 20)} / ${other.slice(0, 20)}`);
        }
      }
      if (furniture) placed.push([text.textContent.trim(), r]);
    }
  }
  for (const which of ["figure", "explain"]) {
    const area = first(which);
    if (!area) continue;
    for (const element of [area, ...area.querySelectorAll("*")]) {
      if (element.closest("svg") || !shown(element)) continue;
      const own = Array.from(element.childNodes)
        .some((node) => node.nodeType === 3 && node.textContent.trim());
      if (!own) continue;
      const size = parseFloat(getComputedStyle(element).fontSize);
      if (size < smallest - 0.05) note(element.textContent, size);
    }
  }
  return {figure: box(first("figure")), explain: box(first("explain")),
          width: innerWidth, height: innerHeight, scrolled: scrollY,
          presenting: document.body.classList.contains("present"), small, overlapping};
}"""


@pytest.fixture(scope="module")
def finished_run(browser, live_server) -> str:
    """A small trained network's run page, trained from a presented setup: the run's page the
    server sends the browser to (HX-Redirect) presents too."""
    context = browser.new_context(viewport={"width": 1280, "height": 720})
    page = context.new_page()
    page.goto(f"{live_server}/train?dataset=digits&size=16&preset=lenet&epochs=1&present=1")
    page.get_by_role("button", name="Train", exact=True).click()
    page.wait_for_url(re.compile(r"/train/runs/\w+\?present=1$"))
    assert page.evaluate("document.body.classList.contains('present')")
    page.get_by_test_id("test-accuracy").wait_for(timeout=90_000)
    run_id = page.url.split("?")[0].rsplit("/", 1)[1]
    context.close()
    return f"/train/runs/{run_id}"


@pytest.fixture(scope="module")
def screens(browser, live_server):
    """One page per language and screen size, reused by the module's tests."""
    made = {}

    def screen(lang: str, size: tuple[int, int]):
        if (lang, size) not in made:
            context = browser.new_context(
                viewport={"width": size[0], "height": size[1]}, locale=LOCALES[lang]
            )
            context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
            page = context.new_page()
            page.set_default_timeout(15_000)
            made[lang, size] = page
        return made[lang, size]

    yield screen
    for page in made.values():
        page.context.close()


def presented(page, live_server, path: str) -> dict:
    page.goto(f"{live_server}{path}{'&' if '?' in path else '?'}present=1")
    page.wait_for_load_state("networkidle")
    page.wait_for_timeout(200)  # the charts' scale is measured once laid out
    return page.evaluate(MEASURE, SMALLEST)


def check_layout(where: str, shown: dict) -> None:
    assert shown["presenting"], f"{where}: the page is not in presentation mode"
    assert shown["scrolled"] == 0, f"{where}: the page scrolled"
    figure, explain = shown["figure"], shown["explain"]
    assert figure and explain, f"{where}: no main figure or explanation is shown"
    for name, box in (("figure", figure), ("explanation", explain)):
        assert box["width"] > 100 and box["height"] > 50, f"{where}: the {name} is tiny: {box}"
        inside = (box["left"] >= -0.5 and box["top"] >= -0.5
                  and box["right"] <= shown["width"] + 0.5
                  and box["bottom"] <= shown["height"] + 0.5)  # fmt: skip
        screen = f"{shown['width']}×{shown['height']}"
        assert inside, f"{where}: the {name} {box} leaves the {screen} screen"
    left, right = sorted((figure, explain), key=lambda box: box["left"])
    assert left["right"] <= right["left"] + 0.5, f"{where}: figure and explanation overlap"
    overlap = min(left["bottom"], right["bottom"]) - max(left["top"], right["top"])
    assert overlap > 0, f"{where}: figure and explanation are not side by side"
    assert not shown["small"], f"{where}: text under {SMALLEST} px: {shown['small'][:8]}"
    assert not shown["overlapping"], f"{where}: chart labels overlap: {shown['overlapping'][:8]}"


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
@pytest.mark.parametrize("size", SCREENS, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("path", LABS)
def test_presented_lab_fits_one_screen_with_legible_charts(screens, live_server, path, size, lang):
    page = screens(lang, size)
    shown = presented(page, live_server, path)
    check_layout(f"{path} [{lang}] {size[0]}×{size[1]}", shown)
    SCREENSHOTS.mkdir(exist_ok=True)
    name = path.strip("/").replace("/", "-")
    page.screenshot(path=str(SCREENSHOTS / f"present-{name}-{lang}-{size[0]}.png"))


@pytest.mark.parametrize("lang", ["en", "pt_BR"])
@pytest.mark.parametrize("size", SCREENS, ids=lambda size: f"{size[0]}x{size[1]}")
@pytest.mark.parametrize("view", ["run", "inside"])
def test_presented_run_fits_one_screen(screens, live_server, finished_run, view, size, lang):
    """A finished run's page (its curves beside its first layer's filters) and its look-inside
    page (the layers beside the softmax)."""
    page = screens(lang, size)
    shown = presented(page, live_server, finished_run + ("/inside" if view == "inside" else ""))
    check_layout(f"run {view} [{lang}] {size[0]}×{size[1]}", shown)
    page.screenshot(path=str(SCREENSHOTS / f"present-run-{view}-{lang}-{size[0]}.png"))


def test_the_flag_survives_updates_links_and_the_language_switch(page, live_server):
    page.set_viewport_size({"width": 1280, "height": 720})
    page.goto(f"{live_server}/optimizers")
    assert not page.evaluate("document.body.classList.contains('present')")
    page.get_by_role("link", name="Present").click()
    page.wait_for_url(re.compile(r"/optimizers\?present=1$"))
    assert page.evaluate("document.body.classList.contains('present')")

    # An htmx update of the lab: its pushed address keeps the flag, and so does the layout.
    page.locator("[data-present='figure']").wait_for()
    before = page.url
    page.get_by_role("button", name="Step", exact=True).click()
    page.wait_for_url(lambda url: url != before and url.endswith("&present=1"))
    assert page.evaluate("document.body.classList.contains('present')")
    steps = re.search(r"steps=(\d+)", page.url).group(1)
    assert page.get_by_test_id("step-count").inner_text() == f"Step {steps} of the race"
    stepped = page.url
    page.reload()  # the pushed address is the presented view on its own
    assert page.evaluate("document.body.classList.contains('present')")
    assert page.get_by_test_id("step-count").inner_text() == f"Step {steps} of the race"

    # The language switch returns to the same presented view, in Portuguese.
    page.get_by_role("link", name="Português").click()
    page.wait_for_url(stepped)
    assert page.evaluate("document.documentElement.lang") == "pt-BR"
    assert page.evaluate("document.body.classList.contains('present')")

    # A link to another lab keeps presenting.
    page.locator("header nav").get_by_role("link", name="Filtros").click()
    page.wait_for_url(re.compile(r"/filters\?present=1$"))
    assert page.evaluate("document.body.classList.contains('present')")

    # Folded controls are one tick away.
    stride = page.locator("input[name='stride']")
    assert not stride.is_visible()
    page.get_by_label("Mostrar todos os controles").check()
    assert stride.is_visible()

    # Leaving keeps the view and drops only the flag.
    page.locator("input[name='f'][value='box_blur']").check()
    page.wait_for_url(re.compile(r"f=box_blur.*present=1$"))
    page.get_by_role("link", name="Sair da apresentação").click()
    page.wait_for_url(lambda url: "f=box_blur" in url and "present" not in url)
    assert not page.evaluate("document.body.classList.contains('present')")
    page.context.clear_cookies()
