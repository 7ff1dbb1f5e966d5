"""engine.text: Keras' Tokenizer and pad_sequences on hand-derived cases; the built-in corpus."""

import itertools
import unicodedata

import numpy as np
import pytest

from engine.errors import EngineError
from engine.text import (
    DEFAULT_FILTERS,
    Tokenizer,
    load_reviews,
    pad_layout,
    pad_sequences,
    text_to_word_sequence,
)

TEXTS = ["The cat sat.", "The dog, the cat!"]  # the ×3, cat ×2, sat ×1, dog ×1


# --- splitting ------------------------------------------------------------------------------------


def test_default_filters_are_keras_punctuation_without_the_apostrophe():
    assert "'" not in DEFAULT_FILTERS
    assert all(c in DEFAULT_FILTERS for c in '!"#$%&()*+,-./:;<=>?@[\\]^_`{|}~\t\n')


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("Hello, World!", ["hello", "world"]),
        ("  many   spaces\there\nand there ", ["many", "spaces", "here", "and", "there"]),
        ("don't stop—believe", ["don't", "stop—believe"]),  # the em dash is not a filter
        ("e-mail me@home.com", ["e", "mail", "me", "home", "com"]),
        ("...!!!", []),
        ("", []),
        ("great😀 movie", ["great😀", "movie"]),  # emoji are not filtered either
    ],
)
def test_text_to_word_sequence(text, words):
    assert text_to_word_sequence(text) == words


def test_lower_false_keeps_case():
    assert text_to_word_sequence("The THE the", lower=False) == ["The", "THE", "the"]


# --- the vocabulary -------------------------------------------------------------------------------


def test_ids_ranked_by_count_from_one():
    tok = Tokenizer().fit_on_texts(TEXTS)
    assert tok.word_index == {"the": 1, "cat": 2, "sat": 3, "dog": 4}
    assert tok.word_counts == {"the": 3, "cat": 2, "sat": 1, "dog": 1}
    assert tok.index_word[1] == "the"
    assert tok.document_count == 2
    assert tok.texts_to_sequences(["the dog sat on the cat"]) == [[1, 4, 3, 1, 2]]  # "on" dropped


def test_ties_keep_first_seen_order():
    # b and a both occur twice, b first; c and d once, d first.
    tok = Tokenizer().fit_on_texts(["b a d", "a b c"])
    assert list(tok.word_index.items()) == [("b", 1), ("a", 2), ("d", 3), ("c", 4)]


def test_fitting_twice_accumulates_counts():
    tok = Tokenizer().fit_on_texts(["x y"]).fit_on_texts(["y"])
    assert tok.word_index == {"y": 1, "x": 2}


def test_oov_token_takes_id_one():
    tok = Tokenizer(oov_token="<OOV>").fit_on_texts(TEXTS)
    assert tok.word_index == {"<OOV>": 1, "the": 2, "cat": 3, "sat": 4, "dog": 5}
    assert tok.texts_to_sequences(["the bird sat"]) == [[2, 1, 4]]
    assert tok.oov_index == 1


def test_oov_token_keeps_id_one_even_when_it_is_also_a_word():
    tok = Tokenizer(oov_token="unk").fit_on_texts(["unk unk unk a"])
    assert tok.word_index == {"unk": 1, "a": 2}


def test_num_words_with_oov_maps_rare_words_to_oov():
    tok = Tokenizer(num_words=3, oov_token="<OOV>").fit_on_texts(TEXTS)
    # Ids below 3 survive: <OOV> (1) and "the" (2); "cat" (3) is rare, "on" and "mat" unknown.
    assert tok.texts_to_sequences(["the cat sat on the mat"]) == [[2, 1, 1, 1, 2, 1]]
    assert len(tok.word_index) == 5  # word_index itself keeps every word, as in Keras
    assert tok.vocab_size == 3
    assert tok.word_id("cat") == (1, "rare")
    assert tok.word_id("mat") == (1, "unknown")
    assert tok.word_id("the") == (2, "known")


def test_num_words_without_oov_drops_rare_words():
    tok = Tokenizer(num_words=3).fit_on_texts(TEXTS)
    assert tok.texts_to_sequences(["the cat sat dog"]) == [[1, 2]]
    assert tok.word_id("sat") == (None, "rare")
    assert tok.vocab_size == 3


def test_vocab_size_without_num_words_counts_padding():
    assert Tokenizer().fit_on_texts(TEXTS).vocab_size == 5  # ids 0..4
    assert Tokenizer(num_words=100).fit_on_texts(TEXTS).vocab_size == 5


@pytest.mark.parametrize("bad", [0, 1, -5, 2.5, True])
def test_num_words_below_two_or_not_whole_is_refused(bad):
    with pytest.raises(EngineError):
        Tokenizer(num_words=bad)


def test_empty_and_punctuation_texts_give_empty_sequences():
    tok = Tokenizer(oov_token="<OOV>").fit_on_texts(TEXTS)
    assert tok.texts_to_sequences(["", "?!", "the"]) == [[], [], [2]]


def test_a_single_string_is_refused():
    with pytest.raises(EngineError):
        Tokenizer().fit_on_texts("the cat")
    with pytest.raises(EngineError):
        Tokenizer().fit_on_texts(["x"]).texts_to_sequences("the cat")


def test_accented_portuguese_words():
    tok = Tokenizer().fit_on_texts(["Ótimo! NÃO gostei do coração.", "ótimo, não é?"])
    assert tok.word_index == {"ótimo": 1, "não": 2, "gostei": 3, "do": 4, "coração": 5, "é": 6}
    # Decomposed accents (o + combining acute) are another spelling to the tokenizer, as in
    # Keras; the lab normalises text to NFC first.
    decomposed = unicodedata.normalize("NFD", "ótimo")
    assert tok.texts_to_sequences([decomposed]) == [[]]
    assert tok.texts_to_sequences([unicodedata.normalize("NFC", decomposed)]) == [[1]]


def test_lower_false_gives_separate_ids():
    tok = Tokenizer(lower=False).fit_on_texts(["The the the"])
    assert tok.word_index == {"the": 1, "The": 2}


def test_sequences_to_texts_and_round_trip_through_a_dict():
    tok = Tokenizer(num_words=4, oov_token="<OOV>").fit_on_texts(TEXTS)
    again = Tokenizer.from_dict(tok.to_dict())
    assert again.word_index == tok.word_index
    assert again.num_words == 4 and again.oov_token == "<OOV>"
    assert again.texts_to_sequences(["the dog sat"]) == tok.texts_to_sequences(["the dog sat"])
    assert tok.sequences_to_texts([[2, 3, 0, 99]]) == ["the cat"]


# --- pad_sequences --------------------------------------------------------------------------------

SEQS = [[1, 2, 3], [4, 5], [], [6, 7, 8, 9, 10]]


def test_maxlen_none_is_the_longest_and_pre_padding_is_the_default():
    out = pad_sequences(SEQS)
    assert out.dtype == np.int32
    assert out.tolist() == [[0, 0, 1, 2, 3], [0, 0, 0, 4, 5], [0, 0, 0, 0, 0], [6, 7, 8, 9, 10]]


@pytest.mark.parametrize(
    ("padding", "truncating", "expected"),
    [
        ("pre", "pre", [[1, 2, 3], [0, 4, 5], [0, 0, 0], [8, 9, 10]]),
        ("post", "post", [[1, 2, 3], [4, 5, 0], [0, 0, 0], [6, 7, 8]]),
        ("post", "pre", [[1, 2, 3], [4, 5, 0], [0, 0, 0], [8, 9, 10]]),
        ("pre", "post", [[1, 2, 3], [0, 4, 5], [0, 0, 0], [6, 7, 8]]),
    ],
)
def test_each_side_for_padding_and_truncating(padding, truncating, expected):
    assert (
        pad_sequences(SEQS, maxlen=3, padding=padding, truncating=truncating).tolist() == expected
    )


def test_padding_value_and_dtype():
    out = pad_sequences([[1.5], []], maxlen=2, dtype="float32", value=-1.0)
    assert out.dtype == np.float32
    assert out.tolist() == [[-1.0, 1.5], [-1.0, -1.0]]


def test_only_empty_sequences_and_no_sequences():
    assert pad_sequences([[], []]).shape == (2, 0)
    assert pad_sequences([], maxlen=4).shape == (0, 4)
    assert pad_sequences([[]], maxlen=2, padding="post").tolist() == [[0, 0]]


@pytest.mark.parametrize("kw", [{"maxlen": 0}, {"maxlen": -3}, {"maxlen": 2.5},
                                {"padding": "middle"}, {"truncating": "both"}])  # fmt: skip
def test_bad_options_are_refused(kw):
    with pytest.raises(EngineError):
        pad_sequences(SEQS, **kw)


def naive_pad(seq, maxlen, padding, truncating):
    """The definition, element by element: keep the last/first maxlen ids, then fill."""
    kept = list(seq)
    while len(kept) > maxlen:
        kept.pop(0 if truncating == "pre" else -1)
    while len(kept) < maxlen:
        if padding == "pre":
            kept.insert(0, 0)
        else:
            kept.append(0)
    return kept


def test_pad_sequences_and_pad_layout_match_the_naive_definition():
    rng = np.random.default_rng(0)
    seqs = [list(rng.integers(1, 50, size=n)) for n in range(0, 9)]
    for maxlen, padding, truncating in itertools.product(
        (1, 3, 5, 8), ("pre", "post"), ("pre", "post")
    ):
        out = pad_sequences(seqs, maxlen, padding=padding, truncating=truncating)
        for seq, row in zip(seqs, out, strict=True):
            assert row.tolist() == naive_pad(seq, maxlen, padding, truncating)
            cut_f, cut_b, pad_f, pad_b = pad_layout(len(seq), maxlen, padding, truncating)
            kept = seq[cut_f : len(seq) - cut_b]
            assert row.tolist() == [0] * pad_f + kept + [0] * pad_b


def test_pad_layout_hand_cases():
    assert pad_layout(7, 5, "pre", "pre") == (2, 0, 0, 0)
    assert pad_layout(7, 5, "pre", "post") == (0, 2, 0, 0)
    assert pad_layout(2, 5, "pre", "pre") == (0, 0, 3, 0)
    assert pad_layout(2, 5, "post", "pre") == (0, 0, 0, 3)
    assert pad_layout(0, 4, "post", "post") == (0, 0, 0, 4)


# --- the corpus -----------------------------------------------------------------------------------


def test_built_in_reviews_are_balanced_bilingual_and_split_by_pairs():
    corpus = load_reviews()
    assert len(corpus.train_texts) == 320 and len(corpus.test_texts) == 80
    assert corpus.class_names == ["negative", "positive"]
    assert np.bincount(corpus.y_train).tolist() == [160, 160]
    assert np.bincount(corpus.y_test).tolist() == [40, 40]
    assert corpus.train_langs.count("en") == corpus.train_langs.count("pt") == 160
    assert len(set(corpus.train_groups)) == 160  # every training pair is whole
    assert all(corpus.train_groups.count(g) == 2 for g in set(corpus.train_groups))
    everything = " ".join(corpus.train_texts + corpus.test_texts).lower()
    for word in ("ótimo", "não", "coração", "péssimo", "excelente"):
        assert word in everything
    assert all(t == unicodedata.normalize("NFC", t) for t in corpus.train_texts)
    assert len(load_reviews("pt").train_texts) == 160


def test_corpus_licence_is_stated():
    from engine.text import REVIEWS_FILE

    credits = (REVIEWS_FILE.parent / "CREDITS.md").read_text(encoding="utf-8")
    assert "written for CNN Playground" in credits and "CC0" in credits
    assert "CC0 1.0" in (REVIEWS_FILE.parent / "LICENSE").read_text(encoding="utf-8")
