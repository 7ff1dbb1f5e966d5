"""Confidence that means something, in the Training lab over HTTP: the softmax at a temperature,
the reliability diagram of a finished run, the warning for pictures unlike the training digits,
and the test-set evaluation computed once per run and kept in the store."""

import io
import math
import pickle
import re
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from starlette.testclient import TestClient

from app.config import Settings
from app.labs.training import confidence, views
from app.main import create_app
from app.runs import record
from engine import calibration
from tests.app.conftest import HX
from tests.app.test_training import drawing_png, start, wait

# 16-pixel digits, where a photo shrunk to the input still looks like a photo to the network.
RUN = "dataset=digits&size=16&preset=lenet&epochs=3&seed=0"
COFFEE = (Path(__file__).parents[2] / "static" / "samples" / "coffee.png").read_bytes()
PREDICT_ERRORS = {**HX, "X-Error-Target": "#predict-error"}


@pytest.fixture(scope="module")
def trained():
    """One finished LeNet run for the whole module: (client, run id)."""
    with TestClient(create_app(Settings(run_workers=1, run_max_seconds=60))) as client:
        run_id = start(client, RUN)
        assert wait(client, run_id) == "finished"
        yield client, run_id


def run_logits(client, run_id):
    """The run's test logits, rebuilt from its weights the long way round (no cache)."""
    run = client.app.state.runs.get(run_id)
    model, _ = views.run_model(run, client.app.state.results)
    data = views.run_data(run)
    return model.forward(data.x_test, training=False).astype(np.float64), data


def percents(text: str) -> list[float]:
    return [float(v) for v in re.findall(r'class="bar-value">([\d.]+)%<', text)]


def shown_logits(text: str) -> list[float]:
    return [float(v) for v in re.findall(r'class="bar-logit">z = (-?[\d.]+)<', text)]


def test_the_test_image_is_shown_at_the_chosen_temperature(trained):
    client, run_id = trained
    page = client.get(f"/train/runs/{run_id}/inside?sample=5&temperature=2.5").text
    logits, data = run_logits(client, run_id)
    z = logits[5]
    assert shown_logits(page) == pytest.approx(np.round(z, 2).tolist(), abs=0.006)
    # The bars are softmax(z / 2.5), written to one decimal.
    want = calibration.softmax_at(z, 2.5) * 100
    assert percents(page) == pytest.approx(want.round(1).tolist(), abs=0.051)
    sentence = re.search(r'data-testid="temperature-sentence">([^<]*)<', page).group(1)
    top = int(z.argmax())
    at_t = f"{calibration.softmax_at(z, 2.5)[top] * 100:.1f}".rstrip("0").rstrip(".")
    at_1 = f"{calibration.softmax_at(z, 1.0)[top] * 100:.1f}".rstrip("0").rstrip(".")
    assert "At temperature 2.5 every logit is divided by 2.5" in sentence
    assert f"the top class, {data.class_names[top]}, gets {at_t}% instead of {at_1}%" in sentence
    assert 'value="2.5"' in page  # the control shows what was asked
    plain = client.get(f"/train/runs/{run_id}/inside?sample=5").text
    assert "At temperature 1 this is the plain softmax" in plain
    assert percents(plain) == pytest.approx((calibration.softmax_at(z, 1) * 100).round(1).tolist(),
                                            abs=0.051)  # fmt: skip


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("20", "Temperature must be between 0.25 and 10 (got 20)."),
        ("0.1", "Temperature must be between 0.25 and 10 (got 0.1)."),
        ("0", "Temperature must be between 0.25 and 10 (got 0)."),
        ("abc", "Temperature must be a finite number (got &#39;abc&#39;)."),
        ("<b>hot</b>", "a finite number (got &#39;&lt;b&gt;hot&lt;/b&gt;&#39;)"),
    ],
)
def test_a_temperature_out_of_range_is_told_next_to_its_control(trained, value, message):
    client, run_id = trained
    inside = client.get(f"/train/runs/{run_id}/inside", params={"temperature": value},
                        headers={**HX, "X-Error-Target": "#inside-error"})  # fmt: skip
    assert inside.status_code == 422 and message in inside.text
    assert 'data-control="temperature"' in inside.text
    assert inside.headers["HX-Retarget"] == "#inside-error"
    predicted = client.post(f"/train/runs/{run_id}/predict",
                            data={"drawing": drawing_png(), "temperature": value},
                            headers=PREDICT_ERRORS)  # fmt: skip
    assert predicted.status_code == 422 and message in predicted.text
    assert predicted.headers["HX-Retarget"] == "#predict-error"
    assert "<b>hot</b>" not in predicted.text


def test_a_decimal_comma_is_a_temperature_too(trained):
    client, run_id = trained
    response = client.post(
        f"/train/runs/{run_id}/predict",
        data={"drawing": drawing_png(), "temperature": "0,5"},
        headers=HX,
    )
    assert response.status_code == 200
    assert "At temperature 0.5 every logit is divided by 0.5" in response.text
    assert "T = 0.5)" in response.text  # beside the prediction itself


def test_reliability_diagram_numbers_match_the_engine(trained):
    client, run_id = trained
    page = client.get(f"/train/runs/{run_id}/inside?sample=0").text
    logits, data = run_logits(client, run_id)
    table = calibration.reliability(calibration.softmax_at(logits, 1.0), data.y_test, 10)
    best = calibration.best_temperature(logits, data.y_test)
    fitted = calibration.reliability(calibration.softmax_at(logits, best), data.y_test, 10)
    plain_part = page.split('data-testid="reliability-plain"')[1].split("</figure>")[0]
    fitted_part = page.split('data-testid="reliability-fitted"')[1].split("</figure>")[0]
    counts = [int(v) for v in re.findall(r'data-bin-count="(\d+)"', plain_part)]
    assert counts == table.counts.tolist() and sum(counts) == 359
    ece = float(re.search(r'data-testid="ece">([\d.]+)%', plain_part).group(1))
    assert ece == pytest.approx(table.ece * 100, abs=0.051)
    ece_fitted = float(re.search(r'data-testid="ece">([\d.]+)%', fitted_part).group(1))
    assert ece_fitted == pytest.approx(fitted.ece * 100, abs=0.051)
    assert f"T = {best:.2f}".rstrip("0").rstrip(".") in fitted_part
    assert plain_part.count('class="reliability-bar"') == int((table.counts > 0).sum())
    stated = re.search(r"is T = ([\d.]+), with an NLL of ([\d.]+) against ([\d.]+)", page)
    assert float(stated.group(1)) == pytest.approx(best, abs=0.006)
    assert float(stated.group(2)) == pytest.approx(calibration.nll(logits, data.y_test, best),
                                                   abs=0.0006)  # fmt: skip
    assert float(stated.group(3)) == pytest.approx(calibration.nll(logits, data.y_test, 1.0),
                                                   abs=0.0006)  # fmt: skip
    assert float(stated.group(2)) <= float(stated.group(3))
    # At another temperature, its ECE is stated as well.
    hot = client.get(f"/train/runs/{run_id}/inside?sample=0&temperature=3").text
    chosen = calibration.reliability(calibration.softmax_at(logits, 3.0), data.y_test, 10).ece
    said = re.search(r"At your temperature, 3, the ECE is ([\d.]+)%", hot).group(1)
    assert float(said) == pytest.approx(chosen * 100, abs=0.051)


def test_a_photo_gets_the_warning_and_a_real_test_digit_does_not(trained):
    client, run_id = trained
    photo = client.post(
        f"/train/runs/{run_id}/predict",
        files={"image": ("coffee.png", COFFEE, "image/png")},
        headers=HX,
    )
    assert photo.status_code == 200
    warning = re.search(r'data-testid="ood-warning">(.*?)</p>', photo.text, re.S).group(1)
    assert "This picture looks nothing like the digits this network was trained on: its " \
           "prediction means little." in warning  # fmt: skip
    score = float(re.search(r"Its unfamiliarity is ([\d.]+)", warning).group(1))
    assert score > confidence.WARN_AT
    # Every test image, as the page shows it, is familiar; so is the one shown now.
    inside = client.get(f"/train/runs/{run_id}/inside?sample=7").text
    assert 'data-testid="ood-warning"' not in inside
    assert re.search(r'data-testid="familiarity">Unfamiliarity ([\d.]+)', inside)
    summary = re.search(r'data-testid="test-familiarity">([^<]*)', inside).group(1)
    assert "of the 359 test images" in summary and "; 0 of them above the warning level" in summary
    # The per-layer numbers behind the score: distance / the training images' 99.5th percentile.
    rows = re.findall(r"<td>([\d.]+)</td><td>([\d.]+)</td><td>([\d.]+)</td></tr>",
                      photo.text.split('data-testid="familiarity-layers"')[1])  # fmt: skip
    assert len(rows) == 11  # every LeNet layer but the Flatten
    for distance, edge, ratio in rows:
        assert float(ratio) == pytest.approx(float(distance) / float(edge), abs=0.02)


def test_a_test_digit_sent_as_a_picture_is_familiar(trained):
    client, run_id = trained
    data = views.run_data(client.app.state.runs.get(run_id))
    buffer = io.BytesIO()
    Image.fromarray((data.x_test[0, 0] * 255).astype(np.uint8)).save(buffer, format="PNG")
    response = client.post(f"/train/runs/{run_id}/predict",
                           files={"image": ("digit.png", buffer.getvalue(), "image/png")},
                           headers=HX)  # fmt: skip
    assert response.status_code == 200
    assert 'data-testid="ood-warning"' not in response.text
    score = float(re.search(r'data-testid="familiarity">Unfamiliarity ([\d.]+)', response.text)
                  .group(1))  # fmt: skip
    assert score < confidence.WARN_AT


def test_the_evaluation_is_computed_once_and_kept_with_the_run(trained, monkeypatch):
    client, run_id = trained
    calls = []
    compute = confidence.compute

    def counted(model, data):
        calls.append(1)
        return compute(model, data)

    monkeypatch.setattr(confidence, "compute", counted)
    key = record.key(run_id, confidence.EVALUATION_PART)
    client.app.state.runs.store.delete(key)
    # Web processes of the same server: each has its own cache, all share the store.
    settings = Settings(data_dir=client.app.state.settings.data_dir, run_workers=0)
    with TestClient(create_app(settings)) as web:
        first = web.get(f"/train/runs/{run_id}/inside?sample=1").text
        assert len(calls) == 1 and web.app.state.runs.store.get(key) is not None
        second = web.get(f"/train/runs/{run_id}/inside?sample=2&temperature=2").text
        web.post(f"/train/runs/{run_id}/predict", data={"drawing": drawing_png()}, headers=HX)
        web.get(f"/train/runs/{run_id}/inside?sample=1")
        assert len(calls) == 1  # a second look, another image and a drawing compute nothing
    matrix = re.findall(r'style="--v: [\d.]+">(\d+)<', first)
    assert len(matrix) == 100 and matrix == re.findall(r'style="--v: [\d.]+">(\d+)<', second)
    shifted = re.search(r'data-testid="shifted">.*?</table>', first, re.S).group(0)
    assert shifted in second
    with TestClient(create_app(settings)) as other_web:
        third = other_web.get(f"/train/runs/{run_id}/inside?sample=1").text
    assert len(calls) == 1  # read from the store
    bins = re.findall(r'data-bin-count="(\d+)"', first)
    assert bins and re.findall(r'data-bin-count="(\d+)"', third) == bins


def test_the_kept_evaluation_matches_a_fresh_one(trained):
    client, run_id = trained
    run = client.app.state.runs.get(run_id)
    kept = confidence._loads(client.app.state.runs.store.get(
        record.key(run_id, confidence.EVALUATION_PART)) or b"")  # fmt: skip
    model, _ = views.run_model(run, client.app.state.results)
    data = views.run_data(run)
    fresh = confidence.compute(model, data)
    np.testing.assert_array_equal(kept.matrix, fresh.matrix)
    assert kept.matrix.sum() == 359 and np.trace(kept.matrix) / 359 == pytest.approx(
        kept.shifted[0]
    )
    assert kept.shifted == fresh.shifted
    np.testing.assert_allclose(kept.logits, fresh.logits, rtol=1e-6)
    assert math.isclose(kept.best_temperature, fresh.best_temperature, rel_tol=1e-9)
    assert [layer.index for layer in kept.reference.layers] == [0, 1, 2, 3, 4, 5, 7, 8, 9, 10, 11]


def test_an_expired_run_takes_its_evaluation_along():
    with TestClient(create_app(Settings(run_workers=1, run_max_seconds=60))) as client:
        run_id = start(client, "dataset=digits&size=8&preset=tiny&epochs=1&seed=0")
        assert wait(client, run_id) == "finished"
        assert client.get(f"/train/runs/{run_id}/inside").status_code == 200
        store = client.app.state.runs.store
        key = record.key(run_id, confidence.EVALUATION_PART)
        assert store.get(key) is not None
        client.app.state.runs.max_runs = 0  # past the number of runs kept: the oldest go
        client.app.state.runs.runs("image")
        assert store.get(key) is None


@pytest.mark.parametrize(("width", "height"), [(14, 25), (2000, 60)])
def test_tiny_and_banner_pictures_get_their_confidence_too(trained, width, height):
    client, run_id = trained
    image = Image.new("L", (width, height), 255)
    image.paste(0, (width // 4, height // 4, width // 2, height * 3 // 4))  # a dark block
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    response = client.post(f"/train/runs/{run_id}/predict",
                           files={"image": ("odd.png", buffer.getvalue(), "image/png")},
                           data={"temperature": "4"}, headers=PREDICT_ERRORS)  # fmt: skip
    assert response.status_code == 200, response.text[:300]
    assert len(percents(response.text)) == 10
    assert sum(percents(response.text)) == pytest.approx(100, abs=0.6)
    assert re.search(r"Unfamiliarity ([\d.]+)|Its unfamiliarity is ([\d.]+)", response.text)


def test_an_unreadable_kept_evaluation_is_computed_again(trained):
    client, run_id = trained
    key = record.key(run_id, confidence.EVALUATION_PART)
    settings = Settings(data_dir=client.app.state.settings.data_dir, run_workers=0)
    for kept in (b"not a pickle", pickle.dumps({"version": -1})):
        client.app.state.runs.store.set(key, kept)
        with TestClient(create_app(settings)) as web:
            page = web.get(f"/train/runs/{run_id}/inside?sample=4")
            assert page.status_code == 200 and 'data-testid="reliability"' in page.text
            assert confidence._loads(web.app.state.runs.store.get(key)) is not None
