"""The Text lab: GET /text (the pipeline, page or htmx fragment), text-CNN runs, "try it"."""

from __future__ import annotations

from urllib.parse import urlencode

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams, UploadFile

from app import text_corpus, text_forms, text_network, text_worker, textlab
from app.errors import UserError
from app.i18n import N_
from app.routes.training import _status_context
from app.templating import is_htmx
from app.text_chart import labelled_scatter
from app.text_forms import TextState, TrainForm
from app.uploads import read_limited_body

router = APIRouter()

FORM_KEYS = ("text", "maxlen", "pad", "trunc", "words", "follow")
RECENT_RUNS = 6


def _templates(request: Request):
    return request.app.state.templates


def form_values(state: TextState) -> dict:
    return {
        "text": state.text, "maxlen": str(state.maxlen), "pad": state.padding,
        "trunc": state.truncating, "words": "" if state.num_words is None else str(state.num_words),
        "oov": state.oov, "lower": state.lower, "follow": str(state.follow), "run": state.run or "",
    }  # fmt: skip


def raw_form_values(params) -> dict:
    """What the user sent, over the defaults: the form comes back as it was, mistakes and all."""
    values = form_values(TextState())
    for key in FORM_KEYS:
        if key in params:
            values[key] = params.get(key)[: text_forms.MAX_TEXT + 1]
    for key in ("oov", "lower"):
        if params.getlist(key):
            values[key] = params.getlist(key)[-1] == "1"
    run = params.get("run") or ""
    values["run"] = run if text_forms.RUN_ID.fullmatch(run) else ""
    return values


def train_values(form: TrainForm) -> dict:
    return {"source": form.source, "corpus": form.corpus, "epochs": str(form.epochs),
            "dim": str(form.dim), "filters": str(form.filters), "lr": f"{form.lr:g}",
            "dropout": f"{form.dropout:g}", "seed": str(form.seed)}  # fmt: skip


def text_runs(request: Request) -> list:
    runs = request.app.state.runs.runs()
    return [run for run in runs if run.config.get("kind") == "text"][:RECENT_RUNS]


def network_for(request: Request, state: TextState) -> text_network.Network:
    """The trained run's network when `run` is set (its vocabulary settings then apply),
    otherwise the built-in vocabulary with an untrained network."""
    results = request.app.state.results
    if not state.run:
        return text_network.builtin_network(state, results)
    run = text_network.text_run(request.app.state.runs, state.run)
    net = text_network.run_network(run, results)
    state.num_words, state.oov = run.config["num_words"], run.config["oov"]
    state.lower = run.config["lower"]
    return net


def _render(request: Request, context: dict, status: int = 200, headers=None) -> HTMLResponse:
    base = {
        "textlab": textlab,
        "train": train_values(TrainForm()),
        "train_error": None,
        "runs": text_runs(request),
        "view": None,
        "error": None,
    }
    return _templates(request).page_or_fragment(
        request, "text/page.html", "text/_lab.html", {**base, **context},
        status_code=status, headers=headers,
    )  # fmt: skip


@router.get("/text", response_class=HTMLResponse)
def text_page(request: Request) -> Response:
    params = request.query_params
    try:
        state = text_forms.parse_state(params)
        view = textlab.compute(state, network_for(request, state))
    except UserError as error:
        if is_htmx(request):
            raise
        gettext = _templates(request).gettext(request)
        context = {"form": raw_form_values(params), "error": error.translated(gettext)}
        return _render(request, context, status=error.status)
    headers = {"HX-Push-Url": f"/text?{state.query()}"} if is_htmx(request) else None
    return _render(request, {"view": view, "form": form_values(state)}, headers=headers)


# --- training runs -------------------------------------------------------------------------------


async def _corpus_text(form) -> str:
    upload = form.get("corpus_file")
    if isinstance(upload, UploadFile):
        data = await upload.read(text_corpus.MAX_CORPUS_BYTES + 1)
        if data:
            return text_corpus.decode_upload(data)
    text = form.get("corpus")
    return text if isinstance(text, str) else ""


def _start(request: Request, fields: QueryParams, corpus_text: str):
    state = text_forms.parse_settings(fields, TextState())
    train_form = text_forms.parse_train_form(fields)
    train_form.corpus = corpus_text
    corpus = None
    if train_form.source == "own":
        if not corpus_text.strip():
            raise UserError(
                N_("Paste your own 'label,text' lines or choose a file, or train on the "
                   "built-in reviews.")
            )  # fmt: skip
        corpus = text_corpus.parse_corpus(corpus_text, state.lower)
    return request.app.state.runs.start(text_forms.run_config(state, train_form, corpus),
                                        target=text_worker.run)  # fmt: skip


@router.post("/text/runs")
async def text_train(request: Request) -> Response:
    body = await read_limited_body(request, 2 * text_corpus.MAX_CORPUS_BYTES + 64 * 1024)
    request._body = body  # Starlette parses the form from the body we have already read
    form = await request.form(max_files=1, max_fields=60,
                              max_part_size=2 * text_corpus.MAX_CORPUS_BYTES)  # fmt: skip
    fields = QueryParams([(k, v) for k, v in form.multi_items() if isinstance(v, str)])
    try:
        corpus_text = await _corpus_text(form)
        run = await run_in_threadpool(_start, request, fields, corpus_text)
    except UserError as error:
        if is_htmx(request):
            raise
        return await run_in_threadpool(_train_error_page, request, fields, error)
    url = f"/text/runs/{run.id}"
    if is_htmx(request):
        return Response(status_code=204, headers={"HX-Redirect": url})
    return RedirectResponse(url, status_code=303)


def _train_error_page(request: Request, fields: QueryParams, error: UserError) -> HTMLResponse:
    """Without JavaScript: the lab again, the training form as it was sent, the message in it."""
    gettext = _templates(request).gettext(request)
    try:
        state = text_forms.parse_settings(fields, TextState())
        view = textlab.compute(state, network_for(request, state))
        form = form_values(state)
    except UserError:
        state = TextState()
        view = textlab.compute(state, network_for(request, state))
        form = form_values(state)
    train = train_values(TrainForm())
    train.update({k: fields.get(k)[:20] for k in train if k != "corpus" and fields.get(k)})
    train["corpus"] = (fields.get("corpus") or "")[: text_corpus.MAX_CORPUS_BYTES]
    context = {"view": view, "form": form, "train": train,
               "train_error": error.translated(gettext)}  # fmt: skip
    return _render(request, context, status=error.status)


def _run_context(request: Request, run, try_text: str | None) -> dict:
    context = _status_context(request, run)
    context.update({"net": None, "embedding": None, "tried": None, "try_text": try_text or "",
                    "try_error": None, "textlab": textlab, "oob": False})  # fmt: skip
    if run.active or run.state is None:
        return context
    net = text_network.run_network(run, request.app.state.results)
    context["net"] = net
    if try_text is not None:  # an empty ?try= is a form sent empty: say so
        try:
            context["tried"] = textlab.try_sentence(net, try_text)
        except UserError as error:
            context["try_error"] = error.translated(_templates(request).gettext(request))
            context["try_status"] = error.status
    extra = [t.word for t in context["tried"]["line"].tokens] if context["tried"] else []
    context["embedding"] = embedding_chart(request, net, extra)
    return context


def embedding_chart(request: Request, net: text_network.Network, extra_words: list[str]):
    gettext = _templates(request).gettext(request)
    points = textlab.embedding_points(net, extra_words)
    share = points["share"]
    chart = labelled_scatter(
        [(p["x"], p["y"], p["word"], p["cls"], p["extra"]) for p in points["points"]],
        x_label=gettext("axis 1 (%(pct)s%% of the variance)") % {"pct": round(share[0] * 100)},
        y_label=gettext("axis 2 (%(pct)s%% of the variance)") % {"pct": round(share[1] * 100)},
        title=gettext("Learned word vectors, projected to 2-D"),
        classes=[gettext(name) for name in net.class_names],
        legend_title=gettext("alone, the word means"),
        undecided=gettext("undecided (40–60%)") if len(net.class_names) == 2 else "",
    )
    return {"chart": chart, "share": share, "rows": points["rows"], "count": len(points["points"])}


@router.get("/text/runs/{run_id}", response_class=HTMLResponse)
def text_run_page(request: Request, run_id: str) -> Response:
    run = text_network.text_run(request.app.state.runs, run_id)
    try_text = request.query_params.get("try")
    context = _run_context(request, run, try_text)
    status = context.pop("try_status", 200)
    return _templates(request).response(request, "text/run.html", context, status_code=status)


@router.get("/text/runs/{run_id}/status", response_class=HTMLResponse)
def text_run_status(request: Request, run_id: str) -> Response:
    run = text_network.text_run(request.app.state.runs, run_id)
    context = _run_context(request, run, None)
    response = _templates(request).response(request, "text/_status.html", context)
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/text/runs/{run_id}/try", response_class=HTMLResponse)
def text_try(request: Request, run_id: str) -> Response:
    run = text_network.text_run(request.app.state.runs, run_id)
    raw = request.query_params.get("try") or ""
    url = f"/text/runs/{run.id}?{urlencode({'try': raw[: text_forms.MAX_TEXT]})}"
    if not is_htmx(request):
        return RedirectResponse(url, status_code=303)
    net = text_network.run_network(run, request.app.state.results)
    tried = textlab.try_sentence(net, raw)  # a UserError lands in the form's error region
    # The embedding view is swapped too (out of band), with the words just tried marked.
    embedding = embedding_chart(request, net, [t.word for t in tried["line"].tokens])
    context = {"run": run, "net": net, "tried": tried, "textlab": textlab, "embedding": embedding,
               "oob": False}  # fmt: skip
    return _templates(request).response(request, "text/_try.html", context,
                                        headers={"HX-Push-Url": url})  # fmt: skip


def _control(request: Request, run_id: str, action: str) -> Response:
    run = text_network.text_run(request.app.state.runs, run_id)
    getattr(request.app.state.runs, action)(run)
    if not is_htmx(request):
        return RedirectResponse(f"/text/runs/{run.id}", status_code=303)
    return text_run_status(request, run_id)


@router.post("/text/runs/{run_id}/pause", response_class=HTMLResponse)
def text_run_pause(request: Request, run_id: str) -> Response:
    return _control(request, run_id, "pause")


@router.post("/text/runs/{run_id}/resume", response_class=HTMLResponse)
def text_run_resume(request: Request, run_id: str) -> Response:
    return _control(request, run_id, "resume")


@router.post("/text/runs/{run_id}/stop", response_class=HTMLResponse)
def text_run_stop(request: Request, run_id: str) -> Response:
    return _control(request, run_id, "stop")
