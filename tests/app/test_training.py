"""The Training lab over HTTP: setup, runs in worker processes, looking inside, export, limits."""

import ast
import base64
import io
import re
import time

import numpy as np
import pytest
from PIL import Image, ImageDraw
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.app.conftest import HX, HX_CONTROLS

QUICK = "dataset=digits&size=8&preset=tiny&epochs=3&batch=32&seed=0"


def start(client, query: str = QUICK) -> str:
    response = client.post("/train/runs", content=query,
                           headers={"content-type": "application/x-www-form-urlencoded"},
                           follow_redirects=False)  # fmt: skip
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"].rsplit("/", 1)[1]


def wait(client, run_id: str, timeout: float = 60) -> str:
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = client.app.state.runs.get(run_id)
        if run is None:
            return "expired"
        if not run.active:
            return run.status
        time.sleep(0.1)
    raise AssertionError("the run did not finish in time")


@pytest.fixture
def trainer():
    with TestClient(create_app(Settings(run_workers=2, run_max_seconds=60))) as client:
        yield client


def test_setup_page_shows_summary_and_preview(client):
    html = client.get("/train?dataset=digits&size=16&preset=lenet").text
    assert 'data-testid="train-total">44,426<' in html
    assert "conv 6 5x5 same" in html and "dense 10" in html
    assert "/train/preview.png?" in html
    fragment = client.get("/train?dataset=shapes&preset=tiny", headers=HX)
    assert fragment.text.lstrip().startswith('<div id="lab"')
    assert "dataset=shapes" in fragment.headers["HX-Push-Url"]


def test_editing_the_layers_switches_to_custom(client):
    html = client.get("/train?preset=lenet&arch_for=lenet&arch=conv+4+3x3+same,+pool+2").text
    assert 'value="custom" selected' in html
    assert "conv 4 3x3 same" in html and "dense 10" in html  # the output layer is appended
    # Choosing another preset replaces the text, even though the old text came along.
    html = client.get("/train?preset=mlp&arch_for=lenet&arch=conv+4+3x3+same,+pool+2").text
    assert 'value="mlp" selected' in html and "dense 115" in html


def test_batchnorm_toggle_inserts_layers(client):
    html = client.get("/train?size=8&preset=tiny&bn=1").text
    assert html.count("<code>batchnorm</code>") == 2


def test_preview_and_augmentation_pngs(client):
    grid = np.asarray(Image.open(io.BytesIO(client.get("/train/preview.png?size=8").content)))
    assert grid.shape == (16, 80)  # two 8×8 digits per class, ten classes
    aug = client.get("/train/augment.png?size=16&aug=shift&aug=rotate")
    assert np.asarray(Image.open(io.BytesIO(aug.content))).shape == (4 * 17 - 1, 6 * 17 - 1)


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("lr=0", "Learning rate must be between"),
        ("lr=-1", "Learning rate must be between"),
        ("lr=nan", "Learning rate must be a finite number"),
        ("epochs=1000000000", "Epochs must be between 1 and 50"),
        ("batch=0", "Batch size must be between 1 and 512"),
        ("dataset=imagenet", "Dataset must be one of"),
        ("preset=resnet", "Model must be one of"),
        ("size=12", "8, 16 or 28"),
        ("aug=blur", "Unknown augmentation"),
        ("preset=custom&arch=conv+6+5x5,+pool+2,+conv+16+9x9&size=8", "Layer 3 (conv 16 9x9)"),
        ("preset=custom&arch=conv+6+5y5", "expected a kernel size"),
        ("preset=custom&arch=dense+5000,+dense+5000", "limited to 300,000"),
    ],
)
def test_bad_settings(client, query, message):
    page = client.get(f"/train?{query}")
    assert page.status_code == 400
    assert message in page.text and 'id="controls"' in page.text
    fragment = client.get(f"/train?{query}", headers=HX_CONTROLS)
    assert fragment.status_code == 400 and fragment.headers["HX-Retarget"] == "#controls-error"
    form = {"content-type": "application/x-www-form-urlencoded"}
    assert client.post("/train/runs", content=query, headers=form).status_code == 400


def test_unknown_or_expired_run_is_404(client):
    for path in ("/train/runs/nope", "/train/runs/nope/status", "/train/runs/nope/inside"):
        response = client.get(path)
        assert response.status_code == 404
        assert "never existed or has expired" in response.text


def test_a_run_trains_reports_and_opens_up(trainer):
    run_id = start(trainer)
    html = trainer.get(f"/train/runs/{run_id}").text
    assert 'data-testid="run-name">Run #' in html and 'id="run-status"' in html
    assert wait(trainer, run_id) == "finished"
    status = trainer.get(f"/train/runs/{run_id}/status").text
    accuracy = float(re.search(r'data-testid="test-accuracy">([\d.]+)%', status).group(1))
    assert 50 < accuracy <= 100
    assert "<polyline" in status and 'hx-trigger="load delay' not in status  # polling stopped
    inside = trainer.get(f"/train/runs/{run_id}/inside?sample=3").text
    assert 'data-testid="confusion"' in inside and 'data-testid="probabilities"' in inside
    counts = [
        int(v) for v in re.findall(r'<td class="(?:diag|off|)" style="--v: [\d.]+">(\d+)<', inside)
    ]
    assert sum(counts) == 359  # every test image lands in one cell
    layer = trainer.get(f"/train/runs/{run_id}/layer.png?sample=3&layer=1&channel=0")
    assert np.asarray(Image.open(io.BytesIO(layer.content))).shape[:2] == (8, 8)
    filters = trainer.get(f"/train/runs/{run_id}/filters.png")
    assert filters.status_code == 200


def test_export_parses_and_names_the_layers(trainer):
    run_id = start(trainer, "size=16&preset=lenet&epochs=1&bn=1")
    wait(trainer, run_id)
    keras = trainer.get(f"/train/runs/{run_id}/export?framework=keras").text
    torch = trainer.get(f"/train/runs/{run_id}/export?framework=pytorch").text
    ast.parse(keras)
    ast.parse(torch)
    assert "layers.Conv2D(6, (5, 5)" in keras and "layers.Dense(120)" in keras
    assert "keras.Input(shape=(16, 16, 1))" in keras and "BatchNormalization" in keras
    assert "nn.Conv2d(1, 6, kernel_size=(5, 5)" in torch and "nn.Linear(256, 120)" in torch
    assert "nn.BatchNorm2d(6" in torch and "nn.BatchNorm1d(120" in torch
    weights = np.load(io.BytesIO(trainer.get(f"/train/runs/{run_id}/weights.npz").content))
    assert weights["0.weight"].shape == (6, 1, 5, 5)
    assert trainer.get(f"/train/runs/{run_id}/export?framework=jax").status_code == 400


def drawing_png(blank: bool = False) -> str:
    image = Image.new("RGB", (224, 224), "white")
    if not blank:
        ImageDraw.Draw(image).line([(112, 40), (112, 190)], fill="black", width=18)  # a "1"
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def test_drawing_is_prepared_and_predicted(trainer):
    run_id = start(trainer, "size=8&preset=tiny&epochs=3&seed=1")
    wait(trainer, run_id)
    response = trainer.post(f"/train/runs/{run_id}/predict", data={"drawing": drawing_png()},
                            headers=HX)  # fmt: skip
    assert response.status_code == 200
    assert "cropped to the ink" in response.text
    assert re.search(r'data-testid="predicted-class">\d<', response.text)
    blank = trainer.post(f"/train/runs/{run_id}/predict", data={"drawing": drawing_png(True)},
                         headers={**HX, "X-Error-Target": "#predict-error"})  # fmt: skip
    assert blank.status_code == 400 and "blank" in blank.text
    assert blank.headers["HX-Retarget"] == "#predict-error"
    junk = trainer.post(f"/train/runs/{run_id}/predict",
                        files={"image": ("x.png", b"not an image", "image/png")})  # fmt: skip
    assert junk.status_code == 415


def test_stop_frees_the_slots_and_more_runs_wait_their_turn(trainer):
    slow = "size=28&preset=lenet&epochs=50&batch=8"
    first, second = start(trainer, slow), start(trainer, slow)
    third = start(trainer, QUICK)  # both slots are taken: it waits, it is not refused
    deadline = time.time() + 30
    while time.time() < deadline and trainer.app.state.runs.get(second).status == "queued":
        time.sleep(0.05)
    assert trainer.app.state.runs.get(third).status == "queued"
    for run_id in (first, second):
        assert trainer.post(f"/train/runs/{run_id}/stop", headers=HX).status_code == 200
    assert wait(trainer, first, timeout=10) == "stopped"
    assert wait(trainer, second, timeout=10) == "stopped"
    assert wait(trainer, third) == "finished"  # the freed slot took the next in line


def test_pause_and_resume(trainer):
    run_id = start(trainer, "size=28&preset=lenet&epochs=50&batch=8")
    runs = trainer.app.state.runs
    deadline = time.time() + 30
    while runs.get(run_id).steps_done < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert "Resume" in trainer.post(f"/train/runs/{run_id}/pause", headers=HX).text
    time.sleep(0.8)
    paused_at = runs.get(run_id).steps_done
    time.sleep(0.8)
    assert runs.get(run_id).steps_done <= paused_at + 1  # at most the step in flight
    assert runs.get(run_id).status == "paused"
    trainer.post(f"/train/runs/{run_id}/resume", headers=HX)
    assert runs.get(run_id).status == "running"
    time.sleep(0.8)
    assert runs.get(run_id).steps_done > paused_at + 1  # it trains again
    trainer.post(f"/train/runs/{run_id}/stop", headers=HX)
    assert wait(trainer, run_id, timeout=10) == "stopped"


def test_finished_runs_expire():
    with TestClient(create_app(Settings(run_ttl_seconds=0))) as client:
        run_id = start(client)
        wait(client, run_id)
        time.sleep(0.05)
        assert client.get(f"/train/runs/{run_id}").status_code == 404


def test_compare_names_what_differs(trainer):
    a = start(trainer, QUICK)
    wait(trainer, a)
    b = start(trainer, QUICK.replace("preset=tiny", "preset=mlp"))
    wait(trainer, b)
    html = trainer.get(f"/train/compare?run={a}&run={b}").text
    assert "Tiny CNN" in html and "MLP baseline" in html
    assert html.count('<svg class="chart"') == 3  # accuracy, loss, shifted test images
    assert html.count('class="histogram"') == 2 * 4  # before training + 3 epochs, per run
    assert trainer.get(f"/train/compare?run={a}").status_code == 400
    assert trainer.get(f"/train/compare?run={a}&run=zzz").status_code == 404


def test_diverging_run_shows_the_message(trainer):
    run_id = start(trainer, "size=16&preset=lenet&optimizer=sgd&lr=10&schedule=constant&epochs=3")
    status = wait(trainer, run_id)
    html = trainer.get(f"/train/runs/{run_id}/status").text
    if status == "diverged":
        assert "diverged at step" in html and "try a smaller learning rate" in html
    else:  # dead ReLUs can stall instead of overflowing: still a finished run with a score
        assert status == "finished"


def test_ready_made_shift_experiment_starts_two_runs(trainer):
    response = trainer.post("/train/experiments/shift", follow_redirects=False)
    assert response.status_code == 303
    ids = re.findall(r"run=(\w+)", response.headers["location"])
    assert len(ids) == 2
    configs = [trainer.app.state.runs.get(run_id).config for run_id in ids]
    assert {c["model"] for c in configs} == {"lenet", "mlp"}
    page = trainer.get(response.headers["location"]).text
    assert "Still training" in page and 'hx-trigger="load delay:1s"' in page
    for run_id in ids:
        trainer.post(f"/train/runs/{run_id}/stop")
        wait(trainer, run_id, timeout=10)


def test_text_runs_are_not_image_runs(trainer):
    text_run = trainer.app.state.runs.start({"kind": "text"}, target=_idle_worker)
    assert trainer.get(f"/train/runs/{text_run.id}").status_code == 404
    assert trainer.get(f"/train/runs/{text_run.id}/export").status_code == 404
    assert text_run.id not in trainer.get("/train").text
    trainer.app.state.runs.stop(text_run)


def _idle_worker(config, queue, stop_event, pause_event, max_seconds):
    stop_event.wait(5)
    queue.put(("done", {"status": "stopped", "message": "", "test_accuracy": None,
                        "test_loss": None, "seconds": 0.0, "state": None}))  # fmt: skip


def test_finished_run_says_how_many_test_images(trainer):
    run_id = start(trainer)
    wait(trainer, run_id)
    assert "on 359 images it never trained on" in trainer.get(f"/train/runs/{run_id}/status").text


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        ("up:1", "pool 2, conv 4 3x3 same, dense 16"),
        ("down:0", "pool 2, conv 4 3x3 same, dense 16"),
        ("remove:2", "conv 4 3x3 same, pool 2"),
        ("up:0", "conv 4 3x3 same, pool 2, dense 16"),  # the first stays first
        ("add&add_kind=dropout", "conv 4 3x3 same, pool 2, dense 16, dropout 0.25"),
    ],
)
def test_layer_editor_buttons(client, edit, expected):
    query = f"size=8&preset=custom&arch=conv+4+3x3+same,+pool+2,+dense+16&edit={edit}"
    response = client.get(f"/train?{query}", headers=HX)
    assert response.status_code == 200
    assert f'name="arch" rows="4" spellcheck="false">{expected}</textarea>' in response.text
    assert "edit=" not in response.headers["HX-Push-Url"]
    plain = client.get(f"/train?{query}", follow_redirects=False)
    assert plain.status_code == 303 and "edit=" not in plain.headers["location"]


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        ("remove:9", "no layer 10"),
        ("spin:1", "Unknown layer edit"),
        ("add&add_kind=lstm", "Unknown layer kind"),
    ],
)
def test_layer_editor_refuses_nonsense(client, edit, message):
    response = client.get(f"/train?size=8&preset=tiny&edit={edit}", headers=HX_CONTROLS)
    assert response.status_code == 400 and message in response.text
