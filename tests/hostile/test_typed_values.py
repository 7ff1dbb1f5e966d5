"""What a student can type into a URL or a field: Unicode digits, numbers of thousands of digits,
malformed addresses. Each gets a 4xx and a message that names the field, never a 500."""

from __future__ import annotations

import html
import re

import pytest

GIANT = "9" * 4400  # more digits than int() parses (4,300)


def message(response) -> str:
    found = re.findall(r'class="error-message"[^>]*>(.*?)</', response.text, flags=re.S)
    assert found, response.text[-400:]
    return html.unescape(" ".join(found))


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("/text?maxlen=²", "Maximum length (maxlen) must be a whole number (got '²')"),
        ("/train?edit=remove:²", "Unknown layer edit 'remove:²'"),
        ("/train?edit=up:٣", "Unknown layer edit 'up:٣'"),
        ("/optimizers?o²=adam", "'o²' is not an optimizer"),
        (f"/optimizers?o{GIANT}=adam", "At most 7 optimizers race at once"),
        (f"/text?maxlen={GIANT}", "Maximum length (maxlen) must be between 5 and 100 (got 9999"),
        (f"/filters?res={GIANT}", "Working size must be between 16 and 512"),
        (f"/pooling?psize={GIANT}", "Pool size must be between 1 and 16"),
        (f"/optimizers?lr1={GIANT}", "Learning rate must be a finite number"),
        ("/lang/en?next=http://[", "The return address 'http://[' is not a valid address"),
    ],
)
def test_odd_numbers_and_addresses_get_a_message(client, url, expected):
    response = client.get(url, follow_redirects=False)
    assert 400 <= response.status_code < 500
    assert expected in message(response)
    assert client.get("/healthz").json() == {"status": "ok"}


def test_a_backslash_return_address_does_not_leave_the_site(client):
    # Browsers read "/\evil.example" as "//evil.example".
    response = client.get("/lang/en?next=/\\evil.example/x", follow_redirects=False)
    assert response.status_code == 303 and response.headers["location"] == "/"


def test_a_text_field_over_its_limit_is_named_with_the_right_limit(client):
    too_long = "conv 6 5x5, " * 100_000  # 1.2 MB of layer text
    headers = {"HX-Request": "true"}
    for response in (
        client.post("/train/runs", data={"arch": too_long}, headers=headers),
        client.post(
            "/pipeline/upload",
            files={"image": ("x.png", b"x")},
            data={"arch": too_long},
            headers=headers,
        ),  # fmt: skip
    ):
        assert response.status_code == 413
        assert message(response) == (
            "A text field of this form is longer than the 1 MB limit for one field. "
            "Shorten it and send the form again."
        )


@pytest.mark.parametrize("extra", [10, 200_000])  # within the form's overhead, and past it
def test_a_file_over_the_limit_names_the_limit_the_form_shows(client, extra):
    data = b"0" * (10 * 1024 * 1024 + extra)
    response = client.post("/filters/upload", files={"image": ("big.png", data)},
                           headers={"HX-Request": "true"})  # fmt: skip
    assert response.status_code == 413
    assert message(response) == (
        "The file is larger than the 10 MB upload limit. Choose a smaller image."
    )
    form = client.get("/filters").text
    assert "10 MB" in html.unescape(form)
