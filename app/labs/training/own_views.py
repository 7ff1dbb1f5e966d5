"""What the own-classes pages get (app.labs.training.own holds their routes): the browser's
picture set, the setup's fields and summary on it, the previews, and a trained run's extras
(train and test accuracy side by side, whether the test set is too small, a picture tried)."""

from __future__ import annotations

import numpy as np
from fastapi import Request
from starlette.datastructures import QueryParams

from app.labs.training import views
from app.labs.training.fields import OWN_SIZES, OwnTrainFields
from app.labs.training.worker import OWN_SPLIT_SEED, augmenter_for
from app.media.picture_sets import (
    MAX_CLASSES,
    MIN_CLASSES,
    Limits,
    PictureSet,
    PictureSets,
    picture_array,
    picture_png,
)
from app.media.uploads import content_id
from app.runs import owner
from app.web.errors import UserError
from app.web.png import png_data_uri
from engine.augment import Augmenter
from engine.datasets.base import stratified_split
from engine.datasets.own import MIN_TEST_PER_CLASS, held_out_is_small
from engine.losses import softmax

BASE = "/train/own"
TEST_FRACTION = 0.25  # of each class, held out for the test (engine.datasets.own's default)
MAX_FILES = 40  # pictures in one upload request (the page sends larger choices in batches)


def picture_sets(request: Request) -> PictureSets:
    settings = request.app.state.settings
    return PictureSets(request.app.state.store, Limits.from_settings(settings))


def min_per_class(request: Request) -> int:
    return request.app.state.settings.own_min_pictures_per_class


def own_set(request: Request, set_id: str) -> PictureSet:
    return picture_sets(request).get(set_id, owner.viewer(request))


def pictures_context(request: Request, picture_set: PictureSet | None) -> dict:
    settings = request.app.state.settings
    return {
        "own": picture_set,
        "own_min": settings.own_min_pictures_per_class,
        "own_max": settings.own_max_pictures_per_class,
        "own_classes": (MIN_CLASSES, MAX_CLASSES),
        "own_files": MAX_FILES,
        "own_upload_mb": settings.max_upload_bytes // (1024 * 1024),
    }


def own_fields(params, picture_set: PictureSet) -> OwnTrainFields:
    """The setup's fields with the set's own class count (a link may carry a stale one)."""
    items = [(k, v) for k, v in params.multi_items() if k not in ("k", "class_count", "set")]
    items += [("k", str(len(picture_set.classes))), ("set", picture_set.id)]
    return OwnTrainFields.parse(QueryParams(items))


def split_counts(counts: list[int]) -> tuple[int, int]:
    """(training, test) pictures the run will have: the split own_dataset makes."""
    if min(counts, default=0) < 1:
        return sum(counts), 0
    labels = np.repeat(np.arange(len(counts)), counts)
    train, test = stratified_split(labels, TEST_FRACTION, OWN_SPLIT_SEED)
    return len(train), len(test)


def setup_context(request: Request, form: OwnTrainFields, picture_set: PictureSet) -> dict:
    infos, total = views.summarise(form)
    n_train, n_test = split_counts(picture_set.counts)
    return pictures_context(request, picture_set) | {
        "traininglab": views.LAB,
        "form": form,
        "setup_fields": form.items(),
        "infos": infos,
        "total_params": total,
        "class_names": [c.name for c in picture_set.classes],
        "n_train": n_train,
        "n_test": n_test,
        "runs": [],
        "error": None,
        "lab_base": BASE,
        "own_sizes": OWN_SIZES,
        # The previews' addresses change with the pictures, so a browser never shows old ones.
        "own_version": content_id(
            "".join(p for c in picture_set.classes for p in c.pictures).encode()
        )[:8],
    }


def error_context(request: Request, error, messages: list[str]) -> dict:
    """The page again with the message in place, and the set as it is (nothing was lost)."""
    picture_set = None
    set_id = request.path_params.get("set_id") or request.query_params.get("set", "")
    if set_id:
        try:
            picture_set = own_set(request, set_id)
        except UserError:
            picture_set = None
    return pictures_context(request, picture_set) | {
        "traininglab": views.LAB, "form": None, "raw": request.query_params, "error": messages,
        "runs": [], "lab_base": BASE, "own_sizes": OWN_SIZES, "own_error": messages,
        "own_version": "",
    }  # fmt: skip


# Without JavaScript, a refused form answers with the page itself, the message at its top.


def grid(tiles: list[list[np.ndarray]], size: int) -> np.ndarray:
    """Rows of (C, S, S) pictures in [0, 1] -> one (H, W) or (H, W, 3) uint8 picture with a
    1-pixel grey gap between tiles."""
    rows, cols = len(tiles), max(len(row) for row in tiles)
    channels = tiles[0][0].shape[0]
    grid = np.full((channels, rows * (size + 1) - 1, cols * (size + 1) - 1), 0.5, np.float32)
    for i, row in enumerate(tiles):
        for j, tile in enumerate(row):
            top, left = i * (size + 1), j * (size + 1)
            grid[:, top : top + size, left : left + size] = tile
    return views.picture_pixels(grid, as_is=True)


def set_arrays(request: Request, fields: OwnTrainFields):
    sets = picture_sets(request)
    picture_set = sets.get(fields.picture_set, owner.viewer(request))
    images, labels = sets.arrays(picture_set, fields.size, fields.colour)
    return picture_set, images.astype(np.float32) / 255.0, labels


def blank_tile(size: int, colour: bool) -> np.ndarray:
    """A mid-grey square that fills a class's preview column when it has fewer pictures."""
    return np.full((3 if colour else 1, size, size), 0.5, np.float32)


def preview_pixels(request: Request) -> np.ndarray:
    """Up to four pictures of each class (one column per class) at the working size."""
    picture_set = own_set(request, request.query_params.get("set", ""))
    fields = own_fields(request.query_params, picture_set)
    _, images, labels = set_arrays(request, fields)
    columns = []
    for label in range(len(picture_set.classes)):
        picks = [images[i] for i in np.flatnonzero(labels == label)[:4]]
        columns.append(picks + [blank_tile(fields.size, fields.colour)] * (4 - len(picks)))
    rows = [[column[i] for column in columns] for i in range(4)]
    return grid(rows, fields.size)


def augment_pixels(request: Request) -> np.ndarray:
    """One picture of each class, then five augmented copies of it, one row each."""
    picture_set = own_set(request, request.query_params.get("set", ""))
    fields = own_fields(request.query_params, picture_set)
    _, images, labels = set_arrays(request, fields)
    firsts = [np.flatnonzero(labels == c)[:1] for c in range(len(picture_set.classes))]
    picks = [int(f[0]) for f in firsts if len(f)]
    if not picks:
        return grid([[blank_tile(fields.size, fields.colour)] * 6], fields.size)
    samples = images[picks]
    augmenter = augmenter_for({name: True for name in fields.augment}, fields.size)
    copies = (augmenter or Augmenter()).preview(samples, n_copies=6, seed=fields.seed)
    copies[:, 0] = samples  # the first column is the untouched picture
    return grid([list(np.clip(row, 0, 1)) for row in copies], fields.size)


def inside_extra(run, results) -> dict:
    """What look inside adds for an own-pictures run: train and test accuracy side by side,
    the test pictures per class, and whether that is too few to mean much."""
    data = views.run_data(run)
    model, _ = views.run_model(run, results)

    def accuracy() -> float:
        return float((model.predict(data.x_train).argmax(axis=1) == data.y_train).mean())

    train_accuracy = results.get_or_compute(
        f"own:train-acc:{run.id}", accuracy, nbytes=lambda _: 64
    )
    test_per_class = np.bincount(data.y_test, minlength=data.n_classes).tolist()
    test_accuracy = float((views.run_evaluation(run, results).predictions == data.y_test).mean())
    return {
        "own_summary": {
            "train_accuracy": train_accuracy,
            "test_accuracy": test_accuracy,
            "n_train": len(data.y_train),
            "n_test": len(data.y_test),
            "test_per_class": list(zip(data.class_names, test_per_class, strict=True)),
            "small": held_out_is_small(data),
            "min_test": MIN_TEST_PER_CLASS,
        }
    }


def predict_context(run, results, data: bytes, limits: Limits) -> dict:
    _, png = picture_png(data, limits)  # the centre square, as the training pictures were kept
    size, colour = run.config["image_size"], bool(run.config.get("colour"))
    image = picture_array(png, size, colour).astype(np.float32) / 255.0
    model, _ = views.run_model(run, results)
    probabilities = softmax(model.predict(image[None]))[0]
    order = np.argsort(-probabilities, kind="stable")
    names = run.config["class_names"]
    return {
        "run": run,
        "input_uri": png_data_uri(views.picture_pixels(image, as_is=True)),
        "bars": [(names[i], float(probabilities[i])) for i in range(len(names))],
        "prediction": names[int(order[0])],
        "probability": float(probabilities[order[0]]),
    }
