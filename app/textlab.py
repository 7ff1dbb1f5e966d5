"""The Text lab's state (query string), its checks on text, and the numbers each stage shows.

The pipeline view follows the sentences typed by the user through a Keras-style Tokenizer fitted
on the training reviews (or on a trained run's corpus), pad_sequences, and a text CNN: untrained
(seed 0) until a run is chosen with `run=<id>`, then the trained one.
"""

from __future__ import annotations

import re
import threading
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np

from app.errors import UserError
from app.forms import LabelList, LabelRef, parse_choice, parse_float, parse_int
from app.i18n import N_
from app.render import diverging_rgb
from engine.datasets import stratified_split
from engine.text import PADDING_SIDES, Tokenizer, load_reviews, pad_layout, pad_sequences
from engine.textmodel import (
    DEFAULT_WIDTHS,
    TextCNN,
    TextTrainConfig,
    conv_strips,
    occlusion,
    pca_2d,
)

MAX_TEXT = 1000  # characters in the pipeline and try-it text: it travels in the URL
MAX_LINES = 8  # sentences in the matrix
MAX_MAXLEN = 100
MIN_MAXLEN = max(DEFAULT_WIDTHS)  # the widest filter must fit
MAX_NUM_WORDS = 50_000
SHOWN_FILTERS = 6  # per width in the convolution view: those that fire most
DEFAULT_MAXLEN = 12
DEFAULT_TEXT = (
    "The hotel was not great, but the breakfast was excellent!\n"
    "O filme é ótimo, não perca.\n"
    "Péssimo atendimento: nunca mais volto a esse restaurante tão caro, barulhento e sujo."
)
OOV_TOKEN = "<OOV>"
BUILTIN_TRAIN_TEXTS = 320  # training reviews of the built-in corpus (checked by a test)
RUN_ID = re.compile(r"[0-9a-f]{12}")
# Direction controls (LRE … RLO, isolates, marks): they could reorder what the page shows.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                                       "\u200e\u200f"))  # fmt: skip

MAX_CORPUS_BYTES = 256 * 1024
MAX_CORPUS_LINES = 2000
MAX_CORPUS_LINE = 500
MAX_CLASSES = 10
MIN_CORPUS_LINES = 10
BAD_LINES_SHOWN = 10

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


# --- state ---------------------------------------------------------------------------------------


@dataclass
class TextState:
    text: str = DEFAULT_TEXT
    maxlen: int = DEFAULT_MAXLEN
    padding: str = "pre"  # Keras' defaults
    truncating: str = "pre"
    num_words: int | None = None  # None: every word of the corpus
    oov: bool = True
    lower: bool = True
    follow: int = 1  # the sentence followed through the network, from 1
    run: str | None = None

    def items(self, text: bool = True) -> list[tuple[str, str]]:
        items = [("text", self.text)] if text else []
        items += [("maxlen", str(self.maxlen)), ("pad", self.padding), ("trunc", self.truncating)]
        if self.num_words is not None:
            items.append(("words", str(self.num_words)))
        items += [("oov", "1" if self.oov else "0"), ("lower", "1" if self.lower else "0")]
        if self.follow != 1:
            items.append(("follow", str(self.follow)))
        if self.run:
            items.append(("run", self.run))
        return items

    def query(self) -> str:
        return urlencode(self.items())

    @property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.split("\n") if line.strip()]


def _flag(params, name: str, default: bool) -> bool:
    """A checkbox sent with a hidden "0" before it: the last value wins."""
    values = params.getlist(name)
    if not values:
        return default
    return parse_choice(values[-1], N_("On or off"), ("0", "1"), "1") == "1"


def clean_text(raw: str, what: str = N_("The text")) -> str:
    """NFC, newlines unified, direction controls removed, other control characters as spaces.
    Refuses text that is too long or that was not valid UTF-8."""
    if len(raw) > MAX_TEXT:
        raise UserError(
            N_("%(field)s is %(n)s characters long; the limit is %(limit)s. Shorten it."),
            status=413, field=LabelRef(what), n=f"{len(raw):,}", limit=f"{MAX_TEXT:,}",
        )  # fmt: skip
    if "\ufffd" in raw:  # what a decoder puts where bytes were not UTF-8
        raise UserError(
            N_("%(field)s is not valid UTF-8: some bytes could not be read as letters. "
               "Type or paste it again."),
            field=LabelRef(what),
        )  # fmt: skip
    text = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n"))
    text = text.translate(BIDI_CONTROLS)
    return "".join(" " if unicodedata.category(c) == "Cc" and c not in "\n\t" else c for c in text)


def parse_maxlen(raw) -> int:
    try:
        return parse_int(raw, N_("Maximum length (maxlen)"), DEFAULT_MAXLEN, MIN_MAXLEN, MAX_MAXLEN)
    except UserError:
        text = (raw or "").strip()
        if text.isdigit() and 1 <= int(text) < MIN_MAXLEN:  # legal for Keras, too short here
            raise UserError(
                N_("Maximum length (maxlen) must be at least %(min)s here (got %(value)s): the "
                   "widest convolution filter reads %(min)s words at once."),
                min=MIN_MAXLEN, value=int(text),
            ) from None  # fmt: skip
        raise


def parse_num_words(raw) -> int | None:
    text = (raw or "").strip()
    if not text:
        return None
    try:
        value = int(float(text))
    except (ValueError, OverflowError):
        value = None
    if value is not None and value <= 1:
        raise UserError(
            N_("Vocabulary size (num_words) must be at least 2 (got %(value)s): only ids below "
               "it are kept, and the first word has id 1. Leave it empty to keep every word."),
            value=text[:20],
        )  # fmt: skip
    return parse_int(text, N_("Vocabulary size (num_words)"), 0, 2, MAX_NUM_WORDS)


def parse_settings(params, state: TextState) -> TextState:
    """The vocabulary and padding settings, shared by the pipeline and the training form."""
    state.maxlen = parse_maxlen(params.get("maxlen"))
    state.padding = parse_choice(params.get("pad"), N_("Padding"), PADDING_SIDES, "pre")
    state.truncating = parse_choice(params.get("trunc"), N_("Truncating"), PADDING_SIDES, "pre")
    state.num_words = parse_num_words(params.get("words"))
    state.oov = _flag(params, "oov", True)
    state.lower = _flag(params, "lower", True)
    return state


def parse_run_id(raw) -> str | None:
    run = (raw or "").strip()
    if not run:
        return None
    if not RUN_ID.fullmatch(run):
        raise UserError(N_("There is no run '%(id)s'."), status=404, id=run[:20])
    return run


def parse_state(params) -> TextState:
    state = TextState()
    raw = params.get("text")
    if raw is not None:
        state.text = clean_text(raw)
    if not state.lines:
        raise UserError(N_("Type a sentence or two first: the text is empty."))
    if len(state.lines) > MAX_LINES:
        raise UserError(
            N_("Type at most %(max)s sentences, one per line (got %(n)s)."),
            max=MAX_LINES, n=len(state.lines),
        )  # fmt: skip
    parse_settings(params, state)
    state.follow = parse_int(params.get("follow"), N_("Sentence to follow"), 1, 1, MAX_LINES)
    state.follow = min(state.follow, len(state.lines))
    state.run = parse_run_id(params.get("run"))
    return state


# --- scripts: emoji, right-to-left, others -------------------------------------------------------


def char_script(ch: str) -> str | None:
    """'emoji', a Unicode script name ('LATIN', 'ARABIC', 'CYRILLIC'…), or None (digits,
    combining marks, apostrophes: they belong to any script)."""
    code = ord(ch)
    category = unicodedata.category(ch)
    if category == "So" or 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF:
        return "emoji"
    if not category.startswith("L"):
        return None
    name = unicodedata.name(ch, "")
    return name.split(" ")[0] if name else "OTHER"


def word_scripts(word: str) -> set[str]:
    return {s for s in map(char_script, word) if s}


def is_rtl(word: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in word)


def vocabulary_words(tokenizer: Tokenizer) -> int:
    """Words in the vocabulary, not counting the OOV token."""
    return len(tokenizer.word_index) - (1 if tokenizer.oov_token else 0)


def vocabulary_scripts(tokenizer: Tokenizer) -> set[str]:
    scripts: set[str] = set()
    for word in tokenizer.word_index:
        scripts |= word_scripts(word)
    return scripts


def word_kind(word: str, known_scripts: set[str]) -> str | None:
    """What makes a word foreign to the vocabulary: 'emoji', 'rtl', 'script', or None."""
    scripts = word_scripts(word)
    if "emoji" in scripts and "emoji" not in known_scripts:
        return "emoji"
    if is_rtl(word) and not scripts <= known_scripts:
        return "rtl"
    if scripts - known_scripts:
        return "script"
    return None


# Script names as the messages show them (translated there); others appear as Unicode names them.
SCRIPT_TITLES = {
    "LATIN": N_("Latin"), "ARABIC": N_("Arabic"), "HEBREW": N_("Hebrew"),
    "CYRILLIC": N_("Cyrillic"), "GREEK": N_("Greek"), "CJK": N_("Chinese characters"),
    "HIRAGANA": N_("Hiragana"), "KATAKANA": N_("Katakana"), "HANGUL": N_("Hangul"),
    "DEVANAGARI": N_("Devanagari"), "THAI": N_("Thai"), "emoji": N_("emoji"),
}  # fmt: skip
CLASS_TITLES = (N_("negative"), N_("positive"))  # the built-in corpus's labels, for gettext


def script_names(scripts: set[str]) -> LabelList:
    """The scripts' names, each translated when the message is (see app.errors)."""
    return LabelList(sorted(SCRIPT_TITLES.get(s, s.title()) for s in scripts))


# --- models and tokenizers, cached ----------------------------------------------------------------


@dataclass
class Network:
    """A tokenizer and the text CNN that reads its ids; `lock` guards the model's forward pass
    (layers keep their last input), as pages share it across threads."""

    tokenizer: Tokenizer
    model: TextCNN
    class_names: list[str]
    trained: bool
    run_id: str | None = None
    maxlen: int | None = None  # the run's own settings, for "try it"
    padding: str = "pre"
    truncating: str = "pre"
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    known_scripts: set[str] = field(default_factory=set)

    @property
    def nbytes(self) -> int:
        return self.model.num_params() * 4 + 64 * len(self.tokenizer.word_index) + 4096


def builtin_network(state: TextState, results) -> Network:
    """The tokenizer fitted on the built-in training reviews and an untrained network (seed 0)."""
    key = f"text:init:{state.num_words}:{state.oov}:{state.lower}"
    cached = results.get(key)
    if cached is None:
        corpus = load_reviews()
        tok = Tokenizer(state.num_words, OOV_TOKEN if state.oov else None, state.lower)
        tok.fit_on_texts(corpus.train_texts)
        defaults = TextTrainConfig()
        model = TextCNN(tok.vocab_size, 2, defaults.embedding_dim, defaults.widths,
                        defaults.filters, defaults.dropout, np.random.default_rng(0))  # fmt: skip
        cached = Network(tok, model, corpus.class_names, trained=False)
        cached.known_scripts = vocabulary_scripts(tok)
        results.put(key, cached, cached.nbytes)
    return cached


def text_run(runs, run_id: str):
    """The run, if it exists and is a text run; otherwise a 404 the user can act on."""
    run = runs.get(run_id)
    if run is None or run.config.get("kind") != "text":
        raise UserError(
            N_("There is no text run '%(id)s': it never existed or has expired (finished runs "
               "are kept for %(minutes)s minutes). Train a new one."),
            status=404, id=run_id[:20], minutes=round(runs.ttl / 60),
        )  # fmt: skip
    return run


def run_network(run, results) -> Network:
    if run.state is None or "tokenizer" not in run.extra:
        raise UserError(
            N_("Run %(id)s has no trained network yet: wait until it has finished."),
            status=409, id=run.id,
        )  # fmt: skip
    key = f"text:run:{run.id}"
    cached = results.get(key)
    if cached is None:
        config, extra = run.config, run.extra
        train = config["train"]
        tok = Tokenizer.from_dict(extra["tokenizer"])
        model = TextCNN(tok.vocab_size, len(extra["class_names"]), train["embedding_dim"],
                        DEFAULT_WIDTHS, train["filters"], train["dropout"],
                        np.random.default_rng(0))  # fmt: skip
        model.load_state_dict(run.state)
        cached = Network(tok, model, list(extra["class_names"]), True, run.id,
                         config["maxlen"], config["padding"], config["truncating"])  # fmt: skip
        cached.known_scripts = vocabulary_scripts(tok)
        results.put(key, cached, cached.nbytes)
    return cached


# --- the pipeline ---------------------------------------------------------------------------------


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

    def fmt(self, value: float) -> str:
        """A cell's number, with enough decimals to tell values apart at this scale (and no
        "-0.00")."""
        pattern = "%.2f" if self.limit < 1 else ("%.1f" if self.limit < 10 else "%.0f")
        text = pattern % value
        return pattern % 0.0 if float(text) == 0 else text.replace("-", "−")


def _words_for_ids(line: LineView) -> list[str | None]:
    """The word at each position of the padded row (None for padding)."""
    seen = [t.word for t in line.tokens if t.id is not None]
    kept = seen[len(line.cut_front) : len(seen) - len(line.cut_back)]
    return [None] * line.pad_front + kept + [None] * line.pad_back


def tokenize_lines(state: TextState, net: Network) -> list[LineView]:
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
            n=f"{vocabulary_words(net.tokenizer):,}", known=script_names(net.known_scripts),
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


def css_rgb(rgb) -> str:
    return f"rgb({int(rgb[0])},{int(rgb[1])},{int(rgb[2])})"


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
    strip_views = []
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
        strip_views.append(StripView(strip.width, filters, lim))
        strip_views[-1].explain = explain_cell(model, strips.index(strip), filters[0], embedded,
                                               words)  # fmt: skip
    return TextView(
        state, net, lines, notices, matrix, followed, words, embedded, colours, limit,
        parameter_counts(model, state.maxlen), strip_views, pooled, logits, probs,
        dense_terms(model, pooled, words, strips), contributions,
    )  # fmt: skip


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


def word_contributions(net: Network, line: LineView, state: TextState, target: int) -> dict:
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


# --- training form and corpus ---------------------------------------------------------------------


@dataclass
class TrainForm:
    source: str = "builtin"  # builtin or own
    corpus: str = ""  # pasted label,text lines
    epochs: int = 12
    dim: int = 16
    filters: int = 8
    lr: float = 0.01
    dropout: float = 0.5
    seed: int = 0

    def train_config(self) -> dict:
        return {
            "embedding_dim": self.dim, "filters": self.filters, "dropout": self.dropout,
            "lr": self.lr, "epochs": self.epochs, "batch_size": 16, "seed": self.seed,
        }  # fmt: skip


def parse_train_form(params) -> TrainForm:
    form = TrainForm()
    form.source = parse_choice(params.get("source"), N_("Training texts"), ("builtin", "own"),
                               "builtin")  # fmt: skip
    form.epochs = parse_int(params.get("epochs"), N_("Epochs"), 12, 1, 60)
    form.dim = parse_int(params.get("dim"), N_("Embedding size"), 16, 2, 64)
    form.filters = parse_int(params.get("filters"), N_("Filters per width"), 8, 1, 32)
    form.lr = parse_float(params.get("lr"), N_("Learning rate"), 0.01, 0.0001, 1.0)
    form.dropout = parse_float(params.get("dropout"), N_("Dropout"), 0.5, 0.0, 0.9)
    form.seed = parse_int(params.get("seed"), N_("Seed"), 0, 0, 1_000_000)
    return form


def decode_upload(data: bytes) -> str:
    if len(data) > MAX_CORPUS_BYTES:
        raise UserError(
            N_("The file is larger than %(limit)s KB, the limit for a corpus. Use fewer lines."),
            status=413, limit=MAX_CORPUS_BYTES // 1024,
        )  # fmt: skip
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UserError(
            N_("The file is not UTF-8 text: line %(line)s has the byte %(byte)s, which UTF-8 "
               "cannot read (an older encoding such as Latin-1?). Save it as UTF-8 (\"CSV UTF-8\" "
               "in a spreadsheet) and upload it again."),
            line=data[: error.start].count(b"\n") + 1, byte=f"0x{data[error.start]:02X}",
        ) from None  # fmt: skip


@dataclass
class Corpus:
    texts: list[str]
    labels: list[int]
    class_names: list[str]


def parse_corpus(raw: str, lower: bool = True) -> Corpus:
    """`label,text` lines (an optional `label,text` header, blank lines skipped) -> a corpus.
    Every bad line is reported by number; one class alone is refused."""
    if len(raw.encode("utf-8")) > MAX_CORPUS_BYTES:
        raise UserError(N_("The corpus is larger than %(limit)s KB. Use fewer lines."),
                        status=413, limit=MAX_CORPUS_BYTES // 1024)  # fmt: skip
    if "\ufffd" in raw:
        raise UserError(N_("The corpus is not valid UTF-8 text: save it as UTF-8 and try again."))
    lines = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    if len(lines) > MAX_CORPUS_LINES:
        raise UserError(N_("The corpus has %(n)s lines; the limit is %(limit)s."),
                        status=413, n=f"{len(lines):,}", limit=f"{MAX_CORPUS_LINES:,}")  # fmt: skip
    rows, bad = [], []
    for number, line in enumerate(lines, start=1):
        line = line.translate(BIDI_CONTROLS).strip()
        if not line or (number == 1 and line.replace(" ", "").lower() == "label,text"):
            continue
        label, comma, text = line.partition(",")
        label, text = label.strip(), text.strip()
        usable = (comma and label and len(label) <= 30 and len(text) <= MAX_CORPUS_LINE
                  and Tokenizer(lower=lower).words(text))  # fmt: skip
        if usable:
            rows.append((label, text))
        else:
            bad.append(number)
    if bad:
        shown = ", ".join(str(n) for n in bad[:BAD_LINES_SHOWN])
        more = len(bad) - BAD_LINES_SHOWN
        raise UserError(
            N_("%(n)s lines are not 'label,text' with words after the comma: line %(lines)s"
               "%(more)s. Write each as a label, a comma and the text, e.g. positive,I loved it "
               "(labels up to 30 characters, texts up to %(max)s)."),
            status=422, n=len(bad), lines=shown, more=f" (+{more})" if more > 0 else "",
            max=MAX_CORPUS_LINE,
        )  # fmt: skip
    if len(rows) < MIN_CORPUS_LINES:
        raise UserError(
            N_("The corpus has %(n)s usable lines; paste at least %(min)s, like positive,I "
               "loved it"),
            status=422, n=len(rows), min=MIN_CORPUS_LINES,
        )  # fmt: skip
    class_names = sorted({label for label, _ in rows})
    if len(class_names) == 1:
        raise UserError(
            N_("Every line has the label '%(label)s': a classifier needs at least two classes "
               "to tell apart. Add lines with another label."),
            status=422, label=class_names[0],
        )  # fmt: skip
    if len(class_names) > MAX_CLASSES:
        raise UserError(N_("The corpus has %(n)s different labels; the limit is %(max)s."),
                        status=422, n=len(class_names), max=MAX_CLASSES)  # fmt: skip
    counts = {c: sum(1 for label, _ in rows if label == c) for c in class_names}
    few = [c for c, n in counts.items() if n < 2]
    if few:
        raise UserError(
            N_("Each label needs at least two lines, one to train on and one to test; "
               "'%(label)s' has only one."),
            status=422, label=few[0],
        )  # fmt: skip
    labels = [class_names.index(label) for label, _ in rows]
    return Corpus([t for _, t in rows], labels, class_names)


def run_config(state: TextState, form: TrainForm, corpus: Corpus | None) -> dict:
    """Everything a text worker needs, as plain data (it crosses a process boundary)."""
    config = {
        "kind": "text",
        "corpus": "own" if corpus else "builtin",
        "num_words": state.num_words, "oov": state.oov, "lower": state.lower,
        "maxlen": state.maxlen, "padding": state.padding, "truncating": state.truncating,
        "train": form.train_config(),
        "query": urlencode(state.items(text=False)),
    }  # fmt: skip
    if corpus:
        config["texts"], config["labels"] = corpus.texts, corpus.labels
        config["class_names"] = corpus.class_names
        config["n_lines"] = len(corpus.texts)
    return config


def split_own(labels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The fixed split of a pasted corpus: a fifth of every class to test, seed 0."""
    return stratified_split(np.array(labels), 0.2, seed=0)


# --- the embedding view's chart -------------------------------------------------------------------
# (A labelled scatter plot; it lives here rather than in app/charts.py only because that file is
# being changed by other labs at the same time. It uses the same ticks, palette and classes.)


def _label_box(x: float, y: float, width: float, where: str) -> tuple[float, float, float, float]:
    """(left, top, right, bottom) of a label beside the dot at (x, y)."""
    if where == "right":
        return x + 6, y - 8, x + 6 + width, y + 4
    if where == "left":
        return x - 6 - width, y - 8, x - 6, y + 4
    if where == "above":
        return x - width / 2, y - 18, x + width / 2, y - 6
    return x - width / 2, y + 5, x + width / 2, y + 17  # below


def _overlaps(a, b) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def labelled_scatter(points, x_label: str, y_label: str, title: str, classes: list[str],
                     legend_title: str = "", undecided: str = "", width: int = 680,
                     height: int = 540):  # fmt: skip
    """SVG: points (x, y, label, class index or −1 for undecided, emphasised) as dots coloured
    by class (Okabe–Ito; blue/vermilion for two classes), labelled where a label fits without
    covering another (emphasised points first; a crowded label becomes the dot's tooltip)."""
    from html import escape

    from markupsafe import Markup

    from app.charts import OKABE_ITO, _fmt, _ticks

    left, right, top, bottom = 58, 16, 16, 78
    plot_w, plot_h = width - left - right, height - top - bottom
    xs = [p[0] for p in points] or [0.0, 1.0]
    ys = [p[1] for p in points] or [0.0, 1.0]
    pad_x = (max(xs) - min(xs)) * 0.08 or 1.0
    pad_y = (max(ys) - min(ys)) * 0.06 or 1.0
    x_low, x_high = min(xs) - pad_x, max(xs) + pad_x
    y_low, y_high = min(ys) - pad_y, max(ys) + pad_y

    def px(x: float) -> float:
        return left + (x - x_low) / (x_high - x_low) * plot_w

    def py(y: float) -> float:
        return top + (1 - (y - y_low) / (y_high - y_low)) * plot_h

    if len(classes) == 2:
        colours = ["#0072B2", "#D55E00"]
    else:
        colours = [OKABE_ITO[i % len(OKABE_ITO)] for i in range(len(classes))]
    grey = "#8a8f96"
    parts = [
        f'<svg class="chart text-scatter" viewBox="0 0 {width} {height}" role="img" '
        f'aria-label="{escape(title)}" xmlns="http://www.w3.org/2000/svg">',
        f"<title>{escape(title)}</title>",
        f'<rect x="{left}" y="{top}" width="{plot_w}" height="{plot_h}" fill="#fff" '
        'stroke="#9aa3ad"/>',
    ]
    for tick in _ticks(y_low, y_high):
        y = py(tick)
        parts.append(
            f'<line x1="{left}" x2="{left + plot_w}" y1="{y:.1f}" y2="{y:.1f}" stroke="#eef0f2"/>'
            f'<text x="{left - 6}" y="{y + 4:.1f}" text-anchor="end" class="tick">{_fmt(tick)}'
            "</text>"
        )
    for tick in _ticks(x_low, x_high, count=6):
        x = px(tick)
        parts.append(
            f'<line x1="{x:.1f}" x2="{x:.1f}" y1="{top}" y2="{top + plot_h}" stroke="#eef0f2"/>'
            f'<text x="{x:.1f}" y="{top + plot_h + 16}" text-anchor="middle" class="tick">'
            f"{_fmt(tick)}</text>"
        )
    parts.append(
        f'<text x="{left + plot_w / 2}" y="{top + plot_h + 34}" text-anchor="middle" '
        f'class="axis-label">{escape(x_label)}</text>'
        f'<text transform="translate(14 {top + plot_h / 2}) rotate(-90)" text-anchor="middle" '
        f'class="axis-label">{escape(y_label)}</text>'
    )
    # Emphasised points first, so their labels get the free places.
    order = sorted(range(len(points)), key=lambda i: (not points[i][4], i))
    placed: list[tuple[float, float, float, float]] = []
    for i in order:
        x, y, label, cls, emphasised = points[i]
        cx, cy = px(x), py(y)
        colour = grey if cls < 0 else colours[cls % len(colours)]
        box = None
        text_width = 6.4 * len(label) + (8 if emphasised else 0)
        for where in ("right", "left", "above", "below"):
            candidate = _label_box(cx, cy, text_width, where)
            inside = candidate[0] >= left and candidate[2] <= left + plot_w and (
                candidate[1] >= top and candidate[3] <= top + plot_h)  # fmt: skip
            if inside and not any(_overlaps(candidate, other) for other in placed):
                box = candidate
                break
        weight = ' font-weight="700"' if emphasised else ""
        parts.append(
            f'<g class="word-point" data-word="{escape(label)}"><title>{escape(label)}</title>'
            f'<circle cx="{cx:.1f}" cy="{cy:.1f}" r="{4.5 if emphasised else 3.2}" '
            f'fill="{colour}"/>'
        )
        if box is not None:
            placed.append(box)
            parts.append(
                f'<text x="{box[0]:.1f}" y="{box[3] - 2:.1f}" class="word-label"{weight}>'
                f"{escape(label)}</text>"
            )
        parts.append("</g>")
    y = top + plot_h + 56
    x = left
    if legend_title:
        parts.append(f'<text x="{x}" y="{y + 4}" class="legend">{escape(legend_title)}:</text>')
        x += 10 + 6.6 * len(legend_title)
    entries = [(colours[i % len(colours)], name) for i, name in enumerate(classes)]
    if undecided:
        entries.append((grey, undecided))
    for colour, name in entries:
        parts.append(
            f'<circle cx="{x + 6:.1f}" cy="{y}" r="5" fill="{colour}"/>'
            f'<text x="{x + 15:.1f}" y="{y + 4}" class="legend">{escape(name)}</text>'
        )
        x += 34 + 6.6 * len(name)
    parts.append("</svg>")
    return Markup("".join(parts))
