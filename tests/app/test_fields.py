"""Fields declared once (app.web.fields): how a browser's text is read, the messages a mistake
gets in both languages, the URL and the form values that come from the same declaration, and
/openapi.json documenting every field with its type and bounds."""

from __future__ import annotations

import re
from typing import Literal

import pytest
from starlette.datastructures import QueryParams

from app.web.errors import UserError, UserErrors
from app.web.fields import Fields, field
from app.web.i18n import N_
from tests.app.conftest import HX_CONTROLS


class Sample(Fields):
    stride: int = field(1, N_("Stride"), ge=1, le=64)
    sigma: float = field(1.0, N_("Gaussian σ"), ge=0.1, le=10.0)
    mode: Literal["zeros", "reflect"] = field("zeros", N_("Border mode"))
    names: list[str] = field(["a"], N_("Filter bank"), alias="f")
    flag: bool = field(True, N_("On or off"))
    row: int | None = field(None, N_("Row"), ge=0, le=9)
    button: str | None = field(None, in_query=False)


def parse(query: str) -> Sample:
    return Sample.parse(QueryParams(query))


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("", {"stride": 1, "sigma": 1.0, "row": None}),  # nothing sent: the defaults
        ("row=+", {"row": None}),  # an optional number left blank: none
        ("stride=2.0", {"stride": 2}),  # a whole number written as a decimal
        ("stride=1e1", {"stride": 10}),
        ("stride=%20%207%20", {"stride": 7}),
        ("sigma=0,5", {"sigma": 0.5}),  # a decimal comma
        ("sigma=1/4", {"sigma": 0.25}),  # a fraction
        ("sigma=%E2%88%920.5&stride=3", {"stride": 3}),  # unicode minus: out of range below
        ("flag=0&flag=1", {"flag": True}),  # a checkbox after its hidden 0: the last one wins
        ("flag=1&flag=0", {"flag": False}),
        ("mode=+reflect+", {"mode": "reflect"}),
        ("f=x&f=y", {"names": ["x", "y"]}),
    ],
)
def test_text_is_read_as_a_student_writes_it(query, expected):
    if "%E2%88%92" in query:
        with pytest.raises(UserError) as caught:
            parse(query)
        assert str(caught.value.params["low"]) == "0.1"
        return
    fields = parse(query)
    for name, value in expected.items():
        assert getattr(fields, name) == value


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("stride=0", "Stride must be between 1 and 64 (got 0)."),
        ("stride=999", "Stride must be between 1 and 64 (got 999)."),
        ("stride=-1", "Stride must be between 1 and 64 (got -1)."),
        ("stride=1e9", "Stride must be between 1 and 64 (got 1e9)."),
        ("stride=2.5", "Stride must be a whole number (got '2.5')."),
        # A number the lab needs, left blank, is a mistake to point at, not a silent default.
        ("stride=", "Stride is empty: type a number between 1 and 64."),
        ("sigma=+", "Gaussian σ is empty: type a number between 0.1 and 10."),
        ("stride=abc", "Stride must be a whole number (got 'abc')."),
        ("sigma=nan", "Gaussian σ must be a finite number (got 'nan')."),
        ("sigma=inf", "Gaussian σ must be a finite number (got 'inf')."),
        ("sigma=x", "Gaussian σ must be a finite number (got 'x')."),
        ("sigma=99", "Gaussian σ must be between 0.1 and 10 (got 99)."),
        ("mode=mirror", "Border mode must be one of: zeros, reflect (got 'mirror')."),
        ("flag=maybe", "On or off must be one of: 0, 1 (got 'maybe')."),
    ],
)
def test_each_mistake_names_the_field_and_its_range(query, message):
    with pytest.raises(UserError) as caught:
        parse(query)
    assert caught.value.translated(lambda text: text) == message
    assert caught.value.status == 400


def test_several_mistakes_come_back_in_the_forms_order():
    with pytest.raises(UserErrors) as caught:
        parse("mode=mirror&stride=0")
    assert caught.value.messages(lambda text: text) == [
        "Stride must be between 1 and 64 (got 0).",
        "Border mode must be one of: zeros, reflect (got 'mirror').",
    ]


def test_the_url_and_the_form_come_from_the_same_declaration():
    fields = parse("f=x&f=y&sigma=0,25&row=3&flag=0&button=keep")
    assert fields.query() == "stride=1&sigma=0.25&mode=zeros&f=x&f=y&flag=0&row=3"
    assert parse(fields.query()) == fields.model_copy(update={"button": None})
    assert fields.form() == {"stride": "1", "sigma": "0.25", "mode": "zeros", "f": ["x", "y"],
                             "flag": "0", "row": "3", "button": "keep"}  # fmt: skip
    assert fields.query(row=None, stride="5") == "stride=5&sigma=0.25&mode=zeros&f=x&f=y&flag=0"


def test_what_was_typed_comes_back_mistakes_and_all():
    typed = Sample.typed(QueryParams("stride=0&f=x&f=&sigma=" + "9" * 1000))
    assert typed["stride"] == "0" and typed["f"] == ["x", ""]
    assert typed["mode"] == "zeros"  # not sent: the default
    assert len(typed["sigma"]) == 401  # long text is cut, not dropped


# --- through the app: the messages in place and in both languages -------------------------------


@pytest.mark.parametrize("value", ["0", "999", "-1", "1e9", "2.5", "abc"])
def test_a_field_out_of_range_gets_its_translated_message(client, value):
    english = client.get(f"/filters?sample=dot&stride={value}", headers=HX_CONTROLS)
    assert english.status_code == 400
    assert "Stride must be" in english.text and f"{value}" in english.text
    client.cookies.set("lang", "pt_BR")
    portuguese = client.get(f"/filters?sample=dot&stride={value}", headers=HX_CONTROLS)
    client.cookies.clear()
    assert portuguese.status_code == 400
    assert "Salto (stride)” deve" in portuguese.text and "Stride must" not in portuguese.text


def test_every_lab_documents_every_field_with_its_type_and_bounds(client):
    from app.labs.filters.fields import FilterFields

    schema = client.get("/openapi.json").json()
    params = {p["name"]: p["schema"] for p in schema["paths"]["/filters"]["get"]["parameters"]}
    declared = {info.alias or name for name, info in FilterFields.model_fields.items()}
    assert declared <= set(params)
    for name, low, high in [("stride", 1, 64), ("dilation", 1, 16), ("size", 1, 15),
                            ("pad", 0, 64), ("res", 16, 512), ("m", 0, 7)]:  # fmt: skip
        assert params[name]["type"] == "integer"
        assert (params[name]["minimum"], params[name]["maximum"]) == (low, high), name
    assert params["padding"]["enum"] == ["valid", "same", "full", "number"]
    assert params["mode"]["enum"] == ["zeros", "reflect", "replicate", "circular"]
    assert params["op"]["enum"] == ["correlate", "convolve"]
    assert params["sigma"]["type"] == "number" and params["bias"]["maximum"] == 1000
    assert params["f"]["type"] == "array" and params["kernel"]["maxLength"] == 6000
    assert params["stride"]["title"] == "Stride"
    pages = ["/filters", "/pooling", "/pipeline", "/train", "/text", "/signals", "/losses",
             "/optimizers"]  # fmt: skip
    for path in pages:
        documented = schema["paths"][path]["get"]["parameters"]
        assert len(documented) >= 6, path
        bounded = [p for p in documented if _bounds(p["schema"])]
        assert bounded, path


def _bounds(schema: dict) -> bool:
    options = schema.get("anyOf", [schema])
    return any(re.search("minimum|maximum|enum|maxLength", str(o)) for o in options)
