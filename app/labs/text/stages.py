"""The Text lab's stages, one view builder each: tokens (with why a word is or is not in the
vocabulary), padded rows, convolution strips and the cell they explain, the dense layer's
largest terms, and each word's share of the prediction (occlusion)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.labs.text.fields import TextFields
from app.labs.text.network import Network
from app.labs.text.scripts import script_names, vocabulary_words, word_kind, word_scripts
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.numbers import LocalNumber, Numbers
from app.web.png import diverging_rgb
from engine.text import pad_layout, pad_sequences
from engine.textexplain import occlusion
from engine.textmodel import TextCNN

SHOWN_FILTERS = 6  # per width in the convolution view: those that fire most

WHY_TITLES = {
    "known": N_("in the vocabulary"),
    "rare": N_("in the vocabulary, but its id is not below num_words"),
    "unknown": N_("never seen in the training texts"),
}
KIND_TITLES = {
    "emoji": N_("emoji"),
    "rtl": N_("right-to-left script"),
    "script": N_("a script the vocabulary does not use"),
}


@dataclass
class TokenView:
    word: str
    id: int | None  # None: dropped (no OOV token)
    why: str  # known, rare, unknown
    kind: str | None  # emoji, rtl, script: why it cannot be in this vocabulary


@dataclass
class LineView:
    text: str
    tokens: list[TokenView]
    ids: list[int]
    cut_front: list[str]  # words truncation removed, before the kept ones
    cut_back: list[str]
    pad_front: int
    pad_back: int
    row: list[int]  # the padded row


@dataclass
class StripView:
    width: int
    filters: list[dict]  # index, values, colours, best, pooled, ngram
    limit: float
    explain: dict | None = None  # the top filter's best cell, word by word

    def fmt(self, value: float, numbers: Numbers) -> str:
        """A cell's number, with enough decimals to tell values apart at this scale (and no
        "-0.00")."""
        decimals = 2 if self.limit < 1 else (1 if self.limit < 10 else 0)
        return numbers.fixed(value, decimals).replace("-", "−")


def css_rgb(rgb) -> str:
    return f"rgb({int(rgb[0])},{int(rgb[1])},{int(rgb[2])})"


# --- tokens and padded rows ----------------------------------------------------------------------


def _words_for_ids(line: LineView) -> list[str | None]:
    """The word at each position of the padded row (None for padding)."""
    seen = [t.word for t in line.tokens if t.id is not None]
    kept = seen[len(line.cut_front) : len(seen) - len(line.cut_back)]
    return [None] * line.pad_front + kept + [None] * line.pad_back


def tokenize_lines(state: TextFields, net: Network) -> list[LineView]:
    tok = net.tokenizer
    views = []
    for text in state.lines:
        tokens = []
        for word in tok.words(text):
            i, why = tok.word_id(word)
            tokens.append(TokenView(word, i, why, word_kind(word, net.known_scripts)))
        ids = [t.id for t in tokens if t.id is not None]
        cut_f, cut_b, pad_f, pad_b = pad_layout(len(ids), state.maxlen, state.padding,
                                                state.truncating)  # fmt: skip
        words = [t.word for t in tokens if t.id is not None]
        cut_front, cut_back = words[:cut_f], words[len(words) - cut_b :] if cut_b else []
        row = pad_sequences([ids], state.maxlen, padding=state.padding,
                            truncating=state.truncating)[0].tolist()  # fmt: skip
        views.append(LineView(text, tokens, ids, cut_front, cut_back, pad_f, pad_b, row))
    return views


def check_words(lines: list[LineView], net: Network) -> list[tuple[str, dict]]:
    """Refuse text without words, or with only words this vocabulary cannot hold; otherwise the
    notices (msgid, params) to show next to the tokens."""
    tokens = [t for line in lines for t in line.tokens]
    if not tokens:
        raise UserError(
            N_("There are no words here, only punctuation or spaces: the tokenizer removes "
               "%(filters)s and splits on spaces. Type some words."),
            filters="! \" # $ % & ( ) * + , - . / : ; < = > ? @ [ \\ ] ^ _ ` { | } ~",
        )  # fmt: skip
    foreign = [t for t in tokens if t.kind]
    if len(foreign) == len(tokens):
        scripts = set().union(*(word_scripts(t.word) for t in foreign)) - net.known_scripts
        raise UserError(
            N_("None of these words can be in the vocabulary: they are written in %(scripts)s, "
               "and the vocabulary (%(n)s words) only has words in %(known)s. Type some words "
               "in those."),
            status=422, scripts=script_names(scripts),
            n=LocalNumber(vocabulary_words(net.tokenizer)), known=script_names(net.known_scripts),
        )  # fmt: skip
    notices = []
    kinds = {t.kind for t in foreign}
    if "emoji" in kinds:
        words = ", ".join(t.word for t in foreign if t.kind == "emoji")
        notices.append((N_("Emoji are not in the tokenizer's filters, so they stay inside words "
                           "(%(words)s); the vocabulary has none, so they are out of vocabulary."),
                        {"words": words}))  # fmt: skip
    if "rtl" in kinds:
        words = ", ".join(t.word for t in foreign if t.kind == "rtl")
        notices.append((N_("Words written right to left (%(words)s) are tokenized like any "
                           "other, and shown in their own direction; this vocabulary has none."),
                        {"words": words}))  # fmt: skip
    if "script" in kinds:
        words = ", ".join(t.word for t in foreign if t.kind == "script")
        notices.append((N_("Some words use a script the vocabulary does not (%(words)s): they "
                           "are out of vocabulary."), {"words": words}))  # fmt: skip
    return notices


# --- embeddings, convolution, dense layer ---------------------------------------------------------


def parameter_counts(model: TextCNN, maxlen: int) -> dict:
    """What the embedding saves over one-hot vectors, for this network."""
    v, d, f, widths = model.vocab_size, model.embedding_dim, model.filters, model.widths
    conv_embed = sum(f * d * w + f for w in widths)
    conv_onehot = sum(f * v * w + f for w in widths)
    return {
        "V": v, "D": d, "F": f, "widths": widths, "sum_w": sum(widths), "L": maxlen,
        "table": v * d, "conv_embed": conv_embed, "conv_onehot": conv_onehot,
        "total_embed": v * d + conv_embed, "total_onehot": conv_onehot,
        "input_embed": maxlen * d, "input_onehot": maxlen * v,
        "ratio": conv_onehot / (v * d + conv_embed),
    }  # fmt: skip


def strip_views(model: TextCNN, strips, embedded: np.ndarray, words) -> list[StripView]:
    """Per filter width, the SHOWN_FILTERS filters that respond most, coloured on a scale of
    their own, each with its best n-gram; the top filter's best cell explained."""
    views = []
    for strip in strips:
        order = np.argsort(-strip.pooled, kind="stable")[:SHOWN_FILTERS]
        lim = float(np.abs(strip.values[order]).max()) or 1.0
        rgb = diverging_rgb(strip.values, lim)
        filters = []
        for f in order:
            best = int(strip.best[f])
            gram = [w if w is not None else "·" for w in words[best : best + strip.width]]
            filters.append({
                "index": int(f), "values": strip.values[f].tolist(),
                "colours": [css_rgb(c) for c in rgb[f]], "best": best,
                "pooled": float(strip.pooled[f]), "ngram": " ".join(gram),
                "fires": bool(strip.values[f, best] > 0),
            })  # fmt: skip
        views.append(StripView(strip.width, filters, lim))
        views[-1].explain = explain_cell(model, strips.index(strip), filters[0], embedded,
                                         words)  # fmt: skip
    return views


def explain_cell(model: TextCNN, branch: int, shown: dict, embedded: np.ndarray, words) -> dict:
    """The outlined cell of a filter, word by word: the filter's column for each word · that
    word's row, summed, plus the bias (embedded is (L, D))."""
    conv = model.convs[branch]
    weight = conv.params["weight"][shown["index"]].astype(np.float64)  # (D, w)
    bias = float(conv.params["bias"][shown["index"]])
    best, width = shown["best"], weight.shape[1]
    taps = [(words[best + t], float(weight[:, t] @ embedded[best + t])) for t in range(width)]
    return {"filter": shown["index"], "taps": taps, "bias": bias,
            "value": sum(v for _, v in taps) + bias}  # fmt: skip


def dense_terms(model: TextCNN, pooled, words, strips, top: int = 3):
    """Per class, the largest terms w·h of its score, labelled with the filter's best n-gram."""
    weight = model.dense.params["weight"].astype(np.float64)  # (K, F·W)
    labels = []
    for strip in strips:
        for f in range(model.filters):
            best = int(strip.best[f])
            gram = [w if w is not None else "·" for w in words[best : best + strip.width]]
            labels.append(f"w{strip.width}·f{f + 1} «{' '.join(gram)}»")
    out = []
    for k in range(weight.shape[0]):
        terms = weight[k] * pooled
        order = np.argsort(-np.abs(terms), kind="stable")[:top]
        out.append([(float(weight[k, j]), float(pooled[j]), labels[j]) for j in order
                    if pooled[j] > 0])  # fmt: skip
    return out


# --- each word's share ----------------------------------------------------------------------------


def word_contributions(net: Network, line: LineView, state: TextFields, target: int) -> dict:
    """Occlusion: the change in log-odds of `target` when each word the network saw is taken
    out (words cut by truncation or dropped were never seen)."""
    result = occlusion(net.model, line.ids, state.maxlen, state.padding, state.truncating, target)
    seen = [t for t in line.tokens if t.id is not None]
    kept_tokens = seen[len(line.cut_front) : len(seen) - len(line.cut_back)]
    by_token = {id(t): i for i, t in enumerate(kept_tokens)}
    limit = float(np.abs(result.deltas).max()) if len(result.deltas) else 0.0
    limit = limit or 1.0
    words = []
    for t in line.tokens:
        i = by_token.get(id(t))
        delta = None if i is None else float(result.deltas[i])
        colour = None if i is None else css_rgb(diverging_rgb(np.array([delta]), limit)[0])
        reason = None if i is not None else ("dropped" if t.id is None else "cut")
        words.append({"token": t, "delta": delta, "colour": colour, "reason": reason})
    top = None
    if len(result.deltas):
        i = int(np.abs(result.deltas).argmax())
        top = {"word": kept_tokens[i].word, "delta": float(result.deltas[i]),
               "without": float(result.log_odds - result.deltas[i]),
               "p_without": float(result.p_without[i])}  # fmt: skip
    return {"p_all": result.p_all, "log_odds": result.log_odds, "target": target,
            "words": words, "limit": limit, "top": top}  # fmt: skip
