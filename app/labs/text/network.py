"""The networks the Text lab shows: a tokenizer and the text CNN that reads its ids, either the
built-in vocabulary with an untrained network (seed 0) or a finished run's, cached in the app's
bounded results cache."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from app.labs.text.fields import TextFields
from app.labs.text.scripts import vocabulary_scripts
from app.media.cache import model_nbytes
from app.web.errors import UserError
from app.web.i18n import N_
from engine.text import Tokenizer, load_reviews
from engine.textmodel import DEFAULT_WIDTHS, TextCNN, TextTrainConfig

OOV_TOKEN = "<OOV>"
BUILTIN_TRAIN_TEXTS = 320  # training reviews of the built-in corpus (checked by a test)
CLASS_TITLES = (N_("negative"), N_("positive"))  # the built-in corpus's labels, for gettext


@dataclass
class Network:
    """A tokenizer and the text CNN that reads its ids. Pages share it across threads: they
    only run it in evaluation mode, which keeps nothing on the model."""

    tokenizer: Tokenizer
    model: TextCNN
    class_names: list[str]
    trained: bool
    run_id: str | None = None
    maxlen: int | None = None  # the run's own settings, for "try it"
    padding: str = "pre"
    truncating: str = "pre"
    known_scripts: set[str] = field(default_factory=set)
    # The built-in corpus's labels are msgids (translated for the page); a student's own corpus's
    # labels are the student's text, shown as typed.
    builtin_names: bool = False

    def class_titles(self, gettext) -> list[str]:
        """The classes as the page names them: built-in labels translated, a student's own
        labels as typed (never through gettext: they are data)."""
        if self.builtin_names:
            return [gettext(name) for name in self.class_names]
        return list(self.class_names)

    @property
    def nbytes(self) -> int:
        return model_nbytes(self.model) + 64 * len(self.tokenizer.word_index)


def builtin_network(state: TextFields, results) -> Network:
    """The tokenizer fitted on the built-in training reviews and an untrained network (seed 0)."""

    def build() -> Network:
        corpus = load_reviews()
        tok = Tokenizer(state.num_words, OOV_TOKEN if state.oov else None, state.lower)
        tok.fit_on_texts(corpus.train_texts)
        defaults = TextTrainConfig()
        model = TextCNN(tok.vocab_size, 2, defaults.embedding_dim, defaults.widths,
                        defaults.filters, defaults.dropout, np.random.default_rng(0))  # fmt: skip
        net = Network(tok, model, corpus.class_names, trained=False, builtin_names=True)
        net.known_scripts = vocabulary_scripts(tok)
        return net

    return results.get_or_compute(f"text:init:{state.num_words}:{state.oov}:{state.lower}", build)


def run_network(run, results) -> Network:
    if not run.has_state or "tokenizer" not in run.extra:
        raise UserError(
            N_("Run %(id)s has no trained network yet: wait until it has finished."),
            status=409, id=run.id,
        )  # fmt: skip

    def build() -> Network:
        config, extra = run.config, run.extra
        train = config["train"]
        tok = Tokenizer.from_dict(extra["tokenizer"])
        model = TextCNN(tok.vocab_size, len(extra["class_names"]), train["embedding_dim"],
                        DEFAULT_WIDTHS, train["filters"], train["dropout"],
                        np.random.default_rng(0))  # fmt: skip
        model.load_state_dict(run.state)
        net = Network(tok, model, list(extra["class_names"]), True, run.id,
                      config["maxlen"], config["padding"], config["truncating"],
                      builtin_names=config["corpus"] == "builtin")  # fmt: skip
        net.known_scripts = vocabulary_scripts(tok)
        return net

    return results.get_or_compute(f"text:run:{run.id}", build)
