"""The pipeline view and the shape calculator over HTTP."""

import io
import re

import numpy as np
import pytest
from PIL import Image

from tests.app.conftest import HX


def test_pipeline_page_shows_every_layer(client):
    html = client.get("/pipeline?sample=cat&pres=64").text
    shapes = re.findall(r'data-testid="layer-shape">([^<]+)<', html)
    assert shapes == ["8×43×64", "8×43×64", "8×21×32", "12×21×32", "12×21×32", "12×10×16",
                      "1920", "10"]  # fmt: skip
    rfs = re.findall(r'data-testid="layer-rf">([^ ]+) ', html)
    assert rfs[:6] == ["3×3", "3×3", "4×4", "8×8", "8×8", "10×10"]
    # Every map of the conv and pool layers is a thumbnail, with its filter's name.
    assert html.count("layer=1&amp;channel=") == 8
    assert html.count("layer=4&amp;channel=") == 12
    assert "corner, bright to the lower right" in html
    assert "parameters" in html and "80 parameters" in html


def test_layer_png_is_the_feature_map(client):
    response = client.get("/pipeline/image.png?sample=dot&pres=32&layer=3&channel=0")
    assert response.status_code == 200
    image = np.asarray(Image.open(io.BytesIO(response.content)))
    assert image.shape[:2] == (16, 16)  # 33 px dot scaled to 32, pooled by 2


@pytest.mark.parametrize(
    ("query", "status"),
    [("layer=40", 404), ("layer=7&channel=0", 404), ("layer=1&channel=8", 404)],
)
def test_missing_layers_and_channels_are_404(client, query, status):
    assert client.get(f"/pipeline/image.png?sample=dot&{query}").status_code == status


def test_calculator_reproduces_lenet5(client):
    html = client.get("/pipeline").text
    shapes = re.findall(r'data-testid="calc-shape">([^<]+)<', html)
    assert shapes == ["6×28×28", "6×14×14", "16×10×10", "16×5×5", "120", "84", "10"]
    assert 'data-testid="calc-total">61,706<' in html


def test_calculator_fragment_for_htmx(client):
    response = client.get(
        "/pipeline?arch=conv+4+3x3+same,+pool+2&input=3x16x16",
        headers={**HX, "HX-Target": "calc"},
    )
    assert response.status_code == 200
    assert response.text.lstrip().startswith('<div id="calc" data-result>')
    assert re.findall(r'data-testid="calc-shape">([^<]+)<', response.text) == ["4×16×16", "4×8×8"]


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("arch=conv+6+5x5,+pool+2,+conv+16+5x5&input=1x8x8",
         "Layer 3 (conv 16 5x5): the 5×5 kernel is larger than its 2×2 input."),
        ("arch=conv+6+5y5", "At character 1 (&#39;conv 6 5y5&#39;): expected a kernel size"),
        ("arch=", "Write at least one layer"),
        ("input=banana", "should look like 1x32x32"),
        ("arch=dense+99999999", "1 to 100000 units"),
    ],
)  # fmt: skip
def test_calculator_errors_in_place(client, query, message):
    page = client.get(f"/pipeline?{query}")
    assert page.status_code == 422
    assert message in page.text
    assert 'id="calc-form"' in page.text and 'data-testid="pipeline"' in page.text
    fragment = client.get(
        f"/pipeline?{query}", headers={**HX, "HX-Target": "calc", "X-Error-Target": "#calc-error"}
    )
    assert fragment.status_code == 422
    assert fragment.headers["HX-Retarget"] == "#calc-error"
    assert message in fragment.text


def test_calculator_errors_are_translated(client):
    client.cookies.set("lang", "pt_BR")
    html = client.get("/pipeline?arch=conv+6+5x5,+conv+6+5x5&input=1x6x6").text
    assert "Camada 2" in html


def test_bad_picture_settings(client):
    assert client.get("/pipeline?sample=nope").status_code == 404
    assert client.get("/pipeline?upload=0123456789abcdef0123").status_code == 410
    assert client.get("/pipeline?pres=0").status_code == 400
