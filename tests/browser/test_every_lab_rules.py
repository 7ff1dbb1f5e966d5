"""Every lab, in English and in Portuguese, against the general rules of issue 12.

For each form of each lab (Signals has three: sound, flip-and-slide, video):

* invalid numbers: each visible number field (<input type=number>, or a text box with inputmode
  decimal/numeric) gets values it must refuse: under its minimum, over its maximum, 2.5 for a
  whole number, "abc" in a text box (Chromium keeps letters out of type=number, so they cannot
  reach the server from one), and in the form's first field 1e9 and, in the first field that
  needs a number, blank. Each is committed with Tab. Within 5 s the field is aria-invalid, still
  shows what was typed, and a visible, announced `.field-error` sits within 150 px of it, on
  screen, in Portuguese on a pt-BR page; the results (`[data-result]`) are marked `data-stale` or
  emptied. Typing the default back clears all of it. Bounds come from the route's /openapi.json
  and the input's own min/max, whichever is wider, so a value is wrong for both. On pt-BR pages
  each field gets one wrong value (and blank): the English pass covers every value. A field's
  remaining values are skipped after its first failure, which keeps a failing run short.
* two changes: control A, then at once (every request slowed by 400 ms, so before A's answer)
  control B by keyboard; then both again, each after the other's answer (in Signals a part used
  after another must not snap back). Each time both show their new values, both are in the
  address, and the focus is still on B.
* reset: after changing A and B, an `a.reset-link` or `button.reset-button` near the form (within
  400 px: on one 1280×720 screen with the form's top) brings the defaults back: the address has
  no query, and A, B and the first number field show their defaults.

For each lab's page: at 375×812 it is no wider than the screen, and a pt-BR page shows no number
written the English way in its visible text (outside code, formulas and form controls): 0.5 or
2406.219 (a dot before other than groups of three), 1,048,576 or 1,234.5, and "44,426" when the
English page shows the same "44,426" (else it may be a Portuguese decimal).

A failure names the lab, the language, the field and the rule.
"""

import pytest

from tests.browser import lab_walk as walk
from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser

LANGS = ("en", "pt_BR")
LOCALES = {"en": "en-US", "pt_BR": "pt-BR"}
NUMBER_PARTS = [part for part in walk.PARTS if part.numbers]


@pytest.fixture(scope="module")
def tabs(browser, live_server):
    """One page per language, reused by every test of the module (each test loads its lab)."""
    made = {}

    def tab(lang: str):
        if lang not in made:
            context = browser.new_context(viewport=walk.DESKTOP, locale=LOCALES[lang])
            context.add_cookies([{"name": "lang", "value": lang, "url": live_server}])
            context.add_init_script(walk.ACTIVITY_JS)
            page = context.new_page()
            page.set_default_timeout(15_000)
            made[lang] = page
        return made[lang]

    yield tab
    for page in made.values():
        page.context.close()


@pytest.fixture(scope="module")
def schemas(live_server):
    return walk.openapi_fields(live_server)


def open_lab(page, live_server, path: str, lang: str) -> None:
    page.goto(f"{live_server}{path}")
    walk.settle(page)
    shown = page.evaluate("document.documentElement.lang")
    assert shown.replace("-", "_").lower().startswith(lang.lower()[:2]), (
        f"{path} [{lang}]: the page is in '{shown}'"
    )


def snap(page, name: str, centre: str | None = None) -> None:
    """A screenshot of the window, with `centre` (a selector) scrolled to its middle."""
    SCREENSHOTS.mkdir(exist_ok=True)
    if centre:
        target = page.locator(centre).first
        if target.count():
            target.evaluate("e => e.scrollIntoView({block: 'center'})")
    page.screenshot(path=str(SCREENSHOTS / f"rules-{name}.png"))


def where(part, lang: str) -> str:
    return f"{part.id} [{lang}]"


# --- invalid numbers ------------------------------------------------------------------------


def field_selector(part, name: str) -> str:
    return f"{part.form} input[name='{name}']:visible"


def commit(page, part, name: str, value: str) -> int:
    """Type `value` into the field and press Tab (a change event); the count of finished
    requests before it."""
    before = walk.done_count(page)
    field = page.locator(field_selector(part, name)).first
    field.fill(value)
    field.press("Tab")
    return before


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("part", NUMBER_PARTS, ids=lambda p: p.id)
def test_invalid_number_is_marked_and_explained_next_to_its_field(
    tabs, live_server, schemas, part, lang
):
    page = tabs(lang)
    open_lab(page, live_server, part.path, lang)
    rules = schemas.get(walk.form_path(page, part.form), {})
    fields = page.evaluate(walk.NUMBER_FIELDS_JS, part.form)
    # A racer's fields repeat in every slot (lr1, lr2...): one declaration, tested once.
    stems, unique = set(), []
    for f in fields:
        stem = f["name"].rstrip("0123456789") or f["name"]
        if stem not in stems:
            stems.add(stem)
            unique.append(f)
    assert unique, f"{where(part, lang)}: no visible number field in {part.form}"
    failures: list[str] = []
    blank_done = False
    for index, f in enumerate(unique):
        name, default = f["name"], f["value"]
        rule = walk.rule_for(rules.get(name), f)
        values = walk.wrong_values(rule, f["type"], first=index == 0)
        if lang != "en":
            values = values[:1]
        if rule.required and default != "" and not blank_done:
            values.append("")
            blank_done = True
        for value in values:
            before = commit(page, part, name, value)
            problems, answered = walk.poll(
                page, walk.CHECK_INVALID_JS, [part.form, name, value, lang != "en"], before
            )
            if problems:
                if not failures:
                    snap(page, f"{part.id}-{lang}-invalid-{name}", field_selector(part, name))
                note = "" if answered else " (no request was sent)"
                failures.append(f"{where(part, lang)} field '{name}' value '{value}': "
                                + "; ".join(problems) + note)  # fmt: skip
                break  # the field's other values would mostly repeat this failure
        before = commit(page, part, name, default)
        problems, _ = walk.poll(page, walk.CHECK_CLEARED_JS, [part.form, name, default], before)
        if problems:
            failures.append(f"{where(part, lang)} field '{name}' back to '{default}': "
                            + "; ".join(problems))  # fmt: skip
            open_lab(page, live_server, part.path, lang)  # the next field starts from a clean page
    assert not failures, "\n".join(failures)


# --- two quick changes ------------------------------------------------------------------------


def change(page, control: walk.Control, time: int = 0) -> str:
    """Change the control as a user would (for the `time`-th time); the value it then shows."""
    element = page.locator(control.selector).first
    if control.gesture == "next-option":
        options = element.evaluate("s => [...s.options].map(o => o.value)")
        current = element.input_value()
        value = options[(options.index(current) + 1) % len(options)]
        element.select_option(value)
        return value
    if control.gesture.startswith("type:"):
        texts = control.gesture.removeprefix("type:").split(",")
        text = texts[time % len(texts)]
        element.fill(text)
        element.press("Enter")
        return text
    element.focus()
    page.keyboard.press(control.gesture)
    return element.input_value()


def latency(page, ms: int) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("Network.enable")
    cdp.send(
        "Network.emulateNetworkConditions",
        {"offline": False, "latency": ms, "downloadThroughput": -1, "uploadThroughput": -1},
    )
    cdp.detach()


def query_pairs(page) -> list[list[str]]:
    return page.evaluate("[...new URLSearchParams(location.search)]")


def kept(page, part, lang: str, how: str, changed) -> list[str]:
    """What was lost of the `changed` (name, control, value) triples, the last one having been
    changed by keyboard."""
    failures = []
    for name, control, value in changed:
        label = f"{where(part, lang)} field '{name}' ({how})"
        shown = page.locator(control.selector).first
        if not shown.count():
            failures.append(f"{label}: the control is gone after the answers")
            continue
        if not walk.same_value(shown.input_value(), value):
            failures.append(f"{label}: shows '{shown.input_value()}', not the new '{value}'")
        values = [v for k, v in query_pairs(page) if k == name]
        if not any(walk.same_value(v, value) for v in values):
            failures.append(
                f"{label}: the address has {name}={values or 'nothing'}, not '{value}' "
                f"({page.evaluate('location.search')[:160]!r})"
            )
    name, control, _ = changed[-1]
    focus = page.evaluate(
        "(sel) => { const a = document.activeElement; if (a === document.querySelector(sel))"
        " return ''; if (!a || a === document.body) return 'the page body';"
        " return a.tagName.toLowerCase() + (a.name ? `[name=${a.name}]` : ''); }",
        control.selector,
    )
    if focus:
        failures.append(f"{where(part, lang)} field '{name}' ({how}): the focus moved to {focus}")
    return failures


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("part", walk.PARTS, ids=lambda p: p.id)
def test_two_quick_changes_both_stay(tabs, live_server, part, lang):
    """A, then B at once (before A's answer); then A and B again, one after the other's answer
    (Signals: a part used after another must not snap back)."""
    page = tabs(lang)
    open_lab(page, live_server, part.path, lang)
    a, b = part.first, part.second
    a_name = page.locator(a.selector).first.get_attribute("name")
    b_name = page.locator(b.selector).first.get_attribute("name")
    latency(page, walk.LATENCY_MS)
    try:
        a_value = change(page, a)
        b_value = change(page, b)
        walk.settle(page)
    finally:
        latency(page, 0)
    walk.settle(page)
    changed = [(a_name, a, a_value), (b_name, b, b_value)]
    failures = kept(page, part, lang, "changed at once", changed)
    if failures:
        snap(page, f"{part.id}-{lang}-two-changes")
    a_value = change(page, a, 1)
    walk.settle(page)
    b_value = change(page, b, 1)
    walk.settle(page)
    changed = [(a_name, a, a_value), (b_name, b, b_value)]
    later = kept(page, part, lang, "one after the other", changed)
    if later and not failures:
        snap(page, f"{part.id}-{lang}-two-changes")
    failures += later
    assert not failures, "\n".join(failures)


# --- reset ------------------------------------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("part", walk.PARTS, ids=lambda p: p.id)
def test_reset_brings_back_the_defaults(tabs, live_server, part, lang):
    page = tabs(lang)
    open_lab(page, live_server, part.path, lang)
    numbers = page.evaluate(walk.NUMBER_FIELDS_JS, part.form)
    watched = [part.first.selector, part.second.selector]
    if numbers:
        watched.append(field_selector(part, numbers[0]["name"]))
    defaults = [page.locator(sel).first.input_value() for sel in watched]
    names = [page.locator(sel).first.get_attribute("name") for sel in watched]
    for control in (part.first, part.second):
        before = walk.done_count(page)
        change(page, control)
        walk.poll(page, "() => []", [], before)
        walk.settle(page)
    found = page.evaluate(walk.FIND_RESET_JS, part.form)
    label = where(part, lang)
    if found["index"] < 0:
        snap(page, f"{part.id}-{lang}-reset")
        pytest.fail(
            f"{label}: no visible a.reset-link or button.reset-button "
            f"({found['count']} on the page, {found['shown']} visible)"
        )
    if found["gap"] > walk.RESET_NEAR_PX:
        snap(page, f"{part.id}-{lang}-reset", part.form)
        pytest.fail(
            f"{label}: the nearest Reset control is {found['gap']} px from {part.form}, not near "
            f"its controls (at most {walk.RESET_NEAR_PX} px)"
        )
    page.locator("a.reset-link, button.reset-button").nth(found["index"]).click()
    walk.settle(page)
    failures = []
    search = page.evaluate("location.search")
    # A Signals part's Reset keeps the other two parts as they were: they stay in the address.
    if search not in ("", "?") and not part.id.startswith("signals"):
        failures.append(f"{label}: after Reset the address still has a query: {search[:160]!r}")
    for sel, name, default in zip(watched, names, defaults, strict=True):
        if part.id.startswith("signals") and not sel.startswith(part.form):
            continue  # another part's control: that part keeps its settings
        element = page.locator(sel).first
        if not element.count():
            failures.append(f"{label} field '{name}': gone after Reset")
        elif not walk.same_value(element.input_value(), default):
            failures.append(
                f"{label} field '{name}': shows '{element.input_value()}' after Reset, "
                f"not its default '{default}'"
            )
    if failures:
        snap(page, f"{part.id}-{lang}-reset")
    assert not failures, "\n".join(failures)


# --- phone width and Portuguese numbers -----------------------------------------------------------


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("path", walk.PAGES, ids=lambda p: p.strip("/"))
def test_no_lab_is_wider_than_a_phone(tabs, live_server, path, lang):
    page = tabs(lang)
    page.set_viewport_size(walk.PHONE)
    try:
        open_lab(page, live_server, path, lang)
        width = page.evaluate(walk.WIDTH_JS)
        if width["scroll"] > walk.PHONE["width"]:
            snap(page, f"{path.strip('/')}-{lang}-phone")
    finally:
        page.set_viewport_size(walk.DESKTOP)
    assert width["scroll"] <= walk.PHONE["width"], (
        f"{path.strip('/')} [{lang}]: {width['scroll']} px wide at 375×812; sticking out: "
        + "; ".join(width["offenders"])
    )


@pytest.mark.parametrize("path", walk.PAGES, ids=lambda p: p.strip("/"))
def test_pt_br_page_shows_no_english_number(tabs, live_server, path):
    english = tabs("en")
    open_lab(english, live_server, path, "en")
    english_tokens = walk.comma_tokens(english.evaluate(walk.VISIBLE_TEXT_JS))
    page = tabs("pt_BR")
    open_lab(page, live_server, path, "pt_BR")
    found = walk.english_numbers(page.evaluate(walk.VISIBLE_TEXT_JS), english_tokens)
    assert not found, (
        f"{path.strip('/')} [pt_BR]: {len(found)} numbers written the English way, e.g.\n"
        + "\n".join(found[:8])
    )
