"""What a run page says about how a run ended, in the page's language: a run that diverged, a run
that failed (and why), and a run that finished without learning anything.

Workers run in other processes and send an English msgid with its fields; the page translates it
when it renders, so the same run reads in English on one page and in Portuguese on another.
"""

import os
from html.parser import HTMLParser

import pytest
from starlette.datastructures import QueryParams
from starlette.testclient import TestClient

from app.config import Settings
from app.labs.training.fields import TrainFields
from app.main import create_app
from app.runs.manager import Run
from app.runs.views import chance_level
from tests.conftest import wait_for_run

PT = {"Accept-Language": "pt-BR"}
EN = {"Accept-Language": "en"}
FORM = {"content-type": "application/x-www-form-urlencoded"}
WORKER = "app.labs.training.worker:run"
# A network with no non-linearity: SGD at learning rate 10 overflows at step 6 (seed 0).
DIVERGES = "size=8&preset=custom&arch=dense+64,+dense+64&optimizer=sgd&lr=10&schedule=constant"
# With ReLUs the same rate kills every unit instead: the run "finishes" at about 10 %.
AT_CHANCE = "size=8&preset=tiny&optimizer=sgd&lr=10&schedule=constant&epochs=2"
LEARNS = "size=8&preset=tiny&epochs=3"


@pytest.fixture
def trainer():
    with TestClient(create_app(Settings(run_workers=2, run_max_seconds=60))) as client:
        yield client


def start(client, query: str) -> str:
    response = client.post("/train/runs", content=query, headers=FORM, follow_redirects=False)
    assert response.status_code == 303, response.text[:500]
    return response.headers["location"].rsplit("/", 1)[1]


class ElementText(HTMLParser):
    """The text inside the first element with a given data-testid, whitespace collapsed."""

    def __init__(self, testid: str) -> None:
        super().__init__()
        self.testid, self.depth, self.parts, self.found = testid, 0, [], False

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif not self.found and dict(attrs).get("data-testid") == self.testid:
            self.depth, self.found = 1, True

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.parts.append(data)


def shown(client, run_id: str, testid: str, headers) -> str:
    """The text of one element of a run's status panel, as the page's reader sees it."""
    parser = ElementText(testid)
    parser.feed(client.get(f"/train/runs/{run_id}/status", headers=headers).text)
    return " ".join("".join(parser.parts).split())


def message(client, run_id: str, headers) -> str:
    return shown(client, run_id, "run-message", headers)


def test_a_diverged_run_reads_in_the_pages_language(trainer):
    run_id = start(trainer, DIVERGES + "&epochs=1")
    assert wait_for_run(trainer, run_id) == "diverged"
    english = message(trainer, run_id, EN)
    assert english == "diverged at step 6: try a smaller learning rate (it was 10)"
    portuguese = message(trainer, run_id, PT)
    assert "passo 6" in portuguese and "taxa de aprendizado" in portuguese, portuguese
    assert "diverged" not in portuguese and "learning rate" not in portuguese


def _raising_worker(config, queue, stop_event, pause_event, max_seconds):
    raise RuntimeError("the disk is on fire")


def _silent_worker(config, queue, stop_event, pause_event, max_seconds):
    os._exit(3)  # ends without a message, as a process killed from outside would


def failed_message(client, run, headers) -> str:
    assert wait_for_run(client, run.id) == "failed"
    return message(client, run.id, headers)


def test_a_failed_run_says_why(trainer):
    runs = trainer.app.state.runs
    raised = runs.start({}, target=_raising_worker)
    text = failed_message(trainer, raised, EN)
    assert text == (
        "The run failed: an unexpected error in the training process "
        "(RuntimeError: the disk is on fire)"
    )
    assert failed_message(trainer, raised, PT).startswith("A execução falhou: um erro inesperado")
    silent = runs.start({}, target=_silent_worker)
    assert "exit code 3" in failed_message(trainer, silent, EN)
    assert "código de saída 3" in failed_message(trainer, silent, PT)


def test_an_engine_error_in_the_worker_is_translated(trainer):
    config = TrainFields.parse(QueryParams("size=8&preset=tiny&epochs=1")).run_config()
    run = trainer.app.state.runs.start(config | {"optimizer": "nope"}, WORKER)
    english = failed_message(trainer, run, EN)
    assert english.startswith("The run failed: Unknown optimizer 'nope': choose one of sgd")
    portuguese = failed_message(trainer, run, PT)
    assert portuguese.startswith("A execução falhou: Otimizador desconhecido 'nope'"), portuguese


def not_learned(client, run_id: str, headers) -> str:
    return shown(client, run_id, "not-learned", headers)


def test_a_run_that_ends_at_chance_is_flagged_with_a_hint(trainer):
    stuck, learned = start(trainer, AT_CHANCE), start(trainer, LEARNS)
    assert wait_for_run(trainer, stuck) == wait_for_run(trainer, learned) == "finished"
    assert trainer.app.state.runs.get(stuck).test_accuracy < 0.15
    english = not_learned(trainer, stuck, EN)
    assert english.startswith("The network has not learned: with 10 classes, guessing scores")
    assert "Try a smaller learning rate (it was 10)" in english
    assert "taxa de aprendizado menor (era 10)" in not_learned(trainer, stuck, PT)
    assert trainer.app.state.runs.get(learned).test_accuracy > 0.5
    assert not_learned(trainer, learned, EN) == ""


@pytest.mark.parametrize(
    ("status", "accuracy", "extra", "chance"),
    [
        ("finished", 0.10, {"classes": 10}, 0.1),
        ("finished", 0.149, {"classes": 10}, 0.1),  # within the margin of guessing
        ("finished", 0.16, {"classes": 10}, None),  # a little better than guessing
        ("finished", 0.97, {"classes": 10}, None),
        ("finished", 0.27, {"classes": 4}, 0.25),  # Shapes
        ("finished", 0.52, {"class_names": ["negative", "positive"]}, 0.5),  # a text run
        ("finished", 0.70, {"class_names": ["negative", "positive"]}, None),
        ("stopped", 0.10, {"classes": 10}, None),  # stopped early: it may not have had time
        ("diverged", None, {"classes": 10}, None),  # says so already
        ("finished", 0.10, {}, None),  # a worker that does not say how many classes
    ],
)
def test_chance_level(status, accuracy, extra, chance):
    run = Run("r", {}, 0.0, status=status, test_accuracy=accuracy, extra=extra)
    assert chance_level(run) == chance


def test_a_decimal_in_a_run_message_is_written_in_the_pages_language():
    from app.runs.views import run_message
    from app.web.numbers import REQUEST_LOCALE

    run = Run(id="r", config={}, created=0.0, status="diverged",
              message="diverged at step %(step)s: try a smaller learning rate (it was %(lr)s)",
              message_params={"step": 12, "lr": "0.5"})  # fmt: skip
    app = create_app(Settings())
    token = REQUEST_LOCALE.set("pt_BR")
    try:
        text = run_message(run, app.state.templates.translations["pt_BR"].gettext)
    finally:
        REQUEST_LOCALE.reset(token)
    assert "(era 0,5)" in text and "12" in text
