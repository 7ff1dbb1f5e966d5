"""What the Text lab says about its settings follows them: the tokens hint and lower-casing, the
character limit and the line breaks a form sends."""

import re
from html.parser import HTMLParser

import pytest
from starlette.testclient import TestClient

from app.config import Settings
from app.labs.text.fields import MAX_TEXT
from app.main import create_app
from tests.app.conftest import HX
from tests.conftest import wait_for_run


class _Texts(HTMLParser):
    """The text of every element carrying a data-testid, and the attributes of those elements."""

    def __init__(self) -> None:
        super().__init__()
        self.open: list[tuple[str, str | None]] = []  # (tag, testid) of the elements now open
        self.texts: dict[str, str] = {}
        self.attrs: dict[str, dict] = {}

    def handle_starttag(self, tag, attrs):
        testid = dict(attrs).get("data-testid")
        if testid and testid not in self.texts:
            self.texts[testid], self.attrs[testid] = "", dict(attrs)
        if tag not in ("br", "img", "input", "meta", "link", "hr", "wbr"):
            self.open.append((tag, testid))

    def handle_endtag(self, tag):
        while self.open:
            if self.open.pop()[0] == tag:
                break

    def handle_data(self, data):
        for _, testid in self.open:
            if testid:
                self.texts[testid] += data


def parsed(html: str) -> _Texts:
    parser = _Texts()
    parser.feed(html)
    return parser


def words(text: str) -> str:
    return " ".join(text.split())


def tokens_hint(html: str) -> str:
    """The words of the hint under the tokens stage's title."""
    after_title = html.split('id="tokens-title"', 1)[1].split("</h2>", 1)[1]
    return words(re.sub(r"<[^>]+>", " ", after_title.split("</p>", 1)[0]))


@pytest.mark.parametrize("lower", ["1", "0"])
def test_the_tokens_hint_says_what_the_tokenizer_does_with_capitals(client, lower):
    page = client.get("/text", params={"text": "Great food", "lower": lower})
    assert page.status_code == 200
    hint = tokens_hint(page.text)
    assert "token" in parsed(page.text).texts  # the tokens are there
    if lower == "1":
        assert "lower-cases the text" in hint, hint
    else:
        assert "lower-cases" not in hint, hint
        assert "keeps capitals" in hint and "Lower-casing is off" in hint, hint


def test_the_tokens_hint_in_portuguese_follows_the_setting_too(client):
    client.cookies.set("lang", "pt_BR")
    on = tokens_hint(client.get("/text", params={"lower": "1"}).text)
    off = tokens_hint(client.get("/text", params={"lower": "0"}).text)
    assert "minúsculas" in on and on != off
    assert "maiúsculas" in off


def test_the_text_box_states_its_limit_and_has_a_note_for_a_cut_paste(client):
    html = parsed(client.get("/text").text)
    note = html.attrs["text-cut"]
    assert note["role"] == "status" and html.texts["text-cut"] == ""  # empty until a cut
    message = note["data-message"]
    assert "{total}" in message and "{limit}" in message and "{dropped}" in message
    assert "address" in message  # why there is a limit
    page = client.get("/text").text
    assert f'maxlength="{MAX_TEXT}"' in page and 'data-cut-note="text-cut"' in page
    assert 'src="/static/js/text.js"' in page


def test_a_full_box_sent_by_a_form_is_not_refused_for_its_line_breaks(client):
    """A browser sends a textarea's line breaks as CR LF: a box filled to the limit with a few
    lines is then longer than the limit on the wire, and must still be taken."""
    lines = ["x" * 150] * 6
    text = "\n".join(lines)
    text += "y" * (MAX_TEXT - len(text))  # exactly full, as the browser allows
    assert len(text) == MAX_TEXT
    page = client.get("/text", params={"text": text.replace("\n", "\r\n")})
    assert page.status_code == 200, page.text[-400:]
    assert len(page.text.split('data-testid="matrix-row"')) - 1 == 6


# --- a trained run's "try it" --------------------------------------------------------------------

RUN_FORM = {"source": "builtin", "maxlen": "12", "pad": "pre", "trunc": "pre", "words": "",
            "oov": "1", "lower": "0", "epochs": "1", "dim": "8", "filters": "4", "lr": "0.01",
            "dropout": "0.5", "seed": "0"}  # fmt: skip


@pytest.fixture(scope="module")
def case_run():
    """A run trained (briefly) with lower-casing off, and the client that has it."""
    with TestClient(create_app(Settings(run_workers=1, run_max_seconds=60))) as client:
        response = client.post("/text/runs", data=RUN_FORM, follow_redirects=False)
        assert response.status_code == 303, response.text[:300]
        run_id = response.headers["location"].rsplit("/", 1)[1]
        assert wait_for_run(client, run_id) == "finished"
        yield client, run_id


def test_try_it_says_capitals_are_kept_when_the_run_did_not_lower_case(case_run):
    client, run_id = case_run
    response = client.get(f"/text/runs/{run_id}/try", params={"try": "Great food"}, headers=HX)
    assert response.status_code == 200
    said = words(parsed(response.text).texts["try-settings"])
    assert "Capitals are kept" in said and "lower-casing was off" in said, said


def test_the_try_box_has_a_note_for_a_cut_paste(case_run):
    client, run_id = case_run
    page = client.get(f"/text/runs/{run_id}").text
    html = parsed(page)
    assert html.texts["try-cut"] == "" and "{dropped}" in html.attrs["try-cut"]["data-message"]
    assert 'data-cut-note="try-cut"' in page and 'src="/static/js/text.js"' in page
