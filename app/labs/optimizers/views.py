"""The Optimizer lab's race and what its page shows: every racer from the same start, each
optimizer's state after the last step with its formula, the charts and the map.

The race is recomputed from step 0 on every request with the engine's optimizers and schedules,
and seeded noise, so a shared link shows the same race.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from app.labs.optimizers.fields import KINDS, MAX_RACERS, MAX_STEPS, OptFields, Racer
from app.labs.optimizers.picture import map_scale
from app.web.charts import MapPath, Series, surface_map, xy_chart
from app.web.deps import gettext_of
from app.web.i18n import N_
from app.web.numbers import ENGLISH, Numbers
from engine.descent import Descent, GradientSource, descend
from engine.optim import Optimizer
from engine.schedules import SCHEDULE_TITLES
from engine.surfaces import Surface

__all__ = ["KINDS", "MAX_STEPS", "lab_context", "race"]

KIND_TITLES = {
    "gd": N_("GD"),
    "sgd": N_("SGD"),
    "momentum": N_("Momentum"),
    "nesterov": N_("Nesterov"),
    "adagrad": N_("AdaGrad"),
    "rmsprop": N_("RMSProp"),
    "adam": N_("Adam"),
}
KIND_HINTS = {
    "gd": N_("Gradient descent: the exact gradient, every step."),
    "sgd": N_("Stochastic gradient descent: a noisy gradient (minibatches on the line fit)."),
    "momentum": N_("Keeps a velocity: past gradients keep pushing."),
    "nesterov": N_("Momentum that looks one step ahead."),
    "adagrad": N_("A rate per coordinate that shrinks as squared gradients add up."),
    "rmsprop": N_("A rate per coordinate from a leaky average of squared gradients."),
    "adam": N_("Momentum plus RMSProp's scaling, with bias correction."),
}
SURFACE_TITLES = {
    "bowl": N_("Quadratic bowl"),
    "rosenbrock": N_("Rosenbrock's banana valley"),
    "beale": N_("Beale"),
    "himmelblau": N_("Himmelblau (four minima)"),
    "saddle": N_("Saddle x² − y²"),
    "camel": N_("Six-hump camel"),
    "rastrigin": N_("Rastrigin (many local minima)"),
    "least_squares": N_("Line fit y = w·x + b (least squares)"),
}


def page_context(gettext) -> dict:
    """The lab's names for its choices, translated here: templates get text, not msgids."""

    def translated(titles: dict) -> dict:
        return {name: gettext(title) for name, title in titles.items()}

    return {"kind_titles": translated(KIND_TITLES), "kind_hints": translated(KIND_HINTS),
            "surface_titles": translated(SURFACE_TITLES),
            "schedule_titles": translated(SCHEDULE_TITLES), "kinds": KINDS}  # fmt: skip


def surface_of(state: OptFields) -> Surface:
    return state.make_surface()


@dataclass
class Lane:
    """One racer's result: its path and what the page shows about its last step."""

    racer: Racer
    descent: Descent
    rows: list[dict]  # the state table: label, symbol, formula, x and y values
    explain: str | None  # the update of the first coordinate, with its numbers
    lr_now: float | None  # the learning rate of the last step

    @property
    def optimizer(self) -> Optimizer:
        return self.descent.optimizer


def race(
    state: OptFields, surface: Surface | None = None, numbers: Numbers = ENGLISH
) -> list[Lane]:
    """Every racer from the same start for ``state.steps`` steps, each with its own seeded noise
    source (the same seed for all, so two SGD racers see the same minibatches); ``numbers``
    writes the formulas."""
    surface = surface or surface_of(state)
    lanes = []
    for racer in state.racers:
        p = np.array([state.x0, state.y0], dtype=np.float64)
        optimizer = racer.make_optimizer(p)
        schedule = racer.make_schedule()
        noise, batch = (0.0, None) if racer.kind == "gd" else (racer.noise, racer.batch)
        source = GradientSource(surface, np.random.default_rng(state.seed), noise, batch)
        descent = descend(surface, optimizer, schedule, state.steps, source, eps=state.eps)
        rows, explain = state_rows(racer, descent, surface.axes[0], numbers)
        lr_now = float(descent.lrs[-1]) if len(descent.lrs) else None
        lanes.append(Lane(racer, descent, rows, explain, lr_now))
    return lanes


def _row(label: str, symbol: str, formula: str, values) -> dict:
    values = np.asarray(values, dtype=np.float64)
    shown = symbol if formula == symbol else f"{symbol} = {formula}"
    return {"label": label, "symbol": symbol, "formula": shown, "values": values.tolist()}


def state_rows(
    racer: Racer, descent: Descent, axis: str = "x", numbers: Numbers = ENGLISH
) -> tuple[list[dict], str | None]:
    """The gradient, the optimizer's state, the effective rate and the update after the last
    recorded step, each with its formula; empty before the first step or after a divergence.
    The explanation line works through the update of the first coordinate, named ``axis``."""
    opt = descent.optimizer
    if descent.grad is None or descent.diverged_at is not None or descent.frozen_at is not None:
        return [], None
    g = descent.grad
    state, update, eff = opt.state[0], opt.last_update[0], opt.effective_lr[0]
    t = opt.t
    exact = "∇f" if racer.batch is None else f"(1/{racer.batch})·Σᵢ∈B ∇fᵢ"
    noisy = racer.noise and racer.kind != "gd"

    def fmt(value: float) -> str:  # negative numbers in brackets, so that "× (−2)" reads right
        text = numbers.significant(value)
        return f"({text})" if value < 0 else text

    def g6(value: float) -> str:  # a setting, as the form shows it
        return numbers.significant(value, 6)

    plain = numbers.significant
    rows = [_row(N_("gradient"), "g", exact + (f" + {g6(racer.noise)}·ξ" if noisy else ""), g)]
    if racer.kind in ("gd", "sgd"):
        rows.append(_row(N_("effective rate"), "η", "η", eff))
        rows.append(_row(N_("update"), "Δ", "−η·g", update))
        explain = f"{axis}: Δ = −η·g = −{fmt(eff[0])} × {fmt(g[0])} = {plain(update[0])}"
    elif racer.kind in ("momentum", "nesterov"):
        mu = racer.momentum
        formula = "g" if t == 1 else f"{g6(mu)}·v + g"
        # With μ = 0 the optimizer keeps no velocity (as PyTorch's SGD): v is the gradient.
        v = state.get("velocity", g)
        rows.append(_row(N_("velocity"), "v", formula, v))
        rows.append(_row(N_("effective rate"), "η", "η", eff))
        if racer.kind == "momentum":
            rows.append(_row(N_("update"), "Δ", "−η·v", update))
            explain = f"{axis}: Δ = −η·v = −{fmt(eff[0])} × {fmt(v[0])} = {plain(update[0])}"
        else:
            rows.append(_row(N_("update"), "Δ", f"−η·(g + {g6(mu)}·v)", update))
            explain = (
                f"{axis}: Δ = −η·(g + μ·v) = −{fmt(eff[0])} × ({fmt(g[0])} + {g6(mu)} × "
                f"{fmt(v[0])}) = {plain(update[0])}"
            )
    elif racer.kind == "adagrad":
        rows.append(_row(N_("sum of squared gradients"), "G", "G + g²", state["sum_sq"]))
        rows.append(_row(N_("effective rate"), "η̂", "η / (√G + ε)", eff))
        rows.append(_row(N_("update"), "Δ", "−η̂·g", update))
        explain = (
            f"{axis}: Δ = −η / (√G + ε) · g = −{fmt(racer_lr(descent))} / "
            f"({fmt(math.sqrt(state['sum_sq'][0]))} + 1e-10) × {fmt(g[0])} = {plain(update[0])}"
        )
    elif racer.kind == "rmsprop":
        a = racer.alpha
        rows.append(
            _row(N_("average of squared gradients"), "s", f"{g6(a)}·s + {g6(1 - a)}·g²",
                 state["square_avg"])
        )  # fmt: skip
        rows.append(_row(N_("effective rate"), "η̂", "η / (√s + ε)", eff))
        rows.append(_row(N_("update"), "Δ", "−η̂·g", update))
        explain = (
            f"{axis}: Δ = −η / (√s + ε) · g = −{fmt(racer_lr(descent))} / "
            f"({fmt(math.sqrt(state['square_avg'][0]))} + 1e-8) × {fmt(g[0])} = {plain(update[0])}"
        )
    else:
        b1, b2 = racer.beta1, racer.beta2
        rows.append(_row(N_("first moment"), "m", f"{g6(b1)}·m + {g6(1 - b1)}·g", state["m"]))
        rows.append(_row(N_("second moment"), "v", f"{g6(b2)}·v + {g6(1 - b2)}·g²", state["v"]))
        if racer.bias_correction:
            c1, c2 = 1 - b1**t, 1 - b2**t
            rows.append(_row(N_("corrected m"), "m̂", f"m / (1 − {g6(b1)}^{t}) = m / {fmt(c1)}",
                             state["m_hat"]))  # fmt: skip
            rows.append(_row(N_("corrected v"), "v̂", f"v / (1 − {g6(b2)}^{t}) = v / {fmt(c2)}",
                             state["v_hat"]))  # fmt: skip
        else:
            rows.append(_row(N_("corrected m"), "m̂", "m (no correction)", state["m_hat"]))
            rows.append(_row(N_("corrected v"), "v̂", "v (no correction)", state["v_hat"]))
        rows.append(_row(N_("effective rate"), "η̂", "η / (√v̂ + ε)", eff))
        rows.append(_row(N_("update"), "Δ", "−η̂·m̂", update))
        explain = (
            f"{axis}: Δ = −η / (√v̂ + ε) · m̂ = −{fmt(racer_lr(descent))} / "
            f"({fmt(math.sqrt(state['v_hat'][0]))} + 1e-8) × {fmt(state['m_hat'][0])}"
            f" = {plain(update[0])}"
        )
    return rows, explain


def racer_lr(descent: Descent) -> float:
    return float(descent.lrs[-1]) if len(descent.lrs) else float(descent.optimizer.lr)


def slots_of(form: dict[str, str]) -> list[tuple[int, str]]:
    """(slot, kind or "off") for every slot, from the form's values."""
    out = []
    for i in range(1, MAX_RACERS + 1):
        kind = form.get(f"o{i}", "off")
        out.append((i, kind if kind in KINDS else "off"))
    return out


def charts(gettext, numbers: Numbers, state, lanes, surface) -> dict:
    has_minimum = surface.min_value is not None
    loss_series, lr_series, colours = [], [], []
    for lane in lanes:
        d = lane.descent
        label = f"{lane.racer.slot} · {gettext(KIND_TITLES[lane.racer.kind])}"
        values = d.values - surface.min_value if has_minimum else d.values
        steps = list(range(len(values)))
        loss_series.append(Series(label, steps, values.tolist()))
        lr_series.append(Series(label, list(range(len(d.lrs))), d.lrs.tolist()))
        colours.append(lane.racer.colour)
    x_range = (0.0, float(max(state.steps, 1)))
    loss_chart = xy_chart(
        loss_series,
        x_label=gettext("step"),
        y_label=gettext("loss − minimum (log scale)") if has_minimum else gettext("loss"),
        title=gettext("Loss at each step"),
        log_y=has_minimum,
        x_range=x_range,
        colours=colours,
        numbers=numbers,
    )
    lr_chart = xy_chart(
        lr_series,
        x_label=gettext("step"),
        y_label=gettext("learning rate (log scale)"),
        title=gettext("Learning rate at each step (the schedule)"),
        log_y=True,
        x_range=x_range,
        colours=colours,
        height=260,
        numbers=numbers,
    )
    paths = [
        MapPath(str(lane.racer.slot), [tuple(p) for p in lane.descent.points.tolist()],
                lane.racer.colour, lane.descent.diverged_at is not None)
        for lane in lanes
    ]  # fmt: skip
    title = gettext("Map of the surface with each optimizer's path")
    map_svg = surface_map(
        f"/optimizers/map.png?{state.map_query()}",
        surface.box,
        paths,
        title,
        axes=surface.axes,
        minima=surface.minima,
        start=(state.x0, state.y0),
        numbers=numbers,
    )
    fit_chart = None
    if state.surface == "least_squares":
        fit_chart = fit_svg(gettext, numbers, surface, lanes)
    return {"loss_chart": loss_chart, "lr_chart": lr_chart, "map_svg": map_svg,
            "fit_chart": fit_chart}  # fmt: skip


def fit_svg(gettext, numbers: Numbers, surface, lanes):
    """The data, the least-squares line and each racer's current line y = w·x + b."""
    w_best, b_best = surface.minima[0]
    series = [Series(gettext("least-squares line"), [0.0, 4.0], [b_best, 4 * w_best + b_best])]
    colours = ["#9aa3ad"]
    for lane in lanes:
        if lane.descent.diverged_at is not None:
            continue  # its last line is far off the chart and means nothing
        w, b = lane.descent.points[-1]
        title = gettext(KIND_TITLES[lane.racer.kind])
        series.append(Series(f"{lane.racer.slot} · {title}", [0.0, 4.0], [b, 4 * w + b]))
        colours.append(lane.racer.colour)
    return xy_chart(
        series,
        x_label="x",
        y_label="y",
        title=gettext("The data and each optimizer's line now"),
        colours=colours,
        x_range=(0.0, 4.0),
        y_range=(-2.0, 9.0),
        scatter=(surface.x.tolist(), surface.y.tolist()),
        numbers=numbers,
    )


def lab_context(state: OptFields, gettext, numbers: Numbers) -> dict:
    surface = surface_of(state)
    lanes = race(state, surface, numbers)
    form = state.form()
    return {
        **page_context(gettext),
        "state": state,
        "form": form,
        "slots": slots_of(form),
        "surface": surface,
        "lanes": lanes,
        "scale": map_scale(surface),
        "error": None,
        **charts(gettext, numbers, state, lanes, surface),
    }


def error_context(request, error, messages: list[str]) -> dict:
    """The page again: the form as the user typed it (the last value of each field), the
    message next to it."""
    params = request.query_params
    form = {key: params.getlist(key)[-1][:200] for key in params if key != "action"}
    return {**page_context(gettext_of(request)), "state": None, "form": form,
            "slots": slots_of(form), "lanes": [],
            "error": messages}  # fmt: skip
