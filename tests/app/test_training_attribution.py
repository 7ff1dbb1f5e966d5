"""The Training lab's attributions over HTTP: the maps it serves are engine.interpret's on the
run's own weights, overlaid on the input; the class can be chosen; a clicked cell shows the
array's value (the occlusion cell also its patch and the probability before and after, checked
here by covering the patch by hand); bad values get a message next to their control; drawings
and uploads of odd shapes work; the maps are cached; and a shared model is copied before the
backward passes that write its layers."""

from __future__ import annotations

import html
import io
import re
import threading

import numpy as np
import pytest
from PIL import Image, ImageDraw
from starlette.testclient import TestClient

from app.config import LIMITS, Settings
from app.labs.training import attribution, views
from app.labs.training.drawing import prepare_drawing
from app.labs.training.views import dataset_framing
from app.main import create_app
from app.web.numbers import numbers_for
from engine import builder, interpret
from engine.losses import softmax
from tests.app.conftest import HX
from tests.app.test_portuguese_numbers import english_numbers
from tests.app.test_training import start, wait

LENET_16 = "dataset=digits&size=16&preset=lenet&epochs=2&seed=0"
SAMPLE = 3
EN = numbers_for("en")
HX_ATTR = {**HX, "X-Error-Target": "#attr-error-test"}


@pytest.fixture(scope="module")
def lab():
    """One app with one finished LeNet run on 16×16 digits, for the whole module."""
    with TestClient(create_app(Settings(run_workers=1, run_max_seconds=60))) as client:
        run_id = start(client, LENET_16)
        assert wait(client, run_id) == "finished"
        yield client, run_id


def own_model(client, run_id):
    """The run's network rebuilt here from its stored weights: not the app's cached copy."""
    run = client.app.state.runs.get(run_id)
    data = views.run_data(run)
    model, infos = builder.build(run.config["architecture"], data.x_train.shape[1:],
                                 len(data.class_names), run.config["batchnorm"])  # fmt: skip
    model.load_state_dict(run.state)
    model.eval()
    return model, data


def png_pixels(response) -> np.ndarray:
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"] == "image/png"
    return np.asarray(Image.open(io.BytesIO(response.content)))


def cell_value(page: str) -> str:
    return re.search(r'data-testid="attr-cell-value">([^<]+)<', page).group(1)


def engine_maps(model, image: np.ndarray, target: int) -> dict[str, np.ndarray]:
    x = image[None].astype(np.float32)
    return {
        "saliency": np.abs(interpret.input_gradient(model, x, target)[0]).max(axis=0),
        "ig": interpret.integrated_gradients(model, x, target, steps=32)[0].sum(axis=0),
        "cam1": interpret.grad_cam(model, x, target, layer=1)[0],  # conv, relu: 16×16
        "cam2": interpret.grad_cam(model, x, target, layer=4)[0],  # conv, relu: 8×8
        "occlusion": interpret.occlusion(model, x, target, size=4, stride=2)[0],  # 7×7
    }


def test_the_inside_page_shows_every_map_for_the_predicted_class(lab):
    client, run_id = lab
    model, data = own_model(client, run_id)
    logits = model.forward(data.x_test[SAMPLE][None], training=False)[0]
    predicted = int(logits.argmax())
    page = client.get(f"/train/runs/{run_id}/inside?sample={SAMPLE}").text
    section = page[page.index('id="attr-test"') :]
    assert re.search(rf'<option value="{predicted}" selected>', section)
    for name in ("saliency", "cam1", "cam2", "occlusion"):
        assert f'data-testid="attr-map-test-{name}"' in section
    assert 'data-testid="attr-map-test-ig"' not in section  # only when asked for
    assert "conv 6 5x5 same, relu" in section and "conv 16 5x5 same, relu" in section
    assert 'data-rows="8" data-cols="8"' in section  # Grad-CAM at stage 2, native size
    assert "Native size 8×8, enlarged to the input" in section
    assert "a 4×4 patch (stride 2)" in section and "7×7 patches" in section
    # Every class's score (the logit) and probability, as the page writes numbers.
    probabilities = softmax(logits)
    scores = section[section.index('data-testid="attr-scores-test"') :]
    rows = re.findall(r"<tr(?: class=\"chosen\")?><th scope=\"row\">(\d)</th><td>([^<]+)</td>"
                      r"<td>([^<]+)</td></tr>", scores)  # fmt: skip
    assert [int(k) for k, _, _ in rows] == list(range(10))
    for k, z, p in rows:
        assert z == EN.significant(logits[int(k)], 4)
        assert p == EN.percent(probabilities[int(k)])


@pytest.mark.parametrize("name", ["saliency", "ig", "cam1", "cam2", "occlusion"])
def test_each_served_map_is_the_engines_on_the_same_model_and_input(lab, name):
    client, run_id = lab
    model, data = own_model(client, run_id)
    image = data.x_test[SAMPLE]
    for target in (4, 7):
        served = png_pixels(client.get(f"/train/runs/{run_id}/attribution.png?sample={SAMPLE}"
                                       f"&target={target}&map={name}"))  # fmt: skip
        expected = engine_maps(model, image, target)[name]
        extra = {"size": 4, "stride": 2} if name == "occlusion" else {}
        painted = attribution.overlay_rgb(image, attribution.Computed(expected, extra=extra), name)
        assert served.shape == (224, 224, 3)  # 16 px × 14: a whole scale
        # float32 arithmetic in another order may move a colour by one step, nowhere more.
        assert np.abs(served.astype(int) - painted).max() <= 1
    # Another class, another map.
    four = png_pixels(client.get(f"/train/runs/{run_id}/attribution.png?sample={SAMPLE}"
                                 f"&target=4&map={name}"))  # fmt: skip
    seven = png_pixels(client.get(f"/train/runs/{run_id}/attribution.png?sample={SAMPLE}"
                                  f"&target=7&map={name}"))  # fmt: skip
    assert not np.array_equal(four, seven)


def test_the_overlay_keeps_the_input_where_the_map_is_zero_and_paints_where_it_is_large():
    image = np.zeros((1, 8, 8), dtype=np.float32)
    image[0, :, 4:] = 1.0  # right half white
    values = np.zeros((2, 2))
    values[1, 1] = 3.0  # the bottom-right quarter only
    painted = attribution.overlay_rgb(image, attribution.Computed(values), "cam1")
    assert painted.shape == (224, 224, 3)  # 8 px × 28
    assert (painted[:112, :112] == 40).all()  # black input, nothing painted: dark grey
    assert (painted[:112, 112:] == 190).all()  # white input, nothing painted
    top = attribution.VIRIDIS[-1]
    expected = np.round(190 * 0.15 + top * 0.85)
    assert (painted[112:, 112:] == expected).all()  # the largest value: yellow, 85 % opaque


def test_display_cells_stretch_a_map_and_give_pixels_to_the_nearest_patch():
    # A 4-cell map over 16 pixels shown at 224: 56 display pixels per cell.
    cells = attribution.display_cells(224, 16, 4, None)
    assert [int(cells[i]) for i in (0, 55, 56, 223)] == [0, 0, 1, 3]
    # Patches 4 wide at stride 2 on 16 pixels: centres at 1.5, 3.5, ..., 13.5.
    patch = attribution.display_cells(16, 16, 7, (4, 2))
    naive = [min(range(7), key=lambda r: (abs(p - (2 * r + 1.5)), -r)) for p in range(16)]
    assert patch.tolist() == naive


def test_a_clicked_cell_shows_the_value_of_the_array_there(lab):
    client, run_id = lab
    model, data = own_model(client, run_id)
    image = data.x_test[SAMPLE]
    expected = engine_maps(model, image, 7)
    gradient = interpret.input_gradient(model, image[None], 7)[0, 0]
    for name, row, col in (("saliency", 5, 9), ("ig", 8, 3), ("cam1", 15, 0), ("cam2", 2, 6),
                           ("occlusion", 3, 4)):  # fmt: skip
        page = client.get(f"/train/runs/{run_id}/attribution?sample={SAMPLE}&target=7&ig=1"
                          f"&map={name}&row={row}&col={col}", headers=HX).text  # fmt: skip
        assert page.lstrip().startswith('<section id="attr-test"')  # the section alone
        assert cell_value(page) == EN.significant(expected[name][row, col], 4), name
        assert f"row {row}, column {col}" in page
        assert page.count('data-testid="attr-box"') == 1  # the cell outlined on its map
        if name == "saliency":
            assert f"∂z<sub>7</sub>/∂x = {EN.significant(gradient[row, col], 4)}" in page


def test_the_occlusion_cell_names_its_patch_and_the_probability_before_and_after(lab):
    client, run_id = lab
    model, data = own_model(client, run_id)
    image = data.x_test[SAMPLE][None]
    page = client.get(f"/train/runs/{run_id}/attribution?sample={SAMPLE}&target=4"
                      "&map=occlusion&row=6&col=2", headers=HX).text  # fmt: skip
    # Patch (6, 2) at stride 2, 4 wide: rows 12-15, columns 4-7. Covered by hand here.
    covered = image.copy()
    covered[0, :, 12:16, 4:8] = 0
    before = softmax(model.forward(image, training=False))[0, 4]
    after = softmax(model.forward(covered, training=False))[0, 4]
    assert "rows 12–15 and columns 4–7" in page
    assert f"before = {EN.significant(before, 4)} ({EN.percent(before, 2)})" in page
    assert f"with the patch black = {EN.significant(after, 4)}" in page
    assert cell_value(page) == EN.significant(before - after, 4)
    box = re.search(r'data-testid="attr-box" style="top: ([\d.]+)%; left: ([\d.]+)%; '
                    r'height: ([\d.]+)%; width: ([\d.]+)%', page).groups()  # fmt: skip
    assert [float(v) for v in box] == [75.0, 25.0, 25.0, 25.0]  # 12/16, 4/16, 4/16, 4/16


def test_portuguese_pages_write_the_numbers_their_way(lab):
    client, run_id = lab
    model, data = own_model(client, run_id)
    value = engine_maps(model, data.x_test[SAMPLE], 4)["cam2"][2, 3]
    client.cookies.set("lang", "pt_BR")
    try:
        page = client.get(f"/train/runs/{run_id}/attribution?sample={SAMPLE}&target=4"
                          "&map=cam2&row=2&col=3", headers=HX).text  # fmt: skip
        assert cell_value(page) == numbers_for("pt_BR").significant(value, 4)
        assert "," in cell_value(page) or value == 0
        assert "Por que ela decidiu isso?" in page and "linha 2, coluna 3" in page
    finally:
        client.cookies.delete("lang")
    # Every number of the section (the lab's other panels have their own tests), both inputs.
    paths = (
        f"/train/runs/{run_id}/attribution?sample={SAMPLE}&ig=1&map=occlusion&row=1&col=1",
        f"/train/runs/{run_id}/attribution?sample=5&target=2&map=saliency&row=8&col=8",
    )
    for path in paths:
        pages = {}
        for code in ("pt_BR", "en"):
            client.cookies.set("lang", code)
            pages[code] = client.get(path, headers=HX).text
        client.cookies.delete("lang")
        assert "Saliência |∂z/∂x|" in pages["pt_BR"]
        assert english_numbers(pages["pt_BR"], pages["en"]) == [], path


@pytest.mark.parametrize(
    ("query", "status", "control", "message"),
    [
        ("target=10", 422, "target", "Class must be between 0 and 9 (got 10)."),
        ("target=-1", 422, "target", "Class must be between 0 and 1000"),
        ("target=seven", 422, "target", "Class must be a whole number"),
        (
            "map=saliency&row=16&col=0",
            422,
            "row",
            "Row must be between 0 and 15 on this 16×16 map (got 16).",
        ),
        (
            "map=occlusion&row=0&col=7",
            422,
            "col",
            "Column must be between 0 and 6 on this 7×7 map (got 7).",
        ),
        ("map=cam2&row=-1&col=0", 422, "row", "Row must be between 0 and 4096"),
        ("map=cam9&row=0&col=0", 404, "map", "This network has no map 'cam9'."),
        ("map=cam1", 400, "map", "Click a cell of the map to see its number."),
        ("sample=100000", 404, "sample", "There is no test image 100000."),
        ("input=0123456789abcdef0123", 404, "input", "This drawing is no longer kept"),
        ("input=<b>x</b>", 404, "input", "This drawing is no longer kept"),
    ],
)
def test_bad_values_get_a_message_next_to_their_control(lab, query, status, control, message):
    client, run_id = lab
    base = f"/train/runs/{run_id}/attribution?sample={SAMPLE}&"
    response = client.get(base + query, headers=HX_ATTR)
    assert response.status_code == status, response.text[:300]
    assert response.headers["HX-Retarget"] == "#attr-error-test"
    assert f'data-control="{control}"' in response.text
    assert message in html.unescape(response.text)
    assert "<b>x</b>" not in response.text
    # The PNG route says the same, without a page around it.
    if "row" not in query and "map=cam1" not in query:
        png = client.get(f"/train/runs/{run_id}/attribution.png?sample={SAMPLE}&map=cam1&"
                         + query)  # fmt: skip
        assert png.status_code == status and message in html.unescape(png.text)


def test_without_javascript_the_form_lands_on_the_inside_page(lab):
    client, run_id = lab
    page = client.get(f"/train/runs/{run_id}/attribution?sample=5&target=2&map=cam2&row=1&col=1")
    assert page.status_code == 200 and "<html" in page.text
    assert 'data-testid="confusion"' in page.text  # the whole inside page
    assert '<option value="2" selected>' in page.text and "row 1, column 1" in page.text
    assert 'action="/train/runs/' in page.text and 'method="get"' in page.text


def banner(width: int, height: int) -> bytes:
    image = Image.new("RGB", (width, height), "white")
    ImageDraw.Draw(image).rectangle([width // 3, height // 4, width // 2, 3 * height // 4],
                                    fill="black")  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


@pytest.mark.parametrize(("width", "height"), [(14, 25), (2000, 60)])
def test_an_upload_of_any_shape_gets_its_maps_and_keeps_its_clicks(lab, width, height):
    client, run_id = lab
    picture = banner(width, height)
    response = client.post(f"/train/runs/{run_id}/predict", headers=HX,
                           files={"image": ("banner.png", picture, "image/png")})  # fmt: skip
    assert response.status_code == 200, response.text[:300]
    assert 'data-testid="attribution-drawn"' in response.text
    input_id = re.search(r'name="input" value="([0-9a-f]{20})"', response.text).group(1)
    fill, centre = dataset_framing("digits", 16)  # framed as the digits are
    _, prepared = prepare_drawing(picture, 16, LIMITS.max_drawing_pixels, fill=fill, centre=centre)
    model, _ = own_model(client, run_id)
    predicted = int(model.forward(prepared[None], training=False)[0].argmax())
    assert re.search(rf'<option value="{predicted}" selected>', response.text)
    expected = engine_maps(model, prepared, 1)
    for name, row, col in (("saliency", 7, 7), ("cam2", 4, 4), ("occlusion", 3, 3)):
        page = client.get(f"/train/runs/{run_id}/attribution?input={input_id}&target=1"
                          f"&map={name}&row={row}&col={col}", headers=HX).text  # fmt: skip
        assert page.lstrip().startswith('<section id="attr-drawn"')
        assert cell_value(page) == EN.significant(expected[name][row, col], 4)
    served = png_pixels(client.get(f"/train/runs/{run_id}/attribution.png?input={input_id}"
                                   "&target=1&map=saliency"))  # fmt: skip
    painted = attribution.overlay_rgb(prepared, attribution.Computed(expected["saliency"]),
                                      "saliency")  # fmt: skip
    assert np.abs(served.astype(int) - painted).max() <= 1
    # Without JavaScript: the inside page, with the drawing's maps where predictions go.
    page = client.get(f"/train/runs/{run_id}/attribution?input={input_id}&target=1").text
    assert 'data-testid="attribution-drawn"' in page and 'data-testid="attribution-test"' in page


def test_maps_are_computed_once_and_kept_by_run_input_class_and_map(lab):
    client, run_id = lab
    results = client.app.state.results
    url = f"/train/runs/{run_id}/attribution?sample=11&target=6"
    client.get(url, headers=HX)
    keys = {key for key in results._items if key.startswith(f"attr:{run_id}:s11:6:")}
    assert keys == {f"attr:{run_id}:s11:6:{name}" for name in ("saliency", "cam1", "cam2",
                                                                "occlusion")}  # fmt: skip
    computed = results.computed
    client.get(url + "&map=cam2&row=3&col=3", headers=HX)
    png = f"/train/runs/{run_id}/attribution.png?sample=11&target=6&map=cam2"
    first = client.get(png).content
    assert results.computed == computed + 1  # only the PNG's encoding, not the map again
    assert client.get(png).content == first and results.computed == computed + 1


class SharedModelOnly:
    """A results cache that keeps the run's model (shared, as the real cache shares it) and
    nothing else, so every map is computed again, on whatever model compute_map uses."""

    def __init__(self, results, run) -> None:
        self.pair = views.run_model(run, results)

    def get_or_compute(self, key, compute, nbytes=None, heavy=True):
        return self.pair if key.startswith("model:") else compute()


def test_concurrent_attributions_on_one_shared_model_are_each_right(lab):
    client, run_id = lab
    run = client.app.state.runs.get(run_id)
    shared = SharedModelOnly(client.app.state.results, run)
    data = views.run_data(run)
    inputs = [attribution.Chosen(f"s{i}", data.x_test[i], {"sample": i}) for i in range(6)]
    names = ("saliency", "cam1", "cam2")
    expected = {(i, name): attribution.compute_map(run, shared, inputs[i], i, name).values
                for i in range(6) for name in names}  # fmt: skip
    failures: list[str] = []
    start_together = threading.Barrier(6)

    def student(i: int) -> None:
        start_together.wait()
        for _ in range(15):
            for name in names:
                got = attribution.compute_map(run, shared, inputs[i], i, name).values
                if not np.array_equal(got, expected[(i, name)]):
                    failures.append(f"student {i}, {name}: another request's map")

    threads = [threading.Thread(target=student, args=(i,)) for i in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    assert failures == []


def test_the_forms_blank_hidden_fields_are_no_cell_yet(lab):
    client, run_id = lab
    page = client.get(f"/train/runs/{run_id}/attribution?sample={SAMPLE}&input=&target=7&map="
                      "&row=&col=", headers=HX)  # fmt: skip
    assert page.status_code == 200, page.text[:300]
    assert '<option value="7" selected>' in page.text and 'data-testid="attr-box"' not in page.text


def test_a_dense_network_has_saliency_and_occlusion_and_says_why_no_grad_cam(lab):
    client, _ = lab
    run_id = start(client, "dataset=digits&size=8&preset=mlp&epochs=1&seed=0")
    assert wait(client, run_id) == "finished"
    model, data = own_model(client, run_id)
    page = client.get(f"/train/runs/{run_id}/attribution?sample=2&target=3&map=occlusion"
                      "&row=6&col=6", headers=HX).text  # fmt: skip
    names = re.findall(r'data-testid="attr-map-test-(\w+)"', page)
    assert names == ["saliency", "occlusion"]
    assert 'data-testid="attr-no-cam"' in page
    expected = interpret.occlusion(model, data.x_test[2][None], 3, size=2, stride=1)[0]  # 8 px
    assert cell_value(page) == EN.significant(expected[6, 6], 4)
    assert "a 2×2 patch (stride 1)" in page and "7×7 patches" in page
