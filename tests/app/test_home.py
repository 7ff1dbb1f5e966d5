import re

from tests.app.conftest import HX


def test_home_lists_seven_labs_and_links_only_built_ones(client):
    response = client.get("/")
    assert response.status_code == 200
    html = response.text
    assert '<html lang="en">' in html
    assert html.count('class="lab-card') == 7
    assert 'href="/filters"' in html
    # Unbuilt labs are text, not links to fake pages.
    assert 'href="/pooling"' in html
    assert 'href="/train"' in html
    assert 'href="/signals"' in html
    assert 'href="/losses"' in html
    assert 'href="/optimizers"' in html
    assert 'href="/text"' in html


def test_healthz_and_openapi(client):
    assert client.get("/healthz").json() == {"status": "ok"}
    schema = client.get("/openapi.json").json()
    assert "/filters" in schema["paths"]


def test_language_from_accept_language(client):
    html = client.get("/", headers={"Accept-Language": "pt-BR,pt;q=0.9,en;q=0.5"}).text
    assert '<html lang="pt-BR">' in html
    assert "Filtros" in html


def test_accept_language_weights_are_respected(client):
    html = client.get("/", headers={"Accept-Language": "pt;q=0.2, en;q=0.9"}).text
    assert '<html lang="en">' in html


def test_unsupported_language_defaults_to_english(client):
    html = client.get("/", headers={"Accept-Language": "de-DE"}).text
    assert '<html lang="en">' in html


def test_switch_sets_cookie_and_returns_to_page(client):
    response = client.get("/lang/pt_BR?next=/filters%3Fsample%3Ddot", follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"] == "/filters?sample=dot"
    assert "lang=pt_BR" in response.headers["set-cookie"]
    client.cookies.set("lang", "pt_BR")
    html = client.get("/", headers={"Accept-Language": "en"}).text
    assert '<html lang="pt-BR">' in html  # the cookie wins over the header


def test_switch_refuses_open_redirect(client):
    response = client.get("/lang/en?next=https://evil.example/x", follow_redirects=False)
    assert response.headers["location"] == "/"
    response = client.get("/lang/en?next=//evil.example/x", follow_redirects=False)
    assert response.headers["location"] == "/"


def test_unknown_language_is_404_with_message(client):
    response = client.get("/lang/xx")
    assert response.status_code == 404
    assert "Unknown language" in response.text


def test_unknown_page_is_html_404(client):
    response = client.get("/nope")
    assert response.status_code == 404
    assert "There is no page at this address." in response.text
    response = client.get("/nope", headers=HX)
    assert response.status_code == 404
    assert response.headers["HX-Retarget"] == "#page-error"


def test_every_page_has_language_switch(client):
    for path in ("/", "/filters", "/about"):
        html = client.get(path).text
        assert re.search(r'href="/lang/pt_BR\?next=', html)
        assert re.search(r'href="/lang/en\?next=', html)


def test_htmx_is_vendored_with_version_in_name(client):
    html = client.get("/").text
    match = re.search(r'src="(/static/vendor/htmx-2\.\d+\.\d+\.min\.js)"', html)
    assert match
    script = client.get(match.group(1))
    assert script.status_code == 200
    assert "htmx" in script.text[:2000]


def test_about_page_credits_every_sample_and_states_limits(client):
    html = client.get("/about").text
    for credit in ("NASA", "Stéfan van der Walt", "Rachel Michetti", "Lav Varshney", "CC0Textures"):
        assert credit in html
    assert "up to 10 MB and 40 megapixels" in html


def test_about_page_credits_the_digits(client):
    html = client.get("/about").text
    assert "Alpaydin" in html and "CC BY 4.0" in html and "10.24432/C50P49" in html
