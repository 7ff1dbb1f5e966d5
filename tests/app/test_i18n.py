"""Both catalogs are complete: every string the code marks is translated, placeholders intact."""

import re

import pytest

from app.web.i18n import parse_accept_language
from scripts.i18n_sync import extract, load, missing

PLACEHOLDER = re.compile(r"%\(\w+\)s")


@pytest.fixture(scope="module")
def template():
    return extract()


@pytest.mark.parametrize("code", ["en", "pt_BR"])
def test_catalog_has_every_extracted_message(template, code):
    assert len(template) > 150
    assert missing(template, code) == []


def test_portuguese_keeps_every_placeholder():
    for message in load("pt_BR"):
        if not message.id:
            continue
        # A plural message has several forms; each keeps the placeholders of the English one.
        english = message.id[-1] if message.pluralizable else message.id
        forms = message.string if message.pluralizable else (message.string,)
        for form in forms:
            assert sorted(PLACEHOLDER.findall(english)) == sorted(PLACEHOLDER.findall(form)), (
                message.id
            )


def test_portuguese_is_really_portuguese():
    catalog = load("pt_BR")
    assert catalog.get("Feature maps").string == "Mapas de características"
    same = [m.id for m in catalog if m.id and m.string == m.id]

    # Names, formulas and a few shared words may stay; sentences may not.
    def words(text: str) -> int:
        return sum(1 for word in text.split() if word.isalpha() and len(word) > 2)

    assert all(words(text) <= 3 for text in same), same


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("pt-BR,pt;q=0.9", "pt_BR"),
        ("pt-PT", "pt_BR"),
        ("en-GB,en;q=0.8", "en"),
        ("fr-FR, pt;q=0.5", "pt_BR"),
        ("fr-FR", None),
        ("en;q=0.1, pt;q=0.9", "pt_BR"),
        ("pt;q=0", None),
        ("", None),
        ("garbage;;;q=x", None),
    ],
)
def test_accept_language(header, expected):
    assert parse_accept_language(header) == expected
