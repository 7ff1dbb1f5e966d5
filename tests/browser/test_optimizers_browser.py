"""The Optimizer lab in a real browser: Step by click and by key, a shared link, click to start."""

from __future__ import annotations

import re

import pytest

pytestmark = pytest.mark.browser


def path_points(page) -> dict[str, str]:
    paths = page.locator("g.map-path")
    return {
        paths.nth(i).get_attribute("data-racer"): paths.nth(i).get_attribute("data-points")
        for i in range(paths.count())
    }


def numbers(page, slot: int) -> str:
    return page.get_by_test_id(f"numbers-{slot}").locator("table").inner_text()


def test_step_five_times_draws_five_segments_and_changes_the_state(page, live_server, screenshot):
    page.goto(f"{live_server}/optimizers?surface=bowl&o1=gd&o2=momentum&o3=adam&steps=0")
    assert path_points(page) == {"1": "1", "2": "1", "3": "1"}
    seen = []
    for n in range(1, 6):
        if n == 3:
            page.locator("body").press("s")  # the keyboard shortcut, for the projector
        else:
            page.get_by_role("button", name="Step", exact=True).click()
        page.wait_for_url(re.compile(rf"steps={n}&"))
        page.get_by_test_id("step-count").filter(has_text=f"Step {n} ").wait_for()
        seen.append(numbers(page, 3))
    assert path_points(page) == {"1": "6", "2": "6", "3": "6"}  # 5 segments each
    assert len(set(seen)) == 5  # Adam's m, v, m̂, v̂ and update change every step
    adam = page.get_by_test_id("numbers-3")
    assert adam.get_by_text("m̂ = m / (1 − 0.9^5)").is_visible()
    screenshot(page, "optimizers-steps-en")


def test_shared_link_shows_the_same_race(page, browser, live_server, screenshot):
    query = (
        "surface=least_squares&o1=sgd&bs1=2&o2=adam&lr2=0.3&o3=gd&lr3=0.3"
        "&steps=5&seed=3&view=heatmap"
    )
    page.goto(f"{live_server}/optimizers?{query}")
    page.get_by_role("button", name=re.compile(r"^Run")).click()  # Run 50
    page.wait_for_url(re.compile(r"steps=55&"))
    page.get_by_test_id("step-count").filter(has_text="Step 55 ").wait_for()
    shared = page.url
    svg = page.get_by_test_id("surface-map").inner_html()
    board = page.get_by_test_id("scoreboard").inner_text()
    assert page.get_by_test_id("diverged-3").inner_text().startswith("diverged at step")
    other = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    try:
        fresh = other.new_page()
        fresh.goto(shared)
        assert fresh.get_by_test_id("surface-map").inner_html() == svg
        assert fresh.get_by_test_id("scoreboard").inner_text() == board
        fresh.wait_for_load_state("networkidle")
        screenshot(fresh, "optimizers-shared-en")
    finally:
        other.close()


def test_click_the_map_to_start_there(page, live_server):
    page.goto(f"{live_server}/optimizers?surface=himmelblau&o1=gd&steps=3")
    plot = page.locator("svg.surface-map image")  # the surface picture fills the plot area
    box = plot.bounding_box()
    # The box is −5..5 on both axes: a quarter of the way in from the left and from the top
    # is (−2.5, 2.5).
    plot.click(position={"x": box["width"] * 0.25, "y": box["height"] * 0.25})
    page.wait_for_url(re.compile(r"x0=-2\.5\d*&y0=2\.5"))
    assert float(page.get_by_label("Start x").input_value()) == pytest.approx(-2.5, abs=0.03)
    assert path_points(page) == {"1": "4"}


def test_bad_rate_shows_a_message_in_place_and_divergence(page, live_server, screenshot):
    page.goto(f"{live_server}/optimizers?surface=rosenbrock&o1=gd&lr1=0.05&o2=adam&steps=40")
    assert page.get_by_test_id("diverged-1").inner_text().startswith("diverged at step")
    page.get_by_label("Learning rate").first.fill("-1")
    page.get_by_label("Learning rate").first.press("Enter")
    error = page.locator(".field-error")
    error.wait_for()
    assert "Optimizer 1: Learning rate must be greater than 0" in error.inner_text()
    assert page.get_by_label("Learning rate").first.get_attribute("aria-invalid") == "true"
    assert page.get_by_test_id("surface-map").is_visible()  # the last good race stays
    screenshot(page, "optimizers-error-en")


def test_optimizers_in_portuguese(page, live_server, screenshot):
    page.goto(f"{live_server}/optimizers?surface=rosenbrock&o1=gd&o2=momentum&o3=rmsprop&o4=adam"
              "&o5=nesterov&o6=adagrad&o7=sgd&steps=200")  # fmt: skip
    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert (
        "Otimizadores: a descida do gradiente passo a passo"
        in page.locator("h1").first.inner_text()
    )
    assert "steps=200" in page.url
    screenshot(page, "optimizers-pt")
