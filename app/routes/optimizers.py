"""The Optimizer lab: GET /optimizers (page or htmx fragment) and the surface picture."""

from __future__ import annotations

from urllib.parse import parse_qsl

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from app import optimizerlab
from app.charts import MapPath, Series, surface_map, xy_chart
from app.errors import UserError
from app.optimizerlab import KINDS, MAX_RACERS, OptState
from app.render import png_bytes
from app.templating import is_htmx

router = APIRouter()


def form_values(state: OptState) -> dict[str, str]:
    """Every field the form shows, as text: the racers' unused settings get their defaults so
    that switching a schedule on shows sensible numbers."""
    form = dict(parse_qsl(state.query()))
    form["prev"] = state.surface
    form.setdefault("kappa", f"{state.kappa:g}")
    form.setdefault("angle", f"{state.angle:g}")
    form.setdefault("seed", str(state.seed))
    form.setdefault("eps", f"{state.eps:g}")
    form.setdefault("view", state.view)
    for racer in state.racers:
        i = racer.slot
        defaults = {
            f"ga{i}": f"{racer.gamma:g}", f"ss{i}": str(racer.step_size), f"kk{i}": f"{racer.k:g}",
            f"tt{i}": str(racer.total), f"wu{i}": str(racer.warmup),
            f"no{i}": f"{racer.noise:g}", f"pk{i}": racer.kind, f"ps{i}": racer.schedule,
        }  # fmt: skip
        if state.surface == "least_squares":
            defaults[f"bs{i}"] = str(racer.batch or optimizerlab.surface_of(state).n)
        for key, value in defaults.items():
            form.setdefault(key, value)
    return form


def raw_form(request: Request) -> dict[str, str]:
    """What the user typed, for the page that explains why it could not be used."""
    params = request.query_params
    form = {key: params.getlist(key)[-1][:200] for key in params}
    form.pop("action", None)
    return form


def slots_of(form: dict[str, str]) -> list[tuple[int, str]]:
    """(slot, kind or "off") for every slot, from the form's values."""
    out = []
    for i in range(1, MAX_RACERS + 1):
        kind = form.get(f"o{i}", "off")
        out.append((i, kind if kind in KINDS else "off"))
    return out


def _charts(request: Request, state: OptState, lanes, surface) -> dict:
    gettext = request.app.state.templates.gettext(request)
    has_minimum = surface.min_value is not None
    loss_series, lr_series, colours = [], [], []
    for lane in lanes:
        d = lane.descent
        label = f"{lane.racer.slot} · {gettext(optimizerlab.KIND_TITLES[lane.racer.kind])}"
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
    )
    fit_chart = fit_svg(gettext, surface, lanes) if state.surface == "least_squares" else None
    return {"loss_chart": loss_chart, "lr_chart": lr_chart, "map_svg": map_svg,
            "fit_chart": fit_chart}  # fmt: skip


def fit_svg(gettext, surface, lanes):
    """The data, the least-squares line and each racer's current line y = w·x + b."""
    w_best, b_best = surface.minima[0]
    series = [Series(gettext("least-squares line"), [0.0, 4.0], [b_best, 4 * w_best + b_best])]
    colours = ["#9aa3ad"]
    for lane in lanes:
        if lane.descent.diverged_at is not None:
            continue  # its last line is far off the chart and means nothing
        w, b = lane.descent.points[-1]
        title = gettext(optimizerlab.KIND_TITLES[lane.racer.kind])
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
    )


def _context(request: Request, state: OptState) -> dict:
    surface = optimizerlab.surface_of(state)
    lanes = optimizerlab.race(state, surface)
    low, high = optimizerlab.map_scale(surface)
    form = form_values(state)
    return {
        "state": state,
        "form": form,
        "slots": slots_of(form),
        "surface": surface,
        "lanes": lanes,
        "scale": (low, high),
        "error": None,
        **_charts(request, state, lanes, surface),
    }


def _render(request: Request, context: dict, status: int = 200, headers=None) -> HTMLResponse:
    base = {"lab": optimizerlab, "kinds": KINDS}
    return request.app.state.templates.page_or_fragment(
        request,
        "optimizers/page.html",
        "optimizers/_lab.html",
        {**base, **context},
        status_code=status,
        headers=headers,
    )


@router.get("/optimizers", response_class=HTMLResponse)
def optimizers_page(request: Request) -> Response:
    try:
        state = optimizerlab.parse_state(request.query_params)
    except UserError as error:
        if is_htmx(request):
            raise
        gettext = request.app.state.templates.gettext(request)
        form = raw_form(request)
        context = {"state": None, "form": form, "slots": slots_of(form), "lanes": [],
                   "error": error.translated(gettext)}  # fmt: skip
        return _render(request, context, status=error.status)
    url = f"/optimizers?{state.query()}"
    if "action" in request.query_params and not is_htmx(request):
        # A plain form submit: show the canonical address, so reloading does not step again.
        return RedirectResponse(url, status_code=303)
    context = _context(request, state)
    headers = {"HX-Push-Url": url} if is_htmx(request) else None
    return _render(request, context, headers=headers)


@router.get("/optimizers/map.png")
def optimizers_map(request: Request) -> Response:
    state = optimizerlab.parse_map_state(request.query_params)
    key = optimizerlab.map_png_key(state)
    results = request.app.state.results
    data = results.get(key)
    if data is None:
        pixels = optimizerlab.surface_pixels(optimizerlab.surface_of(state), state.view)
        data = png_bytes(pixels)
        results.put(key, data, len(data))
    # The picture depends only on its query: browsers may keep it while the racers step.
    headers = {"Cache-Control": "public, max-age=86400"}
    return Response(data, media_type="image/png", headers=headers)
