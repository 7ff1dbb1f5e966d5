"""Ready-made questions about a lab's view, with answers computed from the view itself.

A provider takes the view's query (parsed with the lab's own fields class) and what it may
compute on, and returns the questions it can ask about that view, each with its right answer
worked out. `PROVIDERS` is keyed by lab slug (app.labs.LABS); a lab without a provider still
gets the teacher's own questions.
"""

from __future__ import annotations

from urllib.parse import urlsplit

import numpy as np
from starlette.datastructures import QueryParams

from app.classroom import lab_questions
from app.classroom.classes import Question
from app.classroom.ready import Provider, ReadyQuestion, options_around
from app.labs import LABS
from app.labs.filters.fields import FilterFields
from app.labs.optimizers.fields import OptFields
from app.labs.pooling.fields import PoolFields
from app.media import filterbank
from app.media.images import resize_to
from app.web.errors import UserError
from app.web.i18n import N_
from engine.conv import output_size
from engine.descent import GradientSource, descend
from engine.pool import pool_output_size

RACE_HORIZON = 2000  # steps each optimizer gets to reach the minimum


def lab_of(url: str) -> str | None:
    """The slug of the lab a view belongs to ("/filters?..." -> "filters")."""
    path = urlsplit(url).path
    for lab in LABS:
        if path == lab.path or path.startswith(lab.path + "/"):
            return lab.slug
    return None


def ready_questions(url: str, media) -> list[ReadyQuestion]:
    """What the view's lab can ask about it; none when the view cannot be computed (a mistake
    in its URL, an expired upload)."""
    slug = lab_of(url)
    parts = urlsplit(url)
    provider = PROVIDERS.get(slug or "")
    if provider is None or parts.path != next(lab.path for lab in LABS if lab.slug == slug):
        return []
    try:
        return provider(QueryParams(parts.query), media)
    except (UserError, ValueError):
        return []


# --- Filters: the output's size ------------------------------------------------------------------


def filters_questions(query: QueryParams, media) -> list[ReadyQuestion]:
    fields = FilterFields.parse(query)
    result = filterbank.compute(fields, media)
    _, height, width = result.image.shape
    kh, kw = result.bank.shape[2:]
    (top, bottom), (left, right) = result.pads
    out_h = output_size(height, kh, fields.stride, (top, bottom), fields.dilation)
    out_w = output_size(width, kw, fields.stride, (left, right), fields.dilation)
    assert (out_h, out_w) == result.maps.shape[1:]  # the formula is what the engine computed
    # Wrong answers students typically give: no padding, stride forgotten, dilation forgotten.
    wrong = [
        (height, width),
        (output_size(height, kh, fields.stride, (0, 0), fields.dilation),
         output_size(width, kw, fields.stride, (0, 0), fields.dilation)),
        (output_size(height, kh, 1, (top, bottom), fields.dilation),
         output_size(width, kw, 1, (left, right), fields.dilation)),
        (output_size(height, kh, fields.stride, (top, bottom), 1),
         output_size(width, kw, fields.stride, (left, right), 1)),
        (out_h + 1, out_w + 1), (max(1, out_h - 1), max(1, out_w - 1)), (out_h + 2, out_w + 2),
    ]  # fmt: skip
    sizes, right = options_around((out_h, out_w), [size for size in wrong if min(size) > 0])
    options = [{"text": N_("%(h)s × %(w)s"), "params": {"h": h, "w": w}} for h, w in sizes]
    question = Question(
        id="", kind="choice", ready=True,
        text=N_("Each feature map of this view: what is its size (height × width)?"),
        options=options, answer=float(right),
        explanation=N_(
            "⌊(n + padding − dilation·(k − 1) − 1) / stride⌋ + 1. Height: ⌊(%(h)s + %(ph)s − "
            "%(d)s·(%(kh)s − 1) − 1) / %(s)s⌋ + 1 = %(oh)s. Width: ⌊(%(w)s + %(pw)s − "
            "%(d)s·(%(kw)s − 1) − 1) / %(s)s⌋ + 1 = %(ow)s."
        ),
        explanation_params={"h": height, "ph": top + bottom, "kh": kh, "w": width,
                            "pw": left + right, "kw": kw, "d": fields.dilation,
                            "s": fields.stride, "oh": out_h, "ow": out_w},
    )  # fmt: skip
    number = Question(
        id="", kind="number", ready=True,
        text=N_("How many numbers does one feature map of this view hold (height × width)?"),
        answer=float(out_h * out_w),
        explanation=N_("%(h)s × %(w)s = %(n)s numbers."),
        explanation_params={"h": out_h, "w": out_w, "n": out_h * out_w},
    )  # fmt: skip
    return [ReadyQuestion("output-size", question), ReadyQuestion("output-count", number)]


# --- Pooling: the pooled map's size --------------------------------------------------------------


def pooling_questions(query: QueryParams, media) -> list[ReadyQuestion]:
    state = PoolFields.parse(query)
    if state.from_filters:  # a Filters-lab map: its size is that convolution's output
        height, width = filterbank.compute(state, media).maps.shape[1:]
    else:  # the picture in grey at the working size
        height, width = resize_to(state.picture(media), state.pool_res).shape[:2]
    k, s, p = state.pool_size, state.pool_stride or state.pool_size, state.pool_pad
    out_h, out_w = pool_output_size(height, k, s, p), pool_output_size(width, k, s, p)
    if min(out_h, out_w) < 1:
        return []
    wrong = [(height, width), (height // k, width // k), (height - k + 1, width - k + 1),
             (out_h + 1, out_w + 1), (max(1, out_h - 1), max(1, out_w - 1))]  # fmt: skip
    sizes, right = options_around((out_h, out_w), [size for size in wrong if min(size) > 0])
    question = Question(
        id="", kind="choice", ready=True,
        text=N_("The pooled map of this view: what is its size (height × width)?"),
        options=[{"text": N_("%(h)s × %(w)s"), "params": {"h": h, "w": w}} for h, w in sizes],
        answer=float(right),
        explanation=N_("⌊(n + 2·padding − k) / stride⌋ + 1. Height: ⌊(%(h)s + 2·%(p)s − %(k)s) "
                       "/ %(s)s⌋ + 1 = %(oh)s. Width: ⌊(%(w)s + 2·%(p)s − %(k)s) / %(s)s⌋ + 1 "
                       "= %(ow)s."),
        explanation_params={"h": height, "w": width, "p": p, "k": k, "s": s, "oh": out_h,
                            "ow": out_w},
    )  # fmt: skip
    return [ReadyQuestion("pooled-size", question)]


# --- Optimizers: who reaches the minimum first -------------------------------------------------

KIND_NAMES = {
    "gd": N_("GD"), "sgd": N_("SGD"), "momentum": N_("Momentum"), "nesterov": N_("Nesterov"),
    "adagrad": N_("AdaGrad"), "rmsprop": N_("RMSProp"), "adam": N_("Adam"),
}  # fmt: skip


def first_to_minimum(state, horizon: int = RACE_HORIZON) -> list[tuple[int, int | None]]:
    """(slot, the first step within ε of a minimum, or None) of every racer from the view's
    start, each with the view's settings and noise seed, as the lab races them."""
    surface = state.make_surface()
    reached = []
    for racer in state.racers:
        p = np.array([state.x0, state.y0], dtype=np.float64)
        optimizer = racer.make_optimizer(p)
        noise, batch = (0.0, None) if racer.kind == "gd" else (racer.noise, racer.batch)
        source = GradientSource(surface, np.random.default_rng(state.seed), noise, batch)
        descent = descend(surface, optimizer, racer.make_schedule(), horizon, source,
                          eps=state.eps)  # fmt: skip
        reached.append((racer.slot, descent.reached_at))
    return reached


def optimizers_questions(query: QueryParams, media) -> list[ReadyQuestion]:
    state = OptFields.parse(query)
    if len(state.racers) < 2:
        return []
    reached = first_to_minimum(state)
    kinds = {racer.slot: racer.kind for racer in state.racers}
    options = [{"text": N_("Optimizer %(n)s (%(kind)s)"),
                "params": {"n": slot, "kind": {"msgid": KIND_NAMES[kinds[slot]]}}}
               for slot, _ in reached]  # fmt: skip
    options.append({"text": N_("None within %(steps)s steps"), "params": {"steps": RACE_HORIZON}})
    arrived = [(step, index) for index, (_, step) in enumerate(reached) if step is not None]
    answer = min(arrived)[1] if arrived else len(reached)
    steps = [[slot, step] for slot, step in reached]  # written per locale by the page
    question = Question(
        id="", kind="choice", ready=True,
        text=N_("From this start, which optimizer comes within ε of a minimum first?"),
        options=options, answer=float(answer),
        explanation=N_("Steps to come within ε = %(eps)s of a minimum (— : not within %(max)s "
                       "steps), by optimizer: %(steps)s."),
        explanation_params={"eps": state.eps, "max": RACE_HORIZON, "steps": steps},
    )  # fmt: skip
    return [ReadyQuestion("first-to-minimum", question)]


PROVIDERS: dict[str, Provider] = {
    "filters": filters_questions,
    "pooling": pooling_questions,
    "optimizers": optimizers_questions,
    **lab_questions.PROVIDERS,  # Pipeline, Training, Text, Signals and Losses
}
