"""The Filters lab over HTTP: pages, fragments, PNGs, uploads and every kind of bad input."""

import io
import re
import select
import socket

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.app.conftest import HX, HX_CONTROLS, HX_UPLOAD


def png_of(response) -> np.ndarray:
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)))


def upload(client, data: bytes, filename="photo.png", headers=None, **fields):
    return client.post(
        "/filters/upload",
        files={"image": (filename, data, "application/octet-stream")},
        data=fields,
        headers=headers or {},
        follow_redirects=False,
    )


# --- pages and fragments -------------------------------------------------------------------


def test_full_page_has_form_result_and_formula(client):
    response = client.get("/filters?sample=dot&f=identity&padding=valid")
    assert response.status_code == 200
    assert response.headers["vary"].startswith("HX-Request")
    html = response.text
    assert html.startswith("<!doctype html>")
    assert 'id="controls"' in html and 'action="/filters"' in html and 'method="get"' in html
    # 33×33 dot, 3×3 identity, valid: ⌊(33 + 0 + 0 − 1·(3 − 1) − 1)/1⌋ + 1 = 31.
    assert "⌊(33 + 0 + 0 − 1·(3 − 1) − 1) / 1⌋ + 1 = <strong>31</strong>" in html
    assert "(N, F, H′, W′) = (1, 1, 31, 31)" in html


def test_htmx_request_returns_only_the_lab_fragment(client):
    response = client.get("/filters?sample=dot&f=identity", headers=HX)
    assert response.status_code == 200
    html = response.text
    assert html.lstrip().startswith('<div id="lab"')
    assert "<html" not in html
    pushed = response.headers["HX-Push-Url"]
    assert pushed.startswith("/filters?sample=dot&") and "f=identity" in pushed


def test_history_restore_gets_full_page(client):
    headers = {**HX, "HX-History-Restore-Request": "true"}
    assert "<html" in client.get("/filters?sample=dot", headers=headers).text


@pytest.mark.parametrize(
    ("padding", "extra", "expected"),
    [("valid", "", 46), ("same", "", 48), ("full", "", 50), ("number", "&pad=3", 52)],
)
def test_output_shape_per_padding(client, padding, extra, expected):
    html = client.get(f"/filters?sample=step&f=sobel_x&padding={padding}{extra}").text
    assert f"(N, F, H′, W′) = (1, 1, {expected}, {expected})" in html


def test_stride_and_dilation_in_formula(client):
    html = client.get(
        "/filters?sample=checkerboard&f=sobel_x&padding=valid&stride=3&dilation=2"
    ).text
    # ⌊(64 + 0 + 0 − 2·(3 − 1) − 1)/3⌋ + 1 = ⌊59/3⌋ + 1 = 20
    assert "⌊(64 + 0 + 0 − 2·(3 − 1) − 1) / 3⌋ + 1 = <strong>20</strong>" in html


def test_filter_bank_gives_one_map_per_filter(client):
    html = client.get("/filters?sample=dot&f=sobel_x&f=sobel_y&f=gaussian&size=5").text
    assert len(re.findall(r'class="fmap pixelated" data-map-index="\d"', html)) == 3
    assert "(F, C, K, K) = (3, 1, 5, 5)" in html  # the 3×3 Sobels are centred in 5×5
    assert "centred in zeros to 5×5" in html


def test_rgb_filter_is_c_by_k_by_k_and_partials_sum(client):
    html = client.get("/filters?sample=coffee&colour=rgb&f=sharpen&res=64&row=5&col=7").text
    assert "(F, C, K, K) = (1, 3, 3, 3)" in html
    assert html.count('class="explain-channel"') == 3
    sums = [float(s) for s in re.findall(r'data-testid="channel-sum">([-\d.e+]+)<', html)]
    value = float(re.search(r'data-testid="explain-value">([-\d.e+]+)<', html).group(1))
    assert len(sums) == 3
    assert sum(sums) == pytest.approx(value, abs=1e-3)


def test_explain_pixel_numbers_are_the_real_ones(client):
    # Dot of 255 at (16, 16); sharpen centre weight 5 at output (16, 16) with same padding.
    html = client.get("/filters?sample=dot&f=sharpen&padding=same&row=16&col=16").text
    assert 'data-testid="explain-value">1275<' in html
    html = client.get("/filters?sample=dot&f=sharpen&padding=same&row=15&col=16&bias=2").text
    assert 'data-testid="explain-value">-253<' in html  # −1·255 + bias 2


def test_explain_marks_padding_cells(client):
    html = client.get("/filters?sample=dot&f=identity&padding=same&row=0&col=0").text
    assert html.count('class="pad"') == 2 * 5  # patch and products: 5 of 9 cells are padding
    assert "Greyed cells lie in the padding." in html


def test_convolve_flips_the_kernel_and_changes_sobel(client):
    base = "/filters?sample=step&f=sobel_x&padding=valid&row=5&col=22"
    correlate = client.get(base).text
    convolve = client.get(base + "&op=convolve").text
    assert 'data-testid="explain-value">720<' in correlate
    assert 'data-testid="explain-value">-720<' in convolve
    assert "shown flipped by 180°" in convolve


def test_row_and_col_beyond_the_map_are_clamped(client):
    html = client.get("/filters?sample=dot&f=identity&padding=valid&row=999&col=999").text
    assert "row 30, column 30" in html


# --- editor actions -----------------------------------------------------------------------


def test_load_action_redirects_to_canonical_url_with_kernel(client):
    response = client.get(
        "/filters?sample=dot&f=identity&action=load&load=sobel_y", follow_redirects=False
    )
    assert response.status_code == 303
    location = response.headers["location"]
    assert "action" not in location
    assert "f=custom" in location
    assert "kernel=-1+-2+-1%0A0+0+0%0A1+2+1" in location


def test_flip_and_normalise_actions(client):
    response = client.get("/filters?sample=dot&f=custom&kernel=1+2%0A3+4&action=flip", headers=HX)
    assert "kernel=4+3%0A2+1" in response.headers["HX-Push-Url"]
    assert ">4 3\n2 1</textarea>" in response.text
    response = client.get(
        "/filters?sample=dot&f=custom&kernel=1+1%0A1+1&action=normalise", headers=HX
    )
    assert "kernel=0.25+0.25%0A0.25+0.25" in response.headers["HX-Push-Url"]


def test_normalising_a_zero_sum_kernel_is_explained(client):
    response = client.get("/filters?f=custom&kernel=1+-1&action=normalise", headers=HX)
    assert response.status_code == 400
    assert "sums to 0" in response.text


# --- PNGs ---------------------------------------------------------------------------------


def test_signed_map_png_is_diverging_and_centred_on_zero(client):
    # White square on black, Sobel x: +1020 on its left edge, −1020 on its right edge.
    url = "/filters/image.png?sample=square&f=sobel_x&padding=valid&view=map"
    pixels = png_of(client.get(url))
    assert pixels.shape == (46, 46, 3)
    np.testing.assert_array_equal(pixels[20, 0], [247, 247, 247])  # zero is white
    np.testing.assert_array_equal(pixels[20, 12], [179, 88, 6])  # +max is orange
    np.testing.assert_array_equal(pixels[20, 32], [33, 102, 172])  # −max is blue


def test_non_negative_map_png_is_grey_from_zero_to_max(client):
    url = "/filters/image.png?sample=step&f=sobel_x&padding=valid&view=map"
    pixels = png_of(client.get(url))
    assert pixels.shape == (46, 46)
    assert pixels[10, 0] == 0 and pixels[10, 22] == 255
    html = client.get(url.replace("/image.png", "").replace("&view=map", "")).text
    assert '<span>0</span><span class="bar grey"></span><span>720</span>' in html


def test_clip_png_clips_to_0_255(client):
    pixels = png_of(client.get("/filters/image.png?sample=dot&f=sharpen&view=clip"))
    assert pixels[16, 16] == 255  # 1275 clipped
    assert pixels[15, 16] == 0  # −255 clipped


def test_input_and_partial_pngs(client):
    grey = png_of(client.get("/filters/image.png?sample=dot&view=input"))
    assert grey.shape == (33, 33) and grey[16, 16] == 255
    rgb = png_of(client.get("/filters/image.png?sample=coffee&colour=rgb&res=64&view=input"))
    assert rgb.shape == (43, 64, 3)
    partial = png_of(
        client.get("/filters/image.png?sample=coffee&colour=rgb&res=64&view=partial&channel=2")
    )
    assert partial.shape == (43, 64, 3)


def test_partial_png_of_grey_image_is_400(client):
    response = client.get("/filters/image.png?sample=dot&view=partial")
    assert response.status_code == 400


def test_unknown_view_is_404(client):
    assert client.get("/filters/image.png?sample=dot&view=secret").status_code == 404


# --- uploads ------------------------------------------------------------------------------


def test_upload_then_page_uses_it(client, make_png):
    data = make_png(40, 30)
    response = upload(client, data, stride="2", f="sobel_y")
    assert response.status_code == 303
    location = response.headers["location"]
    upload_id = re.search(r"upload=([0-9a-f]{20})", location).group(1)
    assert "stride=2" in location and "f=sobel_y" in location  # other settings kept
    html = client.get(location).text
    assert "1 channel(s), 30×40 pixels (height × width)." in html
    assert f"upload:{upload_id}" in html


def test_upload_via_htmx_returns_lab_and_pushes_url(client, make_png):
    response = upload(client, make_png(20, 10), headers=HX, source="sample:dot")
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="lab"')
    assert "upload=" in response.headers["HX-Push-Url"]
    assert "sample=" not in response.headers["HX-Push-Url"]


def test_same_bytes_same_id(client, make_png):
    data = make_png(12, 12, seed=5)
    first = upload(client, data).headers["location"]
    second = upload(client, data, filename="other.png").headers["location"]
    assert re.search(r"upload=\w+", first).group() == re.search(r"upload=\w+", second).group()


def test_filename_with_html_is_escaped(client, make_png):
    name = '<script>alert("x")</script>.png'
    location = upload(client, make_png(8, 8), filename=name).headers["location"]
    html = client.get(location).text
    assert "<script>alert" not in html
    assert "&lt;script&gt;alert" in html


@pytest.mark.parametrize(
    ("data", "status", "message"),
    [
        (b"", 400, "The file is empty"),
        (b"GIF89a but not really", 415, "not an image we can read"),
        (b"%PDF-1.4 not an image", 415, "not an image we can read"),
    ],
)
def test_bad_uploads_get_message_in_place(client, data, status, message):
    response = upload(client, data, headers=HX_UPLOAD)
    assert response.status_code == status
    assert message in response.text
    assert response.headers["HX-Retarget"] == "#upload-form-error"
    assert response.headers["HX-Reswap"] == "innerHTML"


def test_missing_file_field(client):
    response = client.post("/filters/upload", data={"x": "1"}, headers=HX)
    assert response.status_code == 400
    assert "No file was attached" in response.text


def test_truncated_upload_is_422(client, make_png):
    data = make_png(64, 64)
    response = upload(client, data[: len(data) // 2])
    assert response.status_code == 422
    assert "damaged" in response.text


def test_decompression_bomb_upload_is_413(client):
    buffer = io.BytesIO()
    Image.new("L", (8000, 8000)).save(buffer, format="PNG")  # 64 MP in ~60 KB
    response = upload(client, buffer.getvalue(), headers=HX)
    assert response.status_code == 413
    assert "too many pixels" in response.text


def test_oversized_upload_is_refused_while_streaming(serve):
    """Chunked upload with no Content-Length: the server answers 413 long before the body ends."""
    base = serve(Settings(max_upload_bytes=200_000))
    host, port = base.removeprefix("http://").split(":")
    chunk = b"\0" * 65536
    sent = 0
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(
            b"POST /filters/upload HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n"
            b"Content-Type: multipart/form-data; boundary=x\r\nHX-Request: true\r\n\r\n"
        )
        answer = b""
        for _ in range(300):  # 19 MB if the server read it all
            try:
                sock.sendall(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                break  # the server has answered and closed
            sent += len(chunk)
            readable, _, _ = select.select([sock], [], [], 0.01)
            if readable:
                answer = sock.recv(65536)
                break
        while not answer:
            answer = sock.recv(65536)
    assert answer.startswith(b"HTTP/1.1 413")
    assert sent < 2_000_000


def test_declared_oversized_upload_is_refused_at_once():
    settings = Settings(max_upload_bytes=1000)
    with TestClient(create_app(settings)) as client:
        response = upload(client, b"\x89PNG" + b"\0" * 200_000)
        assert response.status_code == 413


def test_upload_cache_is_bounded():
    settings = Settings(upload_cache_bytes=2_000_000)
    app = create_app(settings)
    with TestClient(app) as client:
        for seed in range(30):
            pixels = np.random.default_rng(seed).integers(0, 256, (128, 128, 3), dtype=np.uint8)
            buffer = io.BytesIO()
            Image.fromarray(pixels).save(buffer, format="PNG")
            assert upload(client, buffer.getvalue()).status_code == 303
        assert app.state.uploads.total_bytes <= 2_000_000
        assert len(app.state.uploads) < 30


# --- bad settings -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "status", "message"),
    [
        ("f=custom&kernel=1+2%0A3+x", 400, "&#39;x&#39; is not a number"),
        ("f=custom&kernel=1+nan", 400, "must be finite numbers"),
        ("f=custom&kernel=1+inf", 400, "must be finite numbers"),
        ("f=custom&kernel=1e999", 400, "must be finite numbers"),
        ("f=custom&kernel=", 400, "The custom kernel is empty"),
        ("f=custom&kernel=%0A%0A", 400, "The custom kernel is empty"),
        ("f=custom&kernel=1+2%0A3", 400, "same number of entries"),
        ("f=custom&kernel=" + "+".join(["1"] * 16), 400, "at most 15×15"),
        ("stride=0", 400, "Stride must be between 1 and 64"),
        ("stride=-3", 400, "Stride must be between 1 and 64"),
        ("stride=99999999999999999999", 400, "Stride must be between 1 and 64"),
        ("stride=abc", 400, "Stride must be a whole number"),
        ("stride=1.5", 400, "Stride must be a whole number"),
        ("dilation=0", 400, "Dilation must be between 1 and 16"),
        ("dilation=1e9", 400, "Dilation must be between 1 and 16"),
        ("sigma=nan", 400, "must be a finite number"),
        ("bias=inf", 400, "must be a finite number"),
        ("padding=weird", 400, "Padding must be one of"),
        ("mode=mirror", 400, "Border mode must be one of"),
        ("sample=nope", 404, "Unknown sample image"),
        ("f=blurrr", 404, "Unknown filter"),
        ("submitted=1", 400, "Choose at least one filter"),
        ("upload=0123456789abcdef0123", 410, "no longer on the server"),
        ("upload=..%2F..%2Fetc", 410, "no longer on the server"),
        ("f=gaussian&size=15&dilation=16&padding=valid&sample=dot", 400, "padded input is only"),
        ("sample=dot&padding=number&pad=40&mode=reflect", 400, "Reflect padding needs"),
        ("sample=dot&f=box_blur&size=15&padding=number&pad=64&mode=circular", 400, "wrap at most"),
    ],
)
def test_bad_settings_full_page_keeps_form(client, query, status, message):
    response = client.get(
        f"/filters?sample=dot&{query}" if "sample=" not in query else f"/filters?{query}"
    )
    assert response.status_code == status
    assert message in response.text
    assert 'id="controls"' in response.text  # the form is there to fix the mistake
    assert "<html" in response.text


def test_bad_settings_htmx_go_to_the_error_region(client):
    response = client.get("/filters?sample=dot&stride=0", headers=HX_CONTROLS)
    assert response.status_code == 400
    assert response.headers["HX-Retarget"] == "#controls-error"
    assert "Stride must be between 1 and 64" in response.text
    assert 'id="lab"' not in response.text  # nothing else on the page is replaced


def test_typed_values_survive_an_error(client):
    html = client.get("/filters?sample=dot&f=custom&kernel=1+2%0A3+oops&stride=2").text
    assert ">1 2\n3 oops</textarea>" in html
    assert 'name="stride" min="1" max="64" value="2"' in html


def test_error_messages_are_translated(client):
    client.cookies.set("lang", "pt_BR")
    html = client.get("/filters?sample=dot&stride=0").text
    assert "Salto (stride)” deve estar entre 1 e 64" in html
    assert "Stride must be" not in html


def test_expired_upload_says_so_in_image_request(client):
    response = client.get("/filters/image.png?upload=0123456789abcdef0123&view=map")
    assert response.status_code == 410


def test_other_op_view_is_the_flipped_result(client):
    base = "/filters/image.png?sample=square&f=sobel_x&padding=valid&index=0"
    correlate = png_of(client.get(base + "&view=map"))
    convolve = png_of(client.get(base + "&view=other-op"))
    # Sobel x flipped is −Sobel x: orange and blue swap places.
    np.testing.assert_array_equal(correlate[20, 12], [179, 88, 6])
    np.testing.assert_array_equal(convolve[20, 12], [33, 102, 172])
    same = png_of(client.get(base + "&view=other-op&op=convolve"))
    np.testing.assert_array_equal(same, correlate)


def test_comparison_panel_says_whether_the_kernel_is_symmetric(client):
    assert "both maps are identical" in client.get("/filters?sample=dot&f=gaussian").text
    assert "the signs swap" in client.get("/filters?sample=dot&f=sobel_x").text


def test_editor_shows_the_parsed_kernel_as_a_grid(client):
    html = client.get("/filters?sample=dot&f=custom&kernel=1/4+-1/2%0A0+2").text
    preview = html[html.index('class="kernel-preview"') :]
    assert "<td" in preview and ">0.25</td>" in preview and ">-0.5</td>" in preview
    assert "2×2, sum of the numbers: 1.75" in preview
    html = client.get("/filters?sample=dot&f=identity&kernel=1+x").text
    assert 'class="kernel-preview"' not in html
