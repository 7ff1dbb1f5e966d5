"""The Training lab's fields: every choice of a run, in the URL, and the layer editor's buttons.

The run itself trains in a worker process (app.labs.training.worker); `run_config` turns the
fields into the plain data it receives.
"""

from typing import Literal

from pydantic import model_validator

from app.config import LIMITS
from app.web.errors import UserError
from app.web.fields import Fields, field
from app.web.i18n import N_
from engine.datasets import DATASETS
from engine.optim import OPTIMIZERS
from engine.presets import preset_text
from engine.schedules import SCHEDULES
from engine.train import DEFAULT_LR

PRESETS = ("lenet", "tiny", "mlp", "custom")
TEMPERATURES = (0.25, 10.0)  # the softmax temperature's range: sharper ... flatter
DIGIT_SIZES = (8, 16, 28)
OWN_SIZES = (32, 64)  # the working sizes of a student's own pictures
AUGMENTATIONS = ("shift", "rotate", "scale", "flip", "noise")
# What the layer editor's "add" menu puts in, as shape-calculator text.
NEW_LAYERS = {
    "conv": "conv 8 3x3 same",
    "relu": "relu",
    "pool": "pool 2",
    "batchnorm": "batchnorm",
    "dropout": "dropout 0.25",
    "dense": "dense 32",
}


class TrainFields(Fields):
    dataset: Literal[DATASETS] = field("digits", N_("Dataset"))
    size: int = field(16, N_("Image size"), ge=8, le=28)
    preset: Literal[PRESETS] = field("lenet", N_("Model"))
    arch: str = field("", N_("Layers"), max_length=LIMITS.max_train_arch_text)
    # Which preset the layer text on screen was written for: edited text makes the model custom.
    arch_for: str | None = field(None, in_query=False)
    batchnorm: bool = field(False, N_("Batch norm"), alias="bn")
    optimizer: Literal[OPTIMIZERS] = field("adam", N_("Optimizer"))
    lr: float | None = field(None, N_("Learning rate"), ge=1e-6, le=10.0)
    schedule: Literal[tuple(SCHEDULES)] = field("cosine", N_("Schedule"))
    batch_size: int = field(32, N_("Batch size"), alias="batch", ge=1, le=LIMITS.max_batch)
    epochs: int = field(10, N_("Epochs"), ge=1, le=LIMITS.max_epochs)
    seed: int = field(0, N_("Seed"), ge=0, le=2**31 - 1)
    augment: list[str] = field([], N_("Augmentation"), alias="aug")
    # The layer editor's buttons: "up:i", "down:i", "remove:i" or "add" with `add_kind`.
    edit: str | None = field(None, N_("Layer edit"), in_query=False, max_length=40)
    add_kind: str | None = field(None, N_("Layer kind"), in_query=False, max_length=40)

    @model_validator(mode="after")
    def _run(self):
        self.check_size()
        typed = self.arch[: LIMITS.max_train_arch_text].strip()
        shown_for = self.arch_for or self.preset
        classes = self.classes
        if (self.preset != "custom" and typed and shown_for == self.preset
                and typed != preset_text(self.preset, self.input_shape, classes)):  # fmt: skip
            self.preset = "custom"  # the student edited the preset's layers
        if self.preset == "custom":
            self.arch = typed or preset_text("lenet", self.input_shape, classes)
        else:
            self.arch = preset_text(self.preset, self.input_shape, classes)
        if self.lr is None:
            self.lr = DEFAULT_LR[self.optimizer]
        chosen = [name for name in self.augment if name]
        for name in chosen:
            if name not in AUGMENTATIONS:
                raise UserError(N_("Unknown augmentation '%(name)s'."), name=name[:30])
        self.augment = [name for name in AUGMENTATIONS if name in chosen]
        edit = (self.edit or "").strip()
        if edit == "add":  # the add button names the kind in its own menu
            edit = f"add:{(self.add_kind or '').strip()}"
        if edit:
            self.arch = edit_layers(self.arch, edit)
            self.preset = "custom"
        self.edit = self.add_kind = self.arch_for = None
        return self

    def check_size(self) -> None:
        if self.size not in DIGIT_SIZES:
            raise UserError(N_("Digits come at 8, 16 or 28 pixels (got %(n)s)."), n=self.size)

    def omitted(self) -> set[str]:
        hidden = set() if self.preset == "custom" else {"arch"}
        return hidden | (set() if self.batchnorm else {"batchnorm"})

    @property
    def classes(self) -> int:
        return 10 if self.dataset == "digits" else 4

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (1, self.size, self.size) if self.dataset == "digits" else (1, 28, 28)

    def run_config(self) -> dict:
        """What the training process receives (plain values, so it pickles)."""
        return {
            "dataset": self.dataset,
            "image_size": self.size if self.dataset == "digits" else None,
            "model": self.preset if self.preset != "custom" else "lenet",
            "architecture": self.arch,
            "batchnorm": self.batchnorm,
            "optimizer": self.optimizer,
            "lr": self.lr,
            "schedule": self.schedule,
            "epochs": self.epochs,
            "batch_size": self.batch_size,
            "seed": self.seed,
            "augment_options": {name: True for name in self.augment},
        }


class OwnTrainFields(TrainFields):
    """The same choices on a student's own pictures (app.labs.training.own): a picture set kept
    in the store, grey or colour, at 32 or 64 pixels. `class_count` is the set's, filled in by
    the route from the set itself; the output layer needs it before the set is read."""

    dataset: Literal["own"] = field("own", N_("Dataset"))
    size: int = field(OWN_SIZES[0], N_("Working size"), ge=OWN_SIZES[0], le=OWN_SIZES[-1])
    picture_set: str = field("", N_("Picture set"), alias="set", max_length=40)
    colour: bool = field(False, N_("Colour"))
    class_count: int = field(2, N_("Classes"), alias="k", ge=2, le=5)

    def check_size(self) -> None:
        if self.size not in OWN_SIZES:
            raise UserError(N_("Your pictures are used at 32 or 64 pixels (got %(n)s)."),
                            n=self.size)  # fmt: skip

    def omitted(self) -> set[str]:
        return super().omitted() | (set() if self.colour else {"colour"})

    @property
    def classes(self) -> int:
        return self.class_count

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (3 if self.colour else 1, self.size, self.size)

    def run_config(self) -> dict:
        return super().run_config() | {"image_size": self.size, "colour": self.colour}


class ConfidenceFields(Fields):
    """The softmax temperature a prediction is shown at (1: the plain softmax)."""

    temperature: float = field(1.0, N_("Temperature"), ge=TEMPERATURES[0], le=TEMPERATURES[1],
                               status=422)  # fmt: skip

    def omitted(self) -> set[str]:
        return {"temperature"} if self.temperature == 1.0 else set()


def layer_list(arch: str) -> list[str]:
    """The layers as the student wrote them, one string each."""
    return [part.strip() for part in arch.replace("\n", ",").split(",") if part.strip()]


def edit_layers(arch: str, edit: str) -> str:
    """The layer editor's buttons: "up:i", "down:i", "remove:i" or "add:kind" (i from 0)."""
    layers = layer_list(arch)
    action, _, argument = edit.partition(":")
    if action == "add":
        if argument not in NEW_LAYERS:
            raise UserError(N_("Unknown layer kind '%(name)s'."), name=argument[:30])
        layers.append(NEW_LAYERS[argument])
        return ", ".join(layers)
    # isdigit() alone accepts "²", which int() refuses.
    if action not in ("up", "down", "remove") or not (argument.isascii() and argument.isdigit()):
        raise UserError(N_("Unknown layer edit '%(name)s'."), name=edit[:30])
    index = int(argument)
    if index >= len(layers):
        raise UserError(N_("There is no layer %(n)s to move or remove."), n=index + 1)
    if action == "remove":
        if len(layers) == 1:
            raise UserError(N_("A network needs at least one layer of its own."))
        del layers[index]
    else:
        other = index - 1 if action == "up" else index + 1
        if 0 <= other < len(layers):
            layers[index], layers[other] = layers[other], layers[index]
    return ", ".join(layers)
