"""The Filters lab's live camera over HTTP: POST /filters/camera/frame gives the same maps as the
lab gives the same picture uploaded, and bad frames get a clear 4xx with the message."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from app.labs.filters.camera import GAP, MAX_FRAME_BYTES
from tests.app.conftest import HX

BANK = ["sobel_x", "sobel_y", "gaussian", "laplacian"]  # 3×3 except the 5×5 Gaussian


def picture(width=256, height=192, mode="RGB", fmt="JPEG", seed=1, **save) -> bytes:
    """A smooth gradient with noise, so that every filter of the bank has something to show."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    base = np.stack([xx * 255 / max(width, 1), yy * 255 / max(height, 1), (xx + yy) % 256], -1)
    pixels = np.clip(base + rng.normal(0, 20, base.shape), 0, 255).astype(np.uint8)
    image = Image.fromarray(pixels)
    if mode != "RGB":
        image = image.convert(mode)
    buffer = io.BytesIO()
    image.save(buffer, format=fmt, **save)
    return buffer.getvalue()


def send_frame(
    client, data, fields=None, filename="frame.jpg", content_type="image/jpeg", headers=None
):
    return client.post(
        "/filters/camera/frame",
        files={"frame": (filename, data, content_type)},
        data={"source": "camera", **(fields or {})},
        headers={**HX, "X-Error-Target": "#camera-error", **(headers or {})},
    )


def tiles(response) -> list[np.ndarray]:
    """The frame answer's maps, cut out of its rows of two."""
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "image/jpeg"
    whole = np.asarray(Image.open(io.BytesIO(response.content)).convert("RGB"))
    count = int(response.headers["X-Map-Count"])
    columns = min(2, count)
    rows = -(-count // columns)
    height = (whole.shape[0] - (rows - 1) * GAP) // rows
    width = (whole.shape[1] - (columns - 1) * GAP) // columns
    return [
        whole[
            (i // columns) * (height + GAP) : (i // columns) * (height + GAP) + height,
            (i % columns) * (width + GAP) : (i % columns) * (width + GAP) + width,
        ]
        for i in range(count)
    ]


def assert_like_the_labs(live: list[np.ndarray], lab: list[np.ndarray]) -> None:
    """The live maps are JPEG (camera.LIVE_QUALITY): each within a few of 255 levels of the
    lab's exact map on average, and several times nearer it than any other map of the bank."""
    assert len(live) == len(lab)
    for index, frame_map in enumerate(live):
        assert frame_map.shape == lab[index].shape
        errors = [np.abs(frame_map.astype(int) - lab_map).mean() for lab_map in lab]
        assert errors[index] < 8, errors
        assert all(errors[index] * 3 < error for k, error in enumerate(errors) if k != index)


def lab_maps(client, data, fields, count, filename="photo.jpg") -> list[np.ndarray]:
    """The same picture through the lab's own path: uploaded, then each map's PNG."""
    response = client.post(
        "/filters/upload",
        files={"image": (filename, data, "application/octet-stream")},
        data=fields,
        follow_redirects=False,
    )
    assert response.status_code == 303, response.text
    query = response.headers["location"].split("?", 1)[1]
    assert re.search(r"upload=[0-9a-f]{20}", query)
    maps = []
    for index in range(count):
        png = client.get(f"/filters/image.png?{query}&view=map&index={index}")
        assert png.status_code == 200
        maps.append(np.asarray(Image.open(io.BytesIO(png.content)).convert("RGB")))
    return maps


@pytest.mark.parametrize("colour", ["grey", "rgb"])
def test_frame_maps_equal_the_labs_maps_for_the_same_picture(client, colour):
    data = picture()
    fields = {"f": BANK, "colour": colour, "stride": "2", "padding": "same", "mode": "reflect"}
    live = tiles(send_frame(client, data, fields))
    assert len(live) == 4
    assert live[0].shape == (96, 128, 3)  # 256×192 at stride 2, same padding
    assert_like_the_labs(live, lab_maps(client, data, fields, 4))
    assert not np.array_equal(live[0], live[1])  # four different maps, not one four times


def test_frame_scale_is_the_naive_correlations_largest_value(client):
    # A lossless grey frame through Sobel x, zero padding: the header's limit is max |y| of a
    # plain loop over the picture.
    data = picture(40, 30, mode="L", fmt="PNG")
    response = send_frame(client, data, {"f": "sobel_x", "padding": "same"}, "f.png", "image/png")
    kind, low, high = response.headers["X-Map-Scales"].split(":")
    grey = np.asarray(Image.open(io.BytesIO(data)), dtype=np.float64)
    kernel = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float64)
    padded = np.pad(grey, 1)
    naive = np.zeros_like(grey)
    for i in range(grey.shape[0]):
        for j in range(grey.shape[1]):
            naive[i, j] = (padded[i : i + 3, j : j + 3] * kernel).sum()
    assert kind == "diverging"
    assert float(high) == pytest.approx(np.abs(naive).max(), rel=1e-5)
    assert float(low) == pytest.approx(-np.abs(naive).max(), rel=1e-5)
    (shown,) = tiles(response)
    assert shown.shape == (30, 40, 3)


def test_a_frame_is_not_kept_and_counts_against_the_work_limit(client):
    before = len(client.app.state.uploads)
    heavy = client.app.state.results.heavy
    assert heavy.peak == 0
    tiles(send_frame(client, picture()))
    assert len(client.app.state.uploads) == before
    assert heavy.peak == 1 and heavy.running == 0  # it held one slot, and gave it back


# --- hostile frames: a correct map or a clear 4xx, never a 500 ---------------------------------


def cmyk_jpeg() -> bytes:
    return picture(64, 48, mode="CMYK")


def sixteen_bit_png() -> bytes:
    ramp = (np.arange(30 * 20, dtype=np.uint16).reshape(20, 30) * 100).astype(np.uint16)
    buffer = io.BytesIO()
    image = Image.fromarray(ramp)
    assert image.mode == "I;16"
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(
    "data",
    [picture(14, 25), cmyk_jpeg(), sixteen_bit_png(), picture(60, 40, fmt="PNG")],
    ids=["tiny-14x25", "cmyk", "16-bit", "png-sent-as-jpeg"],
)
def test_odd_but_real_frames_give_the_labs_maps(client, data):
    fields = {"f": ["sobel_x", "box_blur"], "colour": "rgb"}
    live = tiles(send_frame(client, data, fields))  # always labelled image/jpeg: a lying header
    assert_like_the_labs(live, lab_maps(client, data, fields, 2))


def refusal(response, status: int, words: str) -> str:
    assert response.status_code == status, response.text
    text = re.sub(r"\s+", " ", response.text)
    assert words in text, text
    assert response.headers["HX-Retarget"] == "#camera-error"
    return text


@pytest.mark.parametrize(
    ("data", "status", "words"),
    [
        (b"<html><body>not a picture</body></html>", 415, "not an image we can read"),
        (b"", 400, "The file is empty"),
        (picture(fmt="PNG")[:200], 422, "damaged or cut short"),
        (picture(2000, 60), 413, "at most 1024 pixels on its long side (this one is 2000×60)"),
    ],
    ids=["not-an-image", "empty", "cut-short", "banner-2000x60"],
)
def test_bad_frames_are_refused_with_the_reason(client, data, status, words):
    refusal(send_frame(client, data), status, words)


def test_a_frame_past_the_byte_limit_is_413(client):
    data = b"\xff\xd8" + bytes(MAX_FRAME_BYTES + 10)
    refusal(send_frame(client, data), 413, "A camera frame is at most 1 MB")


def test_too_many_pixels_is_refused_before_decoding(client):
    # 1200×1200 of one colour compresses to a few kB: its header, not its size, must stop it.
    blank = io.BytesIO()
    Image.new("L", (1200, 1200)).save(blank, format="PNG")
    assert len(blank.getvalue()) < 10_000
    refusal(send_frame(client, blank.getvalue()), 413, "too many pixels")


def test_no_frame_attached(client):
    headers = {**HX, "X-Error-Target": "#camera-error"}
    response = client.post("/filters/camera/frame", data={"f": "sobel_x"}, headers=headers)
    refusal(response, 400, "No camera frame was attached.")


def test_a_bad_setting_is_named_and_html_typed_stays_text(client):
    response = send_frame(client, picture(), {"stride": "0"})
    text = refusal(response, 400, "Stride must be between 1 and 64")
    assert 'data-control="stride"' in text
    text = refusal(send_frame(client, picture(), {"f": "<b>x</b>"}), 404, "Unknown filter")
    assert "<b>x</b>" not in text and "&lt;b&gt;" in text


def test_a_setting_that_leaves_no_output_is_400(client):
    fields = {"f": "gaussian", "size": "15", "padding": "valid"}
    response = send_frame(client, picture(14, 10), fields)
    assert response.status_code == 400, response.text


# --- the camera as the lab's source ----------------------------------------------------------


def test_camera_source_shows_the_live_panel_and_stays_in_the_url(client):
    response = client.get("/filters?source=camera&f=sobel_x&f=sobel_y", headers=HX)
    assert response.status_code == 200
    assert "camera=1" in response.headers["HX-Push-Url"]
    html = response.text
    assert re.search(r'<option value="camera" selected', html)
    assert 'id="camera-video"' in html and 'data-frame-url="/filters/camera/frame"' in html
    for reason in ("insecure", "unsupported", "denied", "none", "failed"):
        assert f"data-camera-{reason}=" in html
    # The shared link opens the camera again; a picture chosen in the menu leaves it.
    assert 'id="camera-video"' in client.get("/filters?camera=1").text
    back = client.get("/filters?camera=1&source=sample:dot", headers=HX)
    assert 'id="camera-video"' not in back.text
    assert "camera" not in back.headers["HX-Push-Url"]


def test_camera_messages_are_translated(client):
    html = client.get("/filters?camera=1", headers={"Accept-Language": "pt-BR"}).text
    assert "Os navegadores só liberam a câmera para uma página em conexão segura" in html
    assert "Permita a câmera para este site" in html
    assert "Câmera (ao vivo)" in html and "Iniciar a câmera" in html
    response = send_frame(client, b"not an image", headers={"Accept-Language": "pt-BR"})
    assert response.status_code == 415
    assert "Este arquivo não é uma imagem" in response.text
