"""The shape calculator's new layers, costs and presets in a real browser (part of #17)."""

import re

import pytest

pytestmark = pytest.mark.browser


def total(page, testid: str) -> str:
    return page.get_by_test_id(testid).get_attribute("data-value")


def page_overflows(page) -> bool:
    return page.evaluate("() => document.documentElement.scrollWidth > window.innerWidth + 1")


def test_presets_show_their_published_counts(page, live_server, screenshot):
    page.goto(f"{live_server}/pipeline?sample=dot&pres=32")
    presets = page.get_by_role("navigation", name="Presets")
    presets.get_by_role("link", name="VGG-16").click()
    page.wait_for_url(re.compile(r"input=3x224x224"))
    assert "sample=dot" in page.url  # the picture's settings stay
    assert page.get_by_test_id("calc-total").inner_text() == "138,357,544"
    assert total(page, "calc-total-macs") == "15470264320"
    assert page.get_by_test_id("calc-total-macs").inner_text().startswith("15.5\u00a0G")
    assert "138,357,544 parameters" in page.get_by_test_id("calc-published").inner_text()
    screenshot(page, "pipeline-calc-vgg16-en")
    page.get_by_role("navigation", name="Presets").get_by_role(
        "link", name="ResNet basic block"
    ).click()
    page.wait_for_url(re.compile(r"input=64x56x56"))
    assert page.get_by_test_id("calc-total").inner_text() == "73,984"
    assert page.get_by_label(re.compile("Input shape")).input_value() == "64x56x56"


def test_a_bad_group_count_is_shown_by_the_layers_and_fixed_in_place(page, live_server,
                                                                     screenshot):  # fmt: skip
    page.goto(f"{live_server}/pipeline")
    arch = page.locator("#calc-arch")
    page.get_by_label(re.compile("Input shape")).fill("6x16x16")
    arch.fill("conv 8 3x3 groups 4, relu")
    page.get_by_role("button", name="Calculate").click()
    error = page.locator("#calc-arch + .field-error")
    error.wait_for()
    assert "4 groups must divide both its 6 input channels and its 8 filters" in error.inner_text()
    assert arch.get_attribute("aria-invalid") == "true"
    assert arch.input_value() == "conv 8 3x3 groups 4, relu"  # what was typed stays
    screenshot(page, "pipeline-calc-groups-error-en")
    arch.fill("conv 8 3x3 groups 2, sepconv 16 3x3, deconv 4 4x4 stride 2 pad 1")
    page.get_by_role("button", name="Calculate").click()
    page.wait_for_function(
        "() => document.querySelectorAll('[data-testid=calc-shape]').length === 3"
    )
    assert page.locator(".field-error").count() == 0
    assert arch.get_attribute("aria-invalid") is None
    shapes = page.get_by_test_id("calc-shape").all_inner_texts()
    assert shapes == ["8×14×14", "16×12×12", "4×24×24"]
    kinds = page.get_by_test_id("calc-kind").all_inner_texts()
    assert kinds[0] == "grouped: 2 groups of 3 channels"
    macs = [int(v) for v in page.get_by_test_id("calc-macs").evaluate_all(
        "cells => cells.map(c => c.dataset.value)")]  # fmt: skip
    how = page.get_by_test_id("calc-explain").first
    how.get_by_text("How it is counted").click()
    assert "multiply-adds: 14·14·8·3·3·3 = 42,336" in how.inner_text()
    assert macs == [14 * 14 * 8 * 3 * 9, 12 * 12 * 8 * 9 + 12 * 12 * 8 * 16,
                    12 * 12 * 16 * 4 * 16]  # fmt: skip


@pytest.mark.parametrize("width", [375, 1280])
def test_the_calculator_in_portuguese_fits_the_screen(browser, live_server, screenshot, width):
    context = browser.new_context(viewport={"width": width, "height": 900}, locale="pt-BR")
    page = context.new_page()
    try:
        page.goto(f"{live_server}/pipeline?arch=sepconv+32+3x3,+pointwise+8&input=16x32x32")
        assert page.locator("html").get_attribute("lang") == "pt-BR"
        assert page.get_by_role("columnheader", name="multiplicações-somas").is_visible()
        memory = page.get_by_test_id("calc-total-memory")
        # 16·32·32 + 16·30·30 + 32·30·30 + 8·30·30 values, 4 bytes each: 267,136 bytes.
        assert memory.get_attribute("data-value") == "267136"
        assert memory.inner_text() == "267\u00a0kB"
        assert page.get_by_test_id("calc-params").first.inner_text().startswith("688")
        assert not page_overflows(page)
        screenshot(page, f"pipeline-calc-pt-{width}")
    finally:
        context.close()
