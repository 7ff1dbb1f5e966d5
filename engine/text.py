"""Text to integers, the way Keras does it: a Tokenizer, pad_sequences, and the built-in corpus.

    tok = Tokenizer(num_words=1000, oov_token="<OOV>")
    tok.fit_on_texts(["The film was great!", "The film was awful."])
    tok.word_index          # {"<OOV>": 1, "the": 2, "film": 3, "was": 4, "great": 5, "awful": 6}
    seqs = tok.texts_to_sequences(["a great film"])   # [[1, 5, 3]]  ("a" is unknown -> 1)
    pad_sequences(seqs, maxlen=5)                     # [[0, 0, 1, 5, 3]]

Semantics follow ``keras.preprocessing.text.Tokenizer`` and ``keras.utils.pad_sequences``
(Keras 2.x / tf.keras), checked case by case in tests/engine/test_text.py:

* words are what is left between spaces once the filter characters (punctuation, tab, newline)
  are replaced by spaces; text is lower-cased first (``lower=True``);
* ids start at 1, ranked by count over the fitted texts; ties keep first-seen order; 0 is
  never a word (padding);
* the OOV token, when given, takes id 1 (one deliberate difference from Keras: if the OOV
  token's own text also occurs as a word, Keras gives it a second, later id; here it keeps 1);
* ``num_words`` keeps only ids below it: the others become the OOV id, or are dropped when
  there is no OOV token. ``word_index`` itself keeps every word, as in Keras.

Apostrophes are not in Keras' filters, so "don't" and "d'água" stay one word; accented letters
are letters ("ótimo", "não", "coração"). Emoji are not filtered either: "great😀" is one word.
"""

from __future__ import annotations

import csv
import math
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from engine.errors import N_, EngineError

__all__ = [
    "DEFAULT_FILTERS",
    "TextCorpus",
    "Tokenizer",
    "load_reviews",
    "pad_layout",
    "pad_sequences",
    "text_to_word_sequence",
]

# Keras' default filters: ASCII punctuation except the apostrophe, plus tab and newline.
DEFAULT_FILTERS = '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n'
PADDING_SIDES = ("pre", "post")
REVIEWS_FILE = Path(__file__).parent / "datasets" / "sentiment" / "reviews.tsv"


def filter_pattern(filters: str) -> re.Pattern | None:
    """One regular expression for "any filter character" (a regex substitution is about 3×
    faster than str.translate here); None for no filters."""
    return re.compile("[" + re.escape(filters) + "]") if filters else None


def text_to_word_sequence(
    text: str, filters: str = DEFAULT_FILTERS, lower: bool = True, split: str = " ", pattern=None
) -> list[str]:
    """ "Hello, World!" -> ["hello", "world"]: lower-case, filters to spaces, split, drop empties.

    `pattern` is filter_pattern(filters), when the caller has it ready (a Tokenizer does)."""
    if lower:
        text = text.lower()
    pattern = pattern or filter_pattern(filters)
    if pattern is not None:
        text = pattern.sub(split, text)
    return [word for word in text.split(split) if word]


class Tokenizer:
    """Keras' word Tokenizer (see the module docstring for the exact rules)."""

    def __init__(
        self,
        num_words: int | None = None,
        oov_token: str | None = None,
        lower: bool = True,
        filters: str = DEFAULT_FILTERS,
    ) -> None:
        if num_words is not None:
            if isinstance(num_words, bool) or not isinstance(num_words, int | np.integer):
                raise EngineError(
                    N_("num_words must be a whole number or None (got %(value)s)."),
                    value=repr(num_words),
                )
            if num_words < 2:
                raise EngineError(
                    N_(
                        "num_words must be at least 2 (got %(value)s): only ids below it are "
                        "kept, and the first word has id 1."
                    ),
                    value=int(num_words),
                )
        self.num_words = None if num_words is None else int(num_words)
        self.oov_token = oov_token or None
        self.lower = bool(lower)
        self.filters = filters
        self._pattern = filter_pattern(filters)  # built once, not per text
        self.word_counts: dict[str, int] = {}  # in first-seen order
        self.word_index: dict[str, int] = {}
        self.index_word: dict[int, str] = {}
        self.document_count = 0

    def words(self, text: str) -> list[str]:
        return text_to_word_sequence(text, self.filters, self.lower, pattern=self._pattern)

    def fit_on_texts(self, texts) -> Tokenizer:
        """Count words over `texts` (an iterable of strings) and rank them into word_index."""
        if isinstance(texts, str):
            raise EngineError(N_("fit_on_texts takes a list of texts, not a single string."))
        counts: Counter[str] = Counter(self.word_counts)
        for text in texts:
            self.document_count += 1
            counts.update(self.words(text))  # Counter keeps first-seen order of new keys
        self.word_counts = dict(counts)
        # sorted() is stable: words with equal counts stay in the order they were first seen.
        ranked = sorted(self.word_counts.items(), key=lambda item: item[1], reverse=True)
        vocabulary = [self.oov_token] if self.oov_token else []
        vocabulary += [w for w, _ in ranked if w != self.oov_token]
        self.word_index = {w: i for i, w in enumerate(vocabulary, start=1)}
        self.index_word = {i: w for w, i in self.word_index.items()}
        return self

    @property
    def oov_index(self) -> int | None:
        return self.word_index.get(self.oov_token) if self.oov_token else None

    @property
    def vocab_size(self) -> int:
        """Rows an Embedding needs: ids 0 (padding) to the largest id a sequence can hold."""
        return min(len(self.word_index) + 1, self.num_words or math.inf)

    def word_id(self, word: str) -> tuple[int | None, str]:
        """(id, why) for one word already split: why is "known", "rare" (cut by num_words),
        "unknown" (never seen); the id is None when the word is dropped."""
        i = self.word_index.get(word)
        if i is not None and (self.num_words is None or i < self.num_words):
            return i, "known"
        return self.oov_index, "rare" if i is not None else "unknown"

    def texts_to_sequences(self, texts) -> list[list[int]]:
        if isinstance(texts, str):
            raise EngineError(N_("texts_to_sequences takes a list of texts, not a single string."))
        index, limit, oov = self.word_index, self.num_words, self.oov_index
        out = []
        for text in texts:
            ids = []
            for word in self.words(text):  # word_id's rules, inlined: this loop is the hot path
                i = index.get(word)
                if i is not None and (limit is None or i < limit):
                    ids.append(i)
                elif oov is not None:
                    ids.append(oov)
            out.append(ids)
        return out

    def sequences_to_texts(self, sequences) -> list[str]:
        """Ids back to words (ids 0 and unknown ids are skipped, as in Keras)."""
        return [" ".join(self.index_word[i] for i in seq if i in self.index_word)
                for seq in sequences]  # fmt: skip

    # --- saving, for a run trained in another process -----------------------------------------

    def to_dict(self) -> dict:
        return {
            "num_words": self.num_words,
            "oov_token": self.oov_token,
            "lower": self.lower,
            "filters": self.filters,
            "word_counts": list(self.word_counts.items()),
            "document_count": self.document_count,
        }

    @classmethod
    def from_dict(cls, data: dict) -> Tokenizer:
        tok = cls(data["num_words"], data["oov_token"], data["lower"], data["filters"])
        tok.word_counts = {str(w): int(c) for w, c in data["word_counts"]}
        tok.fit_on_texts([])  # rank the restored counts (their order is the first-seen order)
        tok.document_count = int(data["document_count"])
        return tok


def _check_side(value: str, what: str) -> str:
    if value not in PADDING_SIDES:
        raise EngineError(
            N_("%(what)s must be 'pre' or 'post' (got '%(value)s')."), what=what, value=str(value)
        )
    return value


def pad_layout(length: int, maxlen: int, padding: str = "pre", truncating: str = "pre"):
    """Where a sequence of `length` ids goes in a row of `maxlen`:
    (cut_front, cut_back, pad_front, pad_back), counts of ids cut and padding values added."""
    _check_side(padding, "padding")
    _check_side(truncating, "truncating")
    cut = max(length - maxlen, 0)
    pad = maxlen - (length - cut)
    cut_front, cut_back = (cut, 0) if truncating == "pre" else (0, cut)
    if length == 0:  # Keras leaves an empty sequence as all padding, whatever the side
        return 0, 0, maxlen if padding == "pre" else 0, maxlen if padding == "post" else 0
    return cut_front, cut_back, (pad if padding == "pre" else 0), (pad if padding == "post" else 0)


def pad_sequences(
    sequences,
    maxlen: int | None = None,
    dtype="int32",
    padding: str = "pre",
    truncating: str = "pre",
    value=0,
) -> np.ndarray:
    """Lists of ids -> a (N, maxlen) array, as keras.utils.pad_sequences.

    maxlen None: the longest sequence's length. Longer sequences lose ids at the front
    (truncating="pre") or the back ("post"); shorter ones get `value` at the front
    (padding="pre") or the back ("post"). An empty sequence becomes a row of `value`.
    """
    _check_side(padding, "padding")
    _check_side(truncating, "truncating")
    sequences = [list(s) for s in sequences]
    lengths = [len(s) for s in sequences]
    if maxlen is None:
        maxlen = max(lengths, default=0)
    elif isinstance(maxlen, bool) or not isinstance(maxlen, int | np.integer) or maxlen < 1:
        raise EngineError(N_("maxlen must be a whole number ≥ 1 (got %(value)s)."),
                          value=repr(maxlen))  # fmt: skip
    out = np.full((len(sequences), int(maxlen)), value, dtype=dtype)
    for row, seq in enumerate(sequences):
        if not seq or maxlen == 0:
            continue
        kept = seq[-maxlen:] if truncating == "pre" else seq[:maxlen]
        if padding == "post":
            out[row, : len(kept)] = kept
        else:
            out[row, maxlen - len(kept) :] = kept
    return out


# --- the built-in corpus ------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class TextCorpus:
    """Labelled texts split once into train and test; labels index into class_names."""

    name: str
    train_texts: list[str]
    y_train: np.ndarray  # (N_train,) int64
    test_texts: list[str]
    y_test: np.ndarray  # (N_test,) int64
    class_names: list[str]
    train_langs: list[str] | None = None  # "en"/"pt" per training text, when known
    test_langs: list[str] | None = None
    train_groups: list[str] | None = None  # texts written as a pair share a group (hold out both)

    def __repr__(self) -> str:
        return (f"TextCorpus({self.name!r}, train={len(self.train_texts)}, "
                f"test={len(self.test_texts)}, classes={self.class_names})")  # fmt: skip


def load_reviews(lang: str | None = None) -> TextCorpus:
    """The 400 short reviews written for the project (CC0; see datasets/sentiment/CREDITS.md),
    English and Brazilian Portuguese, with their fixed split. `lang` "en" or "pt" keeps one.

    The reviews were written in pairs (a positive one and its negative twin, same topic); the
    fixed split keeps both of a pair on the same side, and ``train_groups`` names the pairs so
    a validation split can do the same."""
    rows: dict[str, dict[str, list]] = {
        split: {"text": [], "label": [], "lang": [], "pair": []} for split in ("train", "test")
    }
    class_names = ["negative", "positive"]
    with REVIEWS_FILE.open(encoding="utf-8", newline="") as fh:
        for record in csv.DictReader(fh, delimiter="\t", quoting=csv.QUOTE_NONE):
            if lang and record["lang"] != lang:
                continue
            part = rows[record["split"]]
            part["text"].append(record["text"])
            part["label"].append(class_names.index(record["label"]))
            part["lang"].append(record["lang"])
            part["pair"].append(record["pair"])
    train, test = rows["train"], rows["test"]
    return TextCorpus(
        "reviews" + (f"-{lang}" if lang else ""),
        train["text"], np.array(train["label"], dtype=np.int64),
        test["text"], np.array(test["label"], dtype=np.int64),
        class_names, train["lang"], test["lang"], train["pair"],
    )  # fmt: skip
