"""engine.model.Sequential: summary, parameters for an optimizer, modes, saving, and a small
network that learns under plain gradient descent."""

from __future__ import annotations

import io

import numpy as np
import pytest

from engine.layers import (
    AvgPool2D,
    BatchNorm,
    Conv1D,
    Conv2D,
    Dense,
    Dropout,
    Embedding,
    Flatten,
    GlobalMaxPool1D,
    MaxPool2D,
    ReLU,
    Tanh,
)
from engine.losses import cross_entropy
from engine.model import LayerRow, Sequential
from tests.engine.gradcheck import numerical_gradient, rel_error


def lenet5(seed: int = 0, dtype=np.float32) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential(
        [
            Conv2D(1, 6, 5, rng=rng, dtype=dtype),
            MaxPool2D(2),
            Conv2D(6, 16, 5, rng=rng, dtype=dtype),
            MaxPool2D(2),
            Flatten(),
            Dense(400, 120, rng=rng, dtype=dtype),
            Dense(120, 84, rng=rng, dtype=dtype),
            Dense(84, 10, rng=rng, dtype=dtype),
        ]
    )


def small_bn_net(seed: int = 0, dtype=np.float32) -> Sequential:
    rng = np.random.default_rng(seed)
    return Sequential(
        [
            Conv2D(1, 4, 3, padding="same", rng=rng, dtype=dtype),
            BatchNorm(4, dtype=dtype),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dropout(0.25, rng=rng),
            Dense(4 * 4 * 4, 3, rng=rng, dtype=dtype),
        ]
    )


# --- summary ---------------------------------------------------------------------------------


def test_lenet5_summary_shapes_and_parameter_counts():
    summary = lenet5().summary((1, 32, 32))
    assert [row.output_shape for row in summary] == [
        (6, 28, 28),
        (6, 14, 14),
        (16, 10, 10),
        (16, 5, 5),
        (400,),
        (120,),
        (84,),
        (10,),
    ]
    assert [row.params for row in summary if row.params] == [156, 2416, 48120, 10164, 850]
    assert summary.total_params == 61706 == lenet5().num_params()
    assert lenet5().output_shape((1, 32, 32)) == (10,)
    assert summary[0] == LayerRow(0, "Conv2D", "Conv2D(1→6, 5×5)", (6, 28, 28), 156)
    text = str(summary)
    assert "Dense(400→120)" in text and "Total params: 61,706" in text


@pytest.mark.parametrize(
    ("shape", "message"),
    [
        ((1, 8, 8), "At layer 2, Conv2D(6→16, 5×5): the 5×5 kernel is larger than its 2×2 input."),
        (
            (3, 32, 32),
            "At layer 0, Conv2D(1→6, 5×5) expects 1 input channel(s) but the input has 3",
        ),
        ((1, 36, 36), "At layer 5, Dense(400→120) expects 400 features per sample but got"),
    ],
)
def test_a_shape_that_does_not_fit_names_the_layer(shape, message):
    model = lenet5()
    with pytest.raises(ValueError) as err:
        model.summary(shape)
    assert str(err.value).startswith(message)
    with pytest.raises(ValueError) as err:
        model.forward(np.zeros((1, *shape), dtype=np.float32))
    assert str(err.value).startswith(message)


def test_forward_keeps_activations_when_asked():
    model = lenet5()
    x = np.random.default_rng(1).standard_normal((3, 1, 32, 32))
    out = model.forward(x, keep_activations=True)
    assert out.shape == (3, 10) and out.dtype == np.float32
    shapes = [a.shape[1:] for a in model.activations]
    assert shapes == [row.output_shape for row in model.summary((1, 32, 32))]
    assert model.activations[-1] is out
    model.forward(x)
    assert model.activations == []


# --- parameters for an optimizer -------------------------------------------------------------


def test_parameters_and_gradients_are_the_layers_own_arrays():
    model = small_bn_net()
    params, grads = model.parameters(), model.gradients()
    names = [name for name, _ in model.named_parameters()]
    assert names == ["0.weight", "0.bias", "1.weight", "1.bias", "6.weight", "6.bias"]
    assert params[0] is model[0].params["weight"] and grads[0] is model[0].grads["weight"]
    assert [p.shape for p in params] == [g.shape for g in grads]
    rng = np.random.default_rng(2)
    x = rng.standard_normal((5, 1, 8, 8))
    _, dlogits = cross_entropy(model.forward(x), rng.integers(0, 3, 5))
    model.backward(dlogits)
    assert all(g is h for g, h in zip(grads, model.gradients(), strict=True))
    assert all(np.abs(g).sum() > 0 for g in grads)
    before = model[6].params["weight"].copy()
    params[-2] -= 0.5 * grads[-2]  # what an optimizer does, in place
    np.testing.assert_allclose(model[6].params["weight"], before - 0.5 * grads[-2])


def test_backward_without_the_input_gradient():
    """Training loops pass input_grad=False: same parameter gradients, no dL/dx."""
    rng = np.random.default_rng(2)
    model = Sequential([Conv2D(1, 2, 3, rng=rng), ReLU(), Flatten(), Dense(2 * 6 * 6, 3, rng=rng)])
    x = rng.standard_normal((4, 1, 8, 8))
    dlogits = rng.standard_normal((4, 3))
    model.forward(x)
    assert model.backward(dlogits).shape == x.shape
    full = [g.copy() for g in model.gradients()]
    assert model.backward(dlogits, input_grad=False) is None
    for a, b in zip(full, model.gradients(), strict=True):
        np.testing.assert_array_equal(a, b)


def test_whole_network_gradient_matches_finite_differences():
    """Through Conv2D, BatchNorm (training), Tanh, AvgPool2D, Flatten, Dense and the loss. Smooth
    layers only: here a ReLU or max pool kink would be crossed by some finite-difference step
    (each of those layers is checked on its own in test_layers)."""
    rng = np.random.default_rng(3)
    f64 = np.float64
    model = Sequential(
        [
            Conv2D(1, 3, 3, stride=2, padding="same", rng=rng, dtype=f64),
            BatchNorm(3, dtype=f64),
            Tanh(),
            AvgPool2D(2),
            Flatten(),
            Dense(12, 3, rng=rng, dtype=f64),
        ]
    )
    x = rng.standard_normal((6, 1, 8, 8))
    labels = rng.integers(0, 3, 6)

    def loss():
        return np.float64(cross_entropy(model.forward(x), labels)[0])

    _, dlogits = cross_entropy(model.forward(x), labels)
    dx = model.backward(dlogits)
    assert rel_error(dx, numerical_gradient(loss, x, 1.0)) < 1e-5  # a bug gives > 1e-2
    for (name, param), grad in zip(model.named_parameters(), model.gradients(), strict=True):
        if name == "0.bias":  # BatchNorm subtracts the batch mean: a bias before it is inert
            assert np.abs(grad).max() < 1e-12
            continue
        assert rel_error(grad, numerical_gradient(loss, param, 1.0)) < 1e-5, name


def test_text_stack_embedding_to_conv1d():
    rng = np.random.default_rng(4)
    model = Sequential(
        [
            Embedding(20, 4, channels_first=True, rng=rng),
            Conv1D(4, 5, 3, padding="same", rng=rng),
            ReLU(),
            GlobalMaxPool1D(),
            Dense(5, 2, rng=rng),
        ]
    )
    assert [r.output_shape for r in model.summary((12,))] == [(4, 12), (5, 12), (5, 12), (5,), (2,)]
    out = model.forward(rng.integers(0, 20, (3, 12)))
    assert out.shape == (3, 2)
    assert model.backward(np.ones_like(out)) is None  # ids have no gradient
    assert np.abs(model[0].grads["weight"]).sum() > 0


# --- modes and predict -----------------------------------------------------------------------


def test_train_and_eval_modes_drive_dropout_and_batchnorm():
    model = small_bn_net()
    x = np.random.default_rng(5).standard_normal((4, 1, 8, 8))
    assert model.training
    model.forward(x)
    assert model[5].mask is not None  # dropped in training
    running = model[1].buffers["running_mean"].copy()
    model.eval()
    first = model.forward(x)
    np.testing.assert_array_equal(model.forward(x), first)  # deterministic in evaluation
    np.testing.assert_array_equal(model[1].buffers["running_mean"], running)  # frozen
    model.train()
    model.forward(x, training=False)  # the flag overrides the mode for one call
    np.testing.assert_array_equal(model[1].buffers["running_mean"], running)


def test_predict_batches_in_evaluation_mode():
    model = small_bn_net()
    x = np.random.default_rng(6).standard_normal((10, 1, 8, 8))
    model.forward(x)  # move the running statistics away from their start
    expected = model.forward(x, training=False)
    np.testing.assert_allclose(model.predict(x, batch_size=3), expected, rtol=1e-5, atol=1e-6)
    assert model.training  # predict does not change the mode
    with pytest.raises(ValueError, match="batch_size must be at least 1"):
        model.predict(x, batch_size=0)


# --- saving ----------------------------------------------------------------------------------


def test_save_and_load_round_trip_with_batchnorm_buffers(tmp_path):
    model = small_bn_net(seed=0)
    x = np.random.default_rng(7).standard_normal((4, 1, 8, 8))
    model.forward(x)  # running statistics move
    path = tmp_path / "net.npz"
    model.save(path)
    with np.load(path) as data:
        assert {"0.weight", "1.running_mean", "1.running_var", "6.bias"} <= set(data.files)
    other = small_bn_net(seed=1)
    weight = other[0].params["weight"]
    assert not np.allclose(other.predict(x), model.predict(x))
    other.load(path)
    assert other[0].params["weight"] is weight  # loaded in place: optimizers keep their arrays
    np.testing.assert_array_equal(other.predict(x), model.predict(x))
    np.testing.assert_array_equal(other[1].buffers["running_var"], model[1].buffers["running_var"])
    buffer = io.BytesIO()  # file objects work too
    model.save(buffer)
    buffer.seek(0)
    small_bn_net(seed=2).load(buffer)


def test_loading_a_file_that_does_not_match_raises(tmp_path):
    model = lenet5()
    state = model.state_dict()
    model_before = model[5].params["weight"].copy()

    wrong_shape = dict(state, **{"5.weight": np.zeros((120, 300), dtype=np.float32)})
    with pytest.raises(ValueError) as err:
        model.load_state_dict(wrong_shape)
    assert str(err.value) == (
        "Layer 5 (Dense(400→120)): the saved weight is shaped (120, 300) but the model's is "
        "(120, 400)."
    )
    np.testing.assert_array_equal(model[5].params["weight"], model_before)  # nothing changed

    missing = {k: v for k, v in state.items() if k != "7.bias"}
    with pytest.raises(ValueError, match=r"no 'bias' for layer 7 \(Dense\(84→10\)\).*\(10,\)"):
        model.load_state_dict(missing)

    extra = dict(state, **{"8.weight": np.zeros(3)})
    with pytest.raises(ValueError, match=r"no place for, e.g. '8.weight' shaped \(3,\)"):
        model.load_state_dict(extra)

    path = tmp_path / "bn.npz"
    small_bn_net().save(path)
    with pytest.raises(ValueError, match="Layer 0 .*Conv2D"):
        model.load(path)
    (tmp_path / "junk.npz").write_bytes(b"not a zip file")
    with pytest.raises(ValueError, match="Could not read model weights"):
        model.load(tmp_path / "junk.npz")
    (tmp_path / "broken.npz").write_bytes(b"PK\x03\x04 then nothing")
    with pytest.raises(ValueError, match="Could not read model weights"):
        model.load(tmp_path / "broken.npz")
    np.save(tmp_path / "one.npy", np.zeros(3))
    with pytest.raises(ValueError, match="a single array, not the .npz archive"):
        model.load(tmp_path / "one.npy")
    with pytest.raises(ValueError, match=r"ending in \.npz"):
        model.save(tmp_path / "net.txt")


def test_sequential_rejects_what_is_not_a_layer():
    with pytest.raises(ValueError, match="at least one layer"):
        Sequential([])
    with pytest.raises(ValueError, match="Layer 1 of the Sequential model is a function"):
        Sequential([ReLU(), lambda x: x])
    with pytest.raises(ValueError, match="Layer 1 is an Embedding, .* only be the first layer"):
        Sequential([Dense(3, 3), Embedding(5, 3)])
    assert repr(Sequential([ReLU(), Flatten()])) == "Sequential(ReLU, Flatten)"


# --- learning --------------------------------------------------------------------------------


def test_plain_gradient_descent_reduces_the_loss():
    """A few steps of p -= lr·g (no engine.optim) on a small random problem."""
    rng = np.random.default_rng(8)
    x = rng.standard_normal((32, 1, 8, 8)).astype(np.float32)
    labels = (x[:, 0, :4].mean(axis=(1, 2)) > x[:, 0, 4:].mean(axis=(1, 2))).astype(np.int64)
    model = small_bn_net(seed=9)
    losses = []
    for _ in range(15):
        loss, dlogits = cross_entropy(model.forward(x), labels)
        model.backward(dlogits, input_grad=False)
        for param, grad in zip(model.parameters(), model.gradients(), strict=True):
            param -= 0.1 * grad
        losses.append(loss)
    assert losses[-1] < 0.6 * losses[0], losses
    accuracy = (model.predict(x).argmax(axis=1) == labels).mean()
    assert accuracy > 0.8


def test_forward_all_keeps_nothing_on_the_model_and_is_safe_from_many_threads():
    import threading

    rng = np.random.default_rng(3)
    model = Sequential(
        [
            Conv2D(1, 4, 3, padding="same", rng=rng),
            BatchNorm(4),
            ReLU(),
            MaxPool2D(2),
            Flatten(),
            Dense(4 * 8 * 8, 5, rng=rng),
            Tanh(),
        ]
    ).eval()
    inputs = [rng.standard_normal((2 + i, 1, 16, 16)).astype(np.float32) for i in range(6)]
    expected = [model.forward_all(x) for x in inputs]
    assert model.activations == []  # nothing kept on the model
    wrong: list[int] = []

    def run(i: int) -> None:
        for _ in range(100):
            outputs = model.forward_all(inputs[i])
            if not all(np.array_equal(a, b) for a, b in zip(outputs, expected[i], strict=True)):
                wrong.append(i)

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(inputs))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert wrong == []
