"""The Pooling lab's Backward mode: the routed gradient against the engine's MaxPool2D and
AvgPool2D backward and against finite differences, the winners it routes to against the winners
view, the explained window's numbers, and the page and its PNGs over HTTP."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from app.labs.pooling import backward
from app.labs.pooling.fields import PoolFields
from engine.pool import avg_pool2d, max_pool2d
from tests.app.conftest import HX, HX_CONTROLS

WINDOWS = [(2, None, 0), (3, 2, 1), (3, 1, 0), (2, 3, 1), (4, 2, 2)]  # (size, stride, padding)


def fields(ptype, k, s, p, grad="map", **more):
    return PoolFields(ptype=ptype, pool_size=k, pool_stride=s, pool_pad=p, pool_grad=grad, **more)


def pooled(state, source):
    pool = max_pool2d if state.ptype == "max" else avg_pool2d
    return pool(source[None, None], state.pool_size, state.effective_stride, state.pool_pad)[0, 0]


def finite_differences(state, source, dout, h=1e-6):
    grad = np.zeros_like(source)
    for index in np.ndindex(source.shape):
        saved = source[index]
        source[index] = saved + h
        up = float((pooled(state, source) * dout).sum())
        source[index] = saved - h
        down = float((pooled(state, source) * dout).sum())
        source[index] = saved
        grad[index] = (up - down) / (2 * h)
    return grad


@pytest.mark.parametrize("ptype", ["max", "avg"])
@pytest.mark.parametrize("window", WINDOWS, ids=str)
def test_routing_equals_finite_differences_and_the_layer(ptype, window):
    state = fields(ptype, *window)
    source = np.random.default_rng(sum(window[::2])).normal(size=(9, 11))  # no ties
    back = backward.compute(state, source, pooled(state, source))
    assert back.layer_diff < 1e-12
    assert np.allclose(back.input_grad, finite_differences(state, source, back.dout), atol=1e-6)


@pytest.mark.parametrize("window", WINDOWS, ids=str)
def test_max_routes_to_the_winners_the_winners_view_shows_ties_included(window):
    state = fields("max", *window, grad="ones")
    source = np.random.default_rng(1).integers(0, 3, size=(10, 9)).astype(float)  # many ties
    y, indices = max_pool2d(source[None, None], window[0], state.effective_stride, window[2],
                            return_indices=True)  # fmt: skip
    back = backward.compute(state, source, y[0, 0])
    flat = back.winners[..., 0] * source.shape[1] + back.winners[..., 1]
    assert np.array_equal(flat, indices[0, 0])  # the engine's (and PyTorch's) first maximum
    assert back.layer_diff == 0
    counts = np.bincount(flat.ravel(), minlength=source.size).reshape(source.shape)
    assert np.array_equal(back.input_grad, counts)  # all ones: each cell gets its win count


def test_average_spreads_one_over_k_squared_and_loses_the_padding_share():
    state = fields("avg", 3, 3, 1, grad="ones")
    source = np.zeros((7, 7))  # padded to 9×9: three windows a side, 9 in all
    back = backward.compute(state, source, pooled(state, source))
    assert np.allclose(back.input_grad, 1 / 9)  # stride = size: each cell in one window
    # The 9 windows send 9 in all; the 81 − 49 = 32 ninths that fall on the padding are lost.
    assert back.input_grad.sum() == pytest.approx(9 - 32 / 9)


def test_the_explained_window_gets_its_numbers():
    state = fields("max", 2, None, 0, grad="cell", row=1, col=2)
    source = np.arange(36.0).reshape(6, 6)
    back = backward.compute(state, source, pooled(state, source))
    assert back.cell == (1, 2) and back.dout.sum() == 1
    rows, cols = np.arange(2, 4), np.arange(4, 6)
    window = backward.window_gradient(state, back, rows, cols)
    assert window.winner == (3, 5)  # the largest of rows 2–3, columns 4–5
    assert window.sent.tolist() == [[0, 0], [0, 1]]
    assert window.total.tolist() == [[0, 0], [0, 1]] and not window.on_padding


# --- over HTTP -----------------------------------------------------------------------------------


def test_page_shows_the_routing_with_the_winners_and_the_check(client):
    html = client.get("/pooling?sample=astronaut&pres=32&pgrad=ones&prow=3&pcol=4").text
    assert 'id="backward"' in html
    assert 'class="pixelated overlay winners"' in html.split('id="backward"')[1]
    check = re.search(r'data-testid="pool-layer-check">[^<]*is (\S+) \(computed now\)', html)
    assert check and float(check.group(1)) == 0
    # 32×32 input, 2×2 windows, stride 2: 256 windows, each sends 1 to a different cell.
    assert re.search(r'data-testid="receivers">256 of the 1,024 input cells', html)
    window = html.split('data-testid="pool-window-grad"')[1].split("</section>")[0]
    assert 'class="winner">1<' in window


def test_average_page_says_the_share(client):
    html = client.get("/pooling?sample=dot&ptype=avg&psize=4&pgrad=ones&prow=0&pcol=0").text
    assert "Each of its 16 cells gets 1 / 16 = 0.0625." in html
    sent = html.split('aria-label="Sent by this window"')[1].split("</table>")[0]
    assert sent.count("<td>0.0625</td>") == 16


def test_off_leaves_the_page_and_its_url_as_they_were(client):
    response = client.get("/pooling?sample=dot", headers=HX)
    assert 'id="backward"' not in response.text
    assert "pgrad" not in response.headers["HX-Push-Url"]


def test_the_choice_round_trips_through_the_url(client):
    response = client.get("/pooling?sample=dot&pgrad=cell&prow=2&pcol=3", headers=HX)
    assert "pgrad=cell" in response.headers["HX-Push-Url"]
    assert '<option value="cell" selected>' in response.text
    assert "1 at output row 2, column 3" in response.text


def test_pngs_of_the_routed_gradient(client):
    query = "sample=dot&pgrad=map"
    out = client.get(f"/pooling/image.png?{query}&view=grad-out")
    grad = client.get(f"/pooling/image.png?{query}&view=grad-input")
    assert out.status_code == grad.status_code == 200
    size = np.asarray(Image.open(io.BytesIO(grad.content))).shape[:2]
    half = np.asarray(Image.open(io.BytesIO(out.content))).shape[:2]
    assert half == (size[0] // 2, size[1] // 2)


def test_gradient_pngs_need_backward_mode(client):
    response = client.get("/pooling/image.png?sample=dot&view=grad-input")
    assert response.status_code == 400


def test_a_bad_choice_is_refused_next_to_its_control(client):
    response = client.get("/pooling?sample=dot&pgrad=<i>up</i>", headers=HX_CONTROLS)
    assert response.status_code == 400
    assert "Unknown output gradient" in response.text and "<i>up</i>" not in response.text


@pytest.mark.parametrize(("width", "height"), [(14, 25), (2000, 60)])
def test_tiny_and_banner_uploads_in_backward_mode(client, make_png, width, height):
    response = client.post(
        "/pooling/upload", files={"image": ("pic.png", make_png(width, height), "image/png")},
        data={"pgrad": "map", "ptype": "avg", "pres": "256"}, follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303 and "pgrad=map" in response.headers["location"]
    html = client.get(response.headers["location"] + "&prow=99999&pcol=0").text
    assert 'data-testid="pool-window-grad"' in html
    check = re.search(r'data-testid="pool-layer-check">[^<]*is (\S+) \(computed now\)', html)
    assert check and float(check.group(1)) < 1e-12
