"""An animated picture uploaded to an image lab says, by the picture's description, that only its
first frame is used; a still picture says nothing of the kind."""

import io
import re
from html import unescape

import numpy as np
import pytest
from PIL import Image

from tests.app.conftest import HX_UPLOAD

LABS = ["filters", "pooling", "pipeline"]
FRAME_GREYS = (30, 120, 210)  # one flat grey per frame, so the frame used can be told apart


def gif(frames: int, width: int = 25, height: int = 14) -> bytes:
    images = [Image.fromarray(np.full((height, width), FRAME_GREYS[t], dtype=np.uint8))
              for t in range(frames)]  # fmt: skip
    buffer = io.BytesIO()
    images[0].save(buffer, format="GIF", save_all=True, append_images=images[1:], duration=80,
                   loop=0)  # fmt: skip
    return buffer.getvalue()


def first_frame_notes(html: str) -> list[str]:
    found = re.findall(r'data-testid="first-frame">([^<]*)<', html)
    return [unescape(text) for text in found]


def upload(client, lab: str, data: bytes, name: str = "dance.gif") -> str:
    """Upload without JavaScript: the lab's URL it redirects to."""
    response = client.post(f"/{lab}/upload", files={"image": (name, data, "image/gif")},
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text[:300]
    return response.headers["location"]


def caption(html: str, lab: str) -> str:
    """The part of the page that describes the input picture."""
    if lab == "filters":
        return html.split('class="panel input-figure"', 1)[1].split("</figcaption>", 1)[0]
    if lab == "pooling":
        return html.split('id="pool-title"', 1)[1].split("</p>", 1)[0]
    return html.split('<tr class="layer-row">', 1)[1].split("</th>", 1)[0]  # the input's row


@pytest.mark.parametrize("lab", LABS)
def test_an_animated_gif_says_its_first_frame_is_used_by_the_picture(client, lab):
    page = client.get(upload(client, lab, gif(3)))
    assert page.status_code == 200
    notes = first_frame_notes(caption(page.text, lab))
    assert notes == ["This picture is animated: only its first frame is used."]
    assert len(first_frame_notes(page.text)) == 1  # said once, by the picture


@pytest.mark.parametrize("lab", LABS)
def test_the_htmx_upload_says_it_too(client, lab):
    response = client.post(f"/{lab}/upload", files={"image": ("two.gif", gif(2), "image/gif")},
                           headers=HX_UPLOAD)  # fmt: skip
    assert response.status_code == 200 and "<html" not in response.text
    assert len(first_frame_notes(caption(response.text, lab))) == 1


@pytest.mark.parametrize("lab", LABS)
def test_a_still_gif_or_a_sample_says_nothing_of_frames(client, lab):
    assert first_frame_notes(client.get(upload(client, lab, gif(1))).text) == []
    assert first_frame_notes(client.get(f"/{lab}").text) == []


def test_the_first_frame_is_the_one_computed_on(client):
    location = upload(client, "filters", gif(3))
    query = location.split("?", 1)[1]
    picture = client.get(f"/filters/image.png?{query}&view=input")
    assert picture.status_code == 200
    pixels = np.asarray(Image.open(io.BytesIO(picture.content)).convert("L"))
    assert pixels.shape == (14, 25)
    assert np.all(pixels == FRAME_GREYS[0])


def test_the_note_is_translated(client):
    location = upload(client, "filters", gif(3))
    client.cookies.set("lang", "pt_BR")
    (note,) = first_frame_notes(client.get(location).text)
    assert "first frame" not in note and note
