"""The Loss lab over HTTP: values and gradients against hand-computed ones, the MLE demos against
their closed forms, the state in the URL, and bad input as a 4xx with a message in place."""

from __future__ import annotations

import math
import random
import re

import numpy as np
import pytest
from starlette.datastructures import QueryParams

from app.labs.losses import measures as losslab
from app.labs.losses.fields import LossFields
from engine.losses import binary_cross_entropy_with_logits, mse
from tests.app.conftest import HX, HX_CONTROLS


def by_testid(html: str, name: str) -> str:
    match = re.search(rf'data-testid="{re.escape(name)}"[^>]*>(.*?)<', html, re.DOTALL)
    assert match, name
    return match.group(1).strip()


def test_page_and_fragment(client):
    page = client.get("/losses")
    assert page.status_code == 200 and "<html" in page.text
    assert 'id="controls"' in page.text and 'action="/losses"' in page.text
    fragment = client.get("/losses?yhat=-1", headers=HX)
    assert fragment.text.lstrip().startswith('<div id="lab"')
    assert fragment.headers["HX-Push-Url"].startswith("/losses?y=1&yhat=-1&")
    assert not re.search(r"\bnan\b|\binf\b", page.text, re.IGNORECASE)
    # Every plot a prediction can be dragged along names its slider.
    for name in ("yhat", "p", "z2", "pc", "wc", "zs"):
        assert f'data-drag-input="{name}"' in page.text
        assert f'id="{name}"' in page.text


def test_mse_and_mae_by_hand(client):
    html = client.get("/losses?y=1&yhat=2.5").text
    assert by_testid(html, "mse-value") == "2.25"  # (2.5 − 1)²
    assert by_testid(html, "mse-grad") == "3"  # 2(2.5 − 1)
    assert by_testid(html, "mae-value") == "1.5"
    assert by_testid(html, "mae-grad") == "1"
    html = client.get("/losses?y=-2&yhat=-4.5").text
    assert by_testid(html, "mse-value") == "6.25" and by_testid(html, "mse-grad") == "-5"
    assert by_testid(html, "mae-grad") == "-1"
    assert by_testid(client.get("/losses?y=1&yhat=1").text, "mae-grad") == "0"


def test_binary_cross_entropy_by_hand(client):
    html = client.get("/losses?t=1&p=0.25").text
    assert by_testid(html, "bce-value") == f"{-math.log(0.25):.4f}"  # 1.3863
    assert by_testid(html, "bce-grad") == "-4"  # (0.25 − 1) / (0.25 × 0.75)
    html = client.get("/losses?t=0.5&p=0.5").text
    assert (
        by_testid(html, "bce-value") == f"{math.log(2):.4f}" and by_testid(html, "bce-grad") == "0"
    )
    # p = 1 with target 0: log(0) is clamped at −100 as in PyTorch, no infinity on the page.
    html = client.get("/losses?t=0&p=1").text
    assert by_testid(html, "bce-value") == "100"


def test_categorical_cross_entropy_by_hand(client):
    html = client.get("/losses?z1=0&z2=0&z3=0&z4=0&k=1").text
    assert [by_testid(html, f"prob-{j}") for j in range(1, 5)] == ["0.25"] * 4
    assert by_testid(html, "cce-value") == f"{math.log(4):.4f}"
    assert [by_testid(html, f"cce-grad-{j}") for j in range(1, 5)] == [
        "-0.75",
        "0.25",
        "0.25",
        "0.25",
    ]
    # z1 = ln 3: e^z = 3, 1, 1, 1 → p1 = 1/2, L = ln 2
    html = client.get(f"/losses?z1={math.log(3)}&z2=0&z3=0&z4=0&k=1").text
    assert (
        by_testid(html, "prob-1") == "0.5" and by_testid(html, "cce-value") == f"{math.log(2):.4f}"
    )


def test_why_squares_with_numbers(client):
    html = client.get("/losses").text
    # A: errors +2, −2, +2, −2, 0. B: 0, 0, 0, 0, +8.
    assert by_testid(html, "mean-error-A") == "0" and by_testid(html, "mean-error-B") == "1.6"
    assert by_testid(html, "mae-A") == "1.6" and by_testid(html, "mae-B") == "1.6"
    assert by_testid(html, "mse-A") == "3.2" and by_testid(html, "mse-B") == "12.8"
    html = client.get("/losses?ys=1,2&pa=2,1&pb=1,4").text
    assert by_testid(html, "mean-error-A") == "0" and by_testid(html, "mse-A") == "1"
    assert by_testid(html, "mse-B") == "2"  # (0 + 4) / 2


@pytest.mark.parametrize("seed", range(5))
def test_coin_mle_is_the_sample_mean(seed):
    rng = np.random.default_rng(seed)
    tosses = "".join(rng.choice(["H", "T"], size=int(rng.integers(1, 60))))
    state = LossFields.parse(QueryParams(f"tosses={tosses}"))
    coin = losslab.coin(state)
    assert coin.p_closed == tosses.count("H") / len(tosses)
    assert coin.p_hat == pytest.approx(coin.p_closed, abs=1e-9)
    # The MLE is the minimum of the loss: BCE is lower there than anywhere on a grid.
    outcomes = np.array([c == "H" for c in tosses], dtype=float)
    grid = [losslab.coin_bce(p, outcomes) for p in np.linspace(0, 1, 101)]
    assert coin.bce_hat <= min(grid) + 1e-12


def test_coin_on_the_page(client):
    html = client.get("/losses?tosses=HHTHHTHHHT&pc=0.5").text
    assert "p̂ = <strong>0.7</strong>" in html and "7/10 = <strong>0.7</strong>" in html
    # L(0.5) = 0.5¹⁰ = 0.000977; −log L = 10 ln 2 = 6.9315 = 10 × 0.6931
    assert "= <strong>0.0009766</strong>" in html
    assert "−log L(p) = 6.9315 = n × BCE = 10 × 0.6931" in html
    # All heads: the likelihood p⁴ is largest at p = 1, the end of the interval.
    html = client.get("/losses?tosses=HHHH").text
    assert "p̂ = <strong>1</strong>" in html and "4/4 = <strong>1</strong>" in html


@pytest.mark.parametrize("seed", range(5))
def test_line_mle_is_least_squares(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(2, 30))
    x = rng.uniform(-3, 12, n)
    y = rng.normal(0.0, 1.0, n) + rng.uniform(-2, 2) * x
    w, b, steps = losslab.fit_line(x, y)
    w_ls, b_ls = np.polyfit(x, y, 1)
    assert (w, b) == pytest.approx((w_ls, b_ls), abs=1e-7)
    assert steps < 20_000


def test_line_on_the_page(client):
    pts = "0, 1\n1, 3\n2, 5\n3, 7.5"
    html = client.get("/losses", params={"pts": pts, "sigma": "2"}).text
    w_ls, b_ls = np.polyfit([0, 1, 2, 3], [1, 3, 5, 7.5], 1)
    found = re.findall(r"ŵ = (?:[^<]*?= )?<strong>([-\d.]+)</strong>", html)
    assert [float(v) for v in found] == pytest.approx([w_ls, w_ls], abs=1e-6)
    assert "−log L" in html
    # σ stretches the curve but does not move the best line.
    other = client.get("/losses", params={"pts": pts, "sigma": "0.1"}).text
    assert re.findall(r"ŵ = (?:[^<]*?= )?<strong>([-\d.]+)</strong>", other) == found


def test_saturation_gradients(client):
    html = client.get("/losses?zs=-4").text
    s = 1 / (1 + math.exp(4))
    assert float(by_testid(html, "sat-mse-grad")) == round(2 * (s - 1) * s * (1 - s), 4)  # −0.0347
    assert float(by_testid(html, "sat-bce-grad")) == round(s - 1, 4)  # −0.982
    assert int(by_testid(html, "steps-mse")) > 5 * int(by_testid(html, "steps-bce"))
    html = client.get("/losses?zs=-10").text
    assert by_testid(html, "steps-mse") == "more than 10000"


def test_saturation_float_formulas_are_the_engines():
    for z in (-9.0, -3.3, -0.2, 0.0, 2.5):
        s, _, dmse_ds, dsig, _, dbce = losslab.saturation_grads(z)
        _, grad = mse(np.array([s]), np.array([1.0]))
        assert dmse_ds * dsig == pytest.approx(float(grad[0]) * s * (1 - s), rel=1e-12)
        assert 2 * (s - 1) * s * (1 - s) == pytest.approx(dmse_ds * dsig, rel=1e-12)
        assert s - 1 == pytest.approx(
            float(binary_cross_entropy_with_logits(np.array([z]), np.array([1.0]))[1][0])
        )
        assert dbce == pytest.approx(s - 1)
    # From z = −0.5 one cross-entropy step (η = 1) reaches z > 0: −0.5 + (1 − σ(−0.5)) = 0.12
    assert losslab.steps_to_half(-0.5, use_mse=False) == 1


BAD_INPUT = [
    ("p=1.5", 400, "Predicted probability p is a probability, so it must be a number from 0 to 1"),
    ("p=-0.1", 400, "must be a number from 0 to 1"),
    ("p=nan", 400, "must be a number from 0 to 1"),
    ("t=2", 400, "Target t is a probability"),
    ("pc=1.01", 400, "Candidate p is a probability"),
    ("ys=", 422, "Targets y is empty"),
    ("ys=%20,%20", 422, "Targets y is empty"),
    ("tosses=", 422, "There are no coin tosses"),
    ("tosses=HHXT", 400, "H (heads) and T (tails) only"),
    ("pts=", 422, "There are no data points"),
    ("pts=1,2", 400, "at least two data points"),
    ("pts=1,2;1,3", 400, "All x values are equal"),
    ("pts=1,2;3", 400, "is not two numbers"),
    ("pa=1,2", 400, "Model A predicts has 2 numbers but there are 5 targets"),
    ("ys=1,x,3", 400, "is not a number between"),
    ("ys=1,1e400", 400, "is not a number"),
    ("ys=" + ",".join(["1"] * 51), 400, "at most 50"),
    ("k=5", 400, "True class must be between 1 and 4"),
    ("z1=1e9", 400, "Logit must be between -10 and 10"),
    ("yhat=nan", 400, "Prediction ŷ must be a finite number"),
    ("y=99", 400, "Target y must be between -5 and 5"),
    ("sigma=0", 400, "Noise σ must be between 0.01 and 100"),
    ("zs=inf", 400, "Logit z must be a finite number"),
]


def test_bad_input_full_page_and_htmx(client):
    for query, status, message in BAD_INPUT:
        response = client.get(f"/losses?{query}")
        assert response.status_code == status, query
        assert message in response.text, (query, response.text[:500])
        assert 'id="controls"' in response.text, query
        fragment = client.get(f"/losses?{query}", headers=HX_CONTROLS)
        assert fragment.status_code == status, query
        assert fragment.headers["HX-Retarget"] == "#controls-error"
        assert message in fragment.text and "<form" not in fragment.text, query


def test_bad_page_keeps_what_was_typed(client):
    html = client.get("/losses?tosses=HHXT&ys=4,5").text
    assert 'name="tosses" value="HHXT"' in html and 'name="ys" value="4,5"' in html


NASTY = ["", "-1", "0", "1e309", "nan", "inf", "2", "x", "💥", ";;;", "1,2;", "a" * 6000]
PARAMS = ["y", "yhat", "t", "p", "z1", "z4", "k", "ys", "pa", "pb", "tosses", "pc", "pts",
          "sigma", "wc", "zs"]  # fmt: skip


def test_hostile_queries_never_give_a_server_error(client):
    for seed in range(40):
        rng = random.Random(seed)
        query = [(name, rng.choice(NASTY)) for name in PARAMS if rng.random() < 0.3]
        for headers in ({}, HX_CONTROLS):
            response = client.get("/losses", params=query, headers=headers)
            assert response.status_code < 500, (query, response.text[-500:])
            if response.status_code >= 400:
                assert "error-message" in response.text
            else:  # what the user typed is echoed on error pages; results never show NaN
                assert not re.search(r"\bnan\b|\binf\b", response.text, re.IGNORECASE)


def test_url_round_trip(client):
    query = "y=-2&yhat=3.3&t=0.2&p=0.9&z1=1&z2=-3&z3=0&z4=4&k=4&tosses=HTT&pc=0.2&zs=-7"
    first = client.get(f"/losses?{query}", headers=HX)
    url = first.headers["HX-Push-Url"]
    again = client.get(url, headers=HX)
    assert again.headers["HX-Push-Url"] == url and again.text == first.text
