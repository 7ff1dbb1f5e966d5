"""The one training loop, for image CNNs (engine.train) and text CNNs (engine.textmodel):
minibatches, progress after every step, metrics after every epoch, divergence detection and a
cooperative stop.

    result = fit(model, optimizer, x, y, x_val, y_val, epochs=10, batch_size=32,
                 shuffle_rng=np.random.default_rng(0), peak_lr=0.01)

`model` is anything with forward(x, training), backward(dlogits, input_grad), predict(x),
parameters() and gradients() in one order (engine.model.Sequential, engine.textmodel.TextCNN).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

import numpy as np

from engine.errors import N_, Message
from engine.losses import cross_entropy

DIVERGED = N_("diverged at step %(step)s: try a smaller learning rate (it was %(lr)s)")


@dataclass(frozen=True)
class StepInfo:
    step: int  # counted from 1 over the whole run
    epoch: int  # from 1
    total_steps: int
    loss: float
    lr: float


@dataclass(frozen=True)
class EpochInfo:
    epoch: int
    train_loss: float  # mean over the epoch's batches, as Keras reports it
    train_accuracy: float
    val_loss: float
    val_accuracy: float
    seconds: float


@dataclass
class History:
    step_loss: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    epochs: list[EpochInfo] = field(default_factory=list)

    def to_dict(self) -> dict:
        return {
            "step_loss": self.step_loss,
            "step_lr": self.step_lr,
            "epochs": [asdict(e) for e in self.epochs],
        }


@dataclass
class FitResult:
    history: History
    status: str  # "finished", "stopped" or "diverged"
    message: str  # for "diverged": what happened and what to try (a Message: translatable)
    divergence_step: int | None
    seconds: float


def evaluate(model, x: np.ndarray, y: np.ndarray, batch_size: int = 256):
    """(loss, accuracy) in evaluation mode; (nan, nan) for an empty set."""
    if len(x) == 0:
        return math.nan, math.nan
    logits = model.predict(x, batch_size=batch_size)
    loss, _ = cross_entropy(logits, y)
    return float(loss), float((logits.argmax(axis=1) == y).mean())


def _finite(model) -> bool:
    return all(np.isfinite(p).all() for p in model.parameters())


def fit(
    model,
    optimizer,
    x: np.ndarray,
    y: np.ndarray,
    x_val: np.ndarray,
    y_val: np.ndarray,
    *,
    epochs: int,
    batch_size: int,
    shuffle_rng: np.random.Generator,
    peak_lr: float,
    lr_at: Callable[[int], float] | None = None,
    augment: Callable[[np.ndarray], np.ndarray] | None = None,
    on_step: Callable[[StepInfo], None] | None = None,
    on_epoch: Callable[[EpochInfo], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> FitResult:
    """Train `model` on x (N, ...) and labels y (N,) with cross-entropy; validate after each
    epoch on (x_val, y_val). `lr_at(step)` is the schedule (constant `peak_lr` without one);
    `augment(batch)` changes each training batch, never the stored data."""
    steps_per_epoch = math.ceil(len(x) / batch_size)
    total_steps = steps_per_epoch * epochs
    history = History()
    start = time.perf_counter()
    step = 0
    status, message, divergence_step = "finished", "", None
    # Overflow on the way to divergence is expected; the loop detects it and says so.
    with np.errstate(over="ignore", invalid="ignore", divide="ignore"):
        for epoch in range(1, epochs + 1):
            epoch_start = time.perf_counter()
            order = shuffle_rng.permutation(len(x))
            loss_sum = correct = seen = 0.0
            for first in range(0, len(order), batch_size):
                if should_stop is not None and should_stop():
                    status = "stopped"
                    break
                index = order[first : first + batch_size]
                xb, yb = x[index], y[index]
                if augment is not None:
                    xb = augment(xb)
                lr = float(lr_at(step)) if lr_at is not None else peak_lr
                optimizer.lr = lr
                logits = model.forward(xb, training=True)
                loss, dlogits = cross_entropy(logits, yb)
                step += 1
                if not math.isfinite(loss):
                    status, divergence_step = "diverged", step
                    break
                model.backward(dlogits, input_grad=False)
                optimizer.step(model.gradients())
                if not _finite(model):
                    status, divergence_step = "diverged", step
                    break
                history.step_loss.append(float(loss))
                history.step_lr.append(lr)
                loss_sum += float(loss) * len(yb)
                correct += float((logits.argmax(axis=1) == yb).sum())
                seen += len(yb)
                if on_step is not None:
                    on_step(StepInfo(step, epoch, total_steps, float(loss), lr))
            if status == "diverged":
                message = Message(DIVERGED, step=divergence_step, lr=f"{peak_lr:g}")
                break
            if seen:
                val_loss, val_accuracy = evaluate(model, x_val, y_val)
                info = EpochInfo(epoch, loss_sum / seen, correct / seen, val_loss, val_accuracy,
                                 time.perf_counter() - epoch_start)  # fmt: skip
                history.epochs.append(info)
                if on_epoch is not None:
                    on_epoch(info)
            if status == "stopped":
                break
    return FitResult(history, status, message, divergence_step, time.perf_counter() - start)
