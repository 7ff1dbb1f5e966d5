"""engine.textmodel: the text CNN's wiring, its views (conv strips, occlusion, PCA), training."""

import numpy as np
import pytest

from engine.errors import EngineError
from engine.losses import softmax
from engine.text import Tokenizer, load_reviews, pad_sequences
from engine.textexplain import conv_strips, occlusion, pca_2d
from engine.textmodel import TextCNN, TextTrainConfig, stratified_holdout, train_text
from tests.engine.gradcheck import numerical_gradient, rel_error


def small_model(**kw):
    kw = {"vocab_size": 9, "num_classes": 3, "embedding_dim": 4, "widths": (2, 3), "filters": 2,
          "dropout": 0.0, "rng": np.random.default_rng(0)} | kw  # fmt: skip
    return TextCNN(**kw)


def test_shapes_and_trace():
    model = small_model()
    ids = np.array([[1, 2, 3, 4, 0], [5, 6, 7, 8, 1]])
    logits = model.forward(ids, keep=True)
    assert logits.shape == (2, 3)
    trace = model.trace
    assert trace.embedded.shape == (2, 4, 5)  # channels first for Conv1D
    assert [z.shape for z in trace.conv] == [(2, 2, 4), (2, 2, 3)]
    assert trace.pooled.shape == (2, 4)
    # Pooling is max(0, max over positions) of each filter, branch by branch.
    expected = np.concatenate([np.maximum(z.max(axis=2), 0) for z in trace.conv], axis=1)
    np.testing.assert_allclose(trace.pooled, expected)
    assert model.num_params() == 9 * 4 + (2 * 4 * 2 + 2) + (2 * 4 * 3 + 2) + (4 * 3 + 3)


def test_embedding_starts_small_as_in_keras():
    table = TextCNN(50, rng=np.random.default_rng(1)).embedding.params["weight"]
    assert np.abs(table).max() <= 0.05 and table.std() > 0.02


def test_too_short_sequences_are_refused_in_words():
    with pytest.raises(EngineError, match="at least 3"):
        small_model().forward(np.array([[1, 2]]))


def test_gradients_of_the_whole_network_match_finite_differences():
    """The branches add their dL/d(embedding) before the lookup's backward: check it all."""
    model = small_model(dtype=np.float64)
    ids = np.array([[1, 2, 3, 2, 0, 5], [4, 4, 6, 7, 8, 1]])
    dout = np.random.default_rng(2).standard_normal((2, 3))
    model.forward(ids)
    model.backward(dout)
    for (name, param), grad in zip(model.named_parameters(), model.gradients(), strict=True):
        numeric = numerical_gradient(lambda: model.forward(ids), param, dout)
        assert rel_error(numeric, grad) < 1e-6, name


def one_hot_model(vocab: int, width: int, pattern: list[int]) -> TextCNN:
    """Embedding rows = one-hot vectors, one filter that adds 1 for each word of `pattern` in
    its place: its response at a position counts how much of the n-gram is there."""
    model = TextCNN(vocab, 2, vocab, (width,), 1, 0.0, np.random.default_rng(0), np.float64)
    model.embedding.params["weight"][...] = np.eye(vocab)
    weight = np.zeros((1, vocab, width))
    for tap, word in enumerate(pattern):
        weight[0, word, tap] = 1.0
    model.convs[0].params["weight"][...] = weight
    model.convs[0].params["bias"][...] = -0.5
    return model


def test_conv_strip_picks_the_crafted_n_gram():
    tok = Tokenizer().fit_on_texts(["not good bad film the"])
    not_, good = tok.word_index["not"], tok.word_index["good"]
    model = one_hot_model(tok.vocab_size, 2, [not_, good])
    sentence = "good not bad the not good film"  # "not good" starts at position 4
    ids = pad_sequences(tok.texts_to_sequences([sentence]), 9, padding="post")[0]
    (strip,) = conv_strips(model, ids)
    assert strip.width == 2
    # bigram counts: good·not 0, not·bad 1, bad·the 0, the·not 0, not·good 2, good·film 0 … − 0.5
    np.testing.assert_allclose(strip.values[0], [-0.5, 0.5, -0.5, -0.5, 1.5, -0.5, -0.5, -0.5])
    assert strip.best.tolist() == [4]
    assert strip.pooled.tolist() == [1.5]


def test_conv_strip_of_a_filter_that_never_fires_pools_zero():
    tok = Tokenizer().fit_on_texts(["a b c d e"])
    model = one_hot_model(tok.vocab_size, 3, [tok.word_index["e"]] * 3)
    (strip,) = conv_strips(model, np.array([1, 2, 3, 4, 0]))
    assert strip.values.max() < 0 and strip.pooled.tolist() == [0.0]


def test_occlusion_is_the_change_in_log_odds_without_each_word():
    model = small_model(num_classes=3)
    ids = [3, 1, 4, 1, 5, 2, 6]  # 7 ids, maxlen 5 with truncating "pre": keeps the last 5
    result = occlusion(model, ids, 5, "post", "pre", target=1)
    assert result.kept == [4, 1, 5, 2, 6]

    def odds_and_p(seq):
        probs = softmax(model.forward(pad_sequences([seq], 5, padding="post")).astype(np.float64))
        p = probs[0, 1]
        return np.log(p / (1 - p)), p

    odds, p = odds_and_p(result.kept)
    assert result.log_odds == pytest.approx(odds) and result.p_all == pytest.approx(p)
    for i, delta in enumerate(result.deltas):
        odds_without, p_without = odds_and_p(result.kept[:i] + result.kept[i + 1 :])
        assert delta == pytest.approx(odds - odds_without)
        assert result.p_without[i] == pytest.approx(p_without)


def test_log_odds_do_not_saturate():
    from engine.textexplain import log_odds

    logits = np.array([[0.0, 40.0], [0.0, -40.0], [1.0, 2.0]])
    np.testing.assert_allclose(log_odds(logits, 1), [40.0, -40.0, 1.0])
    three = np.array([[1.0, 2.0, 3.0]])
    p = softmax(three)[0, 2]
    np.testing.assert_allclose(log_odds(three, 2), [np.log(p / (1 - p))])


def test_pca_finds_the_direction_of_largest_spread():
    rng = np.random.default_rng(0)
    direction = np.array([1.0, 1.0, 0.0, 0.0]) / np.sqrt(2)
    along = rng.standard_normal(200) * 5
    points = along[:, None] * direction + rng.standard_normal((200, 4)) * 0.1 + 3.0
    coords, share = pca_2d(points)
    assert share[0] > 0.98 and share[0] + share[1] <= 1.0
    # The first coordinate is the position along the direction (up to its fixed sign).
    centred = along - along.mean()
    assert abs(np.corrcoef(coords[:, 0], centred)[0, 1]) > 0.999
    # Against the covariance's eigenvectors (a different route to the same axes).
    values, vectors = np.linalg.eigh(np.cov(points.T))
    top = vectors[:, np.argsort(values)[::-1][:2]]
    reference = (points - points.mean(axis=0)) @ top
    for axis in range(2):
        np.testing.assert_allclose(np.abs(coords[:, axis]), np.abs(reference[:, axis]), atol=1e-8)
    np.testing.assert_allclose(share, np.sort(values)[::-1][:2] / values.sum(), atol=1e-10)


def test_pca_of_one_dimensional_rows_pads_the_second_axis():
    coords, share = pca_2d(np.array([[0.0], [1.0], [3.0]]))
    assert coords.shape == (3, 2) and (coords[:, 1] == 0).all() and share[0] == pytest.approx(1)


def test_group_holdout_never_splits_a_pair():
    groups = [f"g{i // 2}" for i in range(40)]
    y = np.array([i % 2 for i in range(40)])
    keep, held = stratified_holdout(y, 0.2, np.random.default_rng(0), groups)
    assert len(held) == 8 and len(keep) == 32
    assert not {groups[i] for i in held} & {groups[i] for i in keep}


@pytest.fixture(scope="module")
def reviews():
    corpus = load_reviews()
    tok = Tokenizer(oov_token="<OOV>").fit_on_texts(corpus.train_texts)

    def pad(texts):
        return pad_sequences(tok.texts_to_sequences(texts), 12)

    return corpus, tok, pad(corpus.train_texts), pad(corpus.test_texts)


def test_training_on_the_reviews_beats_chance_clearly(reviews):
    corpus, tok, x_train, x_test = reviews
    config = TextTrainConfig(epochs=6, seed=0)
    steps, epochs = [], []
    result = train_text(config, x_train, corpus.y_train, x_test, corpus.y_test, tok.vocab_size, 2,
                        on_step=steps.append, on_epoch=epochs.append,
                        groups=corpus.train_groups)  # fmt: skip
    assert result.status == "finished"
    assert result.test_accuracy >= 0.8  # chance is 0.5
    assert len(epochs) == 6 and len(steps) == steps[-1].total_steps
    assert epochs[-1].train_loss < epochs[0].train_loss


def test_same_seed_replays_exactly_and_stop_is_cooperative(reviews):
    corpus, tok, x_train, x_test = reviews
    config = TextTrainConfig(epochs=1, seed=3)
    args = (x_train, corpus.y_train, x_test, corpus.y_test, tok.vocab_size, 2)
    a, b = train_text(config, *args), train_text(config, *args)
    assert a.history.step_loss == b.history.step_loss
    calls = iter(range(1000))
    stopped = train_text(config, *args, should_stop=lambda: next(calls) >= 3)
    assert stopped.status == "stopped" and len(stopped.history.step_loss) == 3


def test_divergence_is_detected_and_explained(reviews):
    corpus, tok, x_train, x_test = reviews
    config = TextTrainConfig(optimizer="sgd", lr=10.0, epochs=3, dropout=0.0)
    result = train_text(config, x_train, corpus.y_train, x_test, corpus.y_test, tok.vocab_size, 2)
    assert result.status == "diverged" and 1 <= result.divergence_step <= 30
    assert "smaller learning rate" in result.message and result.test_accuracy is None
    assert np.isfinite(result.history.step_loss).all()  # only the finite steps are recorded


def test_bad_training_settings_are_refused():
    x = np.zeros((4, 6), dtype=np.int64)
    y = np.array([0, 1, 0, 1])
    with pytest.raises(EngineError):
        train_text(TextTrainConfig(lr=0), x, y, x, y, 3, 2)
    with pytest.raises(EngineError):
        train_text(TextTrainConfig(optimizer="magic"), x, y, x, y, 3, 2)
    with pytest.raises(EngineError):
        train_text(TextTrainConfig(), x[:0], y[:0], x, y, 3, 2)
