"""Media made in code to be awkward: tiny, strip-shaped, animated, grown, lying. Each gets a result
or a clear 4xx message, never a 500, and the server goes on answering."""

from __future__ import annotations

import io
import struct
import wave

import numpy as np
import pytest
from PIL import Image

HX = {"HX-Request": "true", "X-Error-Target": "#upload-form-error"}


def png(width: int, height: int, mode: str = "L") -> bytes:
    rng = np.random.default_rng(width * 7919 + height)
    pixels = rng.integers(0, 256, (height, width, 3) if mode == "RGB" else (height, width))
    buffer = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).convert(mode).save(buffer, format="PNG")
    return buffer.getvalue()


def animated_gif(width: int, height: int, frames: int = 3) -> bytes:
    images = [Image.fromarray(np.full((height, width), 30 + 60 * t, dtype=np.uint8))
              for t in range(frames)]  # fmt: skip
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=90)
    return buffer.getvalue()


def growing_gif(side: int = 3000) -> bytes:
    """An 8×8 GIF whose second frame is side×side: only that frame's own header says so."""
    big = io.BytesIO()
    Image.new("P", (side, side), 1).save(big, format="GIF")
    data = big.getvalue()
    block = data[data.index(b"\x2c\x00\x00\x00\x00") : -1]  # image descriptor and its data
    small = io.BytesIO()
    Image.new("P", (8, 8), 1).save(small, format="GIF")
    control = b"\x21\xf9\x04\x00\x0a\x00\x00\x00"  # a graphic control extension
    return small.getvalue()[:-1] + control + block + b"\x3b"


def cmyk_jpeg() -> bytes:
    buffer = io.BytesIO()
    Image.new("CMYK", (20, 12), (10, 200, 30, 0)).save(buffer, format="JPEG")
    return buffer.getvalue()


def grey16() -> bytes:
    buffer = io.BytesIO()
    Image.fromarray(np.arange(24 * 9, dtype=np.uint16).reshape(9, 24) * 300).save(
        buffer, format="PNG"
    )
    return buffer.getvalue()


PICTURES = {
    "16x16 icon": png(16, 16),
    "1x1": png(1, 1),
    "640x20 strip": png(640, 20),
    "2000x60 banner": png(2000, 60),
    "20x640 column": png(20, 640),
    "25x14 animated GIF": animated_gif(25, 14),
    "CMYK JPEG": cmyk_jpeg(),
    "16-bit grey": grey16(),
}


@pytest.mark.parametrize("lab", ["filters", "pooling", "pipeline"])
@pytest.mark.parametrize("name", list(PICTURES))
def test_awkward_pictures_give_a_result_or_a_message_in_every_image_lab(client, lab, name):
    upload = client.post(f"/{lab}/upload", files={"image": (f"{name}.png", PICTURES[name])},
                         follow_redirects=False)  # fmt: skip
    assert upload.status_code == 303, upload.text[:300]
    location = upload.headers["location"]
    for _ in range(2):  # and again: nothing cached makes the second load fail
        page = client.get(location)
        assert page.status_code < 500, page.text[-500:]
        if page.status_code >= 400:
            assert "error-message" in page.text
    fragment = client.get(location, headers=HX)
    assert fragment.status_code < 500
    # Every picture the page links to answers too.
    for src in set(__import__("re").findall(r'src="(/[a-z]+/image\.png\?[^"]+)"', page.text)):
        picture = client.get(src.replace("&amp;", "&"))
        assert picture.status_code < 500, src


@pytest.mark.parametrize(
    "query",
    [
        "psize=3&ppad=1&prow=0&pcol=0",
        "psize=3&ppad=1&prow=9999&pcol=9999",
        "psize=2&ppad=1&pstride=1&prow=0&pcol=0",
        "sample=dot&psize=16&pres=8",
        "ptype=avg&psize=4&ppad=2&prow=0&pcol=0",
    ],
)
def test_explaining_edge_cells_with_pool_padding(client, query):
    page = client.get(f"/pooling?{query}")
    assert page.status_code < 500, page.text[-400:]


def test_a_gif_whose_later_frame_grows_the_canvas_is_refused(client):
    data = growing_gif()
    assert len(data) < 20_000  # tiny on the wire, 9 megapixels a frame once decoded
    headers = {"HX-Request": "true", "X-Error-Target": "#gif-error"}
    files = {"gif": ("grow.gif", data)}
    response = client.post("/signals/upload-gif", files=files, headers=headers)
    assert response.status_code == 413
    assert "3000×3000 pixels" in response.text and "per frame" in response.text


def lying_wav(kind: str) -> bytes:
    samples = np.zeros(800, dtype="<i2").tobytes()
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as writer:
        writer.setnchannels(1)
        writer.setsampwidth(2)
        writer.setframerate(8000)
        writer.writeframes(samples)
    data = bytearray(buffer.getvalue())
    if kind == "data longer than the file":
        data[40:44] = struct.pack("<I", 10_000_000)
    elif kind == "rate zero":
        data[24:28] = struct.pack("<I", 0)
    elif kind == "channels 9":
        data[22:24] = struct.pack("<H", 9)
    elif kind == "truncated":
        data = data[:30]
    elif kind == "riff but not wave":
        data[8:12] = b"AVI "
    return bytes(data)


@pytest.mark.parametrize(
    "kind",
    ["data longer than the file", "rate zero", "channels 9", "truncated", "riff but not wave"],
)
def test_lying_wav_headers_get_a_message(client, kind):
    headers = {"HX-Request": "true", "X-Error-Target": "#wav-error"}
    files = {"sound": ("x.wav", lying_wav(kind))}
    response = client.post("/signals/upload-wav", files=files, headers=headers)
    assert 400 <= response.status_code < 500, response.text[:300]
    assert "error-message" in response.text


def upload_to_pooling(client, data: bytes, query: str = "") -> str:
    """The page for an upload, after checking that every picture it links to is there."""
    files = {"image": ("x.png", data)}
    upload = client.post("/pooling/upload", files=files, follow_redirects=False)
    assert upload.status_code == 303
    page = client.get(upload.headers["location"] + query).text
    for src in set(__import__("re").findall(r'src="(/pooling/image\.png\?[^"]+)"', page)):
        assert client.get(src.replace("&amp;", "&")).status_code == 200, src
    return page


def test_a_banner_explains_why_a_shift_across_it_has_no_score(client):
    # 2000×60 is 256×8 at the experiment's size: a shift down of 12 leaves nothing in view.
    page = upload_to_pooling(client, PICTURES["2000x60 banner"], "&dx=0&dy=12")
    assert 'data-testid="shift-out-of-view"' in page
    assert "go up to 7 pixels" in page
    # Along its length the same banner shifts fine.
    page = upload_to_pooling(client, PICTURES["2000x60 banner"], "&dx=12&dy=0")
    assert 'data-testid="shift-out-of-view"' not in page
    assert 'class="score" data-depth="pool2">0.' in page or 'data-depth="pool2">1' in page


def test_an_icon_gets_the_whole_experiment_enlarged(client):
    page = upload_to_pooling(client, PICTURES["16x16 icon"], "&dx=16&dy=0")
    assert 'data-testid="shift-out-of-view"' not in page
    assert 'width="128" height="128"' in page  # the 16×16 icon drawn at 256, shown at 128


def test_a_map_thinner_than_one_block_says_so_instead_of_comparing(client):
    page = upload_to_pooling(client, PICTURES["2000x60 banner"], "&pres=16&ppad=1")
    assert 'data-testid="shrink-too-thin"' in page
    assert "16×1 pixels" not in page and "1×16 pixels" in page


def test_an_edge_cell_with_padding_explains_the_block_next_to_it(client):
    page = client.get("/pooling?psize=3&ppad=1&prow=0&pcol=0").text
    assert "rows 0–3, columns 0–3" in page
