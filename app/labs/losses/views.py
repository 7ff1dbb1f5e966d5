"""What the Loss lab's templates get: every measure of the state, and its charts."""

from __future__ import annotations

from app.labs.losses import measures
from app.labs.losses.charts import charts
from app.labs.losses.fields import CLASSES, LossFields
from app.web.numbers import Numbers

PAGE_CONTEXT = {"classes": CLASSES, "saturation_cap": measures.SATURATION_CAP}


def lab_context(state: LossFields, gettext, numbers: Numbers) -> dict:
    measured = {
        "regression": measures.regression(state),
        "bce": measures.bce(state),
        "categorical": measures.categorical(state),
        "table_a": measures.error_table(state.ys, state.pa),
        "table_b": measures.error_table(state.ys, state.pb),
        "coin": measures.coin(state),
        "line": measures.line_fit(state),
        "saturation": measures.saturation(state),
    }
    return {**PAGE_CONTEXT, "state": state, "form": state.form(), "error": None, **measured,
            "charts": charts(gettext, numbers, state, measured)}  # fmt: skip


def error_context(request, error, messages: list[str]) -> dict:
    """The page with the form as the user sent it and the message, no results."""
    form = LossFields.typed(request.query_params, defaults=LossFields())
    return {**PAGE_CONTEXT, "state": None, "form": form, "error": messages}
