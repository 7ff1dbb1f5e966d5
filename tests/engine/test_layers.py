"""engine.layers: every backward against finite differences, forwards against loops and
hand-computed values, BatchNorm's running statistics, and the messages of bad inputs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest

from engine import layers_conv
from engine.conv import conv_naive
from engine.layers import (
    AvgPool1D,
    AvgPool2D,
    BatchNorm,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalAvgPool1D,
    GlobalAvgPool2D,
    GlobalMaxPool1D,
    GlobalMaxPool2D,
    LeakyReLU,
    MaxPool1D,
    MaxPool2D,
    ReLU,
    Sigmoid,
    Tanh,
)
from tests.engine.gradcheck import check_layer, numerical_gradient, rel_error

F64 = np.float64
TOL = 1e-7  # relative error of analytic against numerical gradients


def gaussian(*shape):
    return lambda rng: rng.standard_normal(shape)


def away_from_zero(*shape):
    """Values with |x| ≥ 0.1: no finite-difference step crosses ReLU's kink."""
    return lambda rng: rng.choice([-1.0, 1.0], shape) * (0.1 + rng.random(shape))


def distinct(*shape):
    """Values 0.1 apart in random order: no near-ties for max pooling to flip."""
    return lambda rng: 0.1 * rng.permutation(int(np.prod(shape))).reshape(shape) - 1.0


def ids(*shape, vocab=6):
    return lambda rng: rng.integers(0, vocab, shape)


def reseed(layer):
    layer.rng = np.random.default_rng(7)


@dataclass
class Case:
    name: str
    make: Callable  # rng -> layer
    x: Callable  # rng -> input
    training: bool = True
    prepare: Callable | None = None  # runs before every forward (see gradcheck.check_layer)


def seeded(cls, *args, **kwargs):
    """A float64 layer with parameters drawn from the test's generator."""
    return lambda rng: cls(*args, rng=rng, dtype=F64, **kwargs)


def plain(cls, *args, **kwargs):
    return lambda rng: cls(*args, **kwargs)


# One line per layer (or per configuration worth checking).
CASES = [
    Case("conv2d", seeded(Conv2D, 2, 3, 3), gaussian(2, 2, 6, 5)),
    Case("conv2d-s2-same", seeded(Conv2D, 2, 3, 3, 2, "same"), gaussian(2, 2, 7, 6)),
    Case("conv2d-k4-s2-same", seeded(Conv2D, 1, 2, 4, 2, "same"), gaussian(2, 1, 8, 7)),
    Case("conv2d-s(2,1)-pad1", seeded(Conv2D, 2, 2, (3, 2), (2, 1), 1), gaussian(1, 2, 6, 5)),
    Case("conv2d-s3-pad2", seeded(Conv2D, 1, 2, 3, 3, 2), gaussian(2, 1, 7, 8)),
    Case("conv1d-same", seeded(Conv1D, 3, 4, 3, padding="same"), gaussian(2, 3, 9)),
    Case("conv1d-s2-pad1", seeded(Conv1D, 2, 3, 4, 2, 1), gaussian(2, 2, 11)),
    Case("dense", seeded(Dense, 5, 4), gaussian(3, 5)),
    Case("dense-3d", seeded(Dense, 5, 4, init="glorot"), gaussian(2, 3, 5)),
    Case("maxpool2d", plain(MaxPool2D, 2), distinct(2, 2, 6, 6)),
    Case("maxpool2d-3-s2-p1", plain(MaxPool2D, 3, 2, 1), distinct(2, 2, 7, 7)),
    Case("maxpool2d-eval", plain(MaxPool2D, 2), distinct(2, 2, 6, 6), training=False),
    Case("avgpool2d", plain(AvgPool2D, 2), gaussian(2, 2, 6, 6)),
    Case("avgpool2d-3-s2-p1", plain(AvgPool2D, 3, 2, 1), gaussian(2, 2, 7, 5)),
    Case("maxpool1d-3-s2", plain(MaxPool1D, 3, 2), distinct(2, 3, 11)),
    Case("avgpool1d", plain(AvgPool1D, 2), gaussian(2, 3, 8)),
    Case("globalmaxpool1d", plain(GlobalMaxPool1D), distinct(2, 3, 7)),
    Case("globalmaxpool2d", plain(GlobalMaxPool2D), distinct(2, 3, 4, 3)),
    Case("globalavgpool1d", plain(GlobalAvgPool1D), gaussian(2, 3, 7)),
    Case("globalavgpool2d", plain(GlobalAvgPool2D), gaussian(2, 3, 4, 3)),
    Case("relu", plain(ReLU), away_from_zero(3, 2, 4)),
    Case("leakyrelu", plain(LeakyReLU, 0.2), away_from_zero(3, 2, 4)),
    Case("sigmoid", plain(Sigmoid), gaussian(3, 5)),
    Case("tanh", plain(Tanh), gaussian(3, 5)),
    Case("flatten", plain(Flatten), gaussian(2, 3, 2, 2)),
    Case("dropout-fixed-mask", plain(Dropout, 0.4), gaussian(4, 6), prepare=reseed),
    Case("dropout-eval", plain(Dropout, 0.4), gaussian(4, 6), training=False),
    Case("batchnorm-2d-train", plain(BatchNorm, 4, dtype=F64), gaussian(6, 4)),
    Case("batchnorm-3d-train", plain(BatchNorm, 3, dtype=F64), gaussian(4, 3, 5)),
    Case("batchnorm-4d-train", plain(BatchNorm, 3, dtype=F64), gaussian(3, 3, 3, 2)),
    Case("batchnorm-4d-eval", plain(BatchNorm, 3, dtype=F64), gaussian(3, 3, 3, 2), False),
    Case("embedding-repeated-ids", seeded(Embedding, 6, 3), ids(3, 8)),
    Case("embedding-channels-first", seeded(Embedding, 6, 3, True), ids(2, 9)),
]


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_backward_matches_finite_differences(case):
    rng = np.random.default_rng(0)
    layer = case.make(rng)
    for param in layer.params.values():  # random γ, β and biases, not just the initial ones
        param[...] = rng.standard_normal(param.shape)
    for key, buf in layer.buffers.items():
        buf[...] = rng.random(buf.shape) + (0.5 if key == "running_var" else -0.5)
    x = case.x(rng)
    errors = check_layer(layer, x, training=case.training, prepare=case.prepare)
    assert set(errors) == ({"x"} if x.dtype.kind == "f" else set()) | set(layer.params)
    assert max(errors.values()) < TOL, errors


def test_gradcheck_catches_a_wrong_gradient():
    """The check must be able to fail: a Dense layer whose backward forgets the bias."""

    class Broken(Dense):
        def backward(self, dout):
            dx = super().backward(dout)
            self.grads["bias"][...] = 0
            return dx * 1.01

    rng = np.random.default_rng(0)
    errors = check_layer(Broken(3, 2, rng=rng, dtype=F64), rng.standard_normal((4, 3)))
    assert errors["weight"] < TOL
    assert errors["bias"] > 0.5
    assert errors["x"] > 1e-3


def test_rel_error_and_numerical_gradient():
    assert rel_error([1.0, 2.0], [1.0, 2.0]) == 0.0
    assert rel_error([1.0], [1.1]) == pytest.approx(0.1 / 2.1)
    x = np.array([1.0, -2.0, 3.0])
    grad = numerical_gradient(lambda: x**3, x, np.ones(3))
    np.testing.assert_allclose(grad, 3 * x**2, rtol=1e-8)
    with pytest.raises(ValueError, match="float64"):
        numerical_gradient(lambda: x, x.astype(np.float32), 1.0)


# --- forwards ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "shape"),
    [
        ({"stride": 1, "padding": 0}, (2, 3, 7, 6)),
        ({"stride": 2, "padding": "same"}, (2, 3, 7, 7)),
        ({"stride": (1, 2), "padding": 1}, (1, 3, 5, 8)),
    ],
)
def test_conv2d_forward_matches_naive_loop(kwargs, shape):
    rng = np.random.default_rng(1)
    layer = Conv2D(3, 4, 3, rng=rng, dtype=F64, **kwargs)
    layer.params["bias"][...] = rng.standard_normal(4)
    x = rng.standard_normal(shape)
    got = layer.forward(x)
    expected = conv_naive(x, layer.params["weight"], layer.params["bias"], **kwargs)
    np.testing.assert_allclose(got, expected, rtol=1e-12, atol=1e-12)
    assert got.shape[1:] == layer.output_shape(shape[1:])


def test_conv_float32_backward_agrees_with_float64():
    rng = np.random.default_rng(2)
    x = rng.standard_normal((8, 3, 12, 12))
    dout_shape = (8, 5, 6, 6)
    dout = rng.standard_normal(dout_shape)
    results = []
    for dtype in (np.float32, np.float64):
        layer = Conv2D(3, 5, 3, stride=2, padding="same", rng=np.random.default_rng(3), dtype=dtype)
        y = layer.forward(x.astype(dtype))
        dx = layer.backward(dout.astype(dtype))
        assert y.dtype == dx.dtype == layer.grads["weight"].dtype == dtype
        results.append((y, dx, layer.grads["weight"], layer.grads["bias"]))
    for a, b in zip(*results, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-4 * np.abs(b).max())


def test_conv_backward_in_blocks_of_samples_gives_the_same_gradients(monkeypatch):
    rng = np.random.default_rng(4)
    layer = Conv2D(2, 3, 3, stride=2, padding="same", rng=rng, dtype=F64)
    x = rng.standard_normal((5, 2, 7, 7))
    dout = rng.standard_normal((5, 3, 4, 4))
    layer.forward(x)
    whole = [layer.backward(dout), layer.grads["weight"].copy(), layer.grads["bias"].copy()]
    monkeypatch.setattr(layers_conv, "_COLS_BLOCK", 2 * 9 * 16 * 2)  # two samples per block
    blocked = [layer.backward(dout), layer.grads["weight"], layer.grads["bias"]]
    for a, b in zip(whole, blocked, strict=True):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-12)


def test_dense_forward_by_hand():
    layer = Dense(2, 3, dtype=F64)
    layer.params["weight"][...] = [[1, 2], [3, 4], [5, 6]]
    layer.params["bias"][...] = [0.5, 0, -1]
    np.testing.assert_allclose(layer.forward(np.array([[1.0, -1.0]])), [[-0.5, -1, -2]])


def test_pool_and_activation_forwards_by_hand():
    x = np.array([[[[1.0, -2, 3, 0], [4, 5, -6, 7], [0, 1, 2, 3], [-1, -2, -3, -4]]]])
    np.testing.assert_array_equal(MaxPool2D(2).forward(x), [[[[5, 7], [1, 3]]]])
    np.testing.assert_array_equal(AvgPool2D(2).forward(x), [[[[2, 1], [-0.5, -0.5]]]])
    np.testing.assert_array_equal(GlobalMaxPool2D().forward(x), [[7]])
    np.testing.assert_array_equal(GlobalAvgPool2D().forward(x), [[0.5]])
    np.testing.assert_array_equal(GlobalMaxPool1D().forward(x[0]), [[3, 7, 3, -1]])
    np.testing.assert_array_equal(ReLU().forward(x[0, 0, 0]), [1, 0, 3, 0])
    np.testing.assert_allclose(LeakyReLU(0.1).forward(x[0, 0, 0]), [1, -0.2, 3, 0])
    np.testing.assert_allclose(Sigmoid().forward(np.array([[0.0, 800.0, -800.0]])), [[0.5, 1, 0]])
    np.testing.assert_allclose(Tanh().forward(np.array([[0.0, 50.0]])), [[0.0, 1.0]])
    assert Flatten().forward(x).shape == (1, 16)


def test_max_pool_tie_sends_the_gradient_to_the_first_maximum():
    """As PyTorch: a window of zeros (after a ReLU, say) routes its gradient to one cell only."""
    pool = MaxPool2D(2)
    pool.forward(np.zeros((1, 1, 2, 2)))
    np.testing.assert_array_equal(pool.backward(np.ones((1, 1, 1, 1))), [[[[1, 0], [0, 0]]]])


# --- Dropout ---------------------------------------------------------------------------------


def test_dropout_scales_kept_values_and_replays_with_the_same_seed():
    x = np.ones((200, 50))
    first = Dropout(0.25, rng=np.random.default_rng(5)).forward(x)
    again = Dropout(0.25, rng=np.random.default_rng(5)).forward(x)
    np.testing.assert_array_equal(first, again)
    assert set(np.unique(first)) == {0.0, 1 / 0.75}
    assert abs((first == 0).mean() - 0.25) < 0.02
    layer = Dropout(0.25, rng=np.random.default_rng(5))
    np.testing.assert_array_equal(layer.forward(x, training=False), x)
    np.testing.assert_array_equal(layer.backward(x), x)  # identity backwards too
    layer.rng = np.random.default_rng(5)  # a generator can be set later
    np.testing.assert_array_equal(layer.forward(x), first)
    np.testing.assert_array_equal(layer.backward(np.full_like(x, 2.0)), 2 * first)


@pytest.mark.parametrize("p", [-0.1, 1.0, 1.5, "half", True])
def test_dropout_rejects_bad_probabilities(p):
    with pytest.raises(ValueError, match=r"Dropout: p must be a probability in \[0, 1\)"):
        Dropout(p)


# --- BatchNorm -------------------------------------------------------------------------------


def test_batchnorm_2d_train_and_eval_by_hand():
    bn = BatchNorm(2, momentum=0.1, eps=1e-5, dtype=F64)
    x = np.array([[1.0, 2.0], [3.0, 6.0]])  # channel 0: mean 2, var 1; channel 1: mean 4, var 4
    y = bn.forward(x, training=True)
    np.testing.assert_allclose(y, [[-1 / np.sqrt(1 + 1e-5), -2 / np.sqrt(4 + 1e-5)],
                                   [1 / np.sqrt(1 + 1e-5), 2 / np.sqrt(4 + 1e-5)]])  # fmt: skip
    # running = 0.9·running + 0.1·batch, with the unbiased variances 2 and 8
    np.testing.assert_allclose(bn.buffers["running_mean"], [0.2, 0.4])
    np.testing.assert_allclose(bn.buffers["running_var"], [0.9 + 0.2, 0.9 + 0.8])
    bn.params["weight"][...] = [2.0, 1.0]
    bn.params["bias"][...] = [0.0, 1.0]
    y = bn.forward(np.array([[1.0, 2.0]]), training=False)  # one sample is fine in evaluation
    np.testing.assert_allclose(y, [[2 * 0.8 / np.sqrt(1.1 + 1e-5), 1.6 / np.sqrt(1.7 + 1e-5) + 1]])
    # evaluation leaves the running statistics alone
    np.testing.assert_allclose(bn.buffers["running_mean"], [0.2, 0.4])


def test_batchnorm_4d_statistics_span_batch_and_space():
    bn = BatchNorm(1, momentum=0.5, dtype=F64)
    x = np.array([0.0, 2.0, 4.0, 6.0]).reshape(2, 1, 1, 2)  # mean 3, var 5, unbiased 20/3
    y = bn.forward(x)
    np.testing.assert_allclose(y.ravel(), (x.ravel() - 3) / np.sqrt(5 + 1e-5))
    np.testing.assert_allclose(bn.buffers["running_mean"], [1.5])
    np.testing.assert_allclose(bn.buffers["running_var"], [0.5 + 0.5 * 20 / 3])
    bn.forward(x + 1)
    np.testing.assert_allclose(bn.buffers["running_mean"], [0.5 * 1.5 + 0.5 * 4])


def test_batchnorm_needs_two_values_per_channel_in_training():
    bn = BatchNorm(3)
    with pytest.raises(ValueError, match="more than one value per channel"):
        bn.forward(np.ones((1, 3)))
    assert bn.forward(np.ones((1, 3)), training=False).shape == (1, 3)


# --- Embedding -------------------------------------------------------------------------------


def test_embedding_looks_up_rows_and_accumulates_repeated_ids():
    emb = Embedding(5, 2, dtype=F64)
    emb.params["weight"][...] = np.arange(10).reshape(5, 2)
    ids_in = np.array([[1, 1, 4], [1, 0, 0]])
    np.testing.assert_array_equal(emb.forward(ids_in)[0], [[2, 3], [2, 3], [8, 9]])
    assert emb.backward(np.ones((2, 3, 2))) is None
    np.testing.assert_array_equal(emb.grads["weight"], [[2, 2], [3, 3], [0, 0], [0, 0], [1, 1]])
    first = Embedding(5, 2, channels_first=True, dtype=F64)
    first.params["weight"][...] = emb.params["weight"]
    out = first.forward(ids_in)
    assert out.shape == (2, 2, 3) and first.output_shape((3,)) == (2, 3)
    np.testing.assert_array_equal(out, emb.forward(ids_in).transpose(0, 2, 1))


@pytest.mark.parametrize("bad", [5, -1, 99])
def test_embedding_names_the_id_out_of_range(bad):
    with pytest.raises(ValueError, match=rf"Embedding\(5, 2\): id {bad} is out of range.*0 and 4"):
        Embedding(5, 2).forward(np.array([[0, bad, 1]]))


def test_embedding_rejects_float_ids():
    with pytest.raises(ValueError, match="whole-number ids"):
        Embedding(5, 2).forward(np.array([[0.0, 1.0]]))


# --- contract: params, grads, dtypes, init ---------------------------------------------------


def test_params_and_grads_share_keys_shapes_and_stay_the_same_arrays():
    rng = np.random.default_rng(0)
    layer = Conv2D(2, 3, 3, rng=rng)
    assert set(layer.params) == set(layer.grads) == {"weight", "bias"}
    assert layer.params["weight"].shape == (3, 2, 3, 3) and layer.params["bias"].shape == (3,)
    assert layer.params["weight"].dtype == np.float32
    assert layer.num_params() == 3 * 2 * 9 + 3
    grad = layer.grads["weight"]
    for _ in range(2):
        layer.forward(rng.standard_normal((2, 2, 5, 5)))
        layer.backward(np.ones((2, 3, 3, 3)))
    assert layer.grads["weight"] is grad and np.abs(grad).sum() > 0
    assert ReLU().params == ReLU().grads == {} and ReLU().num_params() == 0
    assert Dense(4, 3).params["weight"].shape == (3, 4)
    assert Conv1D(2, 5, 3).params["weight"].shape == (5, 2, 3)


def test_float32_layers_cast_their_input_and_keep_float32():
    layer = Dense(3, 2, rng=np.random.default_rng(0))
    y = layer.forward(np.ones((4, 3)))  # float64 in
    assert y.dtype == np.float32
    assert layer.backward(np.ones((4, 2))).dtype == np.float32
    assert MaxPool2D(2).forward(np.ones((1, 1, 2, 2), dtype=np.uint8)).dtype == np.float32


def test_initialisation_he_glorot_zero_bias_and_replay():
    w = Dense(1000, 400, rng=np.random.default_rng(0)).params["weight"]
    assert w.std() == pytest.approx(np.sqrt(2 / 1000), rel=0.02)
    conv = Conv2D(8, 16, 3, rng=np.random.default_rng(0), init="glorot")
    limit = np.sqrt(6 / (8 * 9 + 16 * 9))
    assert np.abs(conv.params["weight"]).max() <= limit
    assert np.abs(conv.params["weight"]).max() > 0.9 * limit
    assert not conv.params["bias"].any()
    again = Conv2D(8, 16, 3, rng=np.random.default_rng(0), init="glorot")
    np.testing.assert_array_equal(conv.params["weight"], again.params["weight"])


def test_output_shapes():
    assert Conv2D(1, 6, 5, padding="same").output_shape((1, 28, 28)) == (6, 28, 28)
    assert Conv2D(3, 4, 3, stride=2, padding="same").output_shape((3, 7, 7)) == (4, 4, 4)
    assert Conv2D(3, 4, 3, stride=2, padding="valid").output_shape((3, 7, 7)) == (4, 3, 3)
    assert Conv1D(4, 8, 5).output_shape((4, 20)) == (8, 16)
    assert MaxPool2D(3, 2).output_shape((6, 9, 9)) == (6, 4, 4)
    assert MaxPool1D(2).output_shape((6, 9)) == (6, 4)
    assert GlobalAvgPool2D().output_shape((6, 9, 9)) == (6,)
    assert Dense(5, 2).output_shape((3, 5)) == (3, 2)
    assert Flatten().output_shape((16, 5, 5)) == (400,)
    assert Embedding(10, 4).output_shape((7,)) == (7, 4)
    assert BatchNorm(6).output_shape((6, 3, 3)) == (6, 3, 3)


def test_descriptions():
    assert str(Conv2D(1, 6, 5, padding="same")) == "Conv2D(1→6, 5×5, same)"
    assert (
        Conv2D(3, 8, 3, stride=2, padding=1).describe() == "Conv2D(3→8, 3×3, stride 2, padding 1)"
    )
    assert Conv1D(4, 8, 5).describe() == "Conv1D(4→8, 5)"
    assert Dense(400, 120).describe() == "Dense(400→120)"
    assert MaxPool2D(2).describe() == "MaxPool2D(2×2)"
    assert MaxPool2D(3, 2).describe() == "MaxPool2D(3×3, stride 2)"
    assert LeakyReLU().describe() == "LeakyReLU(0.01)"
    assert Dropout(0.5).describe() == "Dropout(0.5)"
    assert BatchNorm(16).describe() == "BatchNorm(16)"
    assert Embedding(1000, 32).describe() == "Embedding(1000, 32)"
    assert repr(GlobalMaxPool1D()) == "GlobalMaxPool1D"


# --- messages --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("layer", "shape", "message"),
    [
        (Conv2D(1, 6, 5), (1, 3, 3),
         "Conv2D(1→6, 5×5): the 5×5 kernel is larger than its 3×3 input."),
        (Conv2D(1, 6, 5, padding=1), (1, 2, 2),
         "Conv2D(1→6, 5×5, padding 1): the 5×5 kernel is larger than its 2×2 input "
         "(4×4 after padding)."),
        (Conv2D(3, 6, 5), (1, 28, 28),
         "Conv2D(3→6, 5×5) expects 3 input channel(s) but the input has 1 "
         "(sample shape (1, 28, 28))."),
        (Conv2D(1, 6, 5), (28, 28),
         "Conv2D(1→6, 5×5) expects samples shaped (C, H, W) but got (28, 28)."),
        (Conv1D(4, 8, 3), (4, 2), "Conv1D(4→8, 3): the 3 kernel is larger than its 2 input."),
        (Dense(400, 120), (16, 5, 5),
         "Dense(400→120) expects 400 features per sample but got samples shaped (16, 5, 5); "
         "put a Flatten before it."),
        (MaxPool2D(2), (6, 1, 1), "MaxPool2D(2×2): the 2×2 window is larger than its 1×1 input."),
        (GlobalMaxPool1D(), (6, 3, 3),
         "GlobalMaxPool1D expects samples shaped (C, L) but got (6, 3, 3)."),
        (BatchNorm(6), (3, 4, 4),
         "BatchNorm(6) expects samples shaped (6,), (6, L) or (6, H, W) but got (3, 4, 4)."),
    ],
)  # fmt: skip
def test_shapes_that_do_not_fit_name_the_layer(layer, shape, message):
    with pytest.raises(ValueError) as err:
        layer.output_shape(shape)
    assert str(err.value) == message
    with pytest.raises(ValueError) as err:
        layer.forward(np.zeros((2, *shape)))
    assert str(err.value) == message


@pytest.mark.parametrize(
    ("make", "match"),
    [
        (lambda: Conv2D(0, 6, 5), r"Conv2D: in_channels must be between 1 and"),
        (lambda: Conv2D(1, 6, 2.5), r"Conv2D: kernel_size must be a whole number"),
        (lambda: Conv2D(1, 6, (3, 3, 3)), r"Conv2D: kernel_size needs 2 value\(s\)"),
        (lambda: Conv2D(1, 6, 3, padding="half"), r"Conv2D: Padding must be"),
        (lambda: Conv2D(1, 6, 3, init="xavier"), r"init must be one of 'he', 'glorot'"),
        (lambda: Conv2D(1, 6, 3, rng=42), r"Conv2D: rng must be an np.random.Generator"),
        (lambda: Dense(4, 2, dtype=np.int32), r"Dense: dtype must be a float type"),
        (lambda: MaxPool2D(2, padding=2), r"MaxPool2D: padding \(2\) can be at most half"),
        (lambda: BatchNorm(4, momentum=2), r"BatchNorm: momentum must be between 0 and 1"),
        (lambda: Embedding(0, 4), r"Embedding: num_embeddings must be between 1 and"),
    ],
)
def test_bad_arguments_raise_plain_value_errors(make, match):
    with pytest.raises(ValueError, match=match):
        make()


@pytest.mark.parametrize(
    "make", [lambda: Conv2D(2, 3, 3, stride=2, padding=1), lambda: Dense(4, 3), lambda: ReLU()]
)
def test_input_grad_false_skips_dx_but_fills_the_same_grads(make):
    layer = make()
    rng = np.random.default_rng(0)
    x = (
        rng.standard_normal((3, 2, 5, 5))
        if isinstance(layer, Conv2D)
        else rng.standard_normal((3, 4))
    )
    dout = rng.standard_normal((3, *layer.output_shape(x.shape[1:])))
    layer.forward(x)
    assert layer.backward(dout).shape == x.shape
    full = {k: g.copy() for k, g in layer.grads.items()}
    assert layer.backward(dout, input_grad=False) is None
    for key, grad in layer.grads.items():
        np.testing.assert_array_equal(grad, full[key])


def test_backward_checks_order_and_gradient_shape():
    layer = Dense(3, 2)
    with pytest.raises(RuntimeError, match=r"Dense\(3→2\): call forward before backward"):
        layer.backward(np.ones((1, 2)))
    layer.forward(np.ones((4, 3)))
    with pytest.raises(ValueError, match=r"gradient has shape \(4, 3\) but the last output"):
        layer.backward(np.ones((4, 3)))
