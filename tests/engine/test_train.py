"""The training loop: it learns, it replays bit for bit, it stops, and it refuses bad settings."""

import json

import numpy as np
import pytest

from engine.datasets import Dataset, load_digits
from engine.errors import EngineError
from engine.presets import build_model
from engine.train import TrainConfig, train


@pytest.fixture(scope="module")
def digits():
    return load_digits(size=8)


def small(data: Dataset, n_train: int = 400) -> Dataset:
    return Dataset(
        data.name, data.x_train[:n_train], data.y_train[:n_train], data.x_test, data.y_test,
        data.class_names, data.description,
    )  # fmt: skip


def test_a_short_run_learns_well_above_chance(digits):
    result = train(TrainConfig(model="tiny", epochs=4, batch_size=32, seed=0), data=digits)
    assert result.status == "finished"
    assert result.test_accuracy > 0.8  # chance is 0.1
    losses = result.history.step_loss
    assert np.mean(losses[-20:]) < 0.5 * np.mean(losses[:20])
    assert len(result.history.epochs) == 4
    assert all(0 <= e.val_accuracy <= 1 for e in result.history.epochs)


def test_same_seed_gives_identical_history(digits):
    config = TrainConfig(model="lenet", epochs=2, seed=3, augment=True, batchnorm=True)
    first = train(config, data=small(digits))
    second = train(config, data=small(digits))
    assert first.history.step_loss == second.history.step_loss
    assert first.history.to_dict() == {**second.history.to_dict(), "epochs": [
        {**e, "seconds": f["seconds"]} for e, f in zip(
            second.history.to_dict()["epochs"], first.history.to_dict()["epochs"], strict=True
        )
    ]}  # fmt: skip
    for a, b in zip(first.model.parameters(), second.model.parameters(), strict=True):
        np.testing.assert_array_equal(a, b)
    third = train(TrainConfig(model="lenet", epochs=2, seed=4), data=small(digits))
    assert third.history.step_loss != first.history.step_loss


def test_divergence_is_caught_with_a_message(digits):
    # Inputs of 1e6 and a large step: the weights overflow float32 within a few steps.
    huge = Dataset("digits", digits.x_train[:256] * 1e6, digits.y_train[:256], digits.x_test,
                   digits.y_test, digits.class_names, "")  # fmt: skip
    result = train(
        TrainConfig(model="mlp", optimizer="sgd", lr=5.0, epochs=3, schedule="constant"),
        data=huge,
    )
    assert result.status == "diverged"
    assert result.message.startswith(f"diverged at step {result.divergence_step}: try a smaller")
    assert len(result.history.step_loss) == result.divergence_step - 1  # the curve up to there
    assert all(np.isfinite(result.history.step_loss))
    assert result.test_accuracy is None


def test_cooperative_stop(digits):
    steps = []

    def stop_after_five():
        return len(steps) >= 5

    result = train(
        TrainConfig(model="tiny", epochs=5), data=small(digits),
        on_step=steps.append, should_stop=stop_after_five,
    )  # fmt: skip
    assert result.status == "stopped"
    assert len(steps) == 5 and steps[-1].step == 5
    assert result.test_accuracy is not None


def test_progress_callbacks(digits):
    steps, epochs = [], []
    train(TrainConfig(model="tiny", epochs=2, batch_size=100), data=small(digits),
          on_step=steps.append, on_epoch=epochs.append)  # fmt: skip
    assert [s.step for s in steps] == list(range(1, len(steps) + 1))
    assert steps[-1].total_steps == len(steps)
    assert [e.epoch for e in epochs] == [1, 2]
    # Cosine schedule by default: the rate falls towards the end.
    assert steps[-1].lr < steps[0].lr


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        ({"lr": -1.0}, "learning rate must be a number above 0"),
        ({"lr": float("nan")}, "learning rate must be a number above 0"),
        ({"lr": 1e9}, "at most 10"),
        ({"epochs": 0}, "Epochs must be a whole number from 1 to 200"),
        ({"epochs": 10**6}, "Epochs must be a whole number from 1 to 200"),
        ({"batch_size": 0}, "batch size must be a whole number from 1 to 4096"),
        ({"batch_size": 10**7}, "batch size must be a whole number from 1 to 4096"),
        ({"model": "resnet"}, "Unknown model 'resnet'"),
        ({"optimizer": "lion"}, "Unknown optimizer 'lion'"),
        ({"dataset": "imagenet"}, "Unknown dataset 'imagenet'"),
        ({"seed": -1}, "seed must be a whole number"),
    ],
)
def test_bad_settings_are_refused_before_any_work(changes, fragment):
    with pytest.raises(EngineError, match=fragment):
        train(TrainConfig(**changes))


def test_labels_out_of_range_and_empty_sets(digits):
    bad = Dataset("digits", digits.x_train[:50], digits.y_train[:50] + 10, digits.x_test,
                  digits.y_test, digits.class_names, "")  # fmt: skip
    with pytest.raises(EngineError, match="out of range: classes are 0 to 9"):
        train(TrainConfig(model="tiny", epochs=1), data=bad)
    empty = Dataset("digits", digits.x_train[:0], digits.y_train[:0], digits.x_test,
                    digits.y_test, digits.class_names, "")  # fmt: skip
    with pytest.raises(EngineError, match="training set is empty"):
        train(TrainConfig(model="tiny", epochs=1), data=empty)


@pytest.mark.parametrize("size", [8, 16, 28])
def test_presets_fit_every_input_size_and_mlp_matches_lenet_budget(size):
    lenet = build_model("lenet", (1, size, size), 10)
    mlp = build_model("mlp", (1, size, size), 10)
    assert lenet.output_shape((1, size, size)) == (10,)
    assert abs(mlp.num_params() - lenet.num_params()) / lenet.num_params() < 0.05
    with_bn = build_model("lenet", (1, size, size), 10, batchnorm=True)
    assert any(type(layer).__name__ == "BatchNorm" for layer in with_bn)


def test_lenet_on_28_has_lenet5_shapes():
    model = build_model("lenet", (1, 28, 28), 10)
    rows = model.summary((1, 28, 28))
    shapes = [tuple(row.output_shape) for row in rows]
    assert (6, 28, 28) in shapes and (16, 10, 10) in shapes and (16, 5, 5) in shapes
    assert model.num_params() == 61706


def test_cli_prints_a_json_last_line(capsys):
    from app import cli

    status = cli.main(["train", "--model", "tiny", "--image-size", "8", "--epochs", "1",
                       "--quiet"])  # fmt: skip
    assert status == 0
    last = capsys.readouterr().out.strip().splitlines()[-1]
    summary = json.loads(last)
    assert {"test_accuracy", "final_loss", "seconds", "params"} <= set(summary)
    assert 0.3 < summary["test_accuracy"] <= 1 and summary["params"] > 0


def test_cli_bad_options_exit_non_zero(capsys):
    from app import cli

    assert cli.main(["train", "--lr", "-1", "--quiet"]) == 2
    assert "learning rate" in capsys.readouterr().err
    with pytest.raises(SystemExit) as caught:
        cli.main(["train", "--model", "vgg"])
    assert caught.value.code == 2


def test_cli_saves_weights_that_load_back(tmp_path):
    from app import cli

    path = tmp_path / "w.npz"
    assert cli.main(["train", "--model", "tiny", "--image-size", "8", "--epochs", "1",
                     "--quiet", "--save", str(path)]) == 0  # fmt: skip
    model = build_model("tiny", (1, 8, 8), 10)
    model.load(path)
    wrong = build_model("lenet", (1, 8, 8), 10)
    with pytest.raises(ValueError):
        wrong.load(path)
