"""The Pooling lab and the pipeline in a real browser."""

import re

import pytest

pytestmark = pytest.mark.browser


def scores(page) -> dict[str, str]:
    cells = page.locator("td.score")
    return {cells.nth(i).get_attribute("data-depth"): cells.nth(i).inner_text() for i in range(3)}


def all_images_loaded(page) -> bool:
    return page.evaluate(
        "() => [...document.images].every(img => img.complete && img.naturalWidth > 0)"
    )


def test_shift_slider_updates_curve_scores_and_maps(page, live_server, screenshot):
    page.goto(f"{live_server}/pooling?sample=camera&dx=2&dy=0")
    before = scores(page)
    marker_before = page.locator("[data-testid=invariance-chart] line[stroke-dasharray='3 3']")
    x_before = marker_before.get_attribute("x1")
    page.get_by_label(re.compile("Shift right")).fill("10")
    page.wait_for_url(re.compile(r"dx=10"))
    page.wait_for_function(
        "() => document.querySelector('img[src*=\"shifted=1\"]').src.includes('dx=10')"
    )
    after = scores(page)
    assert after != before
    # The lesson: the deeper, pooled features keep the highest similarity.
    values = {k: float(v) for k, v in after.items()}
    assert values["conv1"] < values["pool1"] < values["pool2"]
    x_after = page.locator(
        "[data-testid=invariance-chart] line[stroke-dasharray='3 3']"
    ).get_attribute("x1")
    assert float(x_after) > float(x_before)
    page.wait_for_load_state("networkidle")
    assert all_images_loaded(page)
    screenshot(page, "pooling-shift-en")


def test_click_pooled_cell_explains_its_window(page, live_server, screenshot):
    page.goto(f"{live_server}/pooling?sample=square&pres=64")
    pooled = page.locator("#pooled-map")
    pooled.scroll_into_view_if_needed()
    box = pooled.bounding_box()
    # 48×48 → 24×24 pooled; cell (7, 7) covers input rows/columns 14–15, inside the square.
    pooled.click(position={"x": 7.5 / 24 * box["width"], "y": 7.5 / 24 * box["height"]})
    page.wait_for_url(re.compile(r"prow=7&pcol=7"))
    assert page.get_by_test_id("cell-value").inner_text() == "255"
    assert page.get_by_test_id("pool-window").is_visible()
    screenshot(page, "pooling-cell-en")


def test_pooling_in_portuguese(page, live_server, screenshot):
    page.goto(f"{live_server}/pooling?sample=cat&pres=64&prow=5&pcol=5")
    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert page.get_by_text("Invariância à translação", exact=False).first.is_visible()
    screenshot(page, "pooling-pt")


def test_pipeline_shows_every_layer(page, live_server, screenshot):
    page.goto(f"{live_server}/pipeline?sample=cat&pres=64")
    page.wait_for_load_state("networkidle")
    rows = page.get_by_test_id("layer-row")
    assert rows.count() == 8
    assert page.locator(".thumbs img").count() == 8 * 3 + 12 * 3
    assert all_images_loaded(page)
    screenshot(page, "pipeline-en")
    page.get_by_label(re.compile("Layers, separated by commas")).fill(
        "conv 6 5x5, pool 2, conv 16 15x15"
    )
    page.get_by_role("button", name="Calculate").click()
    error = page.locator("#calc-arch + .field-error")  # under the layers it is about
    error.wait_for()
    assert "Layer 3 (conv 16 15x15)" in error.inner_text()
    assert page.get_by_test_id("calc-table").is_visible()  # the last good table stays…
    assert page.locator("#calc[data-stale] .stale-note").is_visible()  # …marked not current
    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    assert page.get_by_role("heading", name=re.compile("Calculadora de formatos")).is_visible()
    screenshot(page, "pipeline-pt")
