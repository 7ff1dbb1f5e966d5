"""Under the Content-Security-Policy, every lab still works: htmx swaps, our scripts run, and the
browser refuses nothing (the `page` fixture fails a test on any refusal)."""

import pytest

pytestmark = pytest.mark.browser


def test_the_policy_refuses_an_inline_script(page, live_server):
    """The check can fail: a script written into the page is blocked and reported."""
    page.goto(f"{live_server}/")
    page.evaluate("""() => { const s = document.createElement('script');
                     s.textContent = 'window.ran = true'; document.body.appendChild(s); }""")
    page.wait_for_timeout(200)
    assert page.evaluate("() => window.ran === undefined")
    assert any("inline script" in m for m in page.csp_refusals)
    page.csp_refusals.clear()


@pytest.mark.parametrize(
    ("path", "control"),
    [
        ("/filters", "#res"),
        ("/pooling", "select[name=pres]"),
        ("/optimizers", "select[name=surface]"),
        ("/losses", "input[name=sigma]"),
        ("/signals", "input[type=number][name=delay]"),
        ("/pipeline", "select[name=pres]"),
        ("/train", "select[name=preset]"),
        ("/text", "input[name=maxlen]"),
    ],
)
def test_each_lab_updates_under_the_policy(page, live_server, path, control):
    page.goto(f"{live_server}{path}")
    page.wait_for_load_state("networkidle")
    assert page.evaluate("() => typeof htmx === 'object'")
    element = page.locator(control).first
    if element.count() == 0:
        pytest.fail(f"{control} not on {path}")
    with page.expect_request(lambda request: request.headers.get("hx-request") == "true"):
        if element.evaluate("e => e.tagName") == "SELECT":
            values = element.evaluate("e => [...e.options].map(o => o.value)")
            current = element.input_value()
            element.select_option(next(v for v in values if v != current))
        else:
            element.fill(str(max(1, int(float(element.input_value() or 2) // 2))))
            element.dispatch_event("change")
    page.wait_for_load_state("networkidle")


def test_the_add_layer_menu_waits_for_its_button(page, live_server):
    """It used an htmx trigger filter (an eval, refused by the policy): now a quiet control."""
    page.goto(f"{live_server}/train?dataset=digits&size=8&preset=custom&arch=conv+4+3x3+same")
    page.wait_for_load_state("networkidle")
    sent = []
    page.on("request", lambda request: sent.append(request.url) if "/train?" in request.url
            else None)  # fmt: skip
    page.locator("#add-layer").select_option("dropout")
    page.wait_for_timeout(600)
    assert sent == []  # choosing a kind alone sends nothing
    with page.expect_response(lambda response: "/train?" in response.url):
        page.locator("#add-layer-button").click()
    page.wait_for_function(
        "() => document.querySelector('textarea[name=arch]').value.includes('dropout 0.25')"
    )
    # Any other control still refreshes the form at once.
    with page.expect_response(lambda response: "/train?" in response.url):
        page.locator("input[name=bn]").check()
    assert len(sent) >= 2
