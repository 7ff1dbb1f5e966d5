"""The Training lab's setup form shows the choices that apply to the chosen dataset."""

import re

import pytest


@pytest.mark.parametrize("headers", [{}, {"Accept-Language": "pt-BR"}])
def test_shapes_show_their_one_size_not_a_digit_size(client, headers):
    html = client.get("/train?dataset=shapes&size=16", headers=headers).text
    assert 'id="size"' not in html and 'for="size"' not in html  # no "Digit size 16×16"
    assert re.search(r'data-testid="image-size">[^<]*28×28', html)
    assert '<input type="hidden" name="size" value="16">' in html  # kept for digits again


def test_digits_offer_their_sizes(client):
    html = client.get("/train?dataset=digits&size=16").text
    assert '<select id="size" name="size">' in html and 'data-testid="image-size"' not in html
    assert '<option value="16" selected>16×16</option>' in html
