"""The sliding-window player's data in the Filters and Pooling labs (app/labs/*/slide.py): what the
page embeds for static/js/slide.js equals the engine's output over the strip, checked against
naive loops, and the first step is on the page without JavaScript."""

import json
import re
from html import unescape
from urllib.parse import parse_qsl, urlsplit

import numpy as np
import pytest
from starlette.datastructures import QueryParams

from app.labs.filters.fields import FilterFields
from app.labs.pooling import views as pool_views
from app.labs.pooling.fields import PoolFields
from app.media import filterbank
from app.media.deps import MediaStore
from app.web.numbers import numbers_for
from app.web.slide import STRIP_CELLS, STRIP_INPUT, strip_axis
from engine.conv import conv_naive
from engine.explain import explain_pixel
from tests.app.conftest import HX

DATA = re.compile(r"<div hidden data-slide-data='(.*?)'></div>", re.S)


def player_data(html: str) -> dict:
    found = DATA.findall(html)
    assert len(found) == 1, "one player per page"
    return json.loads(found[0])


def media_of(client) -> MediaStore:
    state = client.app.state
    return MediaStore(state.uploads, state.results, state.settings.static_dir / "samples")


def table_cells(html: str, attribute: str) -> list[str]:
    """The texts of the <td>s of the table marked `attribute` (e.g. data-slide-products="0")."""
    table = re.search(rf"<table[^>]*{re.escape(attribute)}[^>]*>(.*?)</table>", html, re.S)
    assert table, attribute
    return [unescape(re.sub(r"<[^>]+>", "", td)).strip()
            for td in re.findall(r"<td[^>]*>(.*?)</td>", table.group(1), re.S)]  # fmt: skip


def naive_map(query: str, client) -> tuple[FilterFields, filterbank.FilterResult, np.ndarray]:
    """The lab's picture and bank, and the selected map from the four-loop reference."""
    fields = FilterFields.parse(QueryParams(query))
    result = filterbank.compute(fields, media_of(client))
    index = min(fields.map_index, len(result.bank) - 1)
    reference = conv_naive(
        result.image[None].astype(np.float64), result.bank[index : index + 1],
        np.array([fields.bias]), stride=fields.stride, padding=fields.padding_arg,
        dilation=fields.dilation, padding_mode=fields.mode,
    )[0, 0]  # fmt: skip
    return fields, result, reference


# --- Filters -------------------------------------------------------------------------------------

FILTER_CASES = [
    "sample=astronaut&f=sobel_x&res=128",
    "sample=astronaut&f=sobel_x&stride=2&padding=valid&res=128",
    "sample=astronaut&f=gaussian&size=4&padding=same&mode=reflect&row=100&col=7&res=128",
    "sample=astronaut&f=sobel_y&dilation=3&padding=full&stride=3&row=2&col=500",
    "sample=astronaut&f=laplacian&padding=number&pad=2&mode=circular&res=128&row=60&col=60",
    "sample=astronaut&f=sobel_x&colour=rgb&mode=replicate&op=convolve&row=30&col=0&res=64",
    "sample=dot&f=custom&kernel=1+2%0A-3+0.5%0A0.25+-1&padding=full&stride=2&bias=1.5",
    "sample=astronaut&f=identity&f=sobel_x&m=1&colour=rgb&dilation=2&res=64",
]


@pytest.mark.parametrize("query", FILTER_CASES)
def test_filters_player_data_equals_the_engines_map_over_the_strip(client, query):
    fields, result, reference = naive_map(query, client)
    data = player_data(client.get(f"/filters?{query}").text)
    out, region = data["out"], data["region"]
    rows = slice(out["top"], out["top"] + out["rows"])
    cols = slice(out["left"], out["left"] + out["cols"])
    english = numbers_for("en")
    # The values the grid shows are the map's, which equals the naive loop.
    expected = reference[rows, cols]
    assert out["text"] == [
        [english.short(v, 4) for v in row]
        for row in result.maps[fields.map_index][rows, cols].tolist()
    ]
    np.testing.assert_allclose(
        result.maps[fields.map_index][rows, cols], expected, rtol=1e-4, atol=2e-3
    )
    # What the browser multiplies: the region under each position times the kernel, which is
    # the naive map again, and explain_pixel's patch, cell for cell.
    # The region comes as the rows and columns some kernel cell lands on; the others stay NaN
    # here, so a product that used one would show.
    kernel = np.array(data["kernel"])
    s, d = data["stride"], data["dilation"]
    kh, kw = kernel.shape[1:]
    values = np.full((kernel.shape[0], region["rows"], region["cols"]), np.nan)
    used = np.ix_(range(kernel.shape[0]), region["usedRows"], region["usedCols"])
    values[used] = np.array(region["values"], dtype=np.float64)
    height, width = result.image.shape[1:]
    assert data["input"] == {"height": height, "width": width}
    for i in range(out["rows"]):
        for j in range(out["cols"]):
            r = i * s + d * np.arange(kh)
            c = j * s + d * np.arange(kw)
            patch = values[:, r[:, None], c[None, :]]
            total = (patch * kernel).sum() + fields.bias
            assert total == pytest.approx(expected[i, j], abs=1e-9, rel=1e-12)
            assert data["totals"][i][j] == english.short(total, 4)
            assert data["sums"][i][j] == [
                english.short(v, 4) for v in (patch * kernel).sum(axis=(1, 2))
            ]
            if (i + j) % 5 == 0:
                shown = explain_pixel(
                    result.image.astype(np.float64), result.bank[fields.map_index], fields.bias,
                    out["top"] + i, out["left"] + j, stride=fields.stride,
                    padding=fields.padding_arg, dilation=fields.dilation,
                    padding_mode=fields.mode,
                )  # fmt: skip
                np.testing.assert_array_equal(patch, shown.patch)
                # The padding the player marks: rows or columns outside the picture.
                assert (
                    region["top"] + r[0] == shown.rows[0] and region["left"] + c[0] == shown.cols[0]
                )


@pytest.mark.parametrize("query", FILTER_CASES[:4])
def test_the_strip_is_at_most_16_by_16_and_its_region_fits(client, query):
    fields = FilterFields.parse(QueryParams(query))
    result = filterbank.compute(fields, media_of(client))
    data = player_data(client.get(f"/filters?{query}").text)
    out, region = data["out"], data["region"]
    out_h, out_w = result.maps.shape[1:]
    assert 1 <= out["rows"] <= min(STRIP_CELLS, out_h) and 1 <= out["cols"] <= min(
        STRIP_CELLS, out_w
    )
    span = data["dilation"] * (len(data["kernel"][0]) - 1) + 1
    assert region["rows"] == (out["rows"] - 1) * data["stride"] + span
    assert region["rows"] <= max(STRIP_INPUT, span)
    if fields.row is not None:  # the explained pixel (clamped to the map) lies in the strip
        row, col = min(fields.row, out_h - 1), min(fields.col, out_w - 1)
        assert out["top"] <= row < out["top"] + out["rows"]
        assert out["left"] <= col < out["left"] + out["cols"]
        assert data["explained"] == [row - out["top"], col - out["left"]]
    else:
        assert (out["top"], out["left"]) == (0, 0) and data["explained"] is None


@pytest.mark.parametrize(
    ("out_size", "centre", "stride", "footprint", "expected"),
    [
        (256, None, 1, 3, (0, 16)),  # from the corner while nothing is explained
        (256, 100, 1, 3, (92, 16)),  # centred on the explained cell
        (256, 3, 1, 3, (0, 16)),  # clamped at the top…
        (256, 255, 1, 3, (240, 16)),  # …and at the bottom
        (10, 4, 1, 3, (0, 10)),  # a small map is played whole
        (131, 60, 3, 7, (53, 14)),  # (14 − 1)·3 + 7 = 46 input cells, 15 would need 49
        (1, 0, 1, 225, (0, 1)),  # a dilated 15×15 kernel: one position, its whole footprint
    ],
)
def test_strip_axis(out_size, centre, stride, footprint, expected):
    axis = strip_axis(out_size, centre, stride, footprint, pad_before=1)
    assert (axis.start, axis.count) == expected
    assert axis.input_start == axis.start * stride - 1
    assert axis.input_count == (axis.count - 1) * stride + footprint


def test_pt_br_page_writes_the_players_numbers_with_a_decimal_comma(client):
    client.cookies.set("lang", "pt_BR")
    query = "sample=astronaut&f=gaussian&size=3&row=50&col=50"
    html = client.get(f"/filters?{query}").text
    data = player_data(html)
    assert data["decimal"] == ","
    portuguese = numbers_for("pt_BR")
    fields, result, _ = naive_map(query, client)
    out = data["out"]
    top_left = float(result.maps[0][out["top"], out["left"]])
    assert out["text"][0][0] == portuguese.short(top_left, 4) and "," in out["text"][0][0]
    assert "Deslize o kernel" in html


def test_the_first_step_is_on_the_page_without_javascript(client):
    query = "sample=astronaut&f=gaussian&size=3&colour=rgb&padding=same&row=0&col=0"
    html = client.get(f"/filters?{query}").text
    fields, result, _ = naive_map(query, client)
    shown = explain_pixel(result.image.astype(np.float64), result.bank[0], 0.0, 0, 0,
                          padding="same")  # fmt: skip
    english = numbers_for("en")
    for c in range(3):
        assert table_cells(html, f'data-slide-patch="{c}"') == [
            english.short(v) for v in shown.patch[c].ravel()
        ]
        assert table_cells(html, f'data-slide-products="{c}"') == [
            english.short(v) for v in shown.products[c].ravel()
        ]
    # The corner position lies half on the zero padding: its cells are marked as padding.
    patch = re.search(r'<table[^>]*data-slide-patch="0".*?</table>', html, re.S).group()
    assert patch.count('class="slide-pad"') == 5
    assert 'data-testid="slide-padding"' in html
    # Play and step are for browsers with JavaScript: hidden without it.
    assert re.search(r"<div class=\"slide-controls\" data-slide-controls hidden>", html)
    assert '<script src="/static/js/slide.js" defer></script>' in html
    assert (
        "Position 1 of 256: output row 0, column 0, from input rows -1–1 and columns -1–1." in html
    )


def test_the_strips_arrows_move_it_by_one_strip_and_round_trip(client):
    query = "sample=astronaut&f=sobel_x&row=100&col=100"
    html = client.get(f"/filters?{query}").text
    before = player_data(html)["out"]
    links = dict(re.findall(r'<a href="([^"]+)" hx-get="[^"]+"[^>]*data-slide-move="(\w+)"', html))
    links = {name: unescape(href) for href, name in links.items()}
    assert set(links) == {"up", "down", "left", "right"}
    down = client.get(links["down"])
    assert down.status_code == 200
    after = player_data(down.text)["out"]
    assert after["top"] == before["top"] + before["rows"] and after["left"] == before["left"]
    params = dict(parse_qsl(urlsplit(links["down"]).query))
    assert params["f"] == "sobel_x" and params["col"] == "100"
    # The URL the fragment pushes is the link's own state.
    fragment = client.get(links["down"], headers=HX)
    assert "row=" + params["row"] in fragment.headers["HX-Push-Url"]
    # At the map's corner there is no way up or left.
    corner = client.get("/filters?sample=astronaut&f=sobel_x").text
    moves = re.findall(r'data-slide-move="(\w+)"', corner)
    assert moves == ["down", "right"]


@pytest.mark.parametrize(("width", "height"), [(14, 25), (2000, 60)])
def test_a_tiny_or_banner_upload_gets_a_strip_that_fits(client, make_png, width, height):
    response = client.post(
        "/filters/upload", files={"image": ("pic.png", make_png(width, height), "image/png")},
        data={"f": "sobel_x", "padding": "valid"}, follow_redirects=False,
    )  # fmt: skip
    location = response.headers["location"]
    data = player_data(client.get(location).text)
    query = urlsplit(location).query
    fields, result, reference = naive_map(query, client)
    out = data["out"]
    out_h, out_w = result.maps.shape[1:]
    assert out["rows"] == min(out_h, STRIP_CELLS) and out["cols"] == min(out_w, STRIP_CELLS)
    expected = reference[: out["rows"], : out["cols"]]
    assert out["text"] == [[numbers_for("en").short(v, 4) for v in row] for row in
                           result.maps[0][: out["rows"], : out["cols"]].tolist()]  # fmt: skip
    np.testing.assert_allclose(result.maps[0][: out["rows"], : out["cols"]], expected, atol=2e-3)


def test_a_dilated_15_by_15_kernel_sends_only_the_pixels_its_cells_land_on(client):
    ones = "%0A".join(["+".join(["1"] * 15)] * 15)
    query = f"sample=astronaut&f=custom&kernel={ones}&colour=rgb&dilation=16&padding=full&res=512"
    html = client.get(f"/filters?{query}").text
    data = player_data(html)
    out, region = data["out"], data["region"]
    # A 225-pixel footprint: one position fits in the region, the kernel's 15×15 cells are sent.
    assert (out["rows"], out["cols"]) == (1, 1) and (region["rows"], region["cols"]) == (225, 225)
    assert region["usedRows"] == list(range(0, 225, 16)) == region["usedCols"]
    assert np.shape(region["values"]) == (3, 15, 15)
    result = filterbank.compute(FilterFields.parse(QueryParams(query)), media_of(client))
    patch = np.array(region["values"], dtype=np.float64)
    # An all-ones kernel: the sum of the patch, which the float32 map (an FFT here) holds to 1e-5.
    assert patch.sum() == pytest.approx(float(result.maps[0, 0, 0]), rel=1e-5)
    assert len(html) < 400_000  # the page, its 225×225 colour region picture included


def test_the_player_is_in_the_htmx_fragment_and_its_json_escapes_markup(client):
    fragment = client.get("/filters?sample=dot&f=identity", headers=HX).text
    assert 'id="slide"' in fragment and "data-slide-data" in fragment
    (payload,) = DATA.findall(fragment)
    assert "<" not in payload and ">" not in payload and "'" not in payload  # attribute-safe


# --- Pooling -------------------------------------------------------------------------------------

POOL_CASES = [
    "sample=camera",
    "sample=camera&ptype=avg&psize=3&pstride=2&ppad=1&prow=10&pcol=31",
    "sample=camera&psize=3&pstride=1&ppad=1&pres=128&prow=60&pcol=2",
    "sample=camera&ptype=avg&psize=5&pres=256",
    "sample=camera&psize=16&pstride=3&ppad=8&pres=256&prow=20&pcol=20",
    "from=filters&sample=astronaut&f=sobel_x&psize=2",
]


def naive_pool(source: np.ndarray, kind: str, k: int, s: int, p: int, rows, cols):
    """The pooled cells (i, j) for i in `rows` and j in `cols`, and for max pooling each one's
    winner as its place a·k + b in the window: a loop per cell."""
    height, width = source.shape
    pooled, winners = {}, {}
    for i in rows:
        for j in cols:
            best, place, total = -np.inf, None, 0.0
            for a in range(k):
                for b in range(k):
                    r, c = i * s - p + a, j * s - p + b
                    if 0 <= r < height and 0 <= c < width:
                        total += source[r, c]
                        if source[r, c] > best:
                            best, place = source[r, c], a * k + b
            pooled[i, j] = best if kind == "max" else total / (k * k)
            winners[i, j] = place
    return pooled, winners


@pytest.mark.parametrize("query", POOL_CASES)
def test_pooling_player_data_equals_a_naive_pooling_loop(client, query):
    state = PoolFields.parse(QueryParams(query))
    result = pool_views.compute(state, media_of(client))
    data = player_data(client.get(f"/pooling?{query}").text)
    k, s, p = state.pool_size, state.effective_stride, state.pool_pad
    out, region = data["out"], data["region"]
    english = numbers_for("en")
    rows = range(out["top"], out["top"] + out["rows"])
    cols = range(out["left"], out["left"] + out["cols"])
    pooled, winners = naive_pool(result.source_map, state.ptype, k, s, p, rows, cols)
    height, width = result.source_map.shape
    assert result.pooled.shape == ((height + 2 * p - k) // s + 1, (width + 2 * p - k) // s + 1)
    assert out["text"] == [[english.short(pooled[i, j]) for j in cols] for i in rows]
    assert data["window"] == {"rows": k, "cols": k} and data["stride"] == s
    padding = "−∞" if state.ptype == "max" else "0"
    for i in range(out["rows"]):
        for j in range(out["cols"]):
            cells = [region["text"][i * s + a][j * s + b] for a in range(k) for b in range(k)]
            expected = []
            for a in range(k):
                for b in range(k):
                    r, c = (out["top"] + i) * s - p + a, (out["left"] + j) * s - p + b
                    inside = 0 <= r < height and 0 <= c < width
                    expected.append(english.short(result.source_map[r, c]) if inside else padding)
            assert cells == expected
            if state.ptype == "max":
                assert data["winners"][i][j] == winners[out["top"] + i, out["left"] + j]
    if state.ptype == "avg":
        assert data["winners"] is None


def test_pooling_first_step_without_javascript_and_in_portuguese(client):
    client.cookies.set("lang", "pt_BR")
    query = "sample=camera&ptype=avg&psize=3&pstride=2&ppad=1"
    html = client.get(f"/pooling?{query}").text
    state = PoolFields.parse(QueryParams(query))
    result = pool_views.compute(state, media_of(client))
    portuguese = numbers_for("pt_BR")
    window = result.source_map[0:2, 0:2]
    expected = ["0", "0", "0", "0", *[portuguese.short(v) for v in window[0]], "0",
                *[portuguese.short(v) for v in window[1]]]  # fmt: skip
    assert table_cells(html, "data-slide-values") == expected
    value = portuguese.short(window.sum() / 9)
    assert f"/ 9 = <strong data-slide-value>{value}</strong>" in html
    assert "Deslize a janela de pooling" in html
    assert player_data(html)["decimal"] == ","
