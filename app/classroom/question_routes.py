"""The classroom's questions: the teacher asks about the current view (ready-made with computed
answers, or their own), the students answer once, the answers arrive as a histogram, and the
teacher reveals the answer."""

from __future__ import annotations

import re

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from app.classroom import views
from app.classroom.access import (
    classes_of,
    find_class,
    require_student,
    require_teacher,
)  # fmt: skip
from app.classroom.classes import Question
from app.classroom.questions import lab_of, ready_questions
from app.classroom.routes import (
    MAX_OPTION,
    MAX_OPTIONS,
    MAX_QUESTION,
    MIN_OPTIONS,
    _back,
    _form,
    _page,
)
from app.media.deps import media_of
from app.web.deps import templates_of
from app.web.errors import UserError, UserErrors
from app.web.fields import parse_number
from app.web.i18n import N_
from app.web.numbers import DECIMAL_COMMA_LOCALES
from app.web.templating import is_htmx, request_locale

router = APIRouter()

# --- questions -----------------------------------------------------------------------------------


@router.get("/class/{code}/ask", response_class=HTMLResponse)
def ask_page(request: Request, code: str) -> Response:
    record = find_class(request, code)
    require_teacher(request, record)
    return _page(request, "classroom/ask.html", _ask_context(request, record, {}, []))


def _ask_context(request: Request, record, typed: dict, errors: list) -> dict:
    templates = templates_of(request)
    gettext, numbers = templates.gettext(request), templates.numbers(request)
    live = classes_of(request).live(record.code)
    view = live.view if live is not None else ""
    ready = ready_questions(view, media_of(request)) if view else []
    shown = [(item.key, views.shown(item.question, gettext, numbers)) for item in ready]
    placed = {control: text for control, text in errors}
    return {"record": record, "view": view, "lab": lab_of(view) if view else None,
            "ready": shown, "typed": typed, "errors": placed,
            "max_question": MAX_QUESTION, "max_options": MAX_OPTIONS}  # fmt: skip


def custom_question(form: dict[str, str]) -> Question:
    """The teacher's own question from the form, or UserErrors next to its fields."""
    errors = []
    text = " ".join(form.get("text", "").split())
    if not text:
        errors.append(UserError(N_("Write the question.")).at("text"))
    elif len(text) > MAX_QUESTION:
        errors.append(UserError(N_("A question has at most %(n)s characters."),
                                n=MAX_QUESTION).at("text"))  # fmt: skip
    kind = form.get("kind", "choice")
    options: list[str] = []
    answer: float | None = None
    if kind == "number":
        typed = form.get("number_answer", "").strip()
        if typed:
            answer = parse_number(typed.replace(",", ".") if typed.count(",") == 1 else typed)
            if answer is None or answer != answer or abs(answer) == float("inf"):
                errors.append(UserError(N_("The answer '%(text)s' is not a number."),
                                        text=typed[:20]).at("number_answer"))  # fmt: skip
                answer = None
    elif kind == "choice":
        options = [" ".join(line.split()) for line in form.get("options", "").splitlines()]
        options = [o for o in options if o]
        if not MIN_OPTIONS <= len(options) <= MAX_OPTIONS:
            errors.append(UserError(N_("Give between %(low)s and %(high)s options, one per line "
                                       "(got %(n)s)."), low=MIN_OPTIONS, high=MAX_OPTIONS,
                                    n=len(options)).at("options"))  # fmt: skip
        elif any(len(o) > MAX_OPTION for o in options):
            errors.append(UserError(N_("An option has at most %(n)s characters."),
                                    n=MAX_OPTION).at("options"))  # fmt: skip
        right = form.get("right", "").strip()
        if right and not errors:
            number = parse_number(right)
            if number is None or not number.is_integer() or not 1 <= number <= len(options):
                errors.append(UserError(N_("The right option is a number from 1 to %(n)s."),
                                        n=len(options)).at("right"))  # fmt: skip
            else:
                answer = number - 1
    else:
        errors.append(UserError(N_("Unknown kind of question '%(name)s'."),
                                name=kind[:20]).at("kind"))  # fmt: skip
    if errors:
        raise UserErrors(errors)
    return Question(id="", kind=kind, text=text, options=[{"text": o} for o in options],
                    answer=answer)  # fmt: skip


@router.post("/class/{code}/questions", response_class=HTMLResponse)
async def ask(request: Request, code: str) -> Response:
    classes = classes_of(request)
    record = await run_in_threadpool(find_class, request, code)
    require_teacher(request, record)
    form = await _form(request)
    live = await run_in_threadpool(classes.live, record.code)
    view = live.view if live is not None else ""
    if form.get("ready"):
        found = await run_in_threadpool(ready_questions, view, media_of(request)) if view else []
        chosen = [item.question for item in found if item.key == form["ready"]]
        if not chosen:
            raise UserError(N_("That ready-made question does not fit the current view any more: "
                               "choose again."), status=409)  # fmt: skip
        question = chosen[0]
    else:
        try:
            question = custom_question(form)
        except UserErrors as error:
            gettext = templates_of(request).gettext(request)
            context = await run_in_threadpool(_ask_context, request, record, form,
                                              error.placed(gettext))  # fmt: skip
            return _page(request, "classroom/ask.html", context, status=400)
    question.view = view
    question = await run_in_threadpool(classes.ask, record, question)
    return RedirectResponse(f"/class/{record.code}/questions/{question.id}", status_code=303)


def _question_or_404(request: Request, code: str, question_id: str) -> Question:
    question = classes_of(request).question(code, question_id)
    if question is None:
        raise UserError(N_("This question is no longer in the class."), status=404)
    return question


@router.get("/class/{code}/questions/{question_id}", response_class=HTMLResponse)
def question_results(request: Request, code: str, question_id: str) -> Response:
    record = find_class(request, code)
    require_teacher(request, record)
    question = _question_or_404(request, record.code, question_id)
    context = _results_context(request, record, question)
    name = "classroom/_results.html" if is_htmx(request) else "classroom/results.html"
    return _page(request, name, context)


def _results_context(request: Request, record, question: Question) -> dict:
    templates = templates_of(request)
    gettext, numbers = templates.gettext(request), templates.numbers(request)
    shown = views.shown(question, gettext, numbers)
    answers = list(classes_of(request).answers(record.code, question).values())
    found = views.bars(question, answers, shown.options, numbers)
    title = gettext("The class's answers")
    catalog = templates.translations[request_locale(request)]
    count = catalog.ngettext("%(n)s answer", "%(n)s answers", len(answers)) % {"n": len(answers)}
    return {"record": record, "shown": shown, "answers": len(answers),
            "histogram": views.histogram_svg(found, question.revealed, title, count),
            "students": classes_of(request).student_count(record.code)}  # fmt: skip


@router.post("/class/{code}/questions/{question_id}/reveal")
def reveal(request: Request, code: str, question_id: str) -> Response:
    record = find_class(request, code)
    require_teacher(request, record)
    question = _question_or_404(request, record.code, question_id)
    classes_of(request).reveal(record, question)
    return RedirectResponse(f"/class/{record.code}/questions/{question.id}", status_code=303)


@router.post("/class/{code}/questions/close")
def close_question(request: Request, code: str) -> Response:
    record = find_class(request, code)
    require_teacher(request, record)
    classes_of(request).close_question(record)
    live = classes_of(request).live(record.code)
    return RedirectResponse(live.view if live and live.view else f"/class/{record.code}/teach",
                            status_code=303)  # fmt: skip


@router.get("/class/{code}/question", response_class=HTMLResponse)
def student_question(request: Request, code: str) -> Response:
    """The student's question box in the class bar: the open question, their answer, the
    revealed answer."""
    record = find_class(request, code)
    student = require_student(request, record)
    return _page(request, "classroom/_question.html",
                 _student_question_context(request, record, student))  # fmt: skip


def _student_question_context(request: Request, record, student, error: str = "") -> dict:
    classes = classes_of(request)
    live = classes.live(record.code)
    question = classes.question(record.code, live.question) if live and live.question else None
    if question is None:
        return {"record": record, "shown": None, "mine": None, "error": error}
    templates = templates_of(request)
    shown = views.shown(question, templates.gettext(request), templates.numbers(request))
    mine = classes.answers(record.code, question).get(student.id)
    mine_text = None
    if mine is not None:
        mine_text = (shown.options[int(mine)] if question.kind == "choice"
                     else views.written(mine, None, templates.numbers(request)))  # fmt: skip
    return {
        "record": record,
        "shown": shown,
        "mine": mine,
        "mine_text": mine_text,
        "right": mine is not None and views.is_right(question, mine),
        "error": error,
    }


def parse_answer(text: str, locale: str) -> float | None:
    """A number as a student writes it: "0,5", and "16384" with the page's thousands separator
    ("16.384" on a page with decimal commas, "16,384" on an English one: a parameter count
    as the lab writes it)."""
    text = text.strip()
    grouped = r"-?\d{1,3}(\.\d{3})+" if locale in DECIMAL_COMMA_LOCALES else r"-?\d{1,3}(,\d{3})+"
    if re.fullmatch(grouped, text):
        text = text.replace("." if locale in DECIMAL_COMMA_LOCALES else ",", "")
    return parse_number(text.replace(",", ".") if text.count(",") == 1 else text)


@router.post("/class/{code}/answer", response_class=HTMLResponse)
async def answer(request: Request, code: str) -> Response:
    classes = classes_of(request)
    record = await run_in_threadpool(find_class, request, code)
    student = await run_in_threadpool(require_student, request, record)
    form = await _form(request)
    question = await run_in_threadpool(classes.question, record.code, form.get("question", ""))
    live = await run_in_threadpool(classes.live, record.code)
    gettext = templates_of(request).gettext(request)
    error, status = "", 200
    if question is None or live is None or live.question != question.id or question.revealed:
        error, status = gettext(N_("This question is closed: the teacher has moved on.")), 409
    else:
        value = parse_answer(form.get("answer", ""), request_locale(request))
        if (
            value is None
            or value != value
            or abs(value) == float("inf")
            or (
                question.kind == "choice"
                and (not value.is_integer() or not 0 <= value < len(question.options))
            )
        ):
            error, status = gettext(N_("Choose one of the answers (or type a number).")), 400
        elif not await run_in_threadpool(classes.answer, record.code, question, student, value):
            error, status = gettext(N_("You have already answered this question.")), 409
    context = await run_in_threadpool(_student_question_context, request, record, student, error)
    if not is_htmx(request):
        return RedirectResponse(_back(request, record.code), status_code=303)
    return _page(request, "classroom/_question.html", context, status=status)
