"""Every route, fuzzed from the app's own /openapi.json with Hypothesis.

Each parameter a route declares gets values from its schema (in range, at its bounds, its enum)
mixed with what students and attackers type (Unicode digits, numbers of thousands of digits, NaN,
markup, NUL, very long text). Whatever comes in: no 5xx, an error page says what was wrong, and no
markup sent comes back as markup. The number of cases is bounded (CNN_FUZZ_EXAMPLES per route,
derandomized) so CI stays fast and every run tries the same cases.
"""

from __future__ import annotations

import os
import re
import time

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from app.media.samples import SAMPLES
from engine.kernels import KERNELS
from tests.hostile.conftest import XSS, assert_escaped

EXAMPLES = int(os.environ.get("CNN_FUZZ_EXAMPLES", "25"))
HOSTILE = [
    "", " ", "-1", "0", "-0", "1e309", "-1e309", "nan", "inf", "1.5", "0x10", "1_000", "²", "٣٢",
    "9" * 5000, "١e٣", "\x00", "%00", "../../etc/passwd", "null", "true", "a" * 7000,
    "conv 6 5x5, pool 2", "1 2 3\n4 5 6", *XSS,
]  # fmt: skip
WORDS = [*SAMPLES, *KERNELS, "sample:coffee", "upload:0123456789abcdef0123", "custom", "adam",
         "rosenbrock", "digits", "lenet", "builtin", "own"]  # fmt: skip


@pytest.fixture(scope="module")
def fuzzed():
    """One app for the whole module, with a finished run so run routes reach their parameters."""
    app = create_app(Settings(run_workers=2, run_max_seconds=5))  # fuzzed runs end soon
    with TestClient(app, raise_server_exceptions=False) as client:
        query = "dataset=digits&size=8&preset=tiny&epochs=1&batch=32&seed=0"
        started = client.post(
            "/train/runs",
            content=query,
            follow_redirects=False,
            headers={"content-type": "application/x-www-form-urlencoded"},
        )
        run_id = started.headers["location"].rsplit("/", 1)[1]
        deadline = time.monotonic() + 60
        while app.state.runs.get(run_id).active and time.monotonic() < deadline:
            time.sleep(0.1)
        schema = client.get("/openapi.json").json()
        yield client, schema, run_id


def _schemas(schema: dict) -> list[dict]:
    return schema.get("anyOf", [schema])


def value_for(schema: dict) -> st.SearchStrategy[str]:
    """Values a parameter's schema allows (its bounds included), and the words the labs know."""
    options: list[st.SearchStrategy] = []
    for part in _schemas(schema):
        kind = part.get("type")
        if "enum" in part or "const" in part:
            options.append(st.sampled_from([str(v) for v in part.get("enum", [part.get("const")])]))
        elif kind == "integer":
            low, high = part.get("minimum", -(10**6)), part.get("maximum", 10**6)
            options.append(st.one_of(st.integers(low, high), st.sampled_from([low, high])).map(str))
        elif kind == "number":
            low, high = part.get("minimum", -1e6), part.get("maximum", 1e6)
            options.append(st.floats(low, high, allow_nan=False).map(repr))
        elif kind == "boolean":
            options.append(st.sampled_from(["0", "1", "true", "false", "on"]))
        elif kind in ("string", "array"):
            options.append(st.sampled_from(WORDS))
    return st.one_of(*options) if options else st.sampled_from(WORDS)


def hostile_for(schema: dict) -> st.SearchStrategy[str]:
    """Just outside the bounds, text of any kind, and what attackers type."""
    edges = []
    for part in _schemas(schema):
        for bound, step in (("minimum", -1), ("maximum", 1), ("maxLength", None)):
            if bound in part:
                edges.append("x" * (part[bound] + 1) if step is None else str(part[bound] + step))
    return st.one_of(st.sampled_from(HOSTILE + edges), st.text(max_size=12))


def query_for(parameters: list[dict]) -> st.SearchStrategy[list[tuple[str, str]]]:
    """A few of the route's query parameters with values their schemas allow, and often one
    more with a hostile value: most cases get past the parsing to the lab's computation."""
    names = [p for p in parameters if p["in"] == "query"]
    if not names:
        return st.just([])

    @st.composite
    def build(draw):
        chosen = draw(st.lists(st.sampled_from(names), max_size=min(4, len(names)), unique_by=id))
        query = [(p["name"], draw(value_for(p["schema"]))) for p in chosen]
        if draw(st.booleans()):
            target = draw(st.sampled_from(names))
            query.append((target["name"], draw(hostile_for(target["schema"]))))
        return query

    return build()


def operations() -> list[tuple[str, str]]:
    app = create_app()
    with TestClient(app) as client:
        paths = client.get("/openapi.json").json()["paths"]
    return [(method.upper(), path) for path, ops in paths.items() for method in ops]


# The form posts read their fields from the form the GET page declares.
FORM_FIELDS_FROM = {"/train/runs": "/train", "/text/runs": "/text",
                    "/train/runs/{run_id}/predict": "/train"}  # fmt: skip


PICTURES = re.compile(r'src="(/[a-z]+/[a-z.]+\.(?:png|wav|gif)\?[^"]*)"')


def check(response, client=None) -> None:
    """No 5xx; an HTML error says what was wrong; no markup came back as markup. With `client`,
    every picture a page links to answers too (a page can be fine and its pictures not)."""
    assert response.status_code < 500, (response.request.url, response.text[-600:])
    if "text/html" in response.headers.get("content-type", ""):
        assert_escaped(response.text)
        if response.status_code >= 400 and response.status_code != 405:
            assert re.search(r'class="error-message"', response.text), response.text[-400:]
        if client is not None and response.status_code == 200:
            for src in set(PICTURES.findall(response.text)):
                picture = client.get(src.replace("&amp;", "&"))
                assert picture.status_code < 500, (response.request.url, src)


@pytest.mark.parametrize(("method", "path"), operations())
def test_no_route_gives_a_500_whatever_it_is_sent(fuzzed, method, path):
    client, schema, run_id = fuzzed
    operation = schema["paths"][path][method.lower()]
    parameters = operation.get("parameters", [])
    if method == "POST" and path in FORM_FIELDS_FROM:
        parameters = schema["paths"][FORM_FIELDS_FROM[path]]["get"].get("parameters", [])

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
              suppress_health_check=list(HealthCheck))  # fmt: skip
    @given(query=query_for(parameters),
           run=st.sampled_from([run_id, run_id, "nope", "0" * 12, "<b>x</b>"]),
           code=st.sampled_from(["en", "pt_BR", "xx", "<i>"]))  # fmt: skip
    def one_case(query, run, code):
        url = path.replace("{run_id}", run).replace("{code}", code)
        if method == "GET":
            response = client.get(url, params=query, follow_redirects=False)
        else:
            response = client.post(url, data=dict(query), follow_redirects=False)
        check(response, client)

    one_case()
    assert client.get("/healthz").json() == {"status": "ok"}  # and the server still answers


def boundary_values(schema: dict) -> list[str]:
    """Each bound and each choice of one parameter: the values a random draw may never pick."""
    values = []
    for part in _schemas(schema):
        values += [str(v) for v in part.get("enum", [])]
        if "const" in part:
            values.append(str(part["const"]))
        for bound in ("minimum", "maximum"):
            if bound in part:
                values.append(str(part[bound]))
    return values


@pytest.mark.parametrize(("method", "path"), [op for op in operations() if op[0] == "GET"])
def test_every_bound_and_choice_of_every_parameter_alone(fuzzed, method, path):
    """One request per bound or choice, each parameter alone, the others at their defaults."""
    client, schema, run_id = fuzzed
    url = path.replace("{run_id}", run_id).replace("{code}", "en")
    for parameter in schema["paths"][path]["get"].get("parameters", []):
        if parameter["in"] != "query":
            continue
        for value in boundary_values(parameter["schema"]):
            check(client.get(url, params={parameter["name"]: value}, follow_redirects=False),
                  client)  # fmt: skip


@pytest.mark.parametrize(("method", "path"), [op for op in operations() if op[0] == "GET"])
def test_markup_in_any_parameter_comes_back_as_text(fuzzed, method, path):
    """Every parameter of every page, with each probe: error messages echo what was typed, the
    forms show it back, and none of it may become markup."""
    client, schema, run_id = fuzzed
    url = path.replace("{run_id}", run_id).replace("{code}", "en")
    for parameter in schema["paths"][path]["get"].get("parameters", []):
        if parameter["in"] == "query":
            for probe in XSS:
                check(client.get(url, params={parameter["name"]: probe}, follow_redirects=False))
