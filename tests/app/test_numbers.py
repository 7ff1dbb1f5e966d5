"""app.web.numbers: numbers as each language writes them, and lists as each language types them."""

import math

import pytest
from starlette.testclient import TestClient

from app.web.numbers import (
    REQUEST_LOCALE,
    LocalNumber,
    Numbers,
    decimal_commas,
    numbers_for,
    numbers_text,
)

EN, PT = Numbers("en"), Numbers("pt_BR")
NBSP = "\u00a0"


@pytest.mark.parametrize(
    ("value", "digits", "en", "pt"),
    [
        (0.125, 3, "0.125", "0,125"),
        (-3.0, 3, "-3", "-3"),
        (2.5, 3, "2.5", "2,5"),
        (0.1 + 0.2, 3, "0.3", "0,3"),  # rounded, trailing zeros dropped
        (1 / 3, 4, "0.3333", "0,3333"),
        (-1234.5678, 3, "-1234.568", "-1234,568"),  # formulas: no grouping
        (99999.0, 3, "99999", "99999"),
        (123456.0, 3, "1.23e+05", "1,23e+05"),  # scientific from 100,000 on
        (0.0005, 3, "0.0005", "0,0005"),  # and below 0.001
        (-0.00012345, 2, "-0.00012", "-0,00012"),
        (1e-12, 3, "1e-12", "1e-12"),
        (-0.0, 3, "0", "0"),
        (-0.0004, 2, "-0.0004", "-0,0004"),
        (7, 3, "7", "7"),
        (float("nan"), 3, "NaN", "NaN"),
        (math.inf, 3, "∞", "∞"),
        (-math.inf, 3, "-∞", "-∞"),
    ],
)
def test_short(value, digits, en, pt):
    assert EN.short(value, digits) == en
    assert PT.short(value, digits) == pt
    assert PT(value, digits) == pt  # the object is the `num` filter


def test_numpy_values_are_numbers_too():
    np = pytest.importorskip("numpy")
    assert PT.short(np.float32(0.1)) == "0,1"
    assert PT.integer(np.int64(22050)) == "22.050"


@pytest.mark.parametrize(
    ("value", "en", "pt"),
    [(61706, "61,706", "61.706"), (22050, "22,050", "22.050"), (999, "999", "999"),
     (-1048576, "-1,048,576", "-1.048.576"), (2.6, "3", "3"), (0, "0", "0")],
)  # fmt: skip
def test_integer_groups_thousands(value, en, pt):
    assert EN.integer(value) == en
    assert PT.integer(value) == pt


def test_integer_of_nan():
    assert PT.integer(float("nan")) == "NaN"


@pytest.mark.parametrize(
    ("fraction", "digits", "en", "pt"),
    [(0.947, 1, "94.7%", f"94,7{NBSP}%"), (1.0, 1, "100%", f"100{NBSP}%"),
     (0.5, 0, "50%", f"50{NBSP}%"), (0.12345, 2, "12.35%", f"12,35{NBSP}%"),
     (0.0, 1, "0%", f"0{NBSP}%"), (-0.031, 1, "-3.1%", f"-3,1{NBSP}%"),
     (12.5, 1, "1250%", f"1250{NBSP}%")],
)  # fmt: skip
def test_percent(fraction, digits, en, pt):
    assert EN.percent(fraction, digits) == en
    assert PT.percent(fraction, digits) == pt


def test_percent_of_nan():
    assert PT.percent(float("nan")) == f"NaN{NBSP}%"


def test_fixed_keeps_its_decimals_and_can_sign():
    assert EN.fixed(0.5, 2) == "0.50" and PT.fixed(0.5, 2) == "0,50"
    assert PT.fixed(0.5321, 2, plus=True) == "+0,53"
    assert PT.fixed(-1.5, 2, plus=True) == "-1,50"
    assert PT.fixed(-0.001, 2, plus=True) == "0,00"  # no "-0,00", no "+0,00"
    assert PT.fixed(1234.5, 0) == "1234"  # half to even, as Python rounds


def test_significant_uses_a_true_minus():
    assert EN.significant(-0.12345) == "−0.1235" and PT.significant(-0.12345) == "−0,1235"
    assert PT.significant(2406.219) == "2406"
    assert PT.significant(0.0005185) == "0,0005185"
    assert PT.significant(1.5e-9) == "1,5e−09"
    assert PT.significant(0.001, 6) == "0,001"


def test_tick_labels():
    ticks = [PT.tick(v) for v in (0.25, 2.5, 1250.0, -0.5, 0.0)]
    assert ticks == ["0,25", "2,5", "1250", "-0,5", "0"]
    assert [EN.tick(v) for v in (0.25, 1250.5)] == ["0.25", "1250.5"]


def test_one_formatter_per_locale():
    assert numbers_for("pt_BR") is numbers_for("pt_BR")
    assert numbers_for("pt_BR").decimal_symbol == "," and numbers_for("en").decimal_symbol == "."


def test_machine_text_stays_plain():
    assert numbers_text([1.0, 0.5, -0.25, 1 / 3, -0.00001]) == "1 0.5 -0.25 0.3333 0"


def test_a_local_number_is_written_in_the_locale_of_the_request():
    number = LocalNumber(5040)
    assert f"{number}" == "5,040"  # outside a request: English
    token = REQUEST_LOCALE.set("pt_BR")
    try:
        message = "%(n)s passos"  # a msgstr, filled as UserError fills it
        assert message % {"n": number} == "5.040 passos"
        assert str(LocalNumber(2.5, "short", digits=2)) == "2,5"
    finally:
        REQUEST_LOCALE.reset(token)


@pytest.mark.parametrize(
    ("typed", "pt"),
    [("1,5 2,5", "1.5 2.5"), ("-1,5;2,25", "-1.5;2.25"), ("0,5, 1,5", "0.5, 1.5"),
     ("1.5 2,5", "1.5 2.5"), ("12,55\n3", "12.55\n3"), ("1,2,3", "1,2,3"), ("1, 2", "1, 2"),
     ("x,5", "x,5"), ("1/3 0,5", "1/3 0.5")],
)  # fmt: skip
def test_decimal_commas(typed, pt):
    assert decimal_commas(typed, "pt_BR") == pt
    assert decimal_commas(typed, "en") == typed  # in English a comma separates numbers


def test_decimal_commas_follow_the_request():
    token = REQUEST_LOCALE.set("pt_BR")
    try:
        assert decimal_commas("1,5") == "1.5"
    finally:
        REQUEST_LOCALE.reset(token)
    assert decimal_commas("1,5") == "1,5"


# --- typed lists over HTTP -----------------------------------------------------------------------


def slide_sum(html: str) -> str:
    return html.split('data-testid="slide-sum">', 1)[1].split("</p>", 1)[0]


@pytest.mark.parametrize("lang", ["pt_BR", "en"])
def test_a_signal_typed_with_decimal_commas(client: TestClient, lang):
    client.cookies.set("lang", lang)
    html = client.get("/signals", params={"xs": "1,5 2,5", "hs": "0,5"}).text
    if lang == "pt_BR":  # two numbers and one: y[0] = 0,5·1,5
        assert slide_sum(html).startswith("y[0] = 0,5·1,5 = <strong>0,75</strong>")
    else:  # four numbers and two, as before
        assert slide_sum(html).startswith("y[0] = 5·0 + 0·1 = <strong>0</strong>")


def test_a_portuguese_list_keeps_accepting_dots(client: TestClient):
    client.cookies.set("lang", "pt_BR")
    html = client.get("/signals", params={"xs": "1.5 2,5", "hs": "1"}).text
    assert "y[0] = 1·1,5 = <strong>1,5</strong>" in slide_sum(html)


def test_loss_lists_and_points_with_decimal_commas(client: TestClient):
    client.cookies.set("lang", "pt_BR")
    response = client.get(
        "/losses", params={"ys": "1,5; 2,5", "pa": "1 2", "pb": "1,5 2,5", "pts": "0,5, 1\n1,5, 2"}
    )
    assert response.status_code == 200, response.text[-500:]
    assert 'data-testid="mse-B">0<' in response.text  # B predicts the targets exactly
    assert 'data-testid="mse-A">0,25<' in response.text  # (0,5² + 0,5²) / 2
    client.cookies.set("lang", "en")
    refused = client.get("/losses", params={"ys": "1,5; 2,5", "pa": "1 2", "pb": "1 2"})
    assert refused.status_code == 400  # four targets in English, two predictions


def test_a_custom_kernel_with_decimal_commas(client: TestClient):
    client.cookies.set("lang", "pt_BR")
    params = {"f": "custom", "kernel": "0,25 0,5 0,25", "res": "64"}
    response = client.get("/filters", params=params)
    assert response.status_code == 200, response.text[-500:]
    assert "1×3" in response.text and "0,25" in response.text
    # The link a teacher shares is the same in both languages.
    assert "kernel=0.25+0.5+0.25" in response.headers.get("HX-Push-Url", "") or (
        "kernel=0.25+0.5+0.25" in response.text
    )
