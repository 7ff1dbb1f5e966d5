"""The Text lab in a real browser: the stages, pre/post padding, training and trying a sentence."""

import re

import pytest

pytestmark = pytest.mark.browser


def matrix_rows(page) -> list[list[str]]:
    rows = page.get_by_test_id("matrix-row")
    out = []
    for i in range(rows.count()):
        cells = rows.nth(i).locator("td:not(.text-cut)")
        out.append([cells.nth(j).inner_text().split("\n")[0] for j in range(cells.count())])
    return out


def test_type_a_sentence_and_switch_padding(page, live_server, screenshot):
    page.goto(f"{live_server}/text")
    page.get_by_label("Sentences, one per line").fill(
        "The food was not good, but the staff were excellent!\nÓtimo filme"
    )
    page.get_by_role("button", name="Show the stages").click()
    page.wait_for_url(re.compile(r"text=The\+food"))
    page.wait_for_load_state("networkidle")  # the form is swapped too: let it settle first
    page.get_by_label(re.compile("Maximum length")).fill("8")
    page.get_by_label(re.compile("Maximum length")).press("Enter")
    page.wait_for_url(re.compile(r"maxlen=8"))
    assert page.get_by_test_id("token").first.inner_text().startswith("the")
    before = matrix_rows(page)
    assert before[1][:6] == ["0"] * 6  # "ótimo filme": two ids, six zeros in front (pre)
    assert page.get_by_test_id("cut-front").first.inner_text().split() == ["the", "food"]

    page.get_by_label("post: zeros at the end").check()
    page.wait_for_url(re.compile(r"pad=post"))
    page.wait_for_function("() => document.querySelector('[data-testid=matrix-row]:nth-child(2) "
                           "td:last-child').textContent.trim() === '0'")  # fmt: skip
    after = matrix_rows(page)
    assert after[1][2:] == ["0"] * 6 and after[1][:2] == before[1][6:]
    assert after[0] == before[0]  # the long sentence has no padding to move

    page.get_by_label("post: cut the last words").check()
    page.wait_for_url(re.compile(r"trunc=post"))
    page.get_by_test_id("cut-back").first.wait_for()
    assert page.get_by_test_id("cut-back").first.inner_text().split() == ["were", "excellent"]
    assert page.get_by_test_id("conv-strip").count() == 4
    screenshot(page, "text-pipeline-en")

    # A mistake is shown in place and the stages stay. (maxlen 0 is stopped by the browser's
    # own check, min="5"; the server's message for it is tested in tests/app.)
    page.get_by_label("Sentences, one per line").fill("?! ... !!!")
    page.get_by_role("button", name="Show the stages").click()
    error = page.locator(".field-error")
    error.wait_for()
    assert "only punctuation" in error.inner_text()
    assert page.get_by_label("Sentences, one per line").get_attribute("aria-invalid") == "true"
    assert page.get_by_test_id("conv-strip").count() == 4


def test_train_then_try_a_sentence(page, live_server, screenshot):
    page.goto(f"{live_server}/text?maxlen=12")
    page.get_by_role("button", name="Train the text CNN").click()
    page.wait_for_url(re.compile(r"/text/runs/[0-9a-f]{12}$"))
    page.get_by_test_id("test-accuracy").wait_for(timeout=60_000)
    assert page.get_by_test_id("run-status").inner_text() == "finished"
    assert float(page.get_by_test_id("test-accuracy").inner_text().rstrip("%")) >= 80
    page.get_by_label("A sentence to classify").fill("The room was dirty and the staff were rude")
    page.get_by_role("button", name="Classify").click()
    page.wait_for_url(re.compile(r"\?try="))
    assert page.get_by_test_id("try-prediction").inner_text() == "negative"
    words = page.get_by_test_id("contributions").locator(".text-contrib-word")
    assert words.count() == 9
    assert page.locator(".word-point[data-word='dirty'] text").first.is_visible()
    screenshot(page, "text-run-en")

    page.get_by_label("A sentence to classify").fill("😀")
    page.get_by_role("button", name="Classify").click()
    error = page.locator(".field-error")
    error.wait_for()
    assert "emoji" in error.inner_text()
    assert page.get_by_test_id("try-prediction").is_visible()  # the last good result stays

    page.get_by_test_id("pipeline-link").click()
    page.wait_for_url(re.compile(r"/text\?.*run="))
    assert page.get_by_test_id("contributions").is_visible()

    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert "Texto: de palavras a números" in page.locator("h1").first.inner_text()
    screenshot(page, "text-trained-pipeline-pt")


def test_text_lab_in_portuguese(page, live_server, screenshot):
    page.goto(f"{live_server}/text?text=" + "O%20filme%20%C3%A9%20%C3%B3timo%2C%20n%C3%A3o%20perca"
              "%0APéssimo%20atendimento%20%F0%9F%98%A1")  # fmt: skip
    page.get_by_role("link", name="Português").click()
    page.wait_for_load_state("networkidle")
    assert page.locator("html").get_attribute("lang") == "pt-BR"
    assert "Texto: de palavras a números" in page.locator("h1").first.inner_text()
    assert page.get_by_test_id("notice").count() == 1  # the emoji
    screenshot(page, "text-pipeline-pt")
