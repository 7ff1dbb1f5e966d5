"""The Loss lab says so by a value that binary cross-entropy's clamps changed, with the clamps the
engine uses (log at −100, p(1 − p) at 1e-12), and says nothing where they did not act."""

import math
import re
from html import unescape

import pytest

from engine.losses import BCE_EPS, LOG_CLAMP


def plain(text: str) -> str:
    """Numbers as Python writes them, whatever minus sign or exponent the page uses."""
    return text.replace("−", "-").replace("×10^", "e").lower()


def notes(html: str, testid: str) -> list[str]:
    found = re.findall(rf'data-testid="{testid}">(.*?)</p>', html, re.S)
    return [" ".join(unescape(re.sub(r"<[^>]+>", " ", text)).split()) for text in found]


def test_the_loss_at_p_0_says_that_log_0_was_clamped_and_to_what(client):
    html = client.get("/losses", params={"p": "0", "t": "1"}).text
    value = re.search(r'data-testid="bce-value">([^<]*)<', html).group(1)
    assert float(plain(value)) == -LOG_CLAMP  # the loss shown is the clamp, 100, not ∞
    (note,) = notes(html, "bce-value-clamped")
    assert "Clamped" in note and "log(p)" in note and "log 0 is −∞" in note
    assert f"{LOG_CLAMP:g}" in plain(note) and f"{math.exp(LOG_CLAMP):.3g}" in plain(note)
    (grad,) = notes(html, "bce-grad-clamped")
    assert f"{BCE_EPS:.3g}" in plain(grad) and "infinite" in grad, grad


@pytest.mark.parametrize(("p", "t", "exact"), [("0", "0", "1"), ("1", "1", "-1")])
def test_a_gradient_the_clamp_makes_0_gives_the_exact_derivative(client, p, t, exact):
    """At p = t = 0 the engine's (p − t)/max(p(1 − p), eps) is 0/eps = 0; L = −log(1 − p)
    has the derivative 1 there. Nothing is clamped in the loss itself (its log has weight 0)."""
    html = client.get("/losses", params={"p": p, "t": t}).text
    assert float(plain(re.search(r'data-testid="bce-grad">([^<]*)<', html).group(1))) == 0
    assert notes(html, "bce-value-clamped") == []
    (grad,) = notes(html, "bce-grad-clamped")
    assert plain(grad).endswith(f"the exact derivative of l at this p is {exact}."), grad


def test_the_other_end_names_log_of_1_minus_p(client):
    html = client.get("/losses", params={"p": "1", "t": "0.5"}).text
    (note,) = notes(html, "bce-value-clamped")
    assert "log(1 − p)" in note


def test_no_note_where_nothing_is_clamped(client):
    html = client.get("/losses", params={"p": "0.01", "t": "1", "pc": "0.3"}).text
    for testid in ("bce-value-clamped", "bce-grad-clamped", "coin-clamped"):
        assert notes(html, testid) == [], testid


@pytest.mark.parametrize(
    ("pc", "tosses", "log"), [("0", "HHT", "log(p)"), ("1", "HTT", "log(1 − p)")]
)
def test_the_coin_likelihood_at_p_0_or_1_says_it_is_clamped(client, pc, tosses, log):
    html = client.get("/losses", params={"pc": pc, "tosses": tosses}).text
    (note,) = notes(html, "coin-clamped")
    assert log in note and "infinite" in note and f"{LOG_CLAMP:g}" in plain(note), note
    # When every toss agrees with p, nothing is clamped: log 0 is multiplied by no toss.
    all_same = client.get("/losses", params={"pc": pc, "tosses": "H" * 3 if pc == "1" else "T" * 3})
    assert notes(all_same.text, "coin-clamped") == []


def test_the_note_is_translated(client):
    client.cookies.set("lang", "pt_BR")
    html = client.get("/losses", params={"p": "0", "t": "1"}).text
    (note,) = notes(html, "bce-value-clamped")
    assert "Clamped" not in note and "log(p)" in note
