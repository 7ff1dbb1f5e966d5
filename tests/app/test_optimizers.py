"""The Optimizer lab over HTTP: the race is the engine's optimizers stepped by hand, the numbers
on the page are those of the last step, the URL holds the whole state, and bad input is a 4xx
with a message in place."""

from __future__ import annotations

import io
import random
import re
from urllib.parse import parse_qs, urlsplit

import numpy as np
import pytest
from PIL import Image
from starlette.datastructures import QueryParams

from app.labs.optimizers import fields as optimizer_fields
from app.labs.optimizers import views as optimizerlab
from app.labs.optimizers.fields import OptFields
from engine.optim import make_optimizer
from engine.schedules import make_schedule
from engine.surfaces import make_surface
from tests.app.conftest import HX, HX_CONTROLS

ALL_SEVEN = "&".join(f"o{i}={k}" for i, k in enumerate(optimizerlab.KINDS, start=1))


def state_of(query: str):
    return OptFields.parse(QueryParams(query))


def map_paths(html: str) -> dict[str, list[tuple[float, float]]]:
    """Racer number -> the points of its drawn path (SVG units)."""
    out = {}
    for racer, points in re.findall(
        r'<g class="map-path" data-racer="(\d+)" data-points="\d+"><polyline points="([^"]*)"', html
    ):
        out[racer] = [tuple(map(float, p.split(","))) for p in points.split()]
    return out


def test_page_and_fragment(client):
    page = client.get("/optimizers")
    assert page.status_code == 200 and "<html" in page.text
    assert 'id="controls"' in page.text and 'action="/optimizers"' in page.text
    assert 'class="chart surface-map"' in page.text
    assert "/optimizers/map.png?surface=rosenbrock" in page.text
    # Four racers by default, each with a path of 30 steps (31 points).
    assert {k: len(v) for k, v in map_paths(page.text).items()} == {
        "1": 31, "2": 31, "3": 31, "4": 31,
    }  # fmt: skip
    fragment = client.get("/optimizers?surface=bowl", headers=HX)
    assert fragment.text.lstrip().startswith('<div id="lab"')
    assert fragment.headers["HX-Push-Url"].startswith("/optimizers?surface=bowl&kappa=10")
    assert not re.search(r"\bnan\b|\binf\b", page.text, re.IGNORECASE)


@pytest.mark.parametrize("kind", optimizerlab.KINDS)
def test_lab_trajectory_is_the_engine_optimizer(kind):
    """Every racer's path equals the engine optimizer stepped by hand with the same schedule."""
    state = state_of(f"surface=himmelblau&x0=0.5&y0=-1&o1={kind}&sc1=exponential&ga1=0.98&steps=40")
    lane = optimizerlab.race(state)[0]
    surface = make_surface("himmelblau")
    p = np.array([0.5, -1.0])
    name = {"gd": "sgd"}.get(kind, kind)
    lr = optimizer_fields.SUGGESTED_LR["himmelblau"][kind]
    opt = make_optimizer(name, [p], lr)
    rng = np.random.default_rng(0)
    expected = [p.copy()]
    for t in range(40):
        opt.lr = lr * 0.98**t
        g = np.array(surface.gradient(p[0], p[1]))
        if kind == "sgd":  # SGD adds its seeded noise, σ suggested for the surface
            g = g + rng.normal(0.0, optimizer_fields.SUGGESTED_NOISE["himmelblau"], 2)
        opt.step([g])
        expected.append(p.copy())
    np.testing.assert_array_equal(lane.descent.points, np.array(expected))
    np.testing.assert_array_equal(lane.optimizer.last_update[0], opt.last_update[0])


def test_minibatch_sgd_on_the_line_fit_is_seeded_and_genuine():
    query = "surface=least_squares&o1=sgd&bs1=5&o2=gd&steps=60"
    a = optimizerlab.race(state_of(query))
    b = optimizerlab.race(state_of(query))
    np.testing.assert_array_equal(a[0].descent.points, b[0].descent.points)
    # A different seed draws other minibatches; GD does not change.
    c = optimizerlab.race(state_of(query + "&seed=9"))
    assert not np.array_equal(a[0].descent.points, c[0].descent.points)
    np.testing.assert_array_equal(a[1].descent.points, c[1].descent.points)
    # The batch gradient the last step used differs from the exact one.
    w, b_ = a[0].descent.points[-2]
    exact = make_surface("least_squares").gradient(w, b_)
    assert not np.allclose(a[0].descent.grad, exact)


def test_one_gd_step_by_hand(client):
    # ½(x² + y²) (κ = 1), GD with η = 0.5 from (2, 1): g = (2, 1), Δ = (−1, −0.5).
    html = client.get(
        "/optimizers?surface=bowl&kappa=1&angle=0&x0=2&y0=1&o1=gd&lr1=0.5&steps=1"
    ).text
    numbers = html[html.index('data-testid="numbers-1"') :]
    cells = re.findall(r'<tr data-row="(\S+)">.*?<td>([^<]*)</td><td>([^<]*)</td></tr>', numbers)
    assert dict((s, (x, y)) for s, x, y in cells) == {
        "g": ("2", "1"), "η": ("0.5", "0.5"), "Δ": ("-1", "-0.5"),
    }  # fmt: skip
    assert "x: Δ = −η·g = −0.5 × 2 = −1" in html
    assert "(x, y) = (1, 0.5)" in html


def test_adam_state_and_bias_correction(client):
    base = "/optimizers?surface=bowl&kappa=1&angle=0&x0=2&y0=1&o1=adam&lr1=0.1&steps=1"
    html = client.get(base).text
    rows = dict(re.findall(r'<tr data-row="(\S+)">.*?<td>([^<]*)</td><td>[^<]*</td></tr>', html))
    # Step 1: m = 0.1·g = 0.2, v = 0.001·g² = 0.004, m̂ = g = 2, v̂ = g² = 4, Δ = −0.1·2/(2+ε)
    assert rows["m"] == "0.2" and rows["v"] == "0.004"
    assert rows["m̂"] == "2" and rows["v̂"] == "4"
    assert rows["Δ"] == "-0.1"
    off = client.get(base + "&bc1=0").text
    rows = dict(re.findall(r'<tr data-row="(\S+)">.*?<td>([^<]*)</td><td>[^<]*</td></tr>', off))
    # Without correction m̂ = m and v̂ = v: Δ = −0.1 · 0.2 / √0.004 = −0.3162
    assert rows["m̂"] == "0.2" and rows["Δ"] == "-0.3162"


def test_step_run_reset_push_the_canonical_url(client):
    base = "/optimizers?surface=bowl&o1=gd&steps=4"
    step = client.get(base + "&action=step", headers=HX_CONTROLS)
    assert "steps=5&" in step.headers["HX-Push-Url"] and "action" not in step.headers["HX-Push-Url"]
    assert len(map_paths(step.text)["1"]) == 6
    run = client.get(base + "&action=run&run=20", headers=HX_CONTROLS)
    assert "steps=24&" in run.headers["HX-Push-Url"]
    reset = client.get(base + "&action=reset", headers=HX_CONTROLS)
    assert "steps=0&" in reset.headers["HX-Push-Url"]
    assert len(map_paths(reset.text)["1"]) == 1
    # Without htmx the form's GET redirects to the canonical address, so a reload does not step.
    plain = client.get(base + "&action=step", follow_redirects=False)
    assert plain.status_code == 303 and "steps=5&" in plain.headers["location"]


def test_the_url_holds_the_whole_race(client):
    query = (
        "surface=least_squares&x0=3.5&y0=2&o1=sgd&lr1=0.02&bs1=3&sc1=step&ga1=0.5&ss1=10"
        "&o3=adam&lr3=0.2&bc3=0&ba3=0.8&o5=nesterov&mo5=0.7&sc5=cosine&tt5=40&wu5=5"
        "&steps=35&seed=4&eps=0.1&view=heatmap"
    )
    first = client.get(f"/optimizers?{query}", headers=HX)
    url = first.headers["HX-Push-Url"]
    again = client.get(url, headers=HX)
    assert again.headers["HX-Push-Url"] == url
    assert map_paths(again.text) == map_paths(first.text)
    fields = parse_qs(urlsplit(url).query)
    assert fields["bs1"] == ["3"] and fields["bc3"] == ["0"] and fields["tt5"] == ["40"]
    assert fields["view"] == ["heatmap"] and set(map_paths(first.text)) == {"1", "3", "5"}


def test_changing_the_surface_restarts_from_its_suggestions(client):
    # The form still holds Rosenbrock's start and rates; the bowl gets its own.
    response = client.get(
        "/optimizers?prev=rosenbrock&surface=bowl&x0=-1.2&y0=1&o1=gd&pk1=gd&lr1=0.001",
        headers=HX_CONTROLS,
    )
    assert response.status_code == 200
    url = response.headers["HX-Push-Url"]
    assert "x0=-2.5&y0=2" in url and "lr1=0.1&" in url


def test_changing_the_kind_takes_its_suggested_rate(client):
    response = client.get(
        "/optimizers?surface=rosenbrock&o1=adam&pk1=gd&lr1=0.001", headers=HX_CONTROLS
    )
    assert "o1=adam&lr1=0.1&" in response.headers["HX-Push-Url"]


def test_divergence_is_reported_and_the_path_stops(client):
    html = client.get(f"/optimizers?surface=rosenbrock&{ALL_SEVEN}&lr1=0.05&steps=200").text
    match = re.search(r'data-testid="diverged-1">diverged at step (\d+)<', html)
    assert match and 1 <= int(match.group(1)) < 20
    assert len(map_paths(html)["1"]) == int(match.group(1))  # start + the steps before it
    assert "Try a smaller learning rate" in html
    assert not re.search(r"\bnan\b|\binf\b", html, re.IGNORECASE)


def test_steps_to_within_eps(client):
    # GD with η = 0.5 on ½(x² + y²) halves the distance each step: |(2, 0)| → 1, 0.5, 0.25 …
    html = client.get(
        "/optimizers?surface=bowl&kappa=1&angle=0&x0=2&y0=0&o1=gd&lr1=0.5&steps=10&eps=0.1"
    ).text
    row = html[html.index('<tr data-racer="1">') :]
    assert "<strong>5</strong>" in row[: row.index("</tr>")]


def test_loss_and_rate_charts(client):
    html = client.get(f"/optimizers?surface=beale&{ALL_SEVEN}&sc2=cosine&tt2=20&steps=30").text
    loss = html[html.index('data-testid="loss-chart"') :]
    assert "loss − minimum (log scale)" in loss
    assert loss[: loss.index("</svg>")].count("<polyline") == 7
    assert "10⁻" in loss[: loss.index("</svg>")] or "10²" in loss[: loss.index("</svg>")]
    assert 'data-testid="lr-chart"' in html
    # The saddle has no minimum: a plain loss axis.
    saddle = client.get("/optimizers?surface=saddle&o1=gd&steps=10").text
    assert "loss − minimum" not in saddle and ">loss<" in saddle


def test_least_squares_shows_the_data_and_lines(client):
    html = client.get("/optimizers?surface=least_squares&o1=sgd&o2=adam&steps=20").text
    assert html.count('class="data-point"') == 40
    assert "Minibatch size" in html and "Start w" in html


def test_map_png(client):
    response = client.get("/optimizers/map.png?surface=camel&view=heatmap")
    assert response.status_code == 200 and response.headers["content-type"] == "image/png"
    image = np.asarray(Image.open(io.BytesIO(response.content)))
    # Equal units on both axes: the camel's box is 4 wide and 2.4 high.
    assert image.shape == (288, 480)
    # Lighter is lower: the pixel nearest a global minimum is among the lightest.
    row = round((1.2 - 0.7126564) / 2.4 * 288)
    col = round((0.0898420 + 2) / 4 * 480)
    assert image[row, col] >= np.percentile(image, 95)
    assert image[0, 0] < image[row, col] - 60  # the corner (−2, 1.2) is high: darker
    assert "max-age" in response.headers["cache-control"]
    bad = client.get("/optimizers/map.png?surface=nope")
    assert bad.status_code == 404 and "Unknown surface" in bad.text


BAD_INPUT = [
    ("o1=gd&lr1=0", 400, "Optimizer 1: Learning rate must be greater than 0"),
    ("o1=gd&lr1=-0.1", 400, "Learning rate must be greater than 0"),
    ("o2=adam&lr2=nan", 400, "Optimizer 2: Learning rate must be a finite number"),
    ("o1=gd&lr1=inf", 400, "must be a finite number"),
    ("o1=gd&lr1=1e9", 400, "must be at most 10"),
    ("o1=gd&lr1=abc", 400, "must be a finite number"),
    ("steps=5001", 400, "Steps must be between 0 and 5000"),
    ("steps=4990&run=50&action=run", 400, "At most 5,000 steps"),
    ("steps=-1", 400, "Steps must be between 0 and 5000"),
    ("x0=9&y0=0", 400, "lies outside the map"),
    ("x0=nan", 400, "Start x must be a finite number"),
    ("surface=nope", 404, "Unknown surface"),
    ("o1=lbfgs", 404, "Unknown optimizer"),
    ("o1=gd&o8=adam", 400, "At most 7 optimizers"),
    ("surface=least_squares&o1=sgd&bs1=0", 400, "Minibatch size must be between 1 and 40"),
    ("o1=momentum&mo1=1", 400, "Momentum μ must be between 0 and 0.999"),
    ("o1=nesterov&mo1=0", 400, "Nesterov needs a momentum above 0"),
    ("o1=gd&sc1=step&ga1=0", 400, "Gamma (decay factor) must be between"),
    ("o1=gd&sc1=cosine&tt1=10&wu1=10", 400, "must be shorter than the cosine"),
    ("o1=gd&sc1=sawtooth", 400, "Schedule must be one of"),
    ("o1=sgd&no1=-1", 400, "Gradient noise σ must be between 0 and 1000"),
    ("surface=bowl&kappa=0", 400, "Condition number κ must be between 1 and 1000"),
    ("seed=-5", 400, "Noise seed must be between"),
    ("eps=0", 400, "Tolerance ε must be between"),
    ("view=3d", 400, "Picture must be one of"),
    ("action=jump", 400, "Unknown action"),
]


def test_bad_input_full_page_and_htmx(client):
    # One app for all cases: each page render would otherwise compile the templates again.
    for query, status, message in BAD_INPUT:
        response = client.get(f"/optimizers?{query}")
        assert response.status_code == status, query
        assert message in response.text, query
        assert 'id="controls"' in response.text  # the form stays, with what was typed
        fragment = client.get(f"/optimizers?{query}", headers=HX_CONTROLS)
        assert fragment.status_code == status, query
        assert fragment.headers["HX-Retarget"] == "#controls-error"
        assert message in fragment.text and "<form" not in fragment.text, query


def test_bad_page_keeps_what_was_typed(client):
    html = client.get("/optimizers?o1=gd&lr1=-3&o2=adam&lr2=0.2").text
    assert 'name="lr1" value="-3"' in html and 'name="lr2" value="0.2"' in html


NASTY = [
    "",
    "-1",
    "0",
    "1e309",
    "nan",
    "inf",
    "-inf",
    "1e-320",
    "99999999999",
    "x",
    "💥",
    "a" * 500,
]
PARAMS = {
    "surface": list(optimizerlab.SURFACE_TITLES),
    "kappa": ["1", "500"], "angle": ["-180", "45"], "x0": ["0.5"], "y0": ["-0.5"],
    "steps": ["0", "3", "40"], "run": ["1", "5"], "action": ["step", "run", "reset"],
    "o1": list(optimizerlab.KINDS), "lr1": ["0.001", "0.5", "10"], "sc1": ["step", "cosine"],
    "ga1": ["0.5"], "tt1": ["3"], "wu1": ["2"], "mo1": ["0.5"], "bs1": ["1", "40"],
    "no1": ["0", "50"], "o2": ["adam", "rmsprop"], "ba2": ["0.5"], "bb2": ["0.1"],
    "al2": ["0"], "bc2": ["0", "1"], "seed": ["0", "7"], "eps": ["0.5"], "view": ["heatmap"],
}  # fmt: skip


def hostile_query(seed: int) -> list[tuple[str, str]]:
    rng = random.Random(seed)
    query = []
    for name, good in PARAMS.items():
        if rng.random() < 0.5:
            continue
        value = rng.choice(NASTY) if rng.random() < 0.4 else rng.choice(good)
        query.append((name, value))
    return query


@pytest.mark.parametrize("seeds", [range(0, 20), range(20, 40)])
def test_hostile_queries_never_give_a_server_error(client, seeds):
    for seed in seeds:
        check_hostile(client, hostile_query(seed))


def check_hostile(client, query):
    for headers in ({}, HX_CONTROLS):
        response = client.get("/optimizers", params=query, headers=headers, follow_redirects=False)
        assert response.status_code < 500, (query, response.text[-500:])
        if response.status_code >= 400:
            assert "error-message" in response.text
        assert "NaN" not in response.text
    png = client.get("/optimizers/map.png", params=query)
    assert png.status_code < 500


def test_limits_are_explicit():
    state = state_of(f"surface=rosenbrock&{ALL_SEVEN}&steps=5000")
    assert len(state.racers) == 7 and state.steps == optimizerlab.MAX_STEPS
    assert make_schedule("constant", 0.1)  # the engine is what the lab uses
