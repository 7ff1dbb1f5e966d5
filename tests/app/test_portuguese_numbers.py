"""Every page in Brazilian Portuguese writes its numbers the Brazilian way: 61.706 parâmetros,
94,7 %, 0,25. A number written the English way (44,426 or 94.7%) is misread there: 44,426 is
forty-four point something.

The check reads what people see: text nodes and the title, alt and aria-label attributes, not
URLs, form values, data-* attributes, SVG coordinates, code, typed text (textarea, <bdi> words)
or scripts."""

import re
from html.parser import HTMLParser

import pytest
from starlette.testclient import TestClient

from app.config import Settings
from app.labs import LABS
from app.main import create_app
from app.web.templating import HTMX_VERSION
from tests.conftest import wait_for_run

# Where text is code or what the user typed, not a number the page writes.
NOT_PROSE = {"script", "style", "code", "pre", "kbd", "samp", "textarea", "bdi"}
SHOWN_ATTRIBUTES = ("title", "alt", "aria-label")
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source",
        "track", "wbr"}  # fmt: skip
# Dotted names that are not numbers: a DOI, a licence's version, the vendored scripts' versions.
NOT_NUMBERS = re.compile(
    r"doi:\S+|CC BY \d\.\d|" + re.escape(HTMX_VERSION) + r"|\b\d+\.\d{1,2}\.\d+\b"
)
NUMBER = re.compile(r"(?<![\w.,])\d+(?:[.,]\d+)+")
PT_GROUPED = re.compile(r"[1-9]\d{0,2}(?:\.\d{3})+(?:,\d+)?")  # 61.706 or 1.234,5
EN_GROUPED = re.compile(r"\d{1,3}(?:,\d{3}){2,}")  # 1,048,576: never one Portuguese number
AMBIGUOUS = re.compile(r"[1-9]\d{0,2},\d{3}")  # 44,426 in English or 44,426 (44.426) in pt
PERCENT = re.compile(r"\d%")  # Portuguese puts a space before %: 94,7 %


class ShownText(HTMLParser):
    """The text of a page a person reads, piece by piece."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[str] = []
        self.pieces: list[str] = []

    def handle_starttag(self, tag, attrs):
        if not self._skipped(tag):
            self.pieces += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v]
        if tag not in VOID:
            self.open.append(tag)

    def handle_startendtag(self, tag, attrs):
        if not self._skipped(tag):
            self.pieces += [v for k, v in attrs if k in SHOWN_ATTRIBUTES and v]

    def handle_endtag(self, tag):
        if tag in self.open:
            while self.open.pop() != tag:
                pass

    def handle_data(self, data):
        if data.strip() and not self._skipped():
            self.pieces.append(data)

    def _skipped(self, tag: str | None = None) -> bool:
        return tag in NOT_PROSE or any(t in NOT_PROSE for t in self.open)


def shown_text(html: str) -> list[str]:
    parser = ShownText()
    parser.feed(html)
    return [NOT_NUMBERS.sub(" ", piece) for piece in parser.pieces]


def english_numbers(pt_html: str, en_html: str) -> list[str]:
    """The numbers a Portuguese page writes the English way, each with its surroundings.

    "44,426" reads either way: it is English where the English page writes the same (the number
    was not localised), and Portuguese (44.426 in English) otherwise."""
    english_tokens = {m.group() for text in shown_text(en_html) for m in NUMBER.finditer(text)}
    found = []
    for text in shown_text(pt_html):
        for match in NUMBER.finditer(text):
            token = match.group()
            if "." in token:
                wrong = not PT_GROUPED.fullmatch(token)
            elif EN_GROUPED.fullmatch(token):
                wrong = True
            else:
                wrong = bool(AMBIGUOUS.fullmatch(token)) and token in english_tokens
            if wrong:
                found.append(_around(text, match.start(), match.end()))
        found += [_around(text, m.start(), m.end()) for m in PERCENT.finditer(text)]
    return found


def _around(text: str, start: int, end: int) -> str:
    return " ".join(text[max(0, start - 40) : end + 20].split())


def test_the_checker_tells_the_two_ways_apart():
    english = "<p>44,426 parâmetros, 1,048,576 bytes, 94.7%, 0.25</p><p>1.234</p>"
    portuguese = "<p>44.426 parâmetros, 1.048.576 bytes, 94,7 %, 0,25, 1,234</p>"
    assert len(english_numbers(english, english)) == 5  # 1.234 is 1234 in pt: fine
    assert english_numbers(portuguese, english) == []
    hidden = '<p data-x="0.5"><a href="/a?b=0.5">x</a><code>dropout 0.5</code><bdi>1.5</bdi></p>'
    assert english_numbers(hidden, hidden) == []
    assert english_numbers('<img alt="0.5">', "") != []


def check(client: TestClient, path: str) -> None:
    pages = {}
    for code in ("pt_BR", "en"):
        client.cookies.set("lang", code)
        response = client.get(path)
        assert response.status_code < 500, (path, response.text[:300])
        pages[code] = response.text
    assert 'lang="pt-BR"' in pages["pt_BR"]
    assert english_numbers(pages["pt_BR"], pages["en"]) == [], path


@pytest.mark.parametrize(
    "path",
    ["/", "/about", *(lab.path for lab in LABS),
     "/filters?f=custom&kernel=0.25+0.5+0.25&row=3&col=4",
     "/pooling?prow=2&pcol=3&ptype=avg",
     "/signals?ir=reverb",
     "/signals?ir=average&xs=1.5+2.5+3&hs=0.5+0.5",
     "/optimizers?o2=adam&o3=nesterov&steps=30",
     "/train?preset=lenet&size=16",
     # Messages carry numbers too.
     "/optimizers?steps=4990&action=run&run=50",
     "/train?preset=custom&arch=dense+20000"],
)  # fmt: skip
def test_every_page_writes_numbers_the_brazilian_way(client, path):
    check(client, path)


@pytest.fixture(scope="module")
def runner():
    with TestClient(create_app(Settings(run_workers=2, run_max_seconds=60))) as client:
        yield client


def start(client: TestClient, path: str, form: dict) -> str:
    response = client.post(path, data=form, follow_redirects=False)
    assert response.status_code == 303, response.text[:400]
    run_id = response.headers["location"].rsplit("/", 1)[1]
    assert wait_for_run(client, run_id) == "finished"
    return run_id


def test_a_training_run_writes_numbers_the_brazilian_way(runner):
    form = {"dataset": "digits", "size": "8", "preset": "tiny", "epochs": "2", "batch": "32",
            "seed": "0", "lr": "0.01"}  # fmt: skip
    run_id = start(runner, "/train/runs", form)
    other = start(runner, "/train/runs", form | {"seed": "1", "lr": "0.05"})
    for path in (f"/train/runs/{run_id}", f"/train/runs/{run_id}/inside?sample=3",
                 f"/train/compare?run={run_id}&run={other}"):  # fmt: skip
        check(runner, path)


def test_a_text_run_writes_numbers_the_brazilian_way(runner):
    form = {"source": "builtin", "maxlen": "12", "pad": "pre", "trunc": "pre", "words": "",
            "oov": "1", "lower": "1", "epochs": "2", "dim": "16", "filters": "8",
            "lr": "0.01", "dropout": "0.5", "seed": "0"}  # fmt: skip
    run_id = start(runner, "/text/runs", form)
    for path in (f"/text/runs/{run_id}", f"/text/runs/{run_id}?try=um+filme+ótimo",
                 f"/text?run={run_id}"):  # fmt: skip
        check(runner, path)
