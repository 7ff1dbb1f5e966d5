"""Train on your own classes (/train/own) over HTTP: a set made, filled and changed, a run on
generated pictures through the real queue and worker, and hostile input refused next to its
control with the set unchanged."""

from __future__ import annotations

import io
import re
import zipfile
from html.parser import HTMLParser

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.app.conftest import HX
from tests.conftest import wait_for_run

SIDE = 64


class Node:
    """An element of a parsed page: tag, attributes, children and text, with a small CSS
    selector (tags, #id, .class, [attr], [attr=value], and descendants)."""

    def __init__(self, tag: str, attrs: dict, parent: Node | None = None) -> None:
        self.tag, self.attrs, self.parent = tag, attrs, parent
        self.children: list[Node | str] = []

    def __getitem__(self, name: str) -> str:
        return self.attrs[name]

    def get(self, name: str, default=None):
        return self.attrs.get(name, default)

    def get_text(self) -> str:
        return "".join(c if isinstance(c, str) else c.get_text() for c in self.children)

    def descendants(self):
        for child in self.children:
            if isinstance(child, Node):
                yield child
                yield from child.descendants()

    def _matches(self, simple: str) -> bool:
        tag = re.match(r"^[a-z0-9]+", simple)
        if tag and self.tag != tag.group():
            return False
        for kind, name in re.findall(r"([#.])([\w-]+)", re.sub(r"\[.*?\]", "", simple)):
            if kind == "#" and self.attrs.get("id") != name:
                return False
            if kind == "." and name not in self.attrs.get("class", "").split():
                return False
        for name, value in re.findall(r"\[([\w-]+)(?:=\"?([^\]\"]*)\"?)?\]", simple):
            if name not in self.attrs or (value and self.attrs[name] != value):
                return False
        return True

    def select(self, selector: str) -> list[Node]:
        found = [self]
        for simple in selector.split():
            found = list(dict.fromkeys(d for node in found for d in node.descendants()
                                       if d._matches(simple)))  # fmt: skip
        return found

    def select_one(self, selector: str) -> Node | None:
        found = self.select(selector)
        return found[0] if found else None


class Parsed(HTMLParser):
    VOID = {"input", "img", "meta", "link", "br", "hr", "source", "wbr", "col", "area"}

    def __init__(self, html: str) -> None:
        super().__init__()
        self.root = self.node = Node("#root", {})
        self.feed(html)

    def handle_starttag(self, tag, attrs):
        node = Node(tag, {k: v or "" for k, v in attrs}, self.node)
        self.node.children.append(node)
        if tag not in self.VOID:
            self.node = node

    def handle_endtag(self, tag):
        node = self.node
        while node is not self.root and node.tag != tag:
            node = node.parent
        if node is not self.root:
            self.node = node.parent

    def handle_data(self, data):
        self.node.children.append(data)


def BeautifulSoup(html: str, _parser: str = "") -> Node:  # noqa: N802 - reads like the library
    return Parsed(html).root


def stripes(direction: str, seed: int) -> bytes:
    """A noisy picture of horizontal ("h") or vertical ("v") stripes, random period and phase."""
    rng = np.random.default_rng(seed)
    period = int(rng.integers(6, 13))
    on = (np.arange(SIDE) + int(rng.integers(0, period))) % period < period // 2
    pixels = np.tile(on, (SIDE, 1)) if direction == "v" else np.tile(on[:, None], (1, SIDE))
    noisy = pixels * 190.0 + 30 + rng.normal(0, 12, pixels.shape)
    out = io.BytesIO()
    Image.fromarray(np.clip(noisy, 0, 255).astype(np.uint8)).convert("RGB").save(out, "PNG")
    return out.getvalue()


def files(direction: str, count: int, first_seed: int = 0) -> list:
    return [("pictures", (f"{direction}{i}.png", stripes(direction, first_seed + i), "image/png"))
            for i in range(count)]  # fmt: skip


def new_set(client, names=("horizontal", "vertical")) -> str:
    response = client.post("/train/own/sets", data={"name": list(names)}, follow_redirects=False)
    assert response.status_code == 303, response.text[:300]
    return response.headers["location"].split("set=")[1]


def counts(client, set_id: str) -> list[int]:
    page = BeautifulSoup(client.get(f"/train/own?set={set_id}").text, "html.parser")
    return [int(p["data-count"]) for p in page.select('[data-testid="own-count"]')]


def names(client, set_id: str) -> list[str]:
    page = BeautifulSoup(client.get(f"/train/own?set={set_id}").text, "html.parser")
    return [i["value"] for i in page.select(".own-rename input[name=name]")]


def add(client, set_id: str, index: int, payload) -> object:
    return client.post(f"/train/own/sets/{set_id}/classes/{index}/pictures", files=payload,
                       headers=HX)  # fmt: skip


def zip_of(entries: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def placed(response) -> list[tuple[str, str]]:
    """(control, message) of each message an htmx error answer places."""
    page = BeautifulSoup(response.text, "html.parser")
    return [(p.get("data-control", ""), p.get_text()) for p in page.select(".error-message")]


# --- making and changing a set -----------------------------------------------------------------


def test_the_page_without_a_set_offers_names_and_an_import(client):
    page = BeautifulSoup(client.get("/train/own").text, "html.parser")
    assert [i["value"] for i in page.select("#own-create input[name=name]")] == [
        "thumb up", "thumb down", "nothing", "", ""]  # fmt: skip
    assert page.select_one("#own-import input[type=file][name=zip]") is not None
    assert client.get("/train").text.count('href="/train/own"') >= 1  # linked from the lab


def test_a_set_grows_shrinks_and_is_renamed(client):
    set_id = new_set(client)
    response = add(client, set_id, 0, files("h", 3))
    assert response.status_code == 200 and response.headers["HX-Trigger"] == "own-set-changed"
    assert counts(client, set_id) == [3, 0]
    page = BeautifulSoup(response.text, "html.parser")
    first = page.select_one(".own-remove input[name=picture]")["value"]
    thumb = client.get(f"/train/own/sets/{set_id}/pictures/{first}.png")
    assert thumb.headers["content-type"] == "image/png"
    assert Image.open(io.BytesIO(thumb.content)).size == (SIDE, SIDE)
    client.post(f"/train/own/sets/{set_id}/classes/0/remove", data={"picture": first}, headers=HX)
    assert counts(client, set_id) == [2, 0]
    client.post(f"/train/own/sets/{set_id}/classes/1/name", data={"name": "<b>up</b>"}, headers=HX)
    client.post(f"/train/own/sets/{set_id}/classes", data={"name": "nothing"}, headers=HX)
    assert names(client, set_id) == ["horizontal", "<b>up</b>", "nothing"]
    html = client.get(f"/train/own?set={set_id}").text
    assert "<b>up</b>" not in html and "&lt;b&gt;up&lt;/b&gt;" in html  # data, never markup
    assert 'name="k" value="3"' in html and "dense 3" in html  # the output layer follows the set
    client.post(f"/train/own/sets/{set_id}/classes/0/delete", headers=HX)
    assert names(client, set_id) == ["<b>up</b>", "nothing"] and counts(client, set_id) == [0, 0]


def test_export_and_import_carry_the_set(client):
    set_id = new_set(client)
    add(client, set_id, 0, files("h", 2))
    add(client, set_id, 1, files("v", 3))
    exported = client.get(f"/train/own/sets/{set_id}/export.zip")
    assert exported.headers["content-type"] == "application/zip"
    listed = sorted(zipfile.ZipFile(io.BytesIO(exported.content)).namelist())
    assert listed == ["horizontal/001.png", "horizontal/002.png", "vertical/001.png",
                      "vertical/002.png", "vertical/003.png"]  # fmt: skip
    response = client.post("/train/own/sets/import", files={"zip": ("set.zip", exported.content)},
                           follow_redirects=False)  # fmt: skip
    copy = response.headers["location"].split("set=")[1]
    assert copy != set_id and counts(client, copy) == [2, 3]


def test_a_set_is_only_its_browsers(client, settings):
    set_id = new_set(client)
    with TestClient(create_app(settings)) as stranger:
        assert stranger.get(f"/train/own?set={set_id}").status_code == 404
        assert add(stranger, set_id, 0, files("h", 1)).status_code == 404
        assert stranger.get(f"/train/own/sets/{set_id}/export.zip").status_code == 404
    assert counts(client, set_id) == [0, 0]


# --- bad input: a clear message next to its control, a 4xx, the set as it was -------------------


@pytest.mark.parametrize(
    ("given", "message"),
    [(["only one"], "Make 2 to 5 classes (this has 1)"), (["", "", ""], "this has 0"),
     ([f"c{i}" for i in range(6)], "this has 6"), (["same", "SAME"], "same name"),
     (["a" * 41, "b"], "at most 40 characters")],
)  # fmt: skip
def test_refused_class_names(client, given, message):
    response = client.post("/train/own/sets", data={"name": given},
                           headers={**HX, "X-Error-Target": "#own-create-error"})  # fmt: skip
    assert response.status_code == 422
    assert response.headers["HX-Retarget"] == "#own-create-error"
    assert any(control == "name" and message in text for control, text in placed(response))


def test_refused_changes_leave_the_set_as_it_was(client):
    set_id = new_set(client)
    add(client, set_id, 0, files("h", 2))
    before = (counts(client, set_id), names(client, set_id))
    not_image = [("pictures", ("x.png", b"<script>alert(1)</script>", "image/png"))]
    cases = [
        (add(client, set_id, 0, files("h", 2, 50) + not_image), 415, "pictures", "not an image"),
        (add(client, set_id, 1, []), 422, "pictures", "Choose one or more pictures"),
        (add(client, set_id, 7, files("h", 1, 90)), 422, "", "no class number 8"),
        (client.post(f"/train/own/sets/{set_id}/classes/1/name", data={"name": "HORIZONTAL"},
                     headers=HX), 422, "name", "same name"),
        (client.post(f"/train/own/sets/{set_id}/classes/0/delete", headers=HX), 422, "",
         "at least 2 classes"),
    ]  # fmt: skip
    for _ in range(3):
        client.post(f"/train/own/sets/{set_id}/classes", data={"name": f"x{_}"}, headers=HX)
    sixth = client.post(f"/train/own/sets/{set_id}/classes", data={"name": "sixth"}, headers=HX)
    cases.append((sixth, 422, "name", "this has 6"))
    for response, status, control, message in cases:
        assert response.status_code == status, (message, response.text[:300])
        assert any(message in text and (not control or where == control)
                   for where, text in placed(response)), (message, placed(response))  # fmt: skip
    for index in (4, 3, 2):  # the three added ones, to compare with before
        client.post(f"/train/own/sets/{set_id}/classes/{index}/delete", headers=HX)
    assert (counts(client, set_id), names(client, set_id)) == before


def test_too_many_pictures_for_a_class(tmp_path):
    settings = Settings(own_max_pictures_per_class=4)
    with TestClient(create_app(settings)) as client:
        set_id = new_set(client)
        add(client, set_id, 0, files("h", 3))
        response = add(client, set_id, 0, files("h", 2, 10))
        assert response.status_code == 413 and "at most 4 pictures" in response.text
        assert counts(client, set_id) == [3, 0]


@pytest.mark.parametrize(
    ("entries", "status", "message"),
    [
        ({"a/1.png": stripes("h", 1), "../x/2.png": stripes("v", 2)}, 422, "leaves its folder"),
        (
            {"a/1.png": stripes("h", 1), "b/bomb.png": b"\0" * (11 * 1024 * 1024)},
            413,
            "unpacks to more than",
        ),
        ({f"c{i % 2}/{i}.png": b"x" for i in range(10_000)}, 413, "holds 10000 files"),
        ({"a/1.png": stripes("h", 1), "b/notes.txt": b"hello"}, 415, "not images"),
        ({"only/1.png": stripes("h", 1)}, 422, "this has 1"),
    ],
    ids=["dotdot", "bomb", "ten-thousand", "not-images", "one-class"],
)
def test_hostile_zips_are_refused_whole(client, entries, status, message):
    set_id = new_set(client)
    add(client, set_id, 0, files("h", 2))
    response = client.post("/train/own/sets/import", files={"zip": ("set.zip", zip_of(entries))},
                           headers={**HX, "X-Error-Target": "#own-import-error"})  # fmt: skip
    assert response.status_code == status, response.text[:300]
    assert any(control == "zip" and message in text for control, text in placed(response))
    assert counts(client, set_id) == [2, 0]  # the set already made is untouched


def test_a_run_needs_enough_pictures_in_every_class(client):
    set_id = new_set(client)
    add(client, set_id, 0, files("h", 5))
    add(client, set_id, 1, files("v", 4))
    response = client.post("/train/own/runs", data={"set": set_id, "preset": "tiny"},
                           headers={**HX, "X-Error-Target": "#start-error"})  # fmt: skip
    assert response.status_code == 422
    assert "at least 5 pictures before training; add more to: vertical" in response.text
    assert counts(client, set_id) == [5, 4]
    assert client.app.state.store.zcard("queue") == 0  # nothing was queued


def test_setup_mistakes_are_placed_and_the_set_kept(client):
    set_id = new_set(client)
    response = client.get(f"/train/own?set={set_id}&size=48",
                          headers={**HX, "X-Error-Target": "#controls-error"})  # fmt: skip
    assert response.status_code == 400
    assert any("32 or 64 pixels" in text for _, text in placed(response))
    full = client.get(f"/train/own?set={set_id}&size=48")  # without JavaScript: the page again
    assert full.status_code == 400 and "32 or 64 pixels" in full.text
    assert 'id="own-pictures"' in full.text


# --- a run on generated pictures, through the queue and a worker ---------------------------------


def test_a_run_on_stripes_learns_them_and_opens_up():
    with TestClient(create_app(Settings(run_workers=1, run_max_seconds=90))) as client:
        set_id = new_set(client)
        assert add(client, set_id, 0, files("h", 20)).status_code == 200
        assert add(client, set_id, 1, files("v", 20, 100)).status_code == 200
        query = {"set": set_id, "size": "32", "preset": "tiny", "epochs": "12", "seed": "0"}
        response = client.post("/train/own/runs", data=query, follow_redirects=False)
        assert response.status_code == 303, response.text[:500]
        run_id = response.headers["location"].rsplit("/", 1)[1]
        add(client, set_id, 0, files("v", 3, 500))  # mislabelled later: the run keeps its copy
        assert wait_for_run(client, run_id, timeout=90) == "finished"
        run = client.app.state.runs.get(run_id)
        assert run.test_accuracy >= 0.9
        assert run.extra["n_test"] == 10 and run.config["class_names"] == ["horizontal", "vertical"]

        inside = BeautifulSoup(client.get(f"/train/runs/{run_id}/inside").text, "html.parser")
        summary = inside.select_one('[data-testid="own-summary"]')
        assert summary.select_one('[data-testid="own-test-accuracy"]').get_text() == "100%"
        train = summary.select_one('[data-testid="own-train-accuracy"]').get_text()
        assert float(train.rstrip("%")) >= 90
        # 5 test pictures per class: the fewest for which the page does not warn
        assert inside.select_one('[data-testid="own-small-test"]') is None
        matrix = inside.select_one('[data-testid="confusion"]')
        assert [th.get_text() for th in matrix.select("tr")[0].select("th")][1:] == [
            "horizontal", "vertical"]  # fmt: skip
        assert inside.select_one('[data-testid="own-try"]') is not None
        assert client.get(f"/train/runs/{run_id}/layer.png?sample=0&layer=1").status_code == 200
        sample = Image.open(io.BytesIO(client.get(f"/train/runs/{run_id}/sample.png").content))
        assert sample.size == (32, 32)

        for direction, expected in (("h", "horizontal"), ("v", "vertical")):
            fresh = stripes(direction, 9999)  # a picture it has never seen
            answer = client.post(f"/train/runs/{run_id}/own/predict",
                                 files={"image": ("new.png", fresh, "image/png")})  # fmt: skip
            page = BeautifulSoup(answer.text, "html.parser")
            assert page.select_one('[data-testid="own-predicted"]').get_text() == expected
            bars = [li.select_one(".own-bar-value").get_text()
                    for li in page.select('[data-testid="own-bars"] li')]  # fmt: skip
            shares = [float(re.fullmatch(r"([\d.]+)%", bar).group(1)) for bar in bars]
            assert len(shares) == 2 and abs(sum(shares) - 100) < 0.2  # the softmax, in percent

        exported = client.get(f"/train/runs/{run_id}/export?framework=keras").text
        assert "Dense(2" in exported
        assert client.get(f"/train/runs/{run_id}/weights.npz").status_code == 200
        run_page = client.get(f"/train/runs/{run_id}").text
        change = re.search(r'href="(/train/own\?[^"]*)"', run_page).group(1).replace("&amp;", "&")
        assert f"set={set_id}" in change and "size=32" in change  # back to the same setup


def test_without_javascript_a_refused_form_answers_with_the_page(client):
    set_id = new_set(client)
    add(client, set_id, 0, files("h", 1))
    response = client.post(f"/train/own/sets/{set_id}/classes/1/name", data={"name": "Horizontal"})
    assert response.status_code == 422
    page = BeautifulSoup(response.text, "html.parser")
    assert "same name" in page.select_one(".error-message").get_text()
    assert page.select_one("#own-pictures") is not None  # the set, as it was
    assert counts(client, set_id) == [1, 0] and names(client, set_id)[1] == "vertical"
    response = client.post("/train/own/sets", data={"name": ["one"]})
    assert response.status_code == 422 and "this has 1" in response.text
    assert 'id="own-create"' in response.text


def test_odd_shapes_are_kept_as_centre_squares(client):
    set_id = new_set(client)

    def png(width: int, height: int) -> bytes:
        out = io.BytesIO()
        Image.new("RGB", (width, height), (200, 30, 30)).save(out, "PNG")
        return out.getvalue()

    odd = [("pictures", ("tiny.png", png(14, 25), "image/png")),
           ("pictures", ("banner.png", png(2000, 60), "image/png"))]  # fmt: skip
    response = add(client, set_id, 0, odd)
    assert response.status_code == 200 and counts(client, set_id) == [2, 0]
    page = BeautifulSoup(response.text, "html.parser")
    ids = [i["value"] for i in page.select(".own-remove input[name=picture]")]
    sizes = [Image.open(io.BytesIO(client.get(f"/train/own/sets/{set_id}/pictures/{i}.png")
                                   .content)).size for i in ids]  # fmt: skip
    assert sizes == [(14, 14), (60, 60)]
