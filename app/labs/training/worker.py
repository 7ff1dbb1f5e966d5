"""The training process: one image run, reporting to the web server through a queue.

It runs in its own process (app.runs.entry starts it, with one BLAS thread and a lower priority),
so a run never blocks page requests and Stop can always free the CPU. It imports only the engine
and the reporter: no web code. A run on a student's own pictures reads their snapshot from the
store the consumer was started with (its environment names it, as app.runs.local sets it).
"""

from __future__ import annotations

import io
import time

import numpy as np

from app.runs.reporter import Reporter, error_payload
from engine.augment import Augmenter
from engine.builder import build
from engine.datasets import Dataset, load_dataset
from engine.datasets.own import own_dataset
from engine.layers import ReLU
from engine.train import TrainConfig, default_augmenter, train

FILTERS_EVERY = 0.5  # seconds between first-layer filter snapshots
OWN_SPLIT_SEED = 0  # one held-out share per set, whatever the run's seed: runs compare


def pack_own(images: np.ndarray, labels: np.ndarray) -> bytes:
    """A set's pictures at the working size, (N, C, S, S) uint8 and (N,) labels, as one blob."""
    out = io.BytesIO()
    np.savez(out, images=images, labels=labels)
    return out.getvalue()


def own_data(config: dict, blob: bytes | None) -> Dataset:
    """An own-pictures run's dataset from its snapshot, split as every process splits it."""
    if blob is None:
        raise ValueError("The pictures of this run are no longer kept: train it again.")
    with np.load(io.BytesIO(blob), allow_pickle=False) as arrays:
        images, labels = arrays["images"], arrays["labels"]
    return own_dataset(images, labels, config["class_names"], seed=OWN_SPLIT_SEED,
                       min_per_class=config.get("min_per_class", 1))  # fmt: skip


def load_run_data(config: dict) -> Dataset:
    if config["dataset"] != "own":
        size = config.get("image_size")
        kwargs = {"size": size} if size and config["dataset"] == "digits" else {}
        return load_dataset(config["dataset"], **kwargs)
    from app.config import Settings  # only here: the store is the consumer's, from its env
    from app.store import open_store

    store = open_store(Settings())
    try:
        return own_data(config, store.get_blob(config["own_data"]))
    finally:
        store.close()


def augmenter_for(options: dict | None, size: int) -> Augmenter | None:
    """The page's toggles as an Augmenter; shift, rotate and zoom together are exactly the
    command line's --augment (engine.train.default_augmenter)."""
    if not options:
        return None
    default = default_augmenter(size)
    return Augmenter(
        max_shift=default.max_shift if options.get("shift") else 0,
        max_rotation=default.max_rotation if options.get("rotate") else 0.0,
        scale=default.scale if options.get("scale") else (1.0, 1.0),
        flip=bool(options.get("flip")),
        noise_std=0.1 if options.get("noise") else 0.0,
    )


def first_weights(model):
    """The first layer with a weight: its weight array (what the page shows as filters)."""
    for layer in model:
        if "weight" in layer.params and layer.params["weight"].ndim >= 2:
            return layer.params["weight"].copy()
    return None


def watched_activation(model, x):
    """Pre-activation values feeding the first ReLU: the batch-norm view's histogram."""
    outputs = model.forward_all(x, training=False)
    for index, layer in enumerate(model):
        if isinstance(layer, ReLU) and index > 0:
            return outputs[index - 1]
    return outputs[0]


def histogram(values, bins: int = 40) -> dict:
    flat = values.ravel().astype(np.float64)
    low, high = np.percentile(flat, [0.5, 99.5])
    if high <= low:
        high = low + 1e-6
    counts, edges = np.histogram(flat, bins=bins, range=(low, high))
    return {
        "counts": counts.tolist(),
        "edges": edges.tolist(),
        "mean": float(flat.mean()),
        "std": float(flat.std()),
    }


def run(config: dict, queue, stop_event, pause_event, max_seconds: float) -> None:
    """Train one run; every message is a (kind, payload) tuple on `queue`."""
    try:
        options = dict(config)
        augment_options = options.pop("augment_options", None)
        options.pop("query", None)  # the web form it came from, for the pages only
        data = load_run_data(options)
        for name in ("own_data", "class_names", "colour", "min_per_class"):  # read above
            options.pop(name, None)
        options["augmenter"] = augmenter_for(augment_options, data.x_train.shape[-1])
        train_config = TrainConfig(**options)
        seeds = np.random.SeedSequence(train_config.seed).spawn(5)
        model, _ = build(
            train_config.architecture or "",
            data.x_train.shape[1:],
            len(data.class_names),
            train_config.batchnorm,
            np.random.default_rng(seeds[0]),
        )
        watch_x = data.x_test[:128]
        reporter = Reporter(queue, stop_event, pause_event, max_seconds)
        last_filters = [0.0]

        def on_step(info) -> None:
            now = time.monotonic()
            if now - last_filters[0] >= FILTERS_EVERY:
                queue.put(("filters", first_weights(model)))
                last_filters[0] = now
            reporter.step(info)

        def on_epoch(info) -> None:
            histogram_now = histogram(watched_activation(model, watch_x))
            reporter.epoch(info.__dict__ | {"histogram": histogram_now})

        queue.put(("started", {"histogram0": histogram(watched_activation(model, watch_x))}))
        result = train(train_config, data=data, on_step=on_step, on_epoch=on_epoch,
                       should_stop=reporter.should_stop, model=model)  # fmt: skip
        queue.put(("filters", first_weights(model)))
        reporter.done(result, {"n_test": len(data.x_test), "classes": len(data.class_names)})
    except Exception as error:  # report, never die silently: the page must say what happened
        queue.put(("error", error_payload(error)))
