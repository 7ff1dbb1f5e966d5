"""Ready-made questions for the Pipeline, Training, Text, Signals and Losses labs, each answer
computed with the lab's own code from the view the teacher is on (app.classroom.questions has
Filters, Pooling and Optimizers, and the registry)."""

from __future__ import annotations

import numpy as np
from starlette.datastructures import QueryParams

from app.classroom.classes import Question
from app.classroom.ready import ReadyQuestion, decimals_tolerance, options_around
from app.labs.losses.fields import LossFields
from app.labs.losses.measures import error_table, regression
from app.labs.pipeline.fields import PipelineFields
from app.labs.pipeline.views import shape_table
from app.labs.signals.fields import SlideFields
from app.labs.text.fields import TextFields
from app.labs.text.network import builtin_network
from app.labs.text.stages import check_words, tokenize_lines
from app.labs.training.fields import TrainFields
from app.labs.training.views import summarise
from app.web.i18n import N_
from engine import architecture

# --- a stack of layers: Training's setup and the Pipeline's shape calculator ---------------------


def _shape(shape) -> str:
    return "×".join(str(n) for n in shape)  # as the labs' layer tables write a shape


def stack_questions(infos, prefix: str, whose: str) -> list[ReadyQuestion]:
    """How many parameters, and (when the stack flattens maps) how many numbers its flatten hands
    on, or else which shape comes out last. `whose` (a msgid) names the stack in the question."""
    total = architecture.total_params(infos)
    counted = [[info.spec.text, info.params] for info in infos if info.params]
    parameters = Question(
        id="", kind="number", ready=True,
        text=N_("%(whose)s: how many parameters (weights and biases) does it have in all?"),
        params={"whose": {"msgid": whose}}, answer=float(total),
        explanation=N_("Layer by layer, the ones with parameters: %(layers)s. In all: %(n)s."),
        explanation_params={"layers": counted, "n": total},
    )  # fmt: skip
    asked = [ReadyQuestion(f"{prefix}parameters", parameters)]
    flatten = next((info for info in infos if info.spec.kind == "flatten"
                    and len(info.in_shape) == 3), None)  # fmt: skip
    if flatten is not None:
        c, h, w = flatten.in_shape
        asked.append(ReadyQuestion(f"{prefix}flatten", Question(
            id="", kind="number", ready=True,
            text=N_("%(whose)s: how many numbers does its flatten layer hand on?"),
            params={"whose": {"msgid": whose}}, answer=float(c * h * w),
            explanation=N_("Its input is %(c)s maps of %(h)s × %(w)s: %(c)s × %(h)s × %(w)s = "
                           "%(n)s numbers in a row."),
            explanation_params={"c": c, "h": h, "w": w, "n": c * h * w},
        )))  # fmt: skip
    last = tuple(infos[-1].shape)
    earlier = [tuple(info.shape) for info in reversed(infos[:-1])] + [tuple(infos[0].in_shape)]
    shapes, right = options_around(last, earlier)  # as numbers: 84 before 120
    if len(shapes) > 1:
        asked.append(ReadyQuestion(f"{prefix}output", Question(
            id="", kind="choice", ready=True,
            text=N_("%(whose)s: what shape comes out of its last layer?"),
            params={"whose": {"msgid": whose}},
            options=[{"text": N_("%(shape)s"), "params": {"shape": _shape(s)}} for s in shapes],
            answer=float(right),
            explanation=N_("Layer %(n)s (%(layer)s) hands on %(shape)s."),
            explanation_params={"n": infos[-1].index, "layer": infos[-1].spec.text,
                                "shape": _shape(last)},
        )))  # fmt: skip
    return asked


def training_questions(query: QueryParams, media) -> list[ReadyQuestion]:
    infos, _ = summarise(TrainFields.parse(query))
    return stack_questions(infos, "", N_("This network"))


def pipeline_questions(query: QueryParams, media) -> list[ReadyQuestion]:
    _, infos = shape_table(PipelineFields.parse(query))
    return stack_questions(infos, "calc-", N_("The shape calculator's network"))


# --- Text: padding, the filters' positions, global max pooling ----------------------------------


def text_questions(query: QueryParams, media) -> list[ReadyQuestion]:
    state = TextFields.parse(query)
    if state.run:  # a trained run's vocabulary: the lab's own page says what it does
        return []
    net = builtin_network(state, media.results)
    lines = tokenize_lines(state, net)
    check_words(lines, net)  # text the lab refuses (no words at all) is a broken view
    line = lines[state.follow - 1]
    pads, cut = line.pad_front + line.pad_back, len(line.cut_front) + len(line.cut_back)
    if pads:
        explanation = N_("It has %(ids)s ids in the vocabulary, so %(maxlen)s − %(ids)s = "
                         "%(pads)s zeros are added (padding: %(side)s).")  # fmt: skip
    else:
        explanation = N_(
            "It has %(ids)s ids in the vocabulary, at least maxlen = %(maxlen)s: "
            "no zeros are added, and %(cut)s ids are cut (truncating: %(side)s)."
        )
    side = state.padding if pads else state.truncating
    padding = Question(
        id="", kind="number", ready=True,
        text=N_("Sentence %(n)s, padded and truncated to maxlen = %(maxlen)s: how many of its "
                "numbers are padding zeros?"),
        params={"n": state.follow, "maxlen": state.maxlen}, answer=float(pads),
        explanation=explanation,
        explanation_params={"ids": len(line.ids), "maxlen": state.maxlen, "pads": pads,
                            "cut": cut, "side": state_side(side)},
    )  # fmt: skip
    model = net.model
    width = min(model.widths)
    positions = Question(
        id="", kind="number", ready=True,
        text=N_("A filter of width %(w)s slides along one padded sentence: at how many "
                "positions does it give a number?"),
        params={"w": width}, answer=float(state.maxlen - width + 1),
        explanation=N_("maxlen − w + 1 = %(maxlen)s − %(w)s + 1 = %(n)s (no padding inside the "
                       "convolution)."),
        explanation_params={"maxlen": state.maxlen, "w": width, "n": state.maxlen - width + 1},
    )  # fmt: skip
    pooled = model.filters * len(model.widths)
    wrong = [model.filters, len(model.widths), state.maxlen * model.filters,
             (state.maxlen - width + 1) * model.filters]  # fmt: skip
    counts, right = options_around(pooled, wrong)
    pooling = Question(
        id="", kind="choice", ready=True,
        text=N_("Global max pooling: how many numbers does it hand to the dense layer, for a "
                "sentence of any length?"),
        options=[{"text": N_("%(n)s numbers"), "params": {"n": n}} for n in counts],
        answer=float(right),
        explanation=N_("One number per filter, its largest over the positions: %(f)s filters × "
                       "%(k)s widths = %(n)s, whatever the sentence's length."),
        explanation_params={"f": model.filters, "k": len(model.widths), "n": pooled},
    )  # fmt: skip
    return [ReadyQuestion("padding", padding), ReadyQuestion("positions", positions),
            ReadyQuestion("pooled", pooling)]  # fmt: skip


SIDES = {"pre": N_("at the front"), "post": N_("at the end")}


def state_side(side: str) -> dict:
    return {"msgid": SIDES[side]}


# --- Signals: flip and slide ----------------------------------------------------------------


def signals_questions(query: QueryParams, media) -> list[ReadyQuestion]:
    state = SlideFields.parse(query)
    nx, nh = len(state.signal), len(state.kernel)
    lengths, right = options_around(nx + nh - 1, [nx, nx - nh + 1, nx + nh, max(nx, nh)])
    length = Question(
        id="", kind="choice", ready=True,
        text=N_("Flip and slide: the full convolution of x (%(nx)s numbers) with h (%(nh)s "
                "numbers) has how many outputs?"),
        params={"nx": nx, "nh": nh},
        options=[{"text": N_("%(n)s outputs"), "params": {"n": n}} for n in lengths],
        answer=float(right),
        explanation=N_("len(x) + len(h) − 1 = %(nx)s + %(nh)s − 1 = %(n)s: the flipped kernel "
                       "overlaps x from its first touch to its last."),
        explanation_params={"nx": nx, "nh": nh, "n": nx + nh - 1},
    )  # fmt: skip
    asked = [ReadyQuestion("slide-length", length)]
    y = np.convolve(np.array(state.signal), np.array(state.kernel))
    after = state.position + 1
    if after < len(y):
        value = round(float(y[after]), 6)
        terms = [[f"x[{k}]·h[{after - k}]", float(state.signal[k] * state.kernel[after - k])]
                 for k in range(nx) if 0 <= after - k < nh]  # fmt: skip
        asked.append(ReadyQuestion("slide-next", Question(
            id="", kind="number", ready=True,
            text=N_("Flip and slide: what will the next output, y[%(n)s], be?"),
            params={"n": after}, answer=value, tolerance=decimals_tolerance(value),
            explanation=N_("y[%(n)s] = Σₖ x[k]·h[%(n)s − k], the products where the flipped "
                           "kernel overlaps x: %(terms)s. Their sum: %(y)s."),
            explanation_params={"n": after, "terms": terms, "y": value},
        )))  # fmt: skip
    return asked


# --- Losses: MSE, which loss pulls harder, why squares --------------------------------------------


def losses_questions(query: QueryParams, media) -> list[ReadyQuestion]:
    state = LossFields.parse(query)
    measured = regression(state)
    mse_value = round(measured["mse"].value, 6)
    mse = Question(
        id="", kind="number", ready=True,
        text=N_("Target y = %(y)s, prediction ŷ = %(yhat)s: what is the MSE, (ŷ − y)²?"),
        params={"y": state.y, "yhat": state.yhat}, answer=mse_value,
        tolerance=decimals_tolerance(mse_value),
        explanation=N_("(ŷ − y)² = (%(yhat)s − %(y)s)² = %(mse)s."),
        explanation_params={"y": state.y, "yhat": state.yhat, "mse": mse_value},
    )  # fmt: skip
    pull_mse, pull_mae = abs(measured["mse"].grad), abs(measured["mae"].grad)
    pull = one_of_two(
        N_("At this prediction, which loss pulls ŷ toward y harder (the larger gradient)?"),
        (N_("MSE"), pull_mse), (N_("MAE"), pull_mae), lower_wins=False,
        explanation=N_("|dMSE/dŷ| = |2(ŷ − y)| = %(mse)s and |dMAE/dŷ| = %(mae)s: MSE pulls "
                       "harder than MAE once ŷ is more than half a unit from y."),
        explanation_params={"mse": round(pull_mse, 6), "mae": round(pull_mae, 6)},
    )  # fmt: skip
    a, b = error_table(state.ys, state.pa), error_table(state.ys, state.pb)
    squares = one_of_two(
        N_("Why squares: which model has the lower MSE on these targets?"),
        (N_("Model A"), a.mse), (N_("Model B"), b.mse), lower_wins=True,
        explanation=N_("MSE: model A %(a)s, model B %(b)s. MAE: model A %(ma)s, model B %(mb)s. "
                       "Squaring makes one large error weigh more than several small ones."),
        explanation_params={"a": round(a.mse, 6), "b": round(b.mse, 6),
                            "ma": round(a.mae, 6), "mb": round(b.mae, 6)},
    )  # fmt: skip
    return [ReadyQuestion("mse", mse), ReadyQuestion("pull", pull),
            ReadyQuestion("squares", squares)]  # fmt: skip


def one_of_two(text: str, first, second, lower_wins: bool, explanation: str,
               explanation_params: dict) -> Question:  # fmt: skip
    """Which of two (name msgid, value) pairs has the lower (or higher) value, or both the same."""
    (first_name, a), (second_name, b) = first, second
    answer = 2 if a == b else int((b < a) == lower_wins)
    return Question(
        id="", kind="choice", ready=True, text=text,
        options=[{"text": name} for name in (first_name, second_name, N_("Both the same"))],
        answer=float(answer), explanation=explanation, explanation_params=explanation_params,
    )  # fmt: skip


PROVIDERS = {
    "pipeline": pipeline_questions,
    "training": training_questions,
    "text": text_questions,
    "signals": signals_questions,
    "losses": losses_questions,
}
