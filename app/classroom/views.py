"""What the classroom's templates get: the class bar, questions in the page's language, the
answers' histogram and the class board."""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from html import escape
from urllib.parse import parse_qsl

from markupsafe import Markup
from starlette.datastructures import QueryParams

from app.classroom.classes import Classes, ClassRecord, Question, Student
from app.labs.text.fields import TextTrainFields
from app.labs.training.fields import TrainFields
from app.labs.training.titles import (
    AUGMENT_TITLES,
    DATASET_TITLES,
    OPTIMIZER_TITLES,
    PRESET_TITLES,
    SCHEDULE_TITLES,
)
from app.runs.manager import Run, RunManager
from app.web.charts import Series, line_chart
from app.web.charts.frame import OKABE_ITO
from app.web.i18n import N_
from app.web.numbers import Numbers

HISTOGRAM_BARS = 8  # a number question's answers, in at most this many bins
BOARD_RUNS = 60  # runs on the board, newest first


# --- questions in the page's language ------------------------------------------------------------


def filled(text: str, params: dict, gettext, numbers: Numbers, ready: bool) -> str:
    """A ready-made question's msgid with its fields written in the page's language; the
    teacher's own words are data, shown as typed."""
    if not ready:
        return text
    return gettext(text) % {key: written(value, gettext, numbers) for key, value in params.items()}


def written(value, gettext, numbers: Numbers) -> str:
    if isinstance(value, dict) and "msgid" in value:
        return gettext(value["msgid"])
    if isinstance(value, list):  # [[optimizer, step], ...]
        return "; ".join(
            f"{written(a, gettext, numbers)}: {'—' if b is None else written(b, gettext, numbers)}"
            for a, b in value
        )
    if isinstance(value, bool) or value is None:
        return str(value)
    if isinstance(value, int):
        return numbers.integer(value)
    if isinstance(value, float):
        return numbers.integer(value) if value.is_integer() else numbers.short(value, 6)
    return str(value)


@dataclass
class ShownQuestion:
    question: Question
    text: str
    options: list[str]
    answer_text: str  # the right answer, written in the page's language ("" if none)
    explanation: str


def shown(question: Question, gettext, numbers: Numbers) -> ShownQuestion:
    text = filled(question.text, question.params, gettext, numbers, question.ready)
    options = [filled(o["text"], o.get("params", {}), gettext, numbers, question.ready)
               for o in question.options]  # fmt: skip
    answer = ""
    if question.answer is not None:
        if question.kind == "choice":
            answer = options[int(question.answer)]
        else:
            answer = written(question.answer, gettext, numbers)
    explanation = (
        filled(question.explanation, question.explanation_params, gettext, numbers, True)
        if question.explanation else ""
    )  # fmt: skip
    return ShownQuestion(question, text, options, answer, explanation)


def is_right(question: Question, value: float) -> bool:
    if question.answer is None:
        return False
    return abs(value - question.answer) <= question.tolerance


# --- the answers' histogram ----------------------------------------------------------------------


@dataclass
class Bar:
    label: str
    count: int
    right: bool


def bars(question: Question, answers: list[float], options: list[str], numbers: Numbers):
    """One bar per option; a number question's answers in bins (each distinct answer its own
    bar when there are few)."""
    if question.kind == "choice":
        counts = [0] * len(options)
        for value in answers:
            if 0 <= int(value) < len(counts):
                counts[int(value)] += 1
        answer = int(question.answer) if question.answer is not None else -1
        pairs = enumerate(zip(options, counts, strict=True))
        return [Bar(label, count, index == answer) for index, (label, count) in pairs]
    distinct = sorted(set(answers))
    if len(distinct) <= HISTOGRAM_BARS:
        return [Bar(written(v, None, numbers), answers.count(v),
                    is_right(question, v)) for v in distinct]  # fmt: skip
    low, high = distinct[0], distinct[-1]
    width = (high - low) / HISTOGRAM_BARS
    found = []
    for index in range(HISTOGRAM_BARS):
        start, end = low + index * width, low + (index + 1) * width
        last = index == HISTOGRAM_BARS - 1
        count = sum(1 for v in answers if start <= v < end or (last and v == end))
        right = question.answer is not None and (start <= question.answer < end or
                                                 (last and question.answer == end))  # fmt: skip
        label = f"{numbers.short(start, 3)} – {numbers.short(end, 3)}"
        found.append(Bar(label, count, right))
    return found


def histogram_svg(found: list[Bar], revealed: bool, title: str, count_label: str) -> Markup:
    """Horizontal bars, one row each, their counts at the end; the right answer's bar marked
    once revealed (a colour and a ✓, not colour alone)."""
    row, left, width = 40, 260, 720
    height = 40 + row * max(len(found), 1)
    most = max([bar.count for bar in found] + [1])
    parts = [
        f'<svg class="class-histogram" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<text x="{left}" y="22" class="axis-title">{escape(count_label)}</text>',
    ]
    for index, bar in enumerate(found):
        y = 34 + index * row
        length = (width - left - 70) * bar.count / most
        colour = OKABE_ITO[2] if revealed and bar.right else OKABE_ITO[0]
        mark = " ✓" if revealed and bar.right else ""
        label = bar.label if len(bar.label) <= 30 else bar.label[:29] + "…"
        parts += [
            f'<text x="{left - 10}" y="{y + 22}" text-anchor="end" class="bar-label">'
            f"{escape(label)}{mark}</text>",
            f'<rect x="{left}" y="{y + 4}" width="{length:.1f}" height="{row - 10}" '
            f'fill="{colour}" rx="3"/>',
            f'<text x="{left + length + 8:.1f}" y="{y + 22}" class="bar-count">{bar.count}</text>',
        ]
    parts.append("</svg>")
    return Markup("".join(parts))  # every text in it is escaped above


# --- the class board -----------------------------------------------------------------------------


@dataclass
class BoardRun:
    nickname: str  # data: escaped by the template
    run: Run
    changes: list[str]  # what differs from the preset's defaults


# What the Training form's choices are called where a student picks them (msgids), by query key:
# the board names a choice as the form does, not by its value in the URL ("sgd", "scale").
CHOICE_TITLES = {
    "dataset": DATASET_TITLES,
    "preset": PRESET_TITLES,
    "optimizer": OPTIMIZER_TITLES,
    "schedule": SCHEDULE_TITLES,
    "aug": AUGMENT_TITLES,
}


def choice_text(key: str, value, gettext) -> str:
    """A choice (or a list of them, as the augmentations) by its translated title."""
    if isinstance(value, bool):  # a ticked box ("Batch norm on"), not Python's True
        return gettext(N_("on") if value else N_("off"))
    titles = CHOICE_TITLES.get(key, {})
    values = value if isinstance(value, list) else [value]
    return " + ".join(gettext(titles[v]) if v in titles else str(v) for v in values)


def changes_from_preset(run: Run, gettext, numbers: Numbers) -> list[str]:
    """ "Learning rate 0,01", "Epochs 3": the run's settings that differ from what its lab
    starts with (for a preset model, that preset's defaults)."""
    kind = run.config.get("kind", "image")
    query = run.config.get("query", "")
    model = TextTrainFields if kind == "text" else TrainFields
    try:
        chosen = model.parse(QueryParams(query))
        base = model.parse(QueryParams({"preset": chosen.preset} if kind == "image" else {}))
    except Exception:  # a run from an older form: its settings are still on its own page
        return []
    typed, defaults = dict(parse_qsl(chosen.query())), dict(parse_qsl(base.query()))
    changes = []
    for name, info in type(chosen).model_fields.items():
        key = info.alias or name
        if key in typed and typed[key] != defaults.get(key) and key != "arch":
            value = getattr(chosen, name)
            if isinstance(value, int | float) and not isinstance(value, bool):
                text = written(value, gettext, numbers)
            else:
                text = choice_text(key, value, gettext)
            label = gettext(info.title) if info.title else key
            changes.append(f"{label} {text}")
    if kind == "image" and chosen.preset == "custom":
        changes.append(gettext("own layers"))
    return changes


def board_runs(classes: Classes, runs: RunManager, record: ClassRecord, gettext, numbers):
    """The runs each student started since joining (their browser's own runs, app.runs.owner),
    newest first."""
    found = []
    for student in classes.students(record.code):
        if not student.owner:
            continue
        own = runs.store.zrange(f"owner:{student.owner}", low=student.joined, newest_first=True)
        for run_id, _ in own[:BOARD_RUNS]:
            run = runs.get(run_id)
            if run is not None:
                found.append(
                    BoardRun(student.nickname, run, changes_from_preset(run, gettext, numbers))
                )
    found.sort(key=lambda item: item.run.created, reverse=True)
    return found[:BOARD_RUNS]


def board_context(found: list[BoardRun], gettext, numbers: Numbers) -> dict:
    ranked = sorted((b for b in found if b.run.test_accuracy is not None),
                    key=lambda b: -(b.run.test_accuracy or 0.0))  # fmt: skip
    curves = [
        Series(
            f"{b.nickname} · #{b.run.seq}",
            [e["epoch"] for e in b.run.epochs],
            [e["val_accuracy"] for e in b.run.epochs],
        )
        for b in found
        if b.run.epochs
    ][: len(OKABE_ITO)]
    chart = None
    if curves:
        chart = line_chart(curves, gettext("epoch"), gettext("validation accuracy"),
                           gettext("Validation accuracy per epoch, every run"),
                           y_range=(0.0, 1.0), height=320 + 18 * len(curves),
                           numbers=numbers)  # fmt: skip
    compare = [b.run.id for b in found if b.run.config.get("kind", "image") == "image"][:6]
    return {"board": found, "ranked": ranked, "overlay": chart,
            "compare_query": "&".join(f"run={i}" for i in compare) if len(compare) >= 2 else "",
            "any_active": any(b.run.active for b in found)}  # fmt: skip


def minutes_left(record: ClassRecord) -> int:
    return max(0, math.ceil((record.expires - time.time()) / 60))


@dataclass
class ClassBar:
    """What base.html shows of the class the browser is in (None: not in one)."""

    code: str
    role: str  # "teacher" or "student"
    following: bool = True
    student: Student | None = None
    students: int = 0
    question: ShownQuestion | None = None
