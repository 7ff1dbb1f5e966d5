"""The Text lab's view models: the pipeline page (`compute` -> TextView) and a trained run's page
("try it", the embedding view).

The pipeline follows the sentences typed by the user through a Keras-style Tokenizer fitted on
the training reviews (or on a trained run's corpus), pad_sequences, and a text CNN: untrained
(seed 0) until a run is chosen with `run=<id>`, then the trained one. The parts live beside this
module: fields, network, stages (one view per stage), corpus and scripts. The templates get this
module as `textlab`, so it also re-exports the limits and helpers they read (listed in __all__).
"""

from __future__ import annotations

import sys
from dataclasses import dataclass

import numpy as np

from app.labs.text.corpus import MAX_CORPUS_BYTES, MAX_CORPUS_LINES, MIN_CORPUS_LINES
from app.labs.text.fields import (
    DEFAULT_MAXLEN,
    MAX_LINES,
    MAX_MAXLEN,
    MAX_NUM_WORDS,
    MAX_TEXT,
    MIN_MAXLEN,
    RUN_ID,
    TextFields,
    TextTrainFields,
    clean_text,
)
from app.labs.text.network import BUILTIN_TRAIN_TEXTS, Network, builtin_network, run_network
from app.labs.text.scripts import vocabulary_words
from app.labs.text.stages import (
    KIND_TITLES,
    SHOWN_FILTERS,
    WHY_TITLES,
    LineView,
    StripView,
    _words_for_ids,
    check_words,
    css_rgb,
    dense_terms,
    parameter_counts,
    strip_views,
    tokenize_lines,
    word_contributions,
)
from app.runs.deps import find_run, runs_of
from app.runs.views import progress_context
from app.web.charts import labelled_scatter
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.numbers import Numbers
from app.web.png import diverging_rgb
from engine.text import pad_sequences
from engine.textexplain import conv_strips, pca_2d

__all__ = [
    # the view models
    "TextView", "compute", "try_sentence", "embedding_points",
    # read by the templates through `textlab`
    "MAX_TEXT", "MAX_LINES", "MIN_MAXLEN", "MAX_MAXLEN", "MAX_NUM_WORDS", "BUILTIN_TRAIN_TEXTS",
    "MAX_CORPUS_BYTES", "MAX_CORPUS_LINES", "MIN_CORPUS_LINES", "SHOWN_FILTERS", "WHY_TITLES",
    "KIND_TITLES", "vocabulary_words", "_words_for_ids",
]  # fmt: skip


# --- the pipeline ---------------------------------------------------------------------------------


@dataclass
class TextView:
    state: TextFields
    net: Network
    lines: list[LineView]
    notices: list[tuple[str, dict]]
    matrix: np.ndarray  # (lines, maxlen)
    followed: LineView
    row_words: list[str | None]
    embedded: np.ndarray  # (L, D)
    embedded_colours: list[list[str]]
    embedded_limit: float
    params: dict
    strips: list[StripView]
    pooled: np.ndarray  # (F·W,)
    logits: np.ndarray  # (K,)
    probs: np.ndarray  # (K,)
    dense_terms: list[list[tuple[float, float, str]]]  # per class: top (w, h, label)
    contributions: dict | None = None


def words_of(lines, net: Network, control: str) -> list[tuple[str, dict]]:
    """check_words, its refusal shown next to the box the words came from."""
    try:
        return check_words(lines, net)
    except UserError as error:
        raise error.at(control) from None


def compute(state: TextFields, net: Network) -> TextView:
    lines = tokenize_lines(state, net)
    notices = words_of(lines, net, control="text")
    matrix = np.array([line.row for line in lines], dtype=np.int64)
    followed = lines[state.follow - 1]
    row = matrix[state.follow - 1]
    words = _words_for_ids(followed)
    model = net.model
    trace = model.trace_forward(row[None])
    strips = conv_strips(model, row, trace)
    embedded = trace.embedded[0].T.astype(np.float64)  # (D, L) -> (L, D)
    pooled = trace.pooled[0].astype(np.float64)
    logits = trace.logits[0].astype(np.float64)
    contributions = None
    if net.trained and followed.ids:
        target = 1 if len(net.class_names) == 2 else int(logits.argmax())
        contributions = word_contributions(net, followed, state, target)
    probs = np.exp(logits - logits.max())
    probs /= probs.sum()
    limit = float(np.abs(embedded).max()) or 1.0
    colours = [[css_rgb(c) for c in r] for r in diverging_rgb(embedded, limit)]
    return TextView(
        state, net, lines, notices, matrix, followed, words, embedded, colours, limit,
        parameter_counts(model, state.maxlen), strip_views(model, strips, embedded, words),
        pooled, logits, probs, dense_terms(model, pooled, words, strips), contributions,
    )  # fmt: skip


# --- "try it" on a trained run --------------------------------------------------------------------


def try_sentence(net: Network, raw: str) -> dict:
    """The prediction for one sentence under the run's own settings, with each word's share."""
    text = clean_text(raw, N_("The sentence"))
    text = " ".join(text.split())
    if not text:
        raise UserError(N_("Type a sentence first: the text is empty.")).at("try")
    state = TextFields(text=text, maxlen=net.maxlen or DEFAULT_MAXLEN, padding=net.padding,
                      truncating=net.truncating, run=net.run_id)  # fmt: skip
    lines = tokenize_lines(state, net)
    notices = words_of(lines, net, control="try")
    line = lines[0]
    if not line.ids:
        raise UserError(
            N_(
                "The network would see only padding: this run keeps none of these words (it has "
                "no OOV token, and keeps only ids below num_words). Use words from its training "
                "texts."
            )
        )
    row = np.array([line.row])
    probs = net.model.predict_proba(row)[0]
    target = 1 if len(net.class_names) == 2 else int(probs.argmax())
    contributions = word_contributions(net, line, state, target)
    return {"state": state, "line": line, "probs": probs, "prediction": int(probs.argmax()),
            "contributions": contributions, "notices": notices}  # fmt: skip


# --- embedding view -------------------------------------------------------------------------------

ANCHORS = ("ótimo", "excelente", "great", "excellent", "péssimo", "horrível", "terrible", "awful")


def embedding_points(net: Network, extra_words: list[str], count: int = 40) -> dict:
    """The learned rows projected to 2-D (PCA by SVD over every word's row), and the words to
    label: the `count` rows training moved most (largest norm), a few anchors, `extra_words`."""
    tok, model = net.tokenizer, net.model
    table = model.embedding.params["weight"].astype(np.float64)  # (V, D)
    coords, share = pca_2d(table[1:])  # row 0 is padding, not a word
    norms = np.linalg.norm(table, axis=1)
    chosen = [i for i in np.argsort(-norms, kind="stable") if i > 0 and tok.index_word.get(i)
              and tok.index_word[i] != tok.oov_token][:count]  # fmt: skip
    for word in (*ANCHORS, *extra_words):
        i = tok.word_index.get(word)
        if i is not None and i < model.vocab_size and i not in chosen:
            chosen.append(i)
    ids = np.array(chosen, dtype=np.int64)
    # Each word on its own: which class it pushes to (colours the points).
    alone = pad_sequences([[int(i)] for i in ids], max(net.maxlen or 0, MIN_MAXLEN),
                          padding=net.padding)  # fmt: skip
    probs = net.model.predict_proba(alone) if len(ids) else np.zeros((0, 2))
    # Two classes: a word that alone leaves the network between 40% and 60% is "undecided".
    undecided = (probs.max(axis=1) < 0.6) if probs.shape[1] == 2 else np.zeros(len(ids), bool)
    points = [{"word": tok.index_word[int(i)], "x": float(coords[i - 1, 0]),
               "y": float(coords[i - 1, 1]), "cls": -1 if undecided[n] else int(probs[n].argmax()),
               "extra": tok.index_word[int(i)] in extra_words}
              for n, i in enumerate(ids)]  # fmt: skip
    return {"points": points, "share": share.tolist(), "rows": len(table) - 1}


# --- the pages ------------------------------------------------------------------------------------

RECENT_RUNS = 6


def text_runs(runs) -> list:
    return runs.runs("text", limit=RECENT_RUNS)  # the viewer's own first


def network_for(state: TextFields, runs, results) -> Network:
    """The trained run's network when `run` is set (its vocabulary settings then apply),
    otherwise the built-in vocabulary with an untrained network."""
    if not state.run:
        return builtin_network(state, results)
    run = find_run(runs, state.run, "text")
    net = run_network(run, results)
    state.num_words, state.oov = run.config["num_words"], run.config["oov"]
    state.lower = run.config["lower"]
    return net


def page_context(runs, train: dict | None = None) -> dict:
    return {"textlab": sys.modules[__name__], "runs": text_runs(runs), "view": None,
            "error": None, "train_error": None,
            "train": train or TextTrainFields().form()}  # fmt: skip


def lab_context(state: TextFields, runs, results, gettext) -> dict:
    view = compute(state, network_for(state, runs, results))
    return {**page_context(runs), "view": view, "form": state.form(),
            "class_titles": view.net.class_titles(gettext)}  # fmt: skip


def error_context(request, error, messages: list[str]) -> dict:
    """The lab again, the form as the user sent it and the message next to it."""
    form = TextFields.typed(request.query_params)
    run = form.get("run") or ""
    form["run"] = run if RUN_ID.fullmatch(run) else ""
    for flag in ("oov", "lower"):  # a checkbox shows on or off, whatever was sent
        form[flag] = "1" if form[flag] == "1" else "0"
    return {**page_context(runs_of(request)), "form": form, "error": messages}


def train_error_context(fields, runs, results, gettext, messages: list[str]) -> dict:
    """Without JavaScript: the lab again, the training form as it was sent, the message in it."""
    try:
        state = TextFields.parse(fields)
    except UserError:
        state = TextFields()
    train = TextTrainFields.typed(fields, defaults=TextTrainFields())
    return {**lab_context(state, runs, results, gettext), "train": train,
            "train_error": messages}  # fmt: skip


def embedding_chart(net: Network, extra_words: list[str], gettext, numbers: Numbers) -> dict:
    points = embedding_points(net, extra_words)
    share = points["share"]
    chart = labelled_scatter(
        [(p["x"], p["y"], p["word"], p["cls"], p["extra"]) for p in points["points"]],
        x_label=gettext("axis 1 (%(pct)s of the variance)") % {"pct": numbers.percent(share[0], 0)},
        y_label=gettext("axis 2 (%(pct)s of the variance)") % {"pct": numbers.percent(share[1], 0)},
        title=gettext("Learned word vectors, projected to 2-D"),
        classes=net.class_titles(gettext),
        legend_title=gettext("alone, the word means"),
        undecided=gettext("undecided (40–60%)") if len(net.class_names) == 2 else "",
        numbers=numbers,
    )
    return {"chart": chart, "share": share, "rows": points["rows"], "count": len(points["points"])}


def run_context(run, results, gettext, numbers: Numbers, try_text: str | None) -> tuple[dict, int]:
    """A run's page: its progress, then, once trained, "try it" and the embedding view. A
    mistake in the sentence tried shows next to its form (and sets the status)."""
    context = progress_context(run, gettext, numbers)
    context |= {"net": None, "embedding": None, "tried": None, "try_text": try_text or "",
                "try_error": None, "textlab": sys.modules[__name__], "oob": False}  # fmt: skip
    status = 200
    if run.active or not run.has_state:
        return context, status
    net = run_network(run, results)
    context["net"] = net
    context["class_titles"] = net.class_titles(gettext)
    if try_text is not None:  # an empty ?try= is a form sent empty: say so
        try:
            context["tried"] = try_sentence(net, try_text)
        except UserError as error:
            context["try_error"] = error.messages(gettext)
            status = error.status
    extra = [t.word for t in context["tried"]["line"].tokens] if context["tried"] else []
    context["embedding"] = embedding_chart(net, extra, gettext, numbers)
    return context, status
