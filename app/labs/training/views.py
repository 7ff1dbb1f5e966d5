"""What the Training lab's pages get: the setup's live summary, a run's progress, a trained
network looked inside (feature maps, confusion matrix, mistakes, shifted digits, drawings), and
runs side by side."""

from __future__ import annotations

from functools import lru_cache
from types import SimpleNamespace

import numpy as np
from starlette.datastructures import QueryParams

from app.config import LIMITS
from app.labs.training import confidence, titles
from app.labs.training.drawing import framing, prepare_drawing
from app.labs.training.fields import (
    DIGIT_SIZES,
    TEMPERATURES,
    OwnTrainFields,
    TrainFields,
    layer_list,
)
from app.labs.training.worker import augmenter_for, own_data
from app.media.cache import model_nbytes
from app.runs.deps import find_run, runs_of
from app.runs.manager import Run
from app.runs.views import progress_context
from app.web.charts import Series, line_chart
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.layers import PipelineLayer, field_box
from app.web.numbers import LocalNumber, Numbers
from app.web.png import clipped_grey, colour_map, diverging_rgb, png_data_uri
from engine import architecture, builder
from engine.augment import Augmenter
from engine.datasets import Dataset, load_dataset
from engine.losses import softmax
from engine.model import Sequential

GALLERY = 24  # misclassified examples shown
RECENT_RUNS = 8
# What the templates read about the lab's choices, under one name.
LAB = SimpleNamespace(
    **{name: getattr(titles, name) for name in dir(titles) if name.endswith("_TITLES")},
    DIGIT_SIZES=DIGIT_SIZES, MAX_BATCH=LIMITS.max_batch, MAX_EPOCHS=LIMITS.max_epochs,
    TEMPERATURES=TEMPERATURES,
    layer_list=layer_list,
)  # fmt: skip


# --- set up --------------------------------------------------------------------------------------


def summarise(form: TrainFields) -> tuple[list[architecture.LayerInfo], int]:
    """The live summary. A stack that does not fit raises the engine's error naming the layer."""
    specs = builder.complete_specs(form.arch, form.classes, form.batchnorm)
    infos = architecture.analyse(form.input_shape, specs)
    total = architecture.total_params(infos)
    if total > LIMITS.max_params:
        raise UserError(
            N_(
                "This network has %(n)s parameters; runs in the browser are limited to %(max)s "
                "so that a class can watch them train. Use fewer filters or units."
            ),
            n=LocalNumber(total),
            max=LocalNumber(LIMITS.max_params),
        )
    return infos, total


@lru_cache(maxsize=8)
def dataset(name: str, size: int | None) -> Dataset:
    """Datasets are deterministic, so one copy per process serves every request."""
    return load_dataset(name, **({"size": size} if size and name == "digits" else {}))


def form_dataset(form: TrainFields) -> Dataset:
    return dataset(form.dataset, form.size if form.dataset == "digits" else None)


def image_run(runs, run_id: str) -> Run:
    return find_run(runs, run_id, "image")


def image_runs(runs) -> list[Run]:
    """The newest image runs, the viewer's own first (runs is a ViewerRuns)."""
    return runs.runs("image", limit=RECENT_RUNS)


def setup_context(form: TrainFields, runs) -> dict:
    infos, total = summarise(form)
    data = form_dataset(form)
    return {
        "traininglab": LAB,
        "form": form,
        "setup_fields": form.items(),
        "infos": infos,
        "total_params": total,
        "class_names": data.class_names,
        "n_train": len(data.x_train),
        "n_test": len(data.x_test),
        "runs": image_runs(runs)[:RECENT_RUNS],
        "error": None,
    }


def setup_error_context(request, error, messages: list[str]) -> dict:
    """The setup page again, the form as the user sent it and the message next to it."""
    return {"traininglab": LAB, "form": None, "raw": request.query_params, "error": messages,
            "runs": image_runs(runs_of(request))[:RECENT_RUNS]}  # fmt: skip


def preview_grid(data: Dataset, per_class: int = 2) -> np.ndarray:
    """(rows·H, classes·W) image: the first `per_class` training images of each class."""
    columns = []
    for label in range(len(data.class_names)):
        picks = np.flatnonzero(data.y_train == label)[:per_class]
        columns.append(np.concatenate([data.x_train[i, 0] for i in picks], axis=0))
    return np.concatenate(columns, axis=1)


def augment_grid(form: TrainFields) -> np.ndarray:
    """Four training images (one row each), untouched then five times augmented, a 1-pixel gap
    between tiles."""
    data = form_dataset(form)
    augmenter = augmenter_for({name: True for name in form.augment}, data.x_train.shape[-1])
    samples = data.x_train[[np.flatnonzero(data.y_train == c)[0] for c in range(4)]]
    copies = (augmenter or Augmenter()).preview(samples, n_copies=6, seed=form.seed)
    copies[:, 0] = samples  # the first column is the untouched image
    size = samples.shape[-1]
    grid = np.ones((4 * (size + 1) - 1, 6 * (size + 1) - 1), dtype=np.float32) * 0.5
    for i in range(4):
        for j in range(6):
            top, left = i * (size + 1), j * (size + 1)
            grid[top : top + size, left : left + size] = copies[i, j, 0]  # (4, 6, 1, H, W)
    return np.clip(grid, 0, 1) * 255


# --- a run ---------------------------------------------------------------------------------------


def run_form(run: Run) -> TrainFields:
    fields = OwnTrainFields if run.config["dataset"] == "own" else TrainFields
    return fields.parse(QueryParams(run.config["query"]))


def run_data(run: Run) -> Dataset:
    if run.config["dataset"] == "own":
        return own_run_data(run.config["own_data"], tuple(run.config["class_names"]),
                            run.read_blob)  # fmt: skip
    return dataset(run.config["dataset"], run.config["image_size"])


@lru_cache(maxsize=4)
def own_run_data(key: str, class_names: tuple[str, ...], read_blob) -> Dataset:
    """A run's own pictures, from the snapshot its start kept in the store (by content, so
    the copy cached here never goes stale)."""
    try:
        return own_data({"class_names": list(class_names)}, read_blob(key))
    except ValueError as error:
        raise UserError(N_("The pictures of this run are no longer kept: train it again."),
                        status=410) from error  # fmt: skip


@lru_cache(maxsize=8)
def dataset_framing(name: str, size: int | None) -> tuple[float, str]:
    """How the dataset's images frame their ink (drawing.framing), once per process."""
    return framing(dataset(name, size).x_train)


def run_model(run: Run, results) -> tuple[Sequential, list[architecture.LayerInfo]]:
    """The trained network, rebuilt from its configuration and weights (cached per run). Pages
    share it across threads: they only run it in evaluation mode, which keeps nothing on it."""
    if not run.has_state:
        raise UserError(N_("This run has no trained weights to look at."), status=409)

    def rebuild():
        config = run.config
        data = run_data(run)
        classes = len(data.class_names)
        model, _ = builder.build(config["architecture"], data.x_train.shape[1:], classes,
                                 config["batchnorm"])  # fmt: skip
        model.load_state_dict(run.state)
        model.eval()
        specs = builder.complete_specs(config["architecture"], classes, config["batchnorm"])
        return model, architecture.analyse(data.x_train.shape[1:], specs)

    return results.get_or_compute(
        f"model:{run.id}", rebuild, nbytes=lambda pair: model_nbytes(pair[0])
    )


def picture_pixels(image: np.ndarray, as_is: bool = False) -> np.ndarray:
    """A (C, H, W) network input in [0, 1] as the screen shows it: a colour picture, or a grey
    photo (`as_is`), as it is; a grey digit scaled to its brightest pixel (its ink)."""
    if image.shape[0] == 3:
        return clipped_grey(image.transpose(1, 2, 0) * 255)
    return clipped_grey(image[0] * 255) if as_is else colour_map(image[0] * 255)


def filter_grid(weights: np.ndarray) -> np.ndarray:
    """Conv weights (F, C, K, K) -> one row of F tiles (first input channel), diverging colours,
    one shared scale so their strengths compare; a dense layer's weights as rows instead."""
    if weights.ndim == 4:
        tiles = weights[:, 0]
    else:  # dense (out, in): each unit's weights as a square-ish tile
        side = int(np.ceil(np.sqrt(weights.shape[1])))
        padded = np.zeros((weights.shape[0], side * side), dtype=weights.dtype)
        padded[:, : weights.shape[1]] = weights
        tiles = padded.reshape(-1, side, side)[:16]
    k = tiles.shape[-1]
    grid = np.zeros((k, len(tiles) * (k + 1) - 1), dtype=np.float32)
    for index, tile in enumerate(tiles):
        grid[:, index * (k + 1) : index * (k + 1) + k] = tile
    return diverging_rgb(grid, float(np.abs(tiles).max()) or 1.0)


def status_context(run: Run, gettext, numbers: Numbers) -> dict:
    return {**progress_context(run, gettext, numbers), "traininglab": LAB}


# --- look inside ---------------------------------------------------------------------------------


def layer_table(model: Sequential, infos, image: np.ndarray):
    """Feature maps of every layer for one (C, H, W) image, and the softmax probabilities."""
    outputs = model.forward_all(image[None], training=False)
    maps = [outputs[i][0].copy() for i in model.spec_outputs]
    layers = [PipelineLayer(info, values, None) for info, values in zip(infos, maps, strict=True)]
    return layers, softmax(outputs[-1])[0]


def sample_layers(run: Run, results, sample: int):
    """layer_table for a test image, cached: a page asks for dozens of its maps at once."""

    def compute():
        model, infos = run_model(run, results)
        return layer_table(model, infos, run_data(run).x_test[sample])

    return results.get_or_compute(
        f"layers:{run.id}:{sample}", compute,
        nbytes=lambda pair: sum(layer.values.nbytes for layer in pair[0]) + 1024,
    )  # fmt: skip


def run_evaluation(run: Run, results, runs=None) -> confidence.Evaluation:
    """The test set's evaluation (confusion matrix, shifted accuracies, calibration, activation
    statistics), computed once per finished run. With `runs` (the run manager) it is read from
    or written to the store, so no web process computes it again; without, it comes from this
    process's cache (a route that has `runs` asks first)."""
    return confidence.evaluation(
        run, results, lambda: (run_model(run, results)[0], run_data(run)), runs
    )


def inside_context(run: Run, results, sample: int) -> dict:
    data = run_data(run)
    sample = min(sample, len(data.x_test) - 1)
    layers, probabilities = sample_layers(run, results, sample)
    evaluation = run_evaluation(run, results)
    predictions = evaluation.predictions
    wrong = np.flatnonzero(predictions != data.y_test)[:GALLERY]
    return {
        "traininglab": LAB,
        "run": run,
        "sample": sample,
        "label": int(data.y_test[sample]),
        "layers": layers,
        "boxes": [field_box(layer.info, data.x_test.shape[-2:]) for layer in layers],
        "probabilities": probabilities,
        "class_names": data.class_names,
        "matrix": evaluation.matrix,
        "wrong": [(int(i), int(data.y_test[i]), int(predictions[i])) for i in wrong],
        "n_test": len(data.x_test),
        "shifted": evaluation.shifted,
    }


def confidence_context(run: Run, results, image: np.ndarray, temperature: float, gettext=None,
                       numbers: Numbers | None = None) -> dict:  # fmt: skip
    """One (C, H, W) input's softmax at `temperature` and how familiar it looks; with `gettext`
    and `numbers`, also the test set's reliability diagrams."""
    model, infos = run_model(run, results)
    evaluation = run_evaluation(run, results)
    context = {
        "confidence": confidence.input_confidence(model, infos, evaluation, image, temperature),
        "temperature": temperature,
        "trained_on": run.config["dataset"],
        "traininglab": LAB,
    }
    if gettext is not None:
        context["calibration"] = confidence.calibration_context(
            evaluation, run_data(run).y_test, temperature, gettext, numbers
        )
    return context


def predict_context(run: Run, results, picture: bytes) -> dict:
    model, infos = run_model(run, results)
    data = run_data(run)
    fill, centre = dataset_framing(run.config["dataset"], run.config["image_size"])
    steps, image = prepare_drawing(picture, data.x_test.shape[-1], LIMITS.max_drawing_pixels,
                                   fill=fill, centre=centre)  # fmt: skip
    layers, probabilities = layer_table(model, infos, image)

    def thumbnails(values: np.ndarray) -> list[str]:
        return [png_data_uri(colour_map(values[c])) for c in range(min(16, values.shape[0]))]

    return {
        "run": run,
        "steps": [(t, png_data_uri(colour_map(np.clip(v, 0, 1) * 255))) for t, v in steps],
        "probabilities": probabilities,
        "class_names": data.class_names,
        "prediction": int(probabilities.argmax()),
        "layers": layers,
        "layer_uris": [thumbnails(x.values) if x.values.ndim == 3 else [] for x in layers],
        "image": image,  # the network's input, for the attribution maps
    }


# --- runs side by side ---------------------------------------------------------------------------


def epochs_text(count: int, gettext) -> str:
    """ "1 epoch", "3 epochs": the plural the count needs (`gettext` is a catalog's method)."""
    catalog = getattr(gettext, "__self__", None)
    if catalog is None:
        return ("%(n)s epoch" if count == 1 else "%(n)s epochs") % {"n": count}
    return catalog.ngettext("%(n)s epoch", "%(n)s epochs", count) % {"n": count}


def compare_labels(forms: list[TrainFields], gettext, numbers: Numbers) -> list[str]:
    """Name each run by what differs from the others: "bn on, adam" rather than a full config."""
    fields = {
        "preset": lambda f: gettext(titles.PRESET_TITLES[f.preset]),
        "arch": lambda f: f.arch if f.preset == "custom" else "",
        "batchnorm": lambda f: gettext("batch norm") if f.batchnorm else gettext("no batch norm"),
        "augment": lambda f: gettext("augmented") if f.augment else gettext("no augmentation"),
        "optimizer": lambda f: gettext(titles.OPTIMIZER_TITLES[f.optimizer]),
        "lr": lambda f: gettext("learning rate %(lr)s") % {"lr": numbers.short(f.lr, 6)},
        "schedule": lambda f: gettext(titles.SCHEDULE_TITLES[f.schedule]),
        "batch": lambda f: gettext("batch of %(n)s") % {"n": f.batch_size},
        "epochs": lambda f: epochs_text(f.epochs, gettext),
        "seed": lambda f: gettext("seed %(n)s") % {"n": f.seed},
        "dataset": lambda f: gettext(titles.DATASET_TITLES[f.dataset]),
    }
    differing = [name for name, get in fields.items() if len({get(f) for f in forms}) > 1]
    labels = []
    for index, form in enumerate(forms, start=1):
        parts = [fields[name](form) for name in differing if fields[name](form)]
        labels.append(", ".join(parts) or gettext("run %(n)s") % {"n": index})
    return labels


def compare_context(runs: list[Run], results, gettext, numbers: Numbers, query: str) -> dict:
    labels = compare_labels([run_form(run) for run in runs], gettext, numbers)
    pairs = list(zip(labels, runs, strict=True))
    val_series = [Series(label, [e["epoch"] for e in run.epochs],
                         [e["val_accuracy"] for e in run.epochs])
                  for label, run in pairs if run.epochs]  # fmt: skip
    loss_series = [Series(label, [e["epoch"] for e in run.epochs],
                          [e["train_loss"] for e in run.epochs])
                   for label, run in pairs if run.epochs]  # fmt: skip
    charts = [
        line_chart(val_series, gettext("epoch"), gettext("validation accuracy"),
                   gettext("Validation accuracy per epoch"), y_range=(0.0, 1.0), numbers=numbers),
        line_chart(loss_series, gettext("epoch"), gettext("training loss"),
                   gettext("Training loss per epoch"), numbers=numbers),
    ]  # fmt: skip
    shifted = []
    for label, run in pairs:
        if run.has_state:
            kept = run_evaluation(run, results).shifted
            shifted.append(Series(label, list(confidence.SHIFTS), kept))
    if shifted:
        charts.append(
            line_chart(shifted, gettext("shift of every test image (pixels to the right)"),
                       gettext("test accuracy"), gettext("Accuracy on shifted test images"),
                       y_range=(0.0, 1.0), numbers=numbers)
        )  # fmt: skip
    return {"runs": pairs, "charts": charts, "any_active": any(run.active for run in runs),
            "query": query}  # fmt: skip
