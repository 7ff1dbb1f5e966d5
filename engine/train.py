"""Training an image CNN: a preset or layer text, on a dataset, through engine.fit's loop, with
bit-for-bit replay from a seed.

    result = train(TrainConfig(dataset="digits", model="lenet", epochs=10), on_step=print)

Randomness comes from one seed, split into independent streams (weights, shuffling, augmentation,
dropout), so a run replays exactly and changing one toggle does not reshuffle the others.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from engine.augment import Augmenter
from engine.builder import build
from engine.datasets import DATASETS, Dataset, load_dataset
from engine.errors import N_, EngineError
from engine.fit import EpochInfo, History, StepInfo, evaluate, fit
from engine.layers import Dropout
from engine.model import Sequential
from engine.optim import OPTIMIZERS, make_optimizer
from engine.presets import PRESETS, build_model
from engine.schedules import SCHEDULES, make_schedule

MAX_EPOCHS = 200
MAX_BATCH = 4096
DEFAULT_LR = {"sgd": 0.1, "momentum": 0.05, "nesterov": 0.05, "adagrad": 0.05,
              "rmsprop": 0.002, "adam": 0.002}  # fmt: skip


@dataclass
class TrainConfig:
    dataset: str = "digits"  # "digits" (UCI 8×8 handwriting) or "shapes" (generated 28×28)
    image_size: int | None = None  # digits: 8, 16 or 28; None: 16, where 5×5 kernels fit well
    model: str = "lenet"  # a preset: lenet, tiny or mlp
    architecture: str | None = None  # layer text (engine.builder) instead of the preset
    batchnorm: bool = False  # BatchNorm after every conv and hidden dense layer
    optimizer: str = "adam"  # sgd, momentum, nesterov, adagrad, rmsprop or adam
    lr: float | None = None  # None: a sensible default for the optimizer
    schedule: str = "cosine"  # constant, step, exponential, inverse_time or cosine
    warmup_steps: int = 0  # linear warm-up before the schedule
    epochs: int = 20
    batch_size: int = 32
    seed: int = 0
    augment: bool = False  # random shift, rotation and scale per batch, never stored
    augmenter: Augmenter | None = None  # chosen changes; overrides `augment` when set
    validation_fraction: float = 0.1  # of the training split, held out to watch generalisation

    @property
    def learning_rate(self) -> float:
        return DEFAULT_LR[self.optimizer] if self.lr is None else float(self.lr)


def validate(config: TrainConfig, data_given: bool = False) -> None:
    """Refuse a configuration before any work, naming the value. With the data given (a
    student's own pictures), the dataset's name is only a label."""
    if config.dataset not in DATASETS and not data_given:
        raise EngineError(
            N_("Unknown dataset '%(name)s': choose digits or shapes."), name=str(config.dataset)
        )
    if config.model not in PRESETS:
        raise EngineError(
            N_("Unknown model '%(name)s': choose lenet, tiny or mlp."), name=str(config.model)
        )
    if config.optimizer not in OPTIMIZERS:
        raise EngineError(
            N_("Unknown optimizer '%(name)s': choose one of %(names)s."),
            name=str(config.optimizer),
            names=", ".join(OPTIMIZERS),
        )
    if config.schedule not in SCHEDULES:
        raise EngineError(
            N_("Unknown schedule '%(name)s': choose one of %(names)s."),
            name=str(config.schedule),
            names=", ".join(SCHEDULES),
        )
    lr = config.learning_rate
    if not (isinstance(lr, int | float) and math.isfinite(lr) and 0 < lr <= 10):
        raise EngineError(
            N_("The learning rate must be a number above 0 and at most 10 (got %(value)s)."),
            value=config.lr,
        )
    if not (isinstance(config.epochs, int) and 1 <= config.epochs <= MAX_EPOCHS):
        raise EngineError(
            N_("Epochs must be a whole number from 1 to %(max)s (got %(value)s)."),
            max=MAX_EPOCHS,
            value=config.epochs,
        )
    if not (isinstance(config.batch_size, int) and 1 <= config.batch_size <= MAX_BATCH):
        raise EngineError(
            N_("The batch size must be a whole number from 1 to %(max)s (got %(value)s)."),
            max=MAX_BATCH,
            value=config.batch_size,
        )
    if not (isinstance(config.seed, int) and 0 <= config.seed < 2**32):
        raise EngineError(N_("The seed must be a whole number ≥ 0 (got %(value)s)."),
                          value=config.seed)  # fmt: skip
    if not 0 <= config.validation_fraction < 0.5:
        raise EngineError(
            N_("The validation fraction must be between 0 and 0.5 (got %(value)s)."),
            value=config.validation_fraction,
        )


@dataclass
class TrainResult:
    model: Sequential
    history: History
    config: TrainConfig
    test_accuracy: float | None
    test_loss: float | None
    seconds: float
    status: str  # "finished", "stopped" or "diverged"
    message: str = ""  # for "diverged": what happened and what to try
    divergence_step: int | None = None


def default_augmenter(size: int) -> Augmenter:
    """Small random shifts, turns and zooms, scaled to the image: about a pixel per 14."""
    return Augmenter(max_shift=max(1, round(size / 14)), max_rotation=10.0, scale=(0.92, 1.08))


def split_validation(data: Dataset, fraction: float, rng: np.random.Generator):
    """A stratified slice of the training split, held out for validation."""
    val_index: list[int] = []
    for label in np.unique(data.y_train):
        members = np.flatnonzero(data.y_train == label)
        take = int(round(len(members) * fraction))
        val_index += list(rng.permutation(members)[:take])
    mask = np.zeros(len(data.y_train), dtype=bool)
    mask[val_index] = True
    return (data.x_train[~mask], data.y_train[~mask]), (data.x_train[mask], data.y_train[mask])


def _check_labels(y: np.ndarray, classes: int, what: str) -> None:
    if len(y) and (y.min() < 0 or y.max() >= classes):
        bad = int(y[(y < 0) | (y >= classes)][0])
        raise EngineError(
            N_("Label %(label)s in the %(what)s set is out of range: classes are 0 to %(max)s."),
            label=bad,
            what=what,
            max=classes - 1,
        )


def train(
    config: TrainConfig,
    data: Dataset | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
    on_epoch: Callable[[EpochInfo], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    model: Sequential | None = None,
) -> TrainResult:
    """Train a preset (or `model`) on the dataset with engine.fit's loop; returns the model and
    its history."""
    validate(config, data_given=data is not None)
    if data is None:
        size = config.image_size or (16 if config.dataset == "digits" else None)
        data = load_dataset(config.dataset, **({"size": size} if size else {}))
    if len(data.x_train) == 0:
        raise EngineError(N_("The training set is empty: there is nothing to learn from."))
    classes = len(data.class_names)
    _check_labels(data.y_train, classes, N_("training"))
    _check_labels(data.y_test, classes, N_("test"))

    seeds = np.random.SeedSequence(config.seed).spawn(5)
    init_rng, shuffle_rng, augment_rng, dropout_rng, split_rng = (
        np.random.default_rng(s) for s in seeds
    )
    (x_train, y_train), (x_val, y_val) = split_validation(
        data, config.validation_fraction, split_rng
    )
    if model is None and config.architecture:
        model, _ = build(
            config.architecture, x_train.shape[1:], classes, config.batchnorm, init_rng
        )
    elif model is None:
        model = build_model(config.model, x_train.shape[1:], classes, config.batchnorm, init_rng)
    for layer in model:
        if isinstance(layer, Dropout):
            layer.rng = dropout_rng
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.learning_rate)
    total_steps = math.ceil(len(x_train) / config.batch_size) * config.epochs
    schedule = make_schedule(
        config.schedule, config.learning_rate, warmup_steps=config.warmup_steps,
        **({"total_steps": total_steps} if config.schedule == "cosine" else {}),
    )  # fmt: skip
    augmenter = config.augmenter
    if augmenter is None and config.augment:
        augmenter = default_augmenter(x_train.shape[-1])
    model.train()
    fitted = fit(
        model, optimizer, x_train, y_train, x_val, y_val,
        epochs=config.epochs, batch_size=config.batch_size, shuffle_rng=shuffle_rng,
        peak_lr=config.learning_rate, lr_at=schedule.lr_at,
        augment=(lambda xb: augmenter(xb, augment_rng)) if augmenter is not None else None,
        on_step=on_step, on_epoch=on_epoch, should_stop=should_stop,
    )  # fmt: skip
    model.eval()
    test_loss = test_accuracy = None
    if fitted.status != "diverged":
        with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
            test_loss, test_accuracy = evaluate(model, data.x_test, data.y_test)
    return TrainResult(
        model, fitted.history, config, test_accuracy, test_loss, fitted.seconds,
        fitted.status, fitted.message, fitted.divergence_step,
    )  # fmt: skip
