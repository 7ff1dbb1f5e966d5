"""Presentation mode (?present=1, #15): the flag on the page, in its links, and in the addresses
htmx pushes."""

from html.parser import HTMLParser

import pytest

from app.web.present import with_present
from tests.app.conftest import HX_CONTROLS

LAB_PATHS = ["/filters", "/pooling", "/pipeline", "/train", "/text", "/signals", "/losses",
             "/optimizers"]  # fmt: skip


class Element(dict):
    """A parsed element: its attributes, its tag and the text directly inside it."""

    def __init__(self, tag: str, attrs, inside: list) -> None:
        super().__init__((key, value or "") for key, value in attrs)
        self.tag, self.text, self.inside = tag, "", inside  # inside: the open elements around it


class Page(HTMLParser):
    VOID = {"input", "img", "meta", "link", "br", "hr", "source", "wbr", "col", "area"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.elements: list[Element] = []
        self.open: list[Element] = []
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        element = Element(tag, attrs, [e.tag for e in self.open])
        self.elements.append(element)
        if tag not in self.VOID:
            self.open.append(element)

    def handle_endtag(self, tag):
        while self.open and self.open.pop().tag != tag:
            pass

    def handle_data(self, data):
        if self.open:
            self.open[-1].text += data

    def select(self, tag: str | None = None, **attrs) -> list[Element]:
        return [e for e in self.elements if (tag is None or e.tag == tag)
                and all(e.get(k.replace("_", "-")) == v for k, v in attrs.items())]  # fmt: skip

    @property
    def body(self) -> Element:
        return self.select("body")[0]

    def toggle(self) -> Element:
        (found,) = [e for e in self.select("a") if "data-present-toggle" in e]
        return found

    def nav_links(self) -> list[Element]:
        return [e for e in self.select("a") if "nav" in e.inside and "header" in e.inside]


def soup(response) -> Page:
    assert response.status_code == 200, response.text[:300]
    return Page(response.text)


def test_with_present_sets_and_removes_only_the_flag():
    assert (
        with_present("/filters?f=sobel_x&f=box&size=5")
        == "/filters?f=sobel_x&f=box&size=5&present=1"
    )
    assert with_present("/filters?present=1&f=box", on=False) == "/filters?f=box"
    assert with_present("/filters?present=0&f=box") == "/filters?f=box&present=1"  # never twice
    assert with_present("/losses") == "/losses?present=1"
    assert with_present("/losses?present=1", on=False) == "/losses"


@pytest.mark.parametrize("path", LAB_PATHS)
def test_a_presented_lab_has_the_projector_class_and_keeps_the_flag_in_its_links(client, path):
    page = soup(client.get(f"{path}?present=1"))
    assert page.body.get("class") == "present"
    nav = page.nav_links()
    assert len(nav) == 8 and all(a["href"].endswith("?present=1") for a in nav)
    toggle = page.toggle()
    assert toggle.text.strip() == "Leave presentation"
    assert toggle["href"] == path  # leaving keeps the rest of the address
    assert page.select("input", id="present-all")
    # The lab marks its main figure and its explanation, once each.
    assert len(page.select(data_present="figure")) == 1
    assert len(page.select(data_present="explain")) == 1


@pytest.mark.parametrize("path", LAB_PATHS)
def test_a_lab_not_presented_offers_the_button(client, path):
    page = soup(client.get(f"{path}?present=0"))
    assert not page.body.get("class")
    nav = page.nav_links()
    assert len(nav) == 8 and all("present" not in a["href"] for a in nav)
    toggle = page.toggle()
    assert toggle.text.strip() == "Present"
    assert toggle["href"] == f"{path}?present=1"
    assert not page.select("input", id="present-all")


def test_the_button_keeps_the_view_it_presents(client):
    page = soup(client.get("/filters?stride=2&size=7"))
    assert page.toggle()["href"] == "/filters?stride=2&size=7&present=1"
    page = soup(client.get("/filters?stride=2&present=1&size=7"))
    assert page.toggle()["href"] == "/filters?stride=2&size=7"


def test_pages_outside_the_labs_have_no_button(client):
    for path in ("/", "/about"):
        page = soup(client.get(path))
        assert not [e for e in page.select("a") if "data-present-toggle" in e]


def test_an_htmx_update_of_a_presented_lab_pushes_an_address_that_presents(client):
    presented = client.get("/filters?stride=2&size=7", headers={**HX_CONTROLS, "X-Present": "1"})
    assert presented.status_code == 200
    assert presented.headers["HX-Push-Url"].endswith("&present=1")
    assert "X-Present" in presented.headers["Vary"]
    plain = client.get("/filters?stride=2&size=7", headers=HX_CONTROLS)
    assert "present" not in plain.headers["HX-Push-Url"]


def test_the_language_switch_returns_to_the_presented_view(client):
    response = client.get("/lang/pt_BR", params={"next": "/optimizers?present=1"},
                          follow_redirects=False)  # fmt: skip
    assert response.status_code == 303 and response.headers["location"] == "/optimizers?present=1"
    page = soup(client.get("/optimizers?present=1"))
    assert page.body.get("class") == "present"
    assert page.toggle().text.strip() == "Sair da apresentação"


@pytest.mark.parametrize("value", ["0", "yes", "<b>1</b>", "1 ", ""])
def test_any_other_value_of_the_flag_is_not_presenting_and_is_replaced(client, value):
    page = soup(client.get("/losses", params={"present": value, "y": "1"}))
    assert not page.body.get("class")
    # Entering replaces the odd value rather than adding a second flag; nothing is echoed raw.
    assert page.toggle()["href"] == "/losses?y=1&present=1"
    assert "<b>1</b>" not in client.get("/losses", params={"present": value}).text
