"""What a run page shows of its progress: the loss per step and the accuracy per epoch as charts,
and the closing message. The Training and Text labs' run pages share it."""

from __future__ import annotations

from app.runs.manager import Run
from app.web.charts import Series, line_chart

MAX_POINTS = 400  # per curve: the SVG stays light however long the run


def progress_context(run: Run, gettext) -> dict:
    with run.lock:
        losses = list(run.step_loss)
        epochs = list(run.epochs)
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
        )
    message = run.message
    if message.startswith("limit:"):
        message = gettext("Stopped at the time limit of %(s)s seconds per run.") % {
            "s": message.split(":", 1)[1]
        }
    return {"run": run, "loss_chart": loss_chart, "accuracy_chart": accuracy_chart,
            "message": message}  # fmt: skip
