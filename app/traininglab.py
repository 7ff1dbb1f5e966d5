"""The Training lab's form (every choice in the URL), its checks, and what the pages show.

The run itself trains in another process (app.jobs); this module turns query parameters into a
run configuration, and finished weights back into a model the pages can look inside.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlencode

import numpy as np

from app.errors import UserError, from_engine_error
from app.forms import parse_choice, parse_float, parse_int
from app.i18n import N_
from engine import architecture, builder
from engine.datasets import DATASETS, Dataset, load_dataset
from engine.errors import EngineError
from engine.optim import OPTIMIZERS
from engine.schedules import SCHEDULES
from engine.train import DEFAULT_LR

PRESETS = ("lenet", "tiny", "mlp", "custom")
DIGIT_SIZES = (8, 16, 28)
AUGMENTATIONS = ("shift", "rotate", "scale", "flip", "noise")
MAX_EPOCHS = 50
MAX_BATCH = 512
MAX_PARAMS = 300_000
MAX_ARCH_TEXT = 1000

DATASET_TITLES = {"digits": N_("Handwritten digits (UCI)"), "shapes": N_("Shapes (generated)")}
PRESET_TITLES = {
    "lenet": N_("LeNet"),
    "tiny": N_("Tiny CNN"),
    "mlp": N_("MLP baseline (dense only)"),
    "custom": N_("My own layers"),
}
OPTIMIZER_TITLES = {
    "sgd": N_("SGD"),
    "momentum": N_("SGD with momentum"),
    "nesterov": N_("Nesterov momentum"),
    "adagrad": N_("AdaGrad"),
    "rmsprop": N_("RMSProp"),
    "adam": N_("Adam"),
}
SCHEDULE_TITLES = {
    "constant": N_("constant"),
    "step": N_("step decay"),
    "exponential": N_("exponential"),
    "inverse_time": N_("1/t"),
    "cosine": N_("cosine"),
}
AUGMENT_TITLES = {
    "shift": N_("shift"),
    "rotate": N_("rotate"),
    "scale": N_("zoom"),
    "flip": N_("mirror"),
    "noise": N_("noise"),
}


@dataclass
class TrainForm:
    dataset: str = "digits"
    size: int = 16
    preset: str = "lenet"
    arch: str = ""
    batchnorm: bool = False
    optimizer: str = "adam"
    lr: float = DEFAULT_LR["adam"]
    schedule: str = "cosine"
    batch_size: int = 32
    epochs: int = 10
    seed: int = 0
    augment: list[str] = field(default_factory=list)

    @property
    def input_shape(self) -> tuple[int, int, int]:
        return (1, self.size, self.size) if self.dataset == "digits" else (1, 28, 28)

    def query(self) -> str:
        items = [("dataset", self.dataset), ("size", str(self.size)), ("preset", self.preset)]
        if self.preset == "custom":
            items.append(("arch", self.arch))
        if self.batchnorm:
            items.append(("bn", "1"))
        items += [
            ("optimizer", self.optimizer),
            ("lr", f"{self.lr:g}"),
            ("schedule", self.schedule),
            ("batch", str(self.batch_size)),
            ("epochs", str(self.epochs)),
            ("seed", str(self.seed)),
        ]
        items += [("aug", name) for name in self.augment]
        return urlencode(items)

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


def parse_form(params) -> TrainForm:
    form = TrainForm()
    form.dataset = parse_choice(params.get("dataset"), N_("Dataset"), DATASETS, "digits")
    form.size = parse_int(params.get("size"), N_("Image size"), 16, 8, 28)
    if form.size not in DIGIT_SIZES:
        raise UserError(N_("Digits come at 8, 16 or 28 pixels (got %(n)s)."), n=form.size)
    form.preset = parse_choice(params.get("preset"), N_("Model"), PRESETS, "lenet")
    classes = 10 if form.dataset == "digits" else 4
    typed = (params.get("arch") or "")[:MAX_ARCH_TEXT].strip()
    shown_for = params.get("arch_for") or form.preset
    try:
        if (
            form.preset != "custom"
            and typed
            and shown_for == form.preset
            and typed != (builder.preset_text(form.preset, form.input_shape, classes))
        ):
            form.preset = "custom"  # the student edited the preset's layers
        if form.preset == "custom":
            form.arch = typed or builder.preset_text("lenet", form.input_shape, classes)
        else:
            form.arch = builder.preset_text(form.preset, form.input_shape, classes)
    except EngineError as error:
        raise from_engine_error(error, status=400) from error
    form.batchnorm = params.get("bn") in ("1", "on", "true")
    form.optimizer = parse_choice(params.get("optimizer"), N_("Optimizer"), OPTIMIZERS, "adam")
    form.lr = parse_float(
        params.get("lr"), N_("Learning rate"), DEFAULT_LR[form.optimizer], 1e-6, 10.0
    )
    form.schedule = parse_choice(params.get("schedule"), N_("Schedule"), SCHEDULES, "cosine")
    form.batch_size = parse_int(params.get("batch"), N_("Batch size"), 32, 1, MAX_BATCH)
    form.epochs = parse_int(params.get("epochs"), N_("Epochs"), 10, 1, MAX_EPOCHS)
    form.seed = parse_int(params.get("seed"), N_("Seed"), 0, 0, 2**31 - 1)
    augment = [name for name in params.getlist("aug") if name]
    for name in augment:
        if name not in AUGMENTATIONS:
            raise UserError(N_("Unknown augmentation '%(name)s'."), name=name[:30])
    form.augment = [name for name in AUGMENTATIONS if name in augment]
    edit = (params.get("edit") or "").strip()
    if edit == "add":  # the add button names the kind in its own menu
        edit = f"add:{(params.get('add_kind') or '').strip()}"
    if edit:
        form.arch = edit_layers(form.arch, edit)
        form.preset = "custom"
    return form


# What the layer editor's "add" menu puts in, as shape-calculator text.
NEW_LAYERS = {
    "conv": "conv 8 3x3 same",
    "relu": "relu",
    "pool": "pool 2",
    "batchnorm": "batchnorm",
    "dropout": "dropout 0.25",
    "dense": "dense 32",
}
NEW_LAYER_TITLES = {
    "conv": N_("convolution (8 filters, 3×3)"),
    "relu": N_("ReLU"),
    "pool": N_("max pooling 2×2"),
    "batchnorm": N_("batch norm"),
    "dropout": N_("dropout 0.25"),
    "dense": N_("dense (32 units)"),
}


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
    if action not in ("up", "down", "remove") or not argument.isdigit():
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


def summarise(form: TrainForm) -> tuple[list[architecture.LayerInfo], int]:
    """The live summary; a stack that does not fit raises a UserError naming the layer."""
    classes = 10 if form.dataset == "digits" else 4
    try:
        specs = builder.complete_specs(form.arch, classes, form.batchnorm)
        infos = architecture.analyse(form.input_shape, specs)
    except EngineError as error:
        raise from_engine_error(error, status=400) from error
    total = architecture.total_params(infos)
    if total > MAX_PARAMS:
        raise UserError(
            N_(
                "This network has %(n)s parameters; runs in the browser are limited to %(max)s "
                "so that a class can watch them train. Use fewer filters or units."
            ),
            n=f"{total:,}",
            max=f"{MAX_PARAMS:,}",
        )
    return infos, total


@lru_cache(maxsize=8)
def dataset(name: str, size: int | None) -> Dataset:
    """Datasets are deterministic, so one copy per process serves every request."""
    return load_dataset(name, **({"size": size} if size and name == "digits" else {}))


def form_dataset(form: TrainForm) -> Dataset:
    return dataset(form.dataset, form.size if form.dataset == "digits" else None)


def preview_grid(data: Dataset, per_class: int = 2) -> tuple[np.ndarray, list[str]]:
    """(rows·H, classes·W) image: the first `per_class` training images of each class."""
    columns = []
    for label in range(len(data.class_names)):
        picks = np.flatnonzero(data.y_train == label)[:per_class]
        columns.append(np.concatenate([data.x_train[i, 0] for i in picks], axis=0))
    return np.concatenate(columns, axis=1), list(data.class_names)
