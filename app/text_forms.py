"""The Text lab's two forms, parsed and checked: the pipeline's state (it lives in the query
string, so a shared link reproduces the view) and the training form, which becomes the
plain-data config a text worker runs."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from urllib.parse import urlencode

from app.errors import UserError
from app.forms import LabelRef, parse_choice, parse_float, parse_int
from app.i18n import N_
from app.text_corpus import Corpus
from app.text_scripts import BIDI_CONTROLS
from engine.text import PADDING_SIDES
from engine.textmodel import DEFAULT_WIDTHS

MAX_TEXT = 1000  # characters in the pipeline and try-it text: it travels in the URL
MAX_LINES = 8  # sentences in the matrix
MAX_MAXLEN = 100
MIN_MAXLEN = max(DEFAULT_WIDTHS)  # the widest filter must fit
MAX_NUM_WORDS = 50_000
DEFAULT_MAXLEN = 12
DEFAULT_TEXT = (
    "The hotel was not great, but the breakfast was excellent!\n"
    "O filme é ótimo, não perca.\n"
    "Péssimo atendimento: nunca mais volto a esse restaurante tão caro, barulhento e sujo."
)
RUN_ID = re.compile(r"[0-9a-f]{12}")


# --- the pipeline's state ------------------------------------------------------------------------


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


# --- the training form ---------------------------------------------------------------------------


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
