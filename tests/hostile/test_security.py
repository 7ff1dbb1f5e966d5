"""Headers on every response, no API docs from a CDN, and forms only from our own pages."""

from __future__ import annotations

import re

import pytest

PAGES = ["/", "/about", "/filters", "/pooling", "/pipeline", "/train", "/text", "/signals",
         "/losses", "/optimizers", "/static/css/app.css", "/static/js/app.js",
         "/filters/image.png?view=input", "/no-such-page", "/filters?res=9"]  # fmt: skip


@pytest.mark.parametrize("path", PAGES)
def test_every_response_carries_the_security_headers(client, path):
    response = client.get(path)
    policy = response.headers["content-security-policy"]
    script_src = re.search(r"script-src ([^;]*)", policy).group(1)
    assert script_src == "'self'"  # no 'unsafe-inline', no 'unsafe-eval'
    assert "frame-ancestors 'self'" in policy and "object-src 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "same-origin"


def test_a_server_error_page_carries_them_too(client, monkeypatch):
    from app.labs.filters import views

    def broken(*args, **kwargs):
        raise RuntimeError("a bug")

    monkeypatch.setattr(views, "lab_context", broken)
    client_no_raise = type(client)(client.app, raise_server_exceptions=False)
    response = client_no_raise.get("/filters")
    assert response.status_code == 500
    assert "script-src 'self'" in response.headers["content-security-policy"]


def test_pages_have_no_inline_script_or_event_handler(client):
    for path in PAGES[:10]:
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html), path
        assert not re.search(r"\son[a-z]+\s*=", html), path
        assert "hx-on" not in html and "js:" not in html, path


def test_the_api_docs_are_off_and_the_schema_stays(client):
    assert client.get("/docs").status_code == 404
    assert client.get("/redoc").status_code == 404
    schema = client.get("/openapi.json").json()
    assert "/filters" in schema["paths"]


@pytest.mark.parametrize(
    "path", ["/train/runs", "/train/experiments/shift", "/text/runs", "/train/runs/abc/stop",
             "/filters/upload"],
)  # fmt: skip
def test_forms_from_another_site_are_refused(client, path):
    response = client.post(path, headers={"Origin": "https://evil.example"})
    assert response.status_code == 403
    assert "sent from another site (https://evil.example)" in response.text
    response = client.post(path, headers={"Sec-Fetch-Site": "cross-site"})
    assert response.status_code == 403
    response = client.post(path, headers={"Origin": "null"})  # a sandboxed frame, a file
    assert response.status_code == 403
    assert client.app.state.runs.runs() == []


def test_forms_from_our_own_pages_pass_the_origin_check(client):
    own = {"Origin": "http://testserver", "Sec-Fetch-Site": "same-origin"}
    response = client.post("/train/runs/abc/stop", headers=own)
    assert response.status_code == 404  # past the check: the run does not exist
    response = client.post("/filters/upload", headers={"Origin": "http://testserver"})
    assert response.status_code == 400 and "No file was attached" in response.text


def test_an_origin_the_settings_allow_passes(make_png):
    from starlette.testclient import TestClient

    from app.config import Settings
    from app.main import create_app

    settings = Settings(allowed_origins=("https://playground.school.example",))
    with TestClient(create_app(settings)) as client:
        headers = {"Origin": "https://playground.school.example"}
        response = client.post("/filters/upload", files={"image": ("a.png", make_png())},
                               headers=headers, follow_redirects=False)  # fmt: skip
        assert response.status_code == 303
