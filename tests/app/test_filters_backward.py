"""The Filters lab's Backward mode: dL/dkernel and dL/dinput against finite differences of the
forward convolution (every stride, padding, dilation and border mode), against engine.backprop
and Conv2D.backward; the products behind a clicked cell; and the page, its PNGs and its
mistakes over HTTP."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from app.labs.filters import backward
from app.labs.filters.fields import FilterFields
from app.media.filterbank import FilterResult
from engine.backprop import conv_input_gradient, kernel_gradient
from engine.conv import conv2d, resolve_padding
from tests.app.conftest import HX, HX_CONTROLS
from tests.engine.gradcheck import rel_error

# (channels, height, width, kernel, stride, padding, dilation, border mode)
CASES = [
    (1, 7, 8, 3, 1, "same", 1, "zeros"),
    (1, 6, 6, 3, 1, "valid", 1, "zeros"),
    (2, 9, 7, 3, 2, "number", 2, "reflect"),
    (3, 8, 8, 2, 3, "full", 1, "circular"),
    (1, 10, 9, 3, 2, "same", 3, "replicate"),
    (3, 9, 10, 3, 2, "same", 2, "zeros"),
]  # fmt: skip


def setup(channels, height, width, k, stride, padding, dilation, mode, grad="map", seed=0):
    """Fields and a FilterResult for a random image and one random filter, as the lab makes."""
    rng = np.random.default_rng(seed)
    colour = "rgb" if channels == 3 else "grey"
    fields = FilterFields(colour=colour, stride=stride, padding=padding, pad=1,
                          dilation=dilation, mode=mode, grad=grad)  # fmt: skip
    image = rng.normal(size=(channels, height, width))
    bank = rng.normal(size=(1, channels, k, k))
    pads = resolve_padding(fields.padding_arg, (k, k), (dilation, dilation), 2)
    maps = conv2d(image[None], bank, stride=stride, padding=fields.padding_arg,
                  dilation=dilation, padding_mode=mode)[0]  # fmt: skip
    result = FilterResult(image, (width, height), bank, [(k, k)], maps, None, pads)
    return fields, result


def loss_slopes(fields, result, dout, h=1e-6):
    """d Σ(conv(x, k) · dout) / dk and / dx by centred differences, through engine.conv.conv2d
    with the lab's own stride, padding, dilation and border mode."""

    def loss(image, kernel):
        y = conv2d(image[None], kernel[None], stride=fields.stride, padding=fields.padding_arg,
                   dilation=fields.dilation, padding_mode=fields.mode)[0, 0]  # fmt: skip
        return float((y * dout).sum())

    image, kernel = result.image, result.bank[0]
    slopes = []
    for target in (kernel, image):
        grad = np.zeros_like(target)
        for index in np.ndindex(target.shape):
            saved = target[index]
            target[index] = saved + h
            up = loss(image, kernel)
            target[index] = saved - h
            down = loss(image, kernel)
            target[index] = saved
            grad[index] = (up - down) / (2 * h)
        slopes.append(grad)
    return slopes


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_both_gradients_equal_finite_differences_and_the_layer(case):
    fields, result = setup(*case)
    back = backward.compute(fields, result, 0)
    assert np.array_equal(back.dout, result.maps[0])  # "the map itself": L = ½·Σ y²
    kernel_slope, input_slope = loss_slopes(fields, result, back.dout)
    assert rel_error(back.kernel_grad, kernel_slope) < 1e-6
    assert rel_error(back.input_grad, input_slope) < 1e-6
    assert back.bias_grad == pytest.approx(back.dout.sum())
    assert back.layer_diffs is not None and max(back.layer_diffs) < 1e-9


@pytest.mark.parametrize("case", [c for c in CASES if c[6] == 1 and c[7] == "zeros"])
def test_without_dilation_or_border_they_equal_engine_backprop(case):
    fields, result = setup(*case, grad="ones")
    back = backward.compute(fields, result, 0)
    k = result.bank.shape[2:]
    reference_kernel = kernel_gradient(result.image, back.dout, k, fields.stride, result.pads)
    reference_input = conv_input_gradient(result.bank[0], back.dout, result.image.shape,
                                          fields.stride, result.pads)  # fmt: skip
    assert rel_error(back.kernel_grad, reference_kernel) < 1e-12
    assert rel_error(back.input_grad, reference_input) < 1e-12


def test_the_output_gradient_is_ones_one_pixel_or_the_map():
    fields, result = setup(1, 8, 8, 3, 1, "same", 1, "zeros", grad="ones")
    assert np.array_equal(backward.compute(fields, result, 0).dout, np.ones((8, 8)))
    fields.grad = "pixel"
    centre = backward.compute(fields, result, 0)
    assert centre.pixel == (4, 4) and centre.dout.sum() == 1 and centre.dout[4, 4] == 1
    fields.row, fields.col = 2, 99  # a column past the map is clamped to it
    one = backward.compute(fields, result, 0)
    assert one.pixel == (2, 7) and one.dout[2, 7] == 1 and one.dout.sum() == 1
    # L = y[2, 7]: dL/dkernel is the patch under that output, dL/dinput the kernel placed there.
    assert np.allclose(one.kernel_grad[0], np.pad(result.image[0], 1)[2:5, 7:10])
    placed = np.zeros((10, 10))
    placed[2:5, 7:10] = result.bank[0, 0]
    assert np.allclose(one.input_grad[0], placed[1:9, 1:9])


@pytest.mark.parametrize("case", CASES, ids=lambda c: "-".join(map(str, c)))
def test_a_clicked_cell_lists_products_that_add_up_to_it(case):
    fields, result = setup(*case, grad="ones", seed=3)
    back = backward.compute(fields, result, 0)
    channels, height, width = result.image.shape
    kh, kw = result.bank.shape[2:]
    cell = backward.explain_kernel_cell(fields, result, back, channels - 1, kh - 1, 0)
    assert cell.cell == (channels - 1, kh - 1, 0)
    assert cell.total == pytest.approx(back.kernel_grad[channels - 1, kh - 1, 0])
    assert cell.count == back.dout.size  # one product per output position
    assert len(cell.terms) == min(backward.TOP_TERMS, cell.count)
    products = [abs(t.product) for t in cell.terms]
    assert products == sorted(products, reverse=True)
    for t in cell.terms:  # each input value is the pixel that kernel entry saw at that output
        r, c = t.at
        if 0 <= r < height and 0 <= c < width:
            assert not t.in_padding and t.factor == result.image[channels - 1, r, c]
    for r, c in ((0, 0), (height - 1, width // 2), (height // 2, width - 1)):
        pixel = backward.explain_input_cell(fields, result, back, 0, r, c)
        assert pixel.total == pytest.approx(back.input_grad[0, r, c], abs=1e-12)
        for t in pixel.terms:  # the kernel entry named is the one multiplied
            assert t.factor == result.bank[0, 0, t.at[0], t.at[1]]


def test_one_pixel_gradient_lists_only_the_products_that_are_not_zero():
    fields, result = setup(1, 8, 8, 3, 1, "same", 1, "zeros", grad="pixel")
    fields.row, fields.col = 3, 4
    back = backward.compute(fields, result, 0)
    cell = backward.explain_kernel_cell(fields, result, back, 0, 0, 0)
    assert cell.count == 64 and cell.nonzero == 1 and len(cell.terms) == 1
    assert cell.terms[0].out == (3, 4) and cell.terms[0].at == (2, 3)  # o + (0, 0) − pad 1
    pixel = backward.explain_input_cell(fields, result, back, 0, 3, 4)
    assert pixel.count == 9 and [t.out for t in pixel.terms] == [(3, 4)]
    assert pixel.total == pytest.approx(result.bank[0, 0, 1, 1])


def test_a_pixel_the_stride_skips_has_no_terms():
    # Stride 3, valid, 2×2 kernel on 7 pixels: windows start at 0 and 3, so pixel 2 is never read.
    fields, result = setup(1, 7, 7, 2, 3, "valid", 1, "zeros", grad="ones")
    back = backward.compute(fields, result, 0)
    pixel = backward.explain_input_cell(fields, result, back, 0, 2, 2)
    assert pixel.count == 0 and pixel.total == 0 and back.input_grad[0, 2, 2] == 0


def test_a_reflected_border_pixel_counts_its_copies():
    fields, result = setup(1, 6, 6, 3, 1, "same", 1, "reflect", grad="ones")
    back = backward.compute(fields, result, 0)
    # Reflect pads (1, 1): pixel (1, 1) is copied to (−1, 1), (1, −1) and (−1, −1).
    pixel = backward.explain_input_cell(fields, result, back, 0, 1, 1)
    assert pixel.copies == 4 and pixel.count == 9 + 3 + 3 + 1
    assert pixel.total == pytest.approx(back.input_grad[0, 1, 1])


def test_the_layer_check_is_skipped_past_its_limit(monkeypatch):
    monkeypatch.setattr(backward, "MAX_LAYER_VALUES", 10)
    fields, result = setup(1, 6, 6, 3, 1, "same", 1, "zeros", grad="ones")
    back = backward.compute(fields, result, 0)
    assert back.layer_diffs is None and back.layer_values == 9 * 36
    assert back.kernel_grad.shape == (1, 3, 3)  # the gradients are still there


# --- over HTTP -----------------------------------------------------------------------------------


def number(text: str) -> float:
    return float(text.replace("−", "-"))


def test_page_shows_the_backward_panel_with_its_checks(client):
    html = client.get("/filters?sample=dot&f=sobel_x&padding=valid&grad=ones&ki=0&kj=2").text
    assert 'id="backward"' in html
    # 33×33 dot, valid 3×3: a 31×31 map; all ones: dL/db = 961.
    assert re.search(r'data-testid="bias-grad">961<', html)
    diffs = re.findall(r'<th scope="row">dL/d(?:kernel|input|b)</th><td>([^<]+)</td>', html)
    assert len(diffs) == 3 and all(number(d) < 1e-9 for d in diffs)
    entries = re.findall(r'data-c="0" data-i="(\d)" data-j="(\d)"[^>]*>([^<]+)</button>', html)
    assert len(entries) == 9
    clicked = next(v for i, j, v in entries if (i, j) == ("0", "2"))
    total = re.search(r'data-testid="kernel-cell-total">([^<]+)<', html).group(1)
    assert number(total) == pytest.approx(number(clicked), rel=1e-3)
    assert "961 products, one per output position" in html


def test_off_leaves_the_page_and_its_url_as_they_were(client):
    response = client.get("/filters?sample=dot&f=identity", headers=HX)
    assert 'id="backward"' not in response.text
    assert "grad=" not in response.headers["HX-Push-Url"]
    assert 'name="ki"' not in response.text  # the cell boxes show only in backward mode


def test_the_state_round_trips_through_the_url(client):
    query = "sample=dot&f=identity&grad=pixel&row=4&col=5&ki=1&kj=1&xi=3&xj=4"
    response = client.get(f"/filters?{query}", headers=HX)
    pushed = response.headers["HX-Push-Url"]
    for part in ("grad=pixel", "row=4", "col=5", "ki=1", "kj=1", "xi=3", "xj=4"):
        assert part in pushed
    html = response.text
    assert 'name="ki" min="0" max="14" value="1"' in html
    assert 'data-testid="input-cell"' in html
    # Identity kernel, L = y[4, 5] at stride 1, same: dL/dinput is 1 at input (4, 5) only.
    assert re.search(r'data-testid="input-cell-total">0<', html)
    again = client.get(pushed).text
    assert 'data-testid="kernel-cell"' in again and 'data-testid="input-cell"' in again


def test_a_colour_image_gets_c_by_k_by_k_and_three_input_gradients(client):
    html = client.get("/filters?sample=coffee&res=64&colour=rgb&f=sharpen&grad=map"
                      "&kc=2&ki=1&kj=1&xc=1&xi=0&xj=0").text  # fmt: skip
    assert len(re.findall(r'class="kernel-table kgrad-table"', html)) == 3
    assert len(re.findall(r'class="pixelated grad-input" data-channel="\d"', html)) == 3
    assert 'name="kc"' in html and 'name="xc"' in html
    assert 'data-testid="input-marker"' in html


def test_pngs_of_both_gradients(client):
    query = "sample=dot&f=sobel_x&padding=valid&grad=ones"
    out = client.get(f"/filters/image.png?{query}&view=grad-out")
    grad = client.get(f"/filters/image.png?{query}&view=grad-input")
    assert out.status_code == grad.status_code == 200
    out_pixels = np.asarray(Image.open(io.BytesIO(out.content)))
    assert out_pixels.shape[:2] == (31, 31) and (out_pixels == out_pixels[0, 0]).all()
    grad_pixels = np.asarray(Image.open(io.BytesIO(grad.content)))
    assert grad_pixels.shape[:2] == (33, 33)
    assert not (grad_pixels == grad_pixels[0, 0]).all()  # a dot has edges: not all one colour


def test_gradient_pngs_need_backward_mode(client):
    response = client.get("/filters/image.png?sample=dot&f=identity&view=grad-input")
    assert response.status_code == 400
    assert "Choose an output gradient" in response.text


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("grad=sideways", "Unknown output gradient"),
        ("grad=ones&ki=99", "Kernel row"),
        ("grad=ones&xj=-1", "Input column"),
        ("grad=ones&kc=3", "Kernel channel"),
    ],
)
def test_bad_backward_values_are_refused_next_to_their_control(client, query, message):
    response = client.get(f"/filters?sample=dot&f=identity&{query}", headers=HX_CONTROLS)
    assert response.status_code == 400
    assert message in response.text


def test_html_typed_into_a_position_is_refused_and_escaped(client):
    response = client.get("/filters?sample=dot&grad=ones&ki=<b>x</b>", headers=HX_CONTROLS)
    assert response.status_code == 400
    assert "<b>x</b>" not in response.text


def test_portuguese_page_writes_the_backward_numbers_its_way(client):
    client.cookies.set("lang", "pt_BR")
    html = client.get("/filters?sample=coffee&res=64&f=gaussian&grad=map&ki=1&kj=1").text
    assert "Retropropagação pela convolução" in html
    total = re.search(r'data-testid="kernel-cell-total">([^<]+)<', html).group(1)
    assert "," in total and "." not in total


@pytest.mark.parametrize(("width", "height"), [(14, 25), (2000, 60)])
def test_tiny_and_banner_uploads_in_backward_mode(client, make_png, width, height):
    response = client.post(
        "/filters/upload", files={"image": ("pic.png", make_png(width, height), "image/png")},
        data={"grad": "ones", "stride": "2", "f": "sobel_x"}, follow_redirects=False,
    )  # fmt: skip
    assert response.status_code == 303 and "grad=ones" in response.headers["location"]
    # Cells past the kernel and the image are clamped to their last row and column.
    html = client.get(response.headers["location"] + "&ki=9&kj=9&xi=99999&xj=99999").text
    assert 'data-testid="kernel-cell"' in html and 'data-testid="input-cell"' in html
    assert "dL/dkernel at row 2, column 2:" in html
    diffs = re.findall(r'<th scope="row">dL/d(?:kernel|input|b)</th><td>([^<]+)</td>', html)
    assert len(diffs) == 3 and all(number(d) < 1e-9 for d in diffs)
