"""What a run page shows of its progress: the loss per step and the accuracy per epoch as charts,
and the closing message. The Training and Text labs' run pages share it."""

from __future__ import annotations

import logging
import re

from app.runs.manager import Run
from app.web.charts import Series, line_chart
from app.web.errors import from_engine_error
from app.web.numbers import LocalNumber, Numbers
from engine.errors import EngineError

MAX_POINTS = 400  # per curve: the SVG stays light however long the run
# A run whose test accuracy is below chance (1 / classes) plus this has learned nothing: with
# 359 test digits, chance's own spread is about 1.6 points, so 5 points is well outside it.
CHANCE_MARGIN = 0.05
log = logging.getLogger(__name__)


def run_message(run: Run, gettext) -> str:
    """Why the run ended, in the page's language: the worker sent an English msgid and its
    fields (an engine template, as an EngineError's), translated here."""
    if not run.message:
        return ""
    params = {key: _local(value) for key, value in run.message_params.items()}
    try:
        return from_engine_error(EngineError(run.message, **params)).translated(gettext)
    except (KeyError, TypeError, ValueError):  # a catalog entry that does not fit its fields
        log.exception("Run message %r does not fit its fields", run.message)
        return run.message


DECIMAL = re.compile(r"-?\d+\.\d+(e[-+]?\d+)?|-?\d+e[-+]?\d+")


def _local(value):
    """A decimal the worker wrote as text ("0.5") is written in the page's language ("0,5")."""
    if isinstance(value, float) or (isinstance(value, str) and DECIMAL.fullmatch(value)):
        return LocalNumber(float(value), "short", digits=6)
    return value


def chance_level(run: Run) -> float | None:
    """What guessing scores (1 / classes), when the run finished at about that: it did not learn.
    None for a run that learned, or one that did not finish."""
    classes = run.extra.get("classes") or len(run.extra.get("class_names") or ())
    if run.status != "finished" or run.test_accuracy is None or classes < 2:
        return None
    chance = 1 / classes
    return chance if run.test_accuracy < chance + CHANCE_MARGIN else None


def progress_context(run: Run, gettext, numbers: Numbers) -> dict:
    losses, epochs = run.step_loss, run.epochs  # a snapshot read from the store: no one writes it
    loss_chart = None
    if losses:
        stride = max(1, len(losses) // MAX_POINTS)
        steps = list(range(1, len(losses) + 1))[::stride]
        loss_chart = line_chart(
            [Series(gettext("loss per step"), steps, losses[::stride])],
            x_label=gettext("step"),
            y_label=gettext("loss"),
            title=gettext("Training loss"),
            y_range=(0.0, max(2.5, min(max(losses), 10.0))),
            height=300,
            numbers=numbers,
        )
    accuracy_chart = None
    if epochs:
        xs = [e["epoch"] for e in epochs]
        accuracy_chart = line_chart(
            [
                Series(gettext("train accuracy"), xs, [e["train_accuracy"] for e in epochs]),
                Series(gettext("validation accuracy"), xs, [e["val_accuracy"] for e in epochs]),
            ],
            x_label=gettext("epoch"),
            y_label=gettext("accuracy"),
            title=gettext("Accuracy per epoch"),
            y_range=(0.0, 1.0),
            height=300,
            numbers=numbers,
        )
    config = run.config.get("train", run.config)  # a text run keeps its training settings apart
    return {"run": run, "loss_chart": loss_chart, "accuracy_chart": accuracy_chart,
            "message": run_message(run, gettext), "chance": chance_level(run),
            "run_lr": config.get("lr")}  # fmt: skip
