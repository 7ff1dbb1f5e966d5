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


# --- the calculator's new layers, costs and presets (part of #17) --------------------------------


def calc_cells(html: str, testid: str) -> list[str]:
    return re.findall(rf'data-testid="{testid}"[^>]*data-value="(\d+)"', html)


def test_calculator_counts_multiply_adds_and_memory(client):
    html = client.get("/pipeline").text  # LeNet-5 on 1×32×32
    assert calc_cells(html, "calc-macs") == ["117600", "0", "240000", "0", "48000", "10080", "840"]
    assert re.search(r'data-testid="calc-total-macs" data-value="416520"', html)
    # 1,024 input values and 8,094 output values, 4 bytes each.
    assert re.search(r'data-testid="calc-total-memory" data-value="36472"', html)
    assert ">36.5\u00a0kB<" in html and "833\u00a0kFLOPs" in html


def test_calculator_numbers_in_portuguese(client):
    client.cookies.set("lang", "pt_BR")
    html = client.get("/pipeline?arch=conv+64+3x3+pad+1&input=3x224x224").text
    assert 'data-testid="calc-total">1.792<' in html
    assert "86,7\u00a0M" in html  # 224·224·64·27 = 86,704,128 multiply-adds
    assert "12,8\u00a0MB" in html  # 64·224·224·4 = 12,845,056 bytes
    assert "multiplicações-somas" in html


@pytest.mark.parametrize(
    ("name", "params", "macs"),
    [("AlexNet", "61,100,840", 714_188_480), ("VGG-16", "138,357,544", 15_470_264_320),
     ("ResNet basic block", "73,984", 231_211_008)],
)  # fmt: skip
def test_preset_links_reproduce_the_published_counts(client, name, params, macs):
    page = client.get("/pipeline?sample=dot&pres=32").text
    links = dict(re.findall(r'<a href="(/pipeline\?[^"]+)">([^<]+)</a>', page)[::-1])
    url = next(href for href, text in links.items() if text == name).replace("&amp;", "&")
    assert "sample=dot" in url and "pres=32" in url  # the picture's settings stay
    html = client.get(url).text
    assert f'data-testid="calc-total">{params}<' in html
    assert re.search(rf'data-testid="calc-total-macs" data-value="{macs}"', html)
    published = re.search(r'data-testid="calc-published">([^<]+)<', html).group(1)
    assert f"{params} parameters" in published
    expected = {"AlexNet": "and 0.71\u00a0G multiply-adds at 3×224×224",
                "VGG-16": "and 15.47\u00a0G multiply-adds at 3×224×224",
                "ResNet basic block": "which are 2 × 56·56·64·64·9"}  # fmt: skip
    assert expected[name] in published
    assert (
        f"This table: {params} parameters" in published and f"{macs:,} multiply-adds" in published
    )


def test_calculator_describes_the_new_convolutions(client):
    arch = (
        "pointwise 8, dwconv 3x3 same, sepconv 16 3x3 nobias, conv 16 3x3 groups 4, "
        "deconv 4 2x2 stride 2, add 5"
    )
    response = client.get("/pipeline", params={"arch": arch, "input": "4x10x10"},
                          headers={**HX, "HX-Target": "calc"})  # fmt: skip
    html = response.text
    assert response.status_code == 200
    assert re.findall(r'data-testid="calc-shape">([^<]+)<', html) == [
        "8×10×10", "8×10×10", "16×8×8", "16×6×6", "4×12×12", "4×12×12"
    ]  # fmt: skip
    kinds = re.findall(r'data-testid="calc-kind">([^<]+)<', html)
    assert kinds == [
        "1×1 (pointwise) convolution: mixes channels, pixel by pixel",
        "depthwise: 8 groups, one per input channel",
        "separable: a 3×3 depthwise step, then a 1×1 step",
        "grouped: 4 groups of 4 channels",
        "transposed convolution: 2×2, stride 2",
        "residual add: layer 5&#39;s output added back",
    ]
    assert calc_cells(html, "calc-params")[2] == str(8 * 9 + 8 * 16)  # separable, no bias
    assert "depthwise 72 + pointwise 128" in html


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("arch=conv+4+3x3+groups+3&input=6x8x8",
         "Layer 1 (conv 4 3x3 groups 3): 3 groups must divide both its 6 input channels and its "
         "4 filters."),
        ("arch=deconv+2+3x3+pad+9&input=1x4x4", "the padding of 9 is too large for its 4×4 input"),
        ("arch=deconv+2+3x3+stride+2+outpad+5", "output padding must be smaller than the stride"),
        ("arch=conv+2+3x3+pad+999999999", "sides go up to 4096"),
        ("arch=relu,+add+2", "Layer 2 (add 2): an add takes the input (0)"),
        ("arch=conv+4+3x3,+add+0", "it adds 1×32×32 to 4×30×30"),
        ("arch=<b>dwconv</b>+3x3", "unknown layer &#39;&lt;b&gt;dwconv&lt;/b&gt;&#39;"),
    ],
)  # fmt: skip
def test_new_layer_mistakes_in_place_with_the_text_kept(client, query, message):
    page = client.get(f"/pipeline?{query}")
    assert page.status_code == 422
    assert message in page.text
    typed = re.search(r'<textarea id="calc-arch"[^>]*>([^<]*)</textarea>', page.text)
    assert typed is not None and typed.group(1).strip()  # what was typed is still in the box
    assert "<b>dwconv" not in page.text
    fragment = client.get(
        f"/pipeline?{query}", headers={**HX, "HX-Target": "calc", "X-Error-Target": "#calc-error"}
    )
    assert fragment.status_code == 422
    assert 'data-control="arch"' in fragment.text and message in fragment.text


def test_every_count_shows_its_arithmetic(client):
    arch = "conv 8 3x3 groups 2, sepconv 16 3x3, deconv 4 4x4 stride 2 pad 1, batchnorm, dense 10"
    html = client.get("/pipeline", params={"arch": arch, "input": "6x16x16"}).text
    explained = [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", block)).split("counted", 1)[1].strip()
        for block in re.findall(r'<details class="calc-explain".*?</details>', html, re.S)
    ]
    assert explained == [
        "parameters: 8·3·3·3 + 8 = 224 multiply-adds: 14·14·8·3·3·3 = 42,336",
        "depthwise: 8·3·3 = 72; 12·12·8·3·3 = 10,368 pointwise: 8·16 + 16 = 144; "
        "12·12·8·16 = 18,432",
        # A transposed convolution: C·(F/g)·k·k weights, times every input position.
        "parameters: 16·4·4·4 + 4 = 1,028 multiply-adds: 12·12·16·4·4·4 = 147,456",
        "parameters: 2·4 = 8",
        "parameters: 2304·10 + 10 = 23,050 multiply-adds: 2304·10 = 23,040",
    ]
    assert calc_cells(html, "calc-macs") == ["42336", "28800", "147456", "0", "23040"]
