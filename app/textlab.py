"""The Text lab's view models: the pipeline page (`compute` -> TextView) and a trained run's page
("try it", the embedding view).

The pipeline follows the sentences typed by the user through a Keras-style Tokenizer fitted on
the training reviews (or on a trained run's corpus), pad_sequences, and a text CNN: untrained
(seed 0) until a run is chosen with `run=<id>`, then the trained one. The parts live beside this
module: text_forms (state and forms), text_network, text_stages (one view per stage),
text_corpus, text_scripts and text_chart. The routes hand this module to the templates as
`textlab`, so it also re-exports the limits and helpers they read (listed in __all__).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.errors import UserError
from app.i18n import N_
from app.render import diverging_rgb
from app.text_corpus import MAX_CORPUS_BYTES, MAX_CORPUS_LINES, MIN_CORPUS_LINES
from app.text_forms import (
    DEFAULT_MAXLEN,
    MAX_LINES,
    MAX_MAXLEN,
    MAX_NUM_WORDS,
    MAX_TEXT,
    MIN_MAXLEN,
    TextState,
    clean_text,
)
from app.text_network import BUILTIN_TRAIN_TEXTS, Network
from app.text_scripts import vocabulary_words
from app.text_stages import (
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
from engine.text import pad_sequences
from engine.textmodel import conv_strips, pca_2d

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
    state: TextState
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


def compute(state: TextState, net: Network) -> TextView:
    lines = tokenize_lines(state, net)
    notices = check_words(lines, net)
    matrix = np.array([line.row for line in lines], dtype=np.int64)
    followed = lines[state.follow - 1]
    row = matrix[state.follow - 1]
    words = _words_for_ids(followed)
    model = net.model
    with net.lock:
        strips = conv_strips(model, row)
        trace = model.trace
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
        raise UserError(N_("Type a sentence first: the text is empty."))
    state = TextState(text=text, maxlen=net.maxlen or DEFAULT_MAXLEN, padding=net.padding,
                      truncating=net.truncating, run=net.run_id)  # fmt: skip
    lines = tokenize_lines(state, net)
    notices = check_words(lines, net)
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
    with net.lock:
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
    with net.lock:
        probs = net.model.predict_proba(alone) if len(ids) else np.zeros((0, 2))
    # Two classes: a word that alone leaves the network between 40% and 60% is "undecided".
    undecided = (probs.max(axis=1) < 0.6) if probs.shape[1] == 2 else np.zeros(len(ids), bool)
    points = [{"word": tok.index_word[int(i)], "x": float(coords[i - 1, 0]),
               "y": float(coords[i - 1, 1]), "cls": -1 if undecided[n] else int(probs[n].argmax()),
               "extra": tok.index_word[int(i)] in extra_words}
              for n, i in enumerate(ids)]  # fmt: skip
    return {"points": points, "share": share.tolist(), "rows": len(table) - 1}
