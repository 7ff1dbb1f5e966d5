"""Confidence that means something: the softmax at a temperature, a finished run's reliability
diagram over its test set, and a plain warning when an input looks nothing like the training
images.

A finished run's weights never change, so its test-set evaluation (every test image's logits, the
confusion matrix, the shifted accuracies, the NLL-minimising temperature, and where the training
images put the activations) is computed once, by whichever web process asks first, and kept in the
store beside the run's weights (`run:<id>:evaluation`, as plain arrays and numbers). Each process
also keeps it in its results cache. The maths is engine.calibration's and engine.novelty's.
"""

from __future__ import annotations

import pickle
from collections.abc import Callable
from dataclasses import dataclass
from html import escape

import numpy as np
from markupsafe import Markup

from app.labs.training.fields import TEMPERATURES
from app.runs import record
from app.web.charts import OKABE_ITO, Frame
from app.web.charts.frame import legend_line, ticks
from app.web.numbers import Numbers
from engine import calibration, novelty
from engine.edgenet import shift_image
from engine.layers import Dropout, Flatten

EVALUATION_PART = "evaluation"  # the store key's part: run:<id>:evaluation
VERSION = 1  # of what the store keeps: a different one is computed again
SHIFTS = (0, 1, 2, 3, 4)  # pixels to the right, for the shifted-accuracy experiment
BINS = 10
WARN_AT = 1.5  # unfamiliarity from which an input is far outside the training images


@dataclass(frozen=True)
class Evaluation:
    """A finished run's test set, evaluated once."""

    logits: np.ndarray  # (N, K) every test image's logits, at temperature 1
    matrix: np.ndarray  # (K, K) counts: rows the true class, columns the prediction
    shifted: list[float]  # test accuracy with every image moved SHIFTS pixels to the right
    best_temperature: float  # the T that minimises the test set's mean NLL
    reference: novelty.Reference  # where the training images put the activations
    test_unfamiliarity: np.ndarray  # (N,) each test image's unfamiliarity

    @property
    def predictions(self) -> np.ndarray:
        return self.logits.argmax(axis=1)

    @property
    def nbytes(self) -> int:
        arrays = (self.logits, self.matrix, self.test_unfamiliarity)
        return sum(a.nbytes for a in arrays) + self.reference.nbytes + 1024


# --- computed once per run, kept in the store ----------------------------------------------------


def novelty_layers(model) -> list[int]:
    """The model layers whose activations are compared with the training images': every layer
    the summary shows, except those that only reshape or (in evaluation) pass values through."""
    rows = getattr(model, "spec_outputs", range(len(model.layers)))
    return [i for i in rows if not isinstance(model.layers[i], Flatten | Dropout)]


def compute(model, data) -> Evaluation:
    """The whole evaluation of a trained model on its dataset (about a second on LeNet)."""
    logits = model.predict(data.x_test).astype(np.float32)  # (N, K)
    classes = len(data.class_names)
    matrix = np.zeros((classes, classes), dtype=np.int64)
    np.add.at(matrix, (data.y_test, logits.argmax(axis=1)), 1)
    shifted = [float((logits.argmax(axis=1) == data.y_test).mean())]
    for s in SHIFTS[1:]:
        moved = model.predict(shift_image(data.x_test, s, 0)).argmax(axis=1)
        shifted.append(float((moved == data.y_test).mean()))
    reference = novelty.fit_reference(model, data.x_train, data.y_train, classes,
                                      layers=novelty_layers(model))  # fmt: skip
    scores, _ = novelty.unfamiliarity(reference, model, data.x_test)
    best = calibration.best_temperature(logits, data.y_test)
    return Evaluation(logits, matrix, shifted, best, reference, scores.astype(np.float32))


def _dumps(evaluation: Evaluation) -> bytes:
    """Plain arrays, numbers and lists: what the store keeps does not depend on our classes."""
    layers = [{"index": layer.index, "means": layer.means, "precision": layer.precision,
               "edge": layer.edge} for layer in evaluation.reference.layers]  # fmt: skip
    return pickle.dumps({
        "version": VERSION, "logits": evaluation.logits, "matrix": evaluation.matrix,
        "shifted": evaluation.shifted, "best_temperature": evaluation.best_temperature,
        "test_unfamiliarity": evaluation.test_unfamiliarity,
        "reference": {"edge": evaluation.reference.edge,
                      "percentile": evaluation.reference.percentile, "layers": layers},
    }, protocol=5)  # fmt: skip


def _loads(data: bytes) -> Evaluation | None:
    """What the store kept, or None when it cannot be read (another version, cut short): then
    the evaluation is computed again."""
    try:
        values = pickle.loads(data)
    except Exception:  # a pickle fails in many ways; recomputing is always right
        return None
    if not isinstance(values, dict) or values.get("version") != VERSION:
        return None
    kept = values["reference"]
    reference = novelty.Reference([novelty.LayerReference(**layer) for layer in kept["layers"]],
                                  kept["edge"], kept["percentile"])  # fmt: skip
    return Evaluation(values["logits"], values["matrix"], values["shifted"],
                      values["best_temperature"], reference,
                      values["test_unfamiliarity"])  # fmt: skip


def evaluation(run, results, model_and_data: Callable, runs=None) -> Evaluation:
    """The run's evaluation: from this process's cache, else from the store (`runs`, the run
    manager, when given), else computed by `model_and_data()`'s model and kept in both."""

    def kept_or_computed() -> Evaluation:
        key = record.key(run.id, EVALUATION_PART)
        if runs is not None:
            data = runs.store.get(key)
            kept = _loads(data) if data is not None else None
            if kept is not None:
                return kept
        model, data = model_and_data()
        computed = compute(model, data)
        if runs is not None and not run.active:  # weights that can still change are not kept
            runs.store.set(key, _dumps(computed), ttl=runs.ttl)
        return computed

    return results.get_or_compute(f"evaluation:{run.id}", kept_or_computed,
                                  nbytes=lambda e: e.nbytes)  # fmt: skip


# --- one input: the softmax at a temperature and how familiar it looks --------------------------


@dataclass(frozen=True)
class LayerDistance:
    name: str  # the layer as the summary writes it ("conv 6 5x5 same")
    distance: float  # the input's distance there
    edge: float  # the 99.5th percentile of the training images' distances
    ratio: float  # distance / edge


@dataclass(frozen=True)
class InputConfidence:
    """One input's logits and softmax at a temperature, and its unfamiliarity."""

    temperature: float
    logits: np.ndarray  # (K,)
    probabilities: np.ndarray  # (K,) softmax(z / T)
    plain: np.ndarray  # (K,) softmax(z) at temperature 1
    unfamiliarity: float
    layers: list[LayerDistance]
    warn_at: float = WARN_AT

    @property
    def top(self) -> int:
        return int(self.logits.argmax())

    @property
    def unfamiliar(self) -> bool:
        return self.unfamiliarity > self.warn_at


def input_confidence(model, infos, evaluation: Evaluation, image: np.ndarray,
                     temperature: float) -> InputConfidence:  # fmt: skip
    """The softmax of one (C, H, W) input at `temperature`, and its distance from the training
    images at every compared layer."""
    logits = model.forward_all(image[None], training=False)[-1][0].astype(np.float64)
    score, distances = novelty.unfamiliarity(evaluation.reference, model, image[None])
    rows = list(getattr(model, "spec_outputs", []))
    names = {index: infos[rows.index(index)].spec.text for index in rows}
    layers = [
        LayerDistance(names.get(layer.index, str(layer.index)), float(d), layer.edge,
                      float(d) / layer.edge)
        for layer, d in zip(evaluation.reference.layers, distances[0], strict=True)
    ]  # fmt: skip
    at_t = calibration.softmax_at(logits, temperature)
    plain = calibration.softmax_at(logits, 1.0)
    return InputConfidence(temperature, logits, at_t, plain, float(score[0]), layers)


# --- the test set: reliability at 1, at the fitted temperature, at the chosen one --------------


@dataclass(frozen=True)
class Diagram:
    temperature: float
    table: calibration.Reliability
    nll: float
    chart: Markup


def reliability_chart(table: calibration.Reliability, title: str, words: dict,
                      numbers: Numbers) -> Markup:  # fmt: skip
    """Accuracy per confidence bin as bars, each bin's mean confidence as a tick, the diagonal of
    perfect calibration, and the images per bin along the top. `words` holds the translated
    axis titles and legend."""
    frame = Frame(440, 400, 58, 14, 46, 104, 0.0, 1.0, 0.0, 1.0)
    px, py = frame.px, frame.py
    parts = frame.open(title) + frame.y_grid(count=6, numbers=numbers)
    bottom = frame.top + frame.plot_h
    for tick in ticks(0.0, 1.0, 6):
        parts.append(f'<text x="{px(tick):.1f}" y="{bottom + 16}" text-anchor="middle" '
                     f'class="tick">{numbers.tick(tick)}</text>')  # fmt: skip
    parts.append(frame.axis_titles(words["x"], words["y"]))
    parts.append(f'<text x="{frame.left}" y="{frame.top - 28}" '
                 f'class="tick">{escape(words["n"])}</text>')  # fmt: skip
    for b, count in enumerate(table.counts):
        low, high = table.edges[b], table.edges[b + 1]
        x0, x1 = px(low) + 1.5, px(high) - 1.5
        centre = (x0 + x1) / 2
        parts.append(f'<text x="{centre:.1f}" y="{frame.top - 8}" text-anchor="middle" '
                     f'class="tick" data-bin-count="{int(count)}">{int(count)}</text>')  # fmt: skip
        if not count:
            continue
        accuracy, confidence = float(table.accuracy[b]), float(table.confidence[b])
        top, mean_y = py(accuracy), py(confidence)
        hover = words["bin"] % {
            "low": numbers.percent(low, 0), "high": numbers.percent(high, 0), "n": int(count),
            "acc": numbers.percent(accuracy), "conf": numbers.percent(confidence),
        }  # fmt: skip
        parts.append(
            f'<rect class="reliability-bar" x="{x0:.1f}" y="{top:.1f}" width="{x1 - x0:.1f}" '
            f'height="{max(bottom - top, 0):.1f}" fill="{OKABE_ITO[0]}" opacity="0.85">'
            f"<title>{escape(hover)}</title></rect>"
            f'<line x1="{x0:.1f}" x2="{x1:.1f}" y1="{mean_y:.1f}" y2="{mean_y:.1f}" '
            f'stroke="{OKABE_ITO[3]}" stroke-width="3"/>'
        )
    parts.append(f'<line x1="{px(0):.1f}" y1="{py(0):.1f}" x2="{px(1):.1f}" y2="{py(1):.1f}" '
                 'stroke="#333" stroke-width="1.5" stroke-dasharray="5 4"/>')  # fmt: skip
    legend_y = bottom + 52
    parts.append(
        f'<rect x="{frame.left}" y="{legend_y - 6}" width="26" height="12" '
        f'fill="{OKABE_ITO[0]}"/><text x="{frame.left + 32}" y="{legend_y + 4}" '
        f'class="legend">{escape(words["acc"])}</text>'
    )
    parts.append(legend_line(frame.left, legend_y + 19, words["conf"], OKABE_ITO[3]))
    parts.append(legend_line(frame.left, legend_y + 38, words["diag"], "#333", "5 4"))
    parts.append("</svg>")
    return Markup("".join(parts))


def diagram(evaluation: Evaluation, labels, temperature: float, title: str, words: dict,
            numbers: Numbers) -> Diagram:  # fmt: skip
    probabilities = calibration.softmax_at(evaluation.logits, temperature)
    table = calibration.reliability(probabilities, labels, BINS)
    return Diagram(temperature, table, calibration.nll(evaluation.logits, labels, temperature),
                   reliability_chart(table, title, words, numbers))  # fmt: skip


def chart_words(gettext) -> dict:
    return {
        "x": gettext("confidence (probability of the top class)"),
        "y": gettext("accuracy in the bin"),
        "n": gettext("test images in each bin:"),
        "acc": gettext("accuracy of the bin's images"),
        "conf": gettext("their mean confidence"),
        "diag": gettext("perfect calibration"),
        "bin": gettext("%(low)s–%(high)s: %(n)s images, %(acc)s right, mean confidence %(conf)s"),
    }


def calibration_context(evaluation: Evaluation, labels, temperature: float, gettext,
                        numbers: Numbers) -> dict:  # fmt: skip
    """The reliability diagrams at temperature 1 and at the fitted one, the ECE at the chosen
    one, and how familiar the test images look."""
    words = chart_words(gettext)
    best = evaluation.best_temperature
    plain = diagram(evaluation, labels, 1.0, gettext("Reliability at temperature 1"), words,
                    numbers)  # fmt: skip
    fitted_title = gettext("Reliability at temperature %(t)s") % {"t": numbers.short(best, 2)}
    fitted = diagram(evaluation, labels, best, fitted_title, words, numbers)
    chosen = None
    if abs(temperature - 1.0) > 1e-9:
        probabilities = calibration.softmax_at(evaluation.logits, temperature)
        chosen = calibration.reliability(probabilities, labels, BINS).ece
    scores = evaluation.test_unfamiliarity
    return {
        "plain": plain,
        "fitted": fitted,
        "best_temperature": best,
        "best_in_range": TEMPERATURES[0] <= best <= TEMPERATURES[1],
        "chosen_temperature": temperature,
        "chosen_ece": chosen,
        "n_test": len(labels),
        "test_median": float(np.median(scores)),
        "test_max": float(scores.max()),
        "test_warned": int((scores > WARN_AT).sum()),
        "warn_at": WARN_AT,
        "layers": len(evaluation.reference.layers),
    }
