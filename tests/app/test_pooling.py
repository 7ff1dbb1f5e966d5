"""The Pooling lab over HTTP: pages, fragments, PNGs, the experiment, and bad input."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from tests.app.conftest import HX, HX_CONTROLS


def png_of(response) -> np.ndarray:
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)))


def test_page_and_fragment(client):
    page = client.get("/pooling?sample=checkerboard&pres=64")
    assert page.status_code == 200 and "<html" in page.text
    assert 'id="controls"' in page.text and 'action="/pooling"' in page.text
    fragment = client.get("/pooling?sample=checkerboard&pres=64", headers=HX)
    assert fragment.text.lstrip().startswith('<div id="lab"')
    assert fragment.headers["HX-Push-Url"].startswith("/pooling?sample=checkerboard")


@pytest.mark.parametrize(
    ("query", "formula"),
    [
        ("psize=2", "⌊(64 + 2·0 − 2) / 2⌋ + 1 = <strong>32</strong>"),
        ("psize=3&pstride=2&ppad=1", "⌊(64 + 2·1 − 3) / 2⌋ + 1 = <strong>32</strong>"),
        ("psize=3&pstride=1", "⌊(64 + 2·0 − 3) / 1⌋ + 1 = <strong>62</strong>"),
        ("psize=5", "⌊(64 + 2·0 − 5) / 5⌋ + 1 = <strong>12</strong>"),
    ],
)
def test_shape_formula_with_numbers(client, query, formula):
    assert formula in client.get(f"/pooling?sample=checkerboard&pres=64&{query}").text


def test_explained_cell_shows_its_window_and_winner(client):
    # White square at rows and columns 14–33 on black (48×48): the 2×2 window of output (7, 7)
    # covers rows 14–15 and columns 14–15, all white; the first of the four wins.
    html = client.get("/pooling?sample=square&pres=64&prow=7&pcol=7").text
    assert "input rows 14–15 and columns 14–15" in html
    assert 'data-testid="cell-value">255<' in html
    assert html.count('class="winner"') == 1


def test_average_cell_shows_the_sum(client):
    html = client.get("/pooling?sample=square&pres=64&ptype=avg&psize=4&prow=3&pcol=3").text
    # rows 12–15 × columns 12–15: 2×2 white (14–15) of 16 cells → 4·255/16 = 63.75
    assert '/ 16 = <strong data-testid="cell-value">63.75<' in html


def test_max_pool_png_and_winner_overlay(client):
    base = "/pooling/image.png?sample=dot&pres=64&psize=3"
    pooled = png_of(client.get(base + "&view=pooled"))
    assert pooled.shape == (11, 11)  # ⌊33/3⌋
    assert pooled.max() == 255 and (pooled == 255).sum() == 1
    overlay = png_of(client.get(base + "&view=winners"))
    assert overlay.shape == (33, 33, 4)
    assert overlay[16, 16, 3] == 255  # the dot won its window


def test_winner_view_is_refused_for_average_pooling(client):
    response = client.get("/pooling/image.png?sample=dot&ptype=avg&view=winners")
    assert response.status_code == 400


def test_shrink_comparison_keeps_different_things(client):
    html = client.get("/pooling?sample=checkerboard&pres=64").text
    for title in ("stride-2 convolution, identity kernel", "2×2 max pooling"):
        assert title in html
    identity = png_of(client.get("/pooling/image.png?sample=dot&view=shrink&method=subsample"))
    maximum = png_of(client.get("/pooling/image.png?sample=dot&view=shrink&method=max"))
    # The dot at (16, 16) sits on an even row and column: both keep it. Shift by one and the
    # identity subsampling loses it.
    assert identity.max() == 255 and maximum.max() == 255


def test_invariance_scores_shown_and_ordered(client):
    html = client.get("/pooling?sample=camera&dx=6&dy=0").text
    scores = {
        depth: float(value) for depth, value in re.findall(r'data-depth="(\w+)">([\d.]+)<', html)
    }
    assert set(scores) == {"conv1", "pool1", "pool2"}
    assert scores["conv1"] < scores["pool1"] < scores["pool2"] <= 1
    assert "<svg" in html and "cosine similarity" in html
    assert html.count("<polyline") == 3


def test_zero_shift_scores_one(client):
    html = client.get("/pooling?sample=camera&dx=0&dy=0").text
    assert re.findall(r'data-depth="\w+">([\d.]+)<', html) == ["1", "1", "1"]


def test_feature_map_from_the_filters_lab(client):
    html = client.get(
        "/pooling?from=filters&sample=step&f=sobel_x&padding=valid&psize=2&prow=3&pcol=11"
    ).text
    assert "feature map 1 (Sobel x) from the Filters lab" in html
    assert 'name="from" value="filters"' in html
    # The Sobel x response of the step edge is 720 at map columns 22–23: window (3, 11) wins it.
    assert 'data-testid="cell-value">720<' in html


def test_filters_lab_links_each_map_to_pooling(client):
    html = client.get("/filters?sample=dot&f=sobel_x&f=sobel_y").text
    links = re.findall(r'href="(/pooling\?from=filters[^"]+)"', html)
    assert len(links) == 2
    assert "m=1" in links[1]
    assert client.get(links[1].replace("&amp;", "&")).status_code == 200


def test_upload_then_pool(client, make_png):
    response = client.post(
        "/pooling/upload",
        files={"image": ("p.png", make_png(40, 30), "image/png")},
        data={"psize": "4", "source": "sample:dot"},
        follow_redirects=False,
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert "upload=" in location and "psize=4" in location and "sample=" not in location
    assert client.get(location).status_code == 200


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("psize=0", 400, "Pool size must be between 1 and 16"),
        ("psize=-2", 400, "Pool size must be between 1 and 16"),
        ("pstride=0", 400, "Pool stride must be between 1 and 16"),
        ("psize=99999999999", 400, "Pool size must be between 1 and 16"),
        ("psize=3&ppad=2", 400, "at most half the pool size"),
        ("psize=16&pres=16&sample=coffee", 400, "larger than the padded input"),
        ("dx=17", 400, "between -16 and 16"),
        ("dy=-99", 400, "between -16 and 16"),
        ("dx=abc", 400, "whole number"),
        ("ptype=median", 400, "must be one of"),
        ("sample=nope", 404, "Unknown sample image"),
        ("upload=0123456789abcdef0123", 410, "no longer on the server"),
        ("from=filters&sample=dot&stride=0", 400, "Stride must be between 1 and 64"),
    ],
)
def test_bad_input_full_page_and_htmx(client, query, status, message):
    response = client.get(f"/pooling?{query}")
    assert response.status_code == status
    assert message in response.text and 'id="controls"' in response.text
    response = client.get(f"/pooling?{query}", headers=HX_CONTROLS)
    assert response.status_code == status
    assert response.headers["HX-Retarget"] == "#controls-error"
    assert message in response.text and 'id="lab"' not in response.text
