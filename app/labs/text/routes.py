"""The Text lab: GET /text (the pipeline, page or htmx fragment), text-CNN runs, "try it"."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams, UploadFile

from app.labs.text import corpus, views
from app.labs.text.fields import MAX_TEXT, TextFields, TextTrainFields, run_config
from app.labs.text.network import run_network
from app.media.deps import Results, results_of
from app.media.uploads import buffered_form
from app.runs import owner
from app.runs.deps import Runs, TextRun, runs_of
from app.web.deps import Gettext, Templates, gettext_of, templates_of
from app.web.errors import UserError, lab_error_page, shows_errors_in
from app.web.fields import Fields, field
from app.web.i18n import N_
from app.web.templating import is_htmx

router = APIRouter()
WORKER = "app.labs.text.worker:run"
PAGE, FRAGMENT = "text/page.html", "text/_lab.html"


class Tried(Fields):
    sentence: str | None = field(None, N_("The sentence"), alias="try")


@router.get("/text", response_class=HTMLResponse)
@shows_errors_in(lab_error_page(PAGE, views.error_context))
def text_page(
    request: Request, fields: Annotated[TextFields, Query()], templates: Templates, runs: Runs,
    results: Results, gettext: Gettext,
) -> Response:  # fmt: skip
    context = views.lab_context(fields, runs, results, gettext)
    return templates.page(request, PAGE, FRAGMENT, context, push=f"/text?{fields.query()}")


# --- training runs -------------------------------------------------------------------------------


async def _corpus_text(form) -> str:
    upload = form.get("corpus_file")
    if isinstance(upload, UploadFile):
        data = await upload.read(corpus.MAX_CORPUS_BYTES + 1)
        if data:
            return corpus.decode_upload(data)
    text = form.get("corpus")
    return text if isinstance(text, str) else ""


def _start(runs, fields: QueryParams, corpus_text: str, digest: str):
    form = TextTrainFields.parse(fields)
    own = None
    if form.source == "own":
        if not corpus_text.strip():
            raise UserError(
                N_("Paste your own 'label,text' lines or choose a file, or train on the "
                   "built-in reviews.")
            )  # fmt: skip
        own = corpus.parse_corpus(corpus_text, form.lower)
    return runs.start(run_config(form, own), WORKER, digest)


def train_error_page(request: Request, error: UserError) -> HTMLResponse:
    """Without JavaScript: the lab again, the training form as it was sent, the message in it."""
    fields = getattr(request.state, "train_fields", QueryParams())
    gettext = gettext_of(request)
    context = views.train_error_context(
        fields, runs_of(request), results_of(request), gettext, error.messages(gettext)
    )
    return templates_of(request).response(request, PAGE, context, status_code=error.status)


@router.post("/text/runs")
@shows_errors_in(train_error_page)
async def text_train(request: Request, runs: Runs) -> Response:
    form = await buffered_form(request)
    fields = QueryParams([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    request.state.train_fields = fields  # for the error page, should the form not do
    corpus_text = await _corpus_text(form)
    digest, new_token = owner.starting_owner(request)
    run = await run_in_threadpool(_start, runs, fields, corpus_text, digest)
    url = f"/text/runs/{run.id}"
    if is_htmx(request):
        return owner.remember(Response(status_code=204, headers={"HX-Redirect": url}), new_token)
    return owner.remember(RedirectResponse(url, status_code=303), new_token)


@router.get("/text/runs/{run_id}", response_class=HTMLResponse)
def text_run_page(
    request: Request, run: TextRun, tried: Annotated[Tried, Query()], templates: Templates,
    gettext: Gettext, results: Results,
) -> Response:  # fmt: skip
    context, status = views.run_context(
        run, results, gettext, templates.numbers(request), tried.sentence
    )
    return templates.response(request, "text/run.html", context, status_code=status)


@router.get("/text/runs/{run_id}/status", response_class=HTMLResponse)
def text_run_status(
    request: Request, run: TextRun, templates: Templates, gettext: Gettext, results: Results
) -> Response:
    context, _ = views.run_context(run, results, gettext, templates.numbers(request), None)
    response = templates.response(request, "text/_status.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/text/runs/{run_id}/try", response_class=HTMLResponse)
def text_try(
    request: Request, run: TextRun, tried: Annotated[Tried, Query()], templates: Templates,
    gettext: Gettext, results: Results,
) -> Response:  # fmt: skip
    raw = tried.sentence or ""
    url = f"/text/runs/{run.id}?{urlencode({'try': raw[:MAX_TEXT]})}"
    if not is_htmx(request):
        return RedirectResponse(url, status_code=303)
    net = run_network(run, results)
    sentence = views.try_sentence(net, raw)  # a UserError lands in the form's error region
    # The embedding view is swapped too (out of band), with the words just tried marked.
    words = [t.word for t in sentence["line"].tokens]
    context = {"run": run, "net": net, "tried": sentence, "textlab": views,
               "class_titles": net.class_titles(gettext),
               "embedding": views.embedding_chart(net, words, gettext, templates.numbers(request)),
               "oob": False}  # fmt: skip
    return templates.response(request, "text/_try.html", context, headers={"HX-Push-Url": url})


def _control(request, run, action: str, runs, templates, gettext, results) -> Response:
    owner.require_owner(request, run)
    getattr(runs, action)(run)
    if not is_htmx(request):
        return RedirectResponse(f"/text/runs/{run.id}", status_code=303)
    return text_run_status(request, run, templates, gettext, results)


@router.post("/text/runs/{run_id}/name", response_class=HTMLResponse)
async def text_run_rename(request: Request, run: TextRun, runs: Runs, templates: Templates):
    return await owner.rename(request, run, runs, templates, "/text/runs")


@router.post("/text/runs/{run_id}/pause", response_class=HTMLResponse)
def text_run_pause(request: Request, run: TextRun, runs: Runs, templates: Templates,
                   gettext: Gettext, results: Results) -> Response:  # fmt: skip
    return _control(request, run, "pause", runs, templates, gettext, results)


@router.post("/text/runs/{run_id}/resume", response_class=HTMLResponse)
def text_run_resume(request: Request, run: TextRun, runs: Runs, templates: Templates,
                    gettext: Gettext, results: Results) -> Response:  # fmt: skip
    return _control(request, run, "resume", runs, templates, gettext, results)


@router.post("/text/runs/{run_id}/stop", response_class=HTMLResponse)
def text_run_stop(request: Request, run: TextRun, runs: Runs, templates: Templates,
                  gettext: Gettext, results: Results) -> Response:  # fmt: skip
    return _control(request, run, "stop", runs, templates, gettext, results)
