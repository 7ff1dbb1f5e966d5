"""A text CNN (Kim, 2014) from engine.layers, its training loop, and the views the Text lab shows.

    ids (N, L) ─ Embedding ─▶ (N, D, L) ─┬─ Conv1D width 2 ─ ReLU ─ GlobalMaxPool1D ─▶ (N, F) ─┐
                                         ├─ Conv1D width 3 ─ ReLU ─ GlobalMaxPool1D ─▶ (N, F) ─┤
                                         └─ …  (one branch per width)                          │
    concatenate ─▶ (N, F·W) ─ Dropout ─ Dense ─▶ logits (N, K)  ◀─────────────────────────────┘

The branches run side by side, so this is not a Sequential; it holds the same layers and
follows the same contract (forward, backward filling ``grads`` in place, parameters() and
gradients() in one order, state_dict). Global max pooling makes the network indifferent to the
sequence length, as long as the widest filter fits (L ≥ max width).

Also here: :func:`train_text`, engine.fit's loop on a TextCNN, with bit-for-bit replay from a
seed. What the Text lab shows of a trained network is in engine.textexplain.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from engine.errors import N_, EngineError
from engine.fit import EpochInfo, History, StepInfo, evaluate, fit
from engine.layers import Conv1D, Dense, Dropout, Embedding, GlobalMaxPool1D, ReLU
from engine.losses import softmax
from engine.optim import OPTIMIZERS, make_optimizer

__all__ = ["TextCNN", "TextTrace", "TextTrainConfig", "TextTrainResult", "train_text"]

DEFAULT_WIDTHS = (2, 3, 4, 5)
EMBEDDING_INIT = 0.05  # Keras' Embedding default: uniform(−0.05, 0.05)


@dataclass
class TextTrace:
    """What one forward pass computed, kept for the lab's views (keep=True)."""

    embedded: np.ndarray  # (N, D, L) the rows of the embedding matrix, channels first
    conv: list[np.ndarray]  # per width: (N, F, L − w + 1) before ReLU
    pooled: np.ndarray  # (N, F·W) after ReLU and global max pooling, widths in order
    logits: np.ndarray  # (N, K)


class TextCNN:
    """Embedding → one Conv1D per width → ReLU → GlobalMaxPool1D → concatenate → Dropout → Dense.

    ids (N, L) integers in [0, vocab_size) -> logits (N, num_classes). ``filters`` per width.
    """

    def __init__(
        self,
        vocab_size: int,
        num_classes: int = 2,
        embedding_dim: int = 16,
        widths=DEFAULT_WIDTHS,
        filters: int = 8,
        dropout: float = 0.5,
        rng: np.random.Generator | None = None,
        dtype=np.float32,
    ) -> None:
        rng = rng if rng is not None else np.random.default_rng()
        self.widths = tuple(int(w) for w in widths)
        if not self.widths or min(self.widths) < 1:
            raise EngineError(N_("A text CNN needs at least one filter width ≥ 1."))
        self.vocab_size, self.num_classes = int(vocab_size), int(num_classes)
        self.embedding_dim, self.filters = int(embedding_dim), int(filters)
        self.embedding = Embedding(vocab_size, embedding_dim, channels_first=True, rng=rng,
                                   dtype=dtype)  # fmt: skip
        # Small initial vectors, as Keras: what the rows become is then what training put there.
        self.embedding.params["weight"][...] = rng.uniform(
            -EMBEDDING_INIT, EMBEDDING_INIT, self.embedding.params["weight"].shape
        )
        self.convs = [Conv1D(embedding_dim, filters, w, rng=rng, dtype=dtype) for w in self.widths]
        self.relus = [ReLU() for _ in self.widths]
        self.pools = [GlobalMaxPool1D() for _ in self.widths]
        self.dropout = Dropout(dropout, rng=rng)
        self.dense = Dense(filters * len(self.widths), num_classes, rng=rng, init="glorot",
                           dtype=dtype)  # fmt: skip
        self.trace: TextTrace | None = None

    # --- computing ---------------------------------------------------------------------------

    def forward(self, ids, training: bool = False, keep: bool = False) -> np.ndarray:
        """ids (N, L) -> logits (N, K); keep=True stores a TextTrace in self.trace (a
        convenience for one thread; pages that share a model use :meth:`trace_forward`)."""
        trace = self.trace_forward(ids, training)
        self.trace = trace if keep else None
        return trace.logits

    def trace_forward(self, ids, training: bool = False) -> TextTrace:
        """What one forward pass computes, every stage of it. Nothing is kept on the model, so
        in evaluation mode many threads may call it on one model at once."""
        ids = np.asarray(ids)
        if ids.ndim != 2:
            raise EngineError(N_("A text CNN takes ids shaped (N, L)."))
        if ids.shape[1] < max(self.widths):
            raise EngineError(
                N_(
                    "The sequences are %(length)s ids long, but the widest filter reads "
                    "%(width)s words: use a maximum length of at least %(width)s."
                ),
                length=ids.shape[1],
                width=max(self.widths),
            )
        x = self.embedding.forward(ids)  # (N, L) -> (N, D, L)
        conv_out, pooled = [], []
        for conv, relu, pool in zip(self.convs, self.relus, self.pools, strict=True):
            z = conv.forward(x)  # (N, D, L) -> (N, F, L − w + 1)
            pooled.append(pool.forward(relu.forward(z)))  # -> (N, F)
            conv_out.append(z)
        h = np.concatenate(pooled, axis=1)  # (N, F·W)
        logits = self.dense.forward(self.dropout.forward(h, training=training))
        return TextTrace(x, conv_out, h, logits)

    __call__ = forward

    def backward(self, dlogits, input_grad: bool = False) -> None:
        """dL/dlogits (N, K) -> fills every layer's grads (ids have no gradient, so there is
        no dL/d(input) whatever `input_grad` says)."""
        dh = self.dropout.backward(self.dense.backward(dlogits))  # (N, F·W)
        dx = None
        for i, (conv, relu, pool) in enumerate(
            zip(self.convs, self.relus, self.pools, strict=True)
        ):
            dp = dh[:, i * self.filters : (i + 1) * self.filters]
            part = conv.backward(relu.backward(pool.backward(dp)))  # (N, D, L)
            dx = part if dx is None else dx + part
        self.embedding.backward(dx)

    def predict(self, ids, batch_size: int = 256) -> np.ndarray:
        """Logits in evaluation mode (dropout off), batch_size sequences at a time."""
        ids = np.asarray(ids)
        parts = [self.forward(ids[i : i + batch_size]) for i in range(0, len(ids), batch_size)]
        return np.concatenate(parts)

    def predict_proba(self, ids, batch_size: int = 256) -> np.ndarray:
        return softmax(self.predict(ids, batch_size).astype(np.float64), axis=1)

    # --- parameters --------------------------------------------------------------------------

    def layers(self) -> list[tuple[str, object]]:
        named = [("embedding", self.embedding)]
        named += [(f"conv{w}", conv) for w, conv in zip(self.widths, self.convs, strict=True)]
        return [*named, ("dense", self.dense)]

    def named_parameters(self) -> list[tuple[str, np.ndarray]]:
        return [(f"{n}.{k}", v) for n, layer in self.layers() for k, v in layer.params.items()]

    def parameters(self) -> list[np.ndarray]:
        return [p for _, p in self.named_parameters()]

    def gradients(self) -> list[np.ndarray]:
        return [g for _, layer in self.layers() for g in layer.grads.values()]

    def num_params(self) -> int:
        return sum(p.size for p in self.parameters())

    def state_dict(self) -> dict[str, np.ndarray]:
        return {k: v.copy() for k, v in self.named_parameters()}

    def load_state_dict(self, state: dict) -> None:
        for key, target in self.named_parameters():
            if key not in state or np.shape(state[key]) != target.shape:
                raise EngineError(
                    N_("The saved weights do not fit this text CNN (%(key)s)."), key=key
                )
        for key, target in self.named_parameters():
            target[...] = state[key]

    def describe(self) -> str:
        widths = "/".join(str(w) for w in self.widths)
        return (
            f"TextCNN(vocab {self.vocab_size}, dim {self.embedding_dim}, "
            f"{self.filters} filters × widths {widths}, {self.num_classes} classes)"
        )


# --- training ------------------------------------------------------------------------------------


@dataclass
class TextTrainConfig:
    embedding_dim: int = 16  # D: numbers per word
    filters: int = 8  # F: filters per width
    widths: tuple[int, ...] = DEFAULT_WIDTHS  # one Conv1D branch per width
    dropout: float = 0.5  # on the pooled features, in training only
    optimizer: str = "adam"
    lr: float = 0.01
    epochs: int = 12
    batch_size: int = 16
    seed: int = 0
    validation_fraction: float = 0.1  # of the training split, held out to watch generalisation


@dataclass
class TextTrainResult:
    model: TextCNN
    history: History
    test_accuracy: float | None
    test_loss: float | None
    seconds: float
    status: str  # "finished", "stopped" or "diverged"
    message: str = ""
    divergence_step: int | None = None
    val_index: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def _check_config(config: TextTrainConfig) -> None:
    if config.optimizer not in OPTIMIZERS:
        raise EngineError(N_("Unknown optimizer '%(name)s': choose one of %(names)s."),
                          name=str(config.optimizer), names=", ".join(OPTIMIZERS))  # fmt: skip
    if not (math.isfinite(config.lr) and 0 < config.lr <= 10):
        raise EngineError(
            N_("The learning rate must be a number above 0 and at most 10 (got %(value)s)."),
            value=config.lr,
        )
    if not 0 <= config.validation_fraction < 0.5:
        raise EngineError(
            N_("The validation fraction must be between 0 and 0.5 (got %(value)s)."),
            value=config.validation_fraction,
        )


def stratified_holdout(y: np.ndarray, fraction: float, rng: np.random.Generator, groups=None):
    """Indices (kept, held out): `fraction` of every class held out, at least one class member
    always kept. With `groups` (one name per text), whole groups are held out instead, so
    texts written as a pair never end up on both sides."""
    held = []
    if groups is not None:
        names = sorted(set(groups))
        take = min(int(round(len(names) * fraction)), len(names) - 1)
        chosen = {names[i] for i in rng.permutation(len(names))[:take]}
        held = [i for i, g in enumerate(groups) if g in chosen]
    else:
        for label in np.unique(y):
            members = np.flatnonzero(y == label)
            take = min(int(round(len(members) * fraction)), len(members) - 1)
            held += list(rng.permutation(members)[:take])
    mask = np.zeros(len(y), dtype=bool)
    mask[held] = True
    return np.flatnonzero(~mask), np.flatnonzero(mask)


def train_text(
    config: TextTrainConfig,
    x_train: np.ndarray,
    y_train: np.ndarray,
    x_test: np.ndarray,
    y_test: np.ndarray,
    vocab_size: int,
    num_classes: int,
    on_step: Callable[[StepInfo], None] | None = None,
    on_epoch: Callable[[EpochInfo], None] | None = None,
    should_stop: Callable[[], bool] | None = None,
    groups: list[str] | None = None,
) -> TextTrainResult:
    """Train a TextCNN on padded ids x (N, L) and labels y (N,); the same seed replays exactly.

    Randomness comes from one seed split into independent streams (weights, shuffling, dropout,
    validation split). on_step/on_epoch get engine.train's StepInfo/EpochInfo. `groups` (one
    name per training text) makes the validation split hold out whole groups.
    """
    _check_config(config)
    if len(x_train) == 0:
        raise EngineError(N_("The training set is empty: there is nothing to learn from."))
    init_rng, shuffle_rng, dropout_rng, split_rng = (
        np.random.default_rng(s) for s in np.random.SeedSequence(config.seed).spawn(4)
    )
    model = TextCNN(vocab_size, num_classes, config.embedding_dim, config.widths,
                    config.filters, config.dropout, init_rng)  # fmt: skip
    model.dropout.rng = dropout_rng
    keep, held = stratified_holdout(y_train, config.validation_fraction, split_rng, groups)
    xt, yt, xv, yv = x_train[keep], y_train[keep], x_train[held], y_train[held]
    optimizer = make_optimizer(config.optimizer, model.parameters(), config.lr)
    fitted = fit(
        model, optimizer, xt, yt, xv, yv, epochs=config.epochs, batch_size=config.batch_size,
        shuffle_rng=shuffle_rng, peak_lr=config.lr, on_step=on_step, on_epoch=on_epoch,
        should_stop=should_stop,
    )  # fmt: skip
    test_loss = test_accuracy = None
    if fitted.status != "diverged" and len(x_test):
        test_loss, test_accuracy = evaluate(model, x_test, y_test)
    return TextTrainResult(model, fitted.history, test_accuracy, test_loss, fitted.seconds,
                           fitted.status, fitted.message, fitted.divergence_step, held)  # fmt: skip
