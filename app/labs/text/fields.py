"""The Text lab's fields: the pipeline's (they live in the query string, so a shared link
reproduces the view) and the training form's, which becomes the plain-data config a text worker
runs. Both share the vocabulary and padding settings."""

import re
import unicodedata
from typing import Literal
from urllib.parse import urlencode

from pydantic import field_validator, model_validator

from app.config import LIMITS
from app.labs.text.corpus import Corpus
from app.labs.text.scripts import BIDI_CONTROLS
from app.web.errors import LabelRef, UserError
from app.web.fields import Fields, field
from app.web.i18n import N_
from app.web.numbers import LocalNumber
from engine.textmodel import DEFAULT_WIDTHS

MAX_TEXT = LIMITS.max_text  # characters in the pipeline and try-it text: it travels in the URL
MAX_LINES = LIMITS.max_text_lines  # sentences in the matrix
MAX_MAXLEN = LIMITS.max_maxlen
MIN_MAXLEN = max(DEFAULT_WIDTHS)  # the widest filter must fit
MAX_NUM_WORDS = LIMITS.max_num_words
DEFAULT_MAXLEN = 12
DEFAULT_TEXT = (
    "The hotel was not great, but the breakfast was excellent!\n"
    "O filme é ótimo, não perca.\n"
    "Péssimo atendimento: nunca mais volto a esse restaurante tão caro, barulhento e sujo."
)
RUN_ID = re.compile(r"[0-9a-f]{12}")


def clean_text(raw: str, what: str = N_("The text")) -> str:
    """NFC, newlines unified, direction controls removed, other control characters as spaces.
    Refuses text that is too long or that was not valid UTF-8."""
    raw = raw.replace("\r\n", "\n").replace("\r", "\n")  # a form sends each line break as CR LF
    if len(raw) > MAX_TEXT:
        raise UserError(
            N_("%(field)s is %(n)s characters long; the limit is %(limit)s. Shorten it."),
            status=413, field=LabelRef(what), n=LocalNumber(len(raw)), limit=LocalNumber(MAX_TEXT),
        )  # fmt: skip
    if "\ufffd" in raw:  # what a decoder puts where bytes were not UTF-8
        raise UserError(
            N_("%(field)s is not valid UTF-8: some bytes could not be read as letters. "
               "Type or paste it again."),
            field=LabelRef(what),
        )  # fmt: skip
    text = unicodedata.normalize("NFC", raw)
    text = text.translate(BIDI_CONTROLS)
    return "".join(" " if unicodedata.category(c) == "Cc" and c not in "\n\t" else c for c in text)


def flag(default: bool):
    """A checkbox sent with a hidden "0" before it: the last value wins."""
    return field(default, N_("On or off"))


class TextSettings(Fields):
    """The vocabulary and padding settings, shared by the pipeline and the training form."""

    maxlen: int = field(DEFAULT_MAXLEN, N_("Maximum length (maxlen)"), ge=MIN_MAXLEN, le=MAX_MAXLEN)
    padding: Literal["pre", "post"] = field("pre", N_("Padding"), alias="pad")  # Keras' default
    truncating: Literal["pre", "post"] = field("pre", N_("Truncating"), alias="trunc")
    # None: every word of the corpus.
    num_words: int | None = field(
        None, N_("Vocabulary size (num_words)"), alias="words", ge=2, le=MAX_NUM_WORDS,
        below=N_("Vocabulary size (num_words) must be at least 2 (got %(value)s): only ids below "
                 "it are kept, and the first word has id 1. Leave it empty to keep every word."),
    )  # fmt: skip
    oov: bool = flag(True)
    lower: bool = flag(True)

    @field_validator("maxlen", mode="before")
    @classmethod
    def _widest_filter_fits(cls, value):
        if isinstance(value, int) and 1 <= value < MIN_MAXLEN:  # legal for Keras, too short here
            raise UserError(
                N_("Maximum length (maxlen) must be at least %(min)s here (got %(value)s): the "
                   "widest convolution filter reads %(min)s words at once."),
                min=MIN_MAXLEN, value=value,
            )  # fmt: skip
        return value


class TextFields(TextSettings):
    """The pipeline: the sentences followed through the network, and which run's network."""

    text: str = field(DEFAULT_TEXT, N_("The text"), max_length=MAX_TEXT)
    follow: int = field(1, N_("Sentence to follow"), ge=1, le=MAX_LINES)  # from 1
    run: str | None = field(None, N_("Run"), description="A finished text run's id.")

    @field_validator("text", mode="before")
    @classmethod
    def _clean(cls, value):
        return clean_text(value) if isinstance(value, str) else value

    @field_validator("run")
    @classmethod
    def _run_id(cls, value):
        run = (value or "").strip()
        if not run:
            return None
        if not RUN_ID.fullmatch(run):
            raise UserError(N_("There is no run '%(id)s'."), status=404, id=run[:20])
        return run

    @model_validator(mode="after")
    def _lines(self):
        if not self.lines:
            raise UserError(N_("Type a sentence or two first: the text is empty."))
        if len(self.lines) > MAX_LINES:
            raise UserError(
                N_("Type at most %(max)s sentences, one per line (got %(n)s)."),
                max=MAX_LINES, n=len(self.lines),
            )  # fmt: skip
        self.follow = min(self.follow, len(self.lines))
        return self

    def omitted(self) -> set[str]:
        return {"follow"} if self.follow == 1 else set()

    def items(self, text: bool = True) -> list[tuple[str, str]]:
        items = super().items()
        own = [item for item in items if item[0] == "text"] if text else []
        return own + [item for item in items if item[0] != "text"]

    @property
    def lines(self) -> list[str]:
        return [line.strip() for line in self.text.split("\n") if line.strip()]


class TextTrainFields(TextSettings):
    """The training form: the corpus and the network's size and training."""

    source: Literal["builtin", "own"] = field("builtin", N_("Training texts"))
    corpus: str = field(
        "", N_("Your own lines"), max_length=2 * LIMITS.max_corpus_bytes,
        description="label,text lines (or a file in corpus_file).",
    )  # fmt: skip
    epochs: int = field(12, N_("Epochs"), ge=1, le=LIMITS.max_text_epochs)
    dim: int = field(16, N_("Embedding size"), ge=2, le=64)
    filters: int = field(8, N_("Filters per width"), ge=1, le=32)
    lr: float = field(0.01, N_("Learning rate"), ge=0.0001, le=1.0)
    dropout: float = field(0.5, N_("Dropout"), ge=0.0, le=0.9)
    seed: int = field(0, N_("Seed"), ge=0, le=1_000_000)

    def train_config(self) -> dict:
        return {
            "embedding_dim": self.dim, "filters": self.filters, "dropout": self.dropout,
            "lr": self.lr, "epochs": self.epochs, "batch_size": 16, "seed": self.seed,
        }  # fmt: skip


def run_config(form: TextTrainFields, corpus: Corpus | None) -> dict:
    """Everything a text worker needs, as plain data (it crosses a process boundary)."""
    settings = [(k, v) for k, v in form.items() if k in TEXT_SETTING_KEYS]
    config = {
        "kind": "text",
        "corpus": "own" if corpus else "builtin",
        "num_words": form.num_words, "oov": form.oov, "lower": form.lower,
        "maxlen": form.maxlen, "padding": form.padding, "truncating": form.truncating,
        "train": form.train_config(),
        "query": urlencode(settings),
    }  # fmt: skip
    if corpus:
        config["texts"], config["labels"] = corpus.texts, corpus.labels
        config["class_names"] = corpus.class_names
        config["n_lines"] = len(corpus.texts)
    return config


TEXT_SETTING_KEYS = {info.alias or name for name, info in TextSettings.model_fields.items()}
