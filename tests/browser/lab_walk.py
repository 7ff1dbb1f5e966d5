"""Walking the labs in Chromium for the general rules of issue 12: which forms there are, how to
tell that htmx has answered, and the checks themselves, run as JavaScript in the page.

Waiting: a check passes as soon as htmx has answered the change (a request finished and nothing is
in flight or settling) and the page meets the rule. It fails after `LIMIT_S` seconds, or sooner
when nothing has happened for `QUIET_S` seconds (no request in flight, no htmx event): a page that
sent nothing and shows nothing will not change its mind, and waiting the full limit for each of a
hundred fields would take minutes.
"""

from __future__ import annotations

import json
import math
import re
import time
import urllib.request
from dataclasses import dataclass
from urllib.parse import urlsplit

from playwright.sync_api import Error as PlaywrightError

LIMIT_S = 5.0  # the contract: the message is there within 5 s
QUIET_S = 0.8  # no request and no htmx event for this long: the page is not reacting (the
#                longest htmx delay in the labs is 300 ms)
ANSWERED_QUIET_S = 0.4  # after an answer has settled, time left for the page's own scripts
LATENCY_MS = 400  # added to every request in the two-changes test, so B comes before A's answer
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}
NEAR_PX = 150  # a message this close (vertically) to its field is "next to it"
RESET_NEAR_PX = 400  # a Reset this close to its form shows on one 1280×720 screen with the
#                      form's top

# Counts the page's requests and htmx's events, so a test knows when an answer has come.
ACTIVITY_JS = """
(() => {
  if (window.__walk) return;
  const w = window.__walk = {inflight: 0, done: 0, last: performance.now()};
  const touch = () => { w.last = performance.now(); };
  const send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.send = function (...args) {
    w.inflight++; touch();
    this.addEventListener('loadend', () => { w.inflight--; w.done++; touch(); });
    return send.apply(this, args);
  };
  const fetch = window.fetch;
  window.fetch = function (...args) {
    w.inflight++; touch();
    return fetch.apply(this, args).finally(() => { w.inflight--; w.done++; touch(); });
  };
  for (const name of ['htmx:trigger', 'htmx:confirm', 'htmx:beforeRequest', 'htmx:afterRequest',
                      'htmx:beforeSwap', 'htmx:afterSwap', 'htmx:afterSettle',
                      'htmx:validation:failed', 'htmx:validation:halted', 'htmx:responseError',
                      'htmx:sendAbort']) {
    document.addEventListener(name, touch, true);
  }
})();
"""

STATE_JS = """() => {
  const w = window.__walk || {inflight: 0, done: 0, last: 0};
  return {inflight: w.inflight, done: w.done, idle: performance.now() - w.last,
          busy: !!document.querySelector('.htmx-request, .htmx-swapping, .htmx-settling')};
}"""

# Shared JavaScript helpers, prepended to each check.
HELPERS_JS = r"""
const visible = (e) => {
  if (!e || !e.checkVisibility) return false;
  if (!e.checkVisibility({opacityProperty: true, visibilityProperty: true})) return false;
  const r = e.getBoundingClientRect();
  return r.width > 0 && r.height > 0;
};
const gap = (a, b) => Math.max(0, a.top - b.bottom, b.top - a.bottom);
const field = (formSel, name) => {
  const form = document.querySelector(formSel);
  if (!form) return [null, null];
  const all = [...form.querySelectorAll('input, select, textarea')]
    .filter((e) => e.name === name && e.type !== 'hidden');
  return [form, all.find(visible) || all[0] || null];
};
const results = (form) => {
  let c = form.parentElement;
  while (c && !c.querySelector('[data-result]')) c = c.parentElement;
  return c ? [...c.querySelectorAll('[data-result]')] : null;
};
const emptied = (r) => !r.textContent.trim() &&
  !r.querySelector('img, svg, canvas, audio, video, table');
const fieldErrors = () => [...document.querySelectorAll('.field-error')]
  .filter((e) => visible(e) && e.textContent.trim());
const describe = (e) => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
  (e.classList.length ? '.' + [...e.classList].join('.') : '');
"""

CHECK_INVALID_JS = (
    "([formSel, name, typed, pt]) => {"
    + HELPERS_JS
    + r"""
  const [form, input] = field(formSel, name);
  if (!input) return ['the field is no longer on the page'];
  const out = [];
  if (input.getAttribute('aria-invalid') !== 'true') {
    out.push(`aria-invalid is ${JSON.stringify(input.getAttribute('aria-invalid'))}, not "true"`);
  }
  if (input.value !== typed) out.push(`the field shows '${input.value}', not what was typed`);
  const box = input.getBoundingClientRect();
  const errors = fieldErrors().map((e) => [gap(e.getBoundingClientRect(), box), e])
    .sort((a, b) => a[0] - b[0]);
  const near = errors.filter(([d]) => d <= NEAR);
  if (!errors.length) {
    const other = [...document.querySelectorAll('[role=alert], .error-message')]
      .filter((e) => visible(e) && e.textContent.trim())
      .map((e) => `${describe(e)} ${Math.round(gap(e.getBoundingClientRect(), box))} px away`);
    out.push('no visible .field-error with a message' +
             (other.length ? ` (a message shows elsewhere: ${other.slice(0, 2).join('; ')})` : ''));
  } else if (!near.length) {
    const d = Math.round(errors[0][0]);
    out.push(`the nearest .field-error is ${d} px away, not within NEAR px`);
  } else {
    const e = near[0][1];
    const r = e.getBoundingClientRect();
    const text = e.textContent.trim().replace(/\s+/g, ' ');
    if (!(e.getAttribute('role') === 'alert' || e.closest('[role=alert], [aria-live]'))) {
      out.push('the .field-error is not announced (no role="alert", no aria-live region)');
    }
    if (r.left < 0 || r.right > document.documentElement.clientWidth) {
      const span = `${Math.round(r.left)}..${Math.round(r.right)} px`;
      out.push(`the .field-error is off screen horizontally (${span})`);
    }
    if (pt && /\b(must be|must|between|at least|at most|got|is not a|is empty)\b/i.test(text)) {
      out.push(`the message is in English on a pt-BR page: "${text.slice(0, 120)}"`);
    }
  }
  const res = results(form);
  if (!res) out.push('no results region (an element with data-result) to mark stale');
  else if (res.some((r) => !r.hasAttribute('data-stale') && !emptied(r))) {
    out.push('the results still look current (no data-stale, not emptied)');
  }
  return out;
}""".replace("NEAR", str(NEAR_PX))
)

CHECK_CLEARED_JS = (
    "([formSel, name, value]) => {"
    + HELPERS_JS
    + r"""
  const [form, input] = field(formSel, name);
  if (!input) return ['the field is no longer on the page'];
  const out = [];
  if (input.getAttribute('aria-invalid') === 'true') out.push('the field is still aria-invalid');
  if (input.value !== value) out.push(`the field shows '${input.value}', not '${value}'`);
  const box = input.getBoundingClientRect();
  const left = fieldErrors()
    .filter((e) => form.contains(e) || gap(e.getBoundingClientRect(), box) <= NEAR);
  if (left.length) {
    out.push(`a .field-error is still shown: "${left[0].textContent.trim().slice(0, 100)}"`);
  }
  const res = results(form) || [];
  if (res.some((r) => r.hasAttribute('data-stale'))) {
    out.push('the results are still marked data-stale');
  }
  return out;
}""".replace("NEAR", str(NEAR_PX))
)

# The visible number fields of a form: <input type=number>, and text inputs that hold a number
# (inputmode decimal or numeric), in page order.
NUMBER_FIELDS_JS = (
    "(formSel) => {"
    + HELPERS_JS
    + r"""
  const form = document.querySelector(formSel);
  if (!form) return [];
  return [...form.querySelectorAll('input')]
    .filter((e) => e.name && visible(e) && !e.disabled && (e.type === 'number' ||
      (e.type === 'text' && ['decimal', 'numeric'].includes(e.inputMode))))
    .map((e) => ({name: e.name, type: e.type, min: e.min, max: e.max, step: e.step,
                  value: e.value}));
}"""
)

FORM_PATH_JS = """(formSel) => {
  const form = document.querySelector(formSel);
  return form ? (form.getAttribute('hx-get') || form.getAttribute('action') || '') : '';
}"""

FIND_RESET_JS = (
    "(formSel) => {"
    + HELPERS_JS
    + r"""
  const form = document.querySelector(formSel);
  const all = [...document.querySelectorAll('a.reset-link, button.reset-button')];
  const fb = form.getBoundingClientRect();
  const shown = all.map((e, i) => [i, e]).filter(([, e]) => visible(e))
    .map(([i, e]) => [i, form.contains(e) ? 0 : gap(e.getBoundingClientRect(), fb)])
    .sort((a, b) => a[1] - b[1]);
  return {count: all.length, shown: shown.length, index: shown.length ? shown[0][0] : -1,
          gap: shown.length ? Math.round(shown[0][1]) : null};
}"""
)

WIDTH_JS = r"""() => {
  const width = document.documentElement.clientWidth;
  const out = [];
  for (const e of document.body.querySelectorAll('*')) {
    const r = e.getBoundingClientRect();
    if (r.width === 0 || r.right <= width + 1) continue;
    const p = e.parentElement;
    if (p && p !== document.body && p.getBoundingClientRect().right > width + 1) continue;
    out.push(e.tagName.toLowerCase() + (e.id ? '#' + e.id : '') +
             (e.classList.length ? '.' + [...e.classList].join('.') : '') +
             ` (right edge ${Math.round(r.right)} px)`);
  }
  return {scroll: document.documentElement.scrollWidth, offenders: out.slice(0, 4)};
}"""

# Visible text, node by node, outside code, formulas and form controls (whose values are the
# user's own), with where it is.
VISIBLE_TEXT_JS = r"""() => {
  const skip = 'code, pre, kbd, samp, script, style, noscript, textarea, select, option, input, ' +
               '.formula, [data-user], .filename, title';
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const text = n.nodeValue;
    if (!/\d/.test(text)) continue;
    const el = n.parentElement;
    if (!el || el.closest(skip)) continue;
    const range = document.createRange();
    range.selectNodeContents(n);
    if (![...range.getClientRects()].some((b) => b.width > 0 && b.height > 0)) continue;
    const owner = el.closest('[id], [data-testid]');
    const where = !owner ? '' :
      (owner.id ? '#' + owner.id : `[data-testid=${owner.dataset.testid}]`);
    out.push([text.replace(/\s+/g, ' ').trim(), el.tagName.toLowerCase() + ' in ' + where]);
  }
  return out;
}"""


@dataclass(frozen=True)
class Control:
    """A control and how a user changes it: "next-option" (a select's next entry), a key pressed
    with the focus on it ("ArrowUp"), or "type:<text>,<text>..." (typed, then Enter; the first
    text the first time, the next one the next time)."""

    selector: str
    gesture: str


@dataclass(frozen=True)
class Part:
    """One form of a lab: its page, the form, and a pair of controls to change in quick
    succession (the second one changed by keyboard, so the focus should stay on it)."""

    id: str
    path: str
    form: str
    first: Control
    second: Control
    numbers: bool = True  # the form has number fields to type wrong values in


PARTS = (
    Part("filters", "/filters", "#controls",
         Control("#controls select[name=padding]", "next-option"),
         Control("#controls input[name=stride]", "ArrowUp")),
    Part("pooling", "/pooling", "#controls",
         Control("#controls select[name=pres]", "next-option"),
         Control("#controls input[name=psize]", "ArrowUp")),
    # The pipeline's form holds only menus, and its shape calculator text: no number field. Its
    # pair crosses forms: the input size, then a shape typed in the calculator.
    Part("pipeline", "/pipeline", "#controls",
         Control("#controls select[name=pres]", "next-option"),
         Control("#calc-form input[name=input]", "type:1x40x40,1x48x48"), numbers=False),
    Part("train", "/train", "#controls",
         Control("#controls select[name=optimizer]", "next-option"),
         Control("#controls input[name=epochs]", "ArrowUp")),
    Part("text", "/text", "#controls",
         Control("#controls select[name=follow]", "next-option"),
         Control("#controls input[name=maxlen]", "ArrowUp")),
    Part("signals-sound", "/signals", "#controls",
         Control("#controls select[name=clip]", "next-option"),
         Control("#controls input[name=delay]", "ArrowUp")),
    # Flip-and-slide has no number field (its signal and kernel are lists). Its pair crosses
    # parts: a change in the sound part, then the slide's position at once.
    Part("signals-slide", "/signals", "#slide-form",
         Control("#controls select[name=clip]", "next-option"),
         Control("#slide-form input[name=pos]", "ArrowRight"), numbers=False),
    Part("signals-video", "/signals", "#video-form",
         Control("#video-form select[name=video]", "next-option"),
         Control("#video-form input[name=st]", "ArrowUp")),
    Part("losses", "/losses", "#controls",
         Control("#controls input[name=y]", "ArrowRight"),
         Control("#controls input[name=yhat]", "ArrowLeft")),
    Part("optimizers", "/optimizers", "#controls",
         Control("#controls select[name=o2]", "next-option"),
         Control("#controls input[name=eps]", "type:0.1,0.2")),
)  # fmt: skip

PAGES = tuple(dict.fromkeys(part.path for part in PARTS))  # each lab's page once


# --- waiting -------------------------------------------------------------------------------


def state(page) -> dict:
    try:
        return page.evaluate(STATE_JS)
    except PlaywrightError:  # a navigation replaced the document: busy until it is back
        return {"inflight": 1, "done": 0, "idle": 0, "busy": True}


def settle(page, limit: float = 10.0, idle_ms: float = 150) -> None:
    """Until nothing is in flight or settling and htmx has been quiet for `idle_ms`."""
    page.wait_for_load_state("load")
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        s = state(page)
        if not s["inflight"] and not s["busy"] and s["idle"] >= idle_ms:
            return
        time.sleep(0.05)


def done_count(page) -> int:
    return state(page)["done"]


def poll(page, check_js: str, args, before: int) -> tuple[list[str], bool]:
    """Run `check_js` until it returns no problems after htmx has answered, or until the page
    has been quiet for QUIET_S, or LIMIT_S. Returns (problems, whether a request came back)."""
    start = time.monotonic()
    while True:
        s = state(page)
        try:
            problems = page.evaluate(check_js, args)
        except PlaywrightError as error:
            problems = [f"the page could not be read ({str(error).splitlines()[0]})"]
        elapsed = time.monotonic() - start
        answered = s["done"] > before
        settled = not s["inflight"] and not s["busy"] and s["idle"] >= 60
        if settled and not problems and (answered or elapsed >= QUIET_S):
            return [], answered
        wait = ANSWERED_QUIET_S if answered else QUIET_S
        quiet = settled and s["idle"] >= wait * 1000 and elapsed >= wait
        if elapsed >= LIMIT_S or quiet:
            return problems, answered
        time.sleep(0.05)


# --- fields and values -----------------------------------------------------------------------


@dataclass(frozen=True)
class Rule:
    """What the server accepts for a field (from /openapi.json), with the page's own min/max."""

    integer: bool
    low: float | None
    high: float | None
    required: bool  # blank is a mistake (the field has a default and is not optional)


def openapi_fields(base_url: str) -> dict[str, dict[str, dict]]:
    """GET parameters' schemas by route path and name."""
    with urllib.request.urlopen(f"{base_url}/openapi.json", timeout=20) as response:
        spec = json.load(response)
    out: dict[str, dict[str, dict]] = {}
    for path, methods in spec["paths"].items():
        get = methods.get("get") or {}
        out[path] = {p["name"]: p.get("schema", {}) for p in get.get("parameters", [])}
    return out


def _number(text: str) -> float | None:
    try:
        value = float(text)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def rule_for(schema: dict | None, html: dict) -> Rule:
    options = (schema or {}).get("anyOf") or [schema or {}]
    optional = any(o.get("type") == "null" for o in options)
    number = next((o for o in options if o.get("type") in ("integer", "number")), {})
    step = html.get("step") or ""
    html_integer = html["type"] == "number" and (
        step == "" or (step != "any" and (_number(step) or 0.5).is_integer())
    )
    integer = number.get("type") == "integer" if number else html_integer
    lows = [v for v in (number.get("minimum"), number.get("exclusiveMinimum"),
                        _number(html.get("min"))) if v is not None]  # fmt: skip
    highs = [v for v in (number.get("maximum"), number.get("exclusiveMaximum"),
                         _number(html.get("max"))) if v is not None]  # fmt: skip
    required = bool(schema) and not optional and "default" in schema
    return Rule(integer, min(lows) if lows else None, max(highs) if highs else None, required)


def number_text(value: float) -> str:
    if float(value).is_integer() and abs(value) < 1e16:
        return str(int(value))
    return repr(float(value))


def wrong_values(rule: Rule, kind: str, first: bool) -> list[str]:
    """Values this field must refuse: under its minimum, over its maximum, a fraction for a whole
    number, a word where the browser lets one be typed, and (in a lab's first field) 1e9 and
    blank."""
    values = []
    if rule.low is not None:
        values.append(number_text(rule.low - 1))
    if rule.high is not None:
        values.append(number_text(rule.high + 1))
    if rule.integer:
        values.append("2.5")
    # Chromium keeps letters out of <input type=number> (Playwright's fill refuses them, typing
    # them does nothing), so "abc" can only reach the server through a text field.
    if kind == "text":
        values.append("abc")
    if first and rule.high is not None and rule.high < 1e9:
        values.append("1e9")
    return list(dict.fromkeys(values))


def same_value(a: str, b: str) -> bool:
    x, y = _number(a), _number(b)
    if x is not None and y is not None:
        return math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12)
    return a == b


def form_path(page, form: str) -> str:
    return urlsplit(page.evaluate(FORM_PATH_JS, form)).path


# --- Portuguese numbers -----------------------------------------------------------------------

DOT_DECIMAL = re.compile(r"(?<![\d.,])\d+\.\d+(?![\d.,])")  # 0.5, 94.7, 2406.219
PT_THOUSANDS = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+")  # 61.706, 1.048.576: right in pt-BR
COMMA_GROUPS = re.compile(r"(?<![\d.,])[1-9]\d{0,2}(?:,\d{3}){2,}(?![\d,])")  # 1,048,576
GROUPED_DECIMAL = re.compile(r"\d,\d{3}\.\d")  # 1,234.5
ONE_GROUP = re.compile(r"(?<![\d.,])[1-9]\d{0,2},\d{3}(?![\d.,])")  # 44,426 or pt's 4,029


def english_numbers(texts: list[list[str]], english_tokens: set[str]) -> list[str]:
    """English-formatted numbers in a pt-BR page's visible text. "44,426" is English grouping or
    a Portuguese decimal with three places; it counts as English when the English page shows the
    very same token (in English a decimal would read 44.426)."""
    found = []
    for text, where in texts:
        tokens = [m.group() for m in DOT_DECIMAL.finditer(text)
                  if not PT_THOUSANDS.fullmatch(m.group())]  # fmt: skip
        tokens += [m.group() for m in COMMA_GROUPS.finditer(text)]
        tokens += [m.group() for m in GROUPED_DECIMAL.finditer(text)]
        tokens += [m.group() for m in ONE_GROUP.finditer(text) if m.group() in english_tokens]
        for token in dict.fromkeys(tokens):
            found.append(f"'{token}' in \"{text[:90]}\" ({where})")
    return found


def comma_tokens(texts: list[list[str]]) -> set[str]:
    return {m.group() for text, _ in texts for m in ONE_GROUP.finditer(text)}
