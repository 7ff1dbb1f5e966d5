"""Languages: catalogs compiled in memory from locales/*.po, and the choice of language per request.

The .po files are the single source; compiling them at start-up means no binary .mo files in git
and no build step that a fresh clone could forget.
"""

from __future__ import annotations

import gettext
import io
from dataclasses import dataclass
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po

DEFAULT_LOCALE = "en"
LANG_COOKIE = "lang"


@dataclass(frozen=True)
class Language:
    code: str  # catalog folder name, e.g. "pt_BR"
    tag: str  # BCP 47 tag for <html lang>, e.g. "pt-BR"
    name: str  # the language's name in itself, for the switch


LANGUAGES = {
    "en": Language("en", "en", "English"),
    "pt_BR": Language("pt_BR", "pt-BR", "Português"),
}


def N_(message: str) -> str:
    """Mark a string for extraction; it is translated where the request's language is known."""
    return message


def load_translations(locales_dir: Path) -> dict[str, gettext.NullTranslations]:
    translations: dict[str, gettext.NullTranslations] = {}
    for code in LANGUAGES:
        po_path = locales_dir / code / "LC_MESSAGES" / "messages.po"
        if not po_path.exists():
            translations[code] = gettext.NullTranslations()
            continue
        with po_path.open("rb") as fh:
            catalog = read_po(fh, locale=code)
        buffer = io.BytesIO()
        write_mo(buffer, catalog)
        buffer.seek(0)
        translations[code] = gettext.GNUTranslations(buffer)
    return translations


def parse_accept_language(header: str | None) -> str | None:
    """The best supported language in an Accept-Language header, by its q weights."""
    if not header:
        return None
    choices: list[tuple[float, int, str]] = []
    for position, part in enumerate(header.split(",")):
        pieces = part.strip().split(";")
        tag = pieces[0].strip().lower()
        quality = 1.0
        for param in pieces[1:]:
            key, _, value = param.strip().partition("=")
            if key == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        if tag and quality > 0:
            choices.append((-quality, position, tag))
    for _, _, tag in sorted(choices):
        if tag.startswith("pt"):
            return "pt_BR"
        if tag.startswith("en") or tag == "*":
            return "en"
    return None


def choose_locale(cookie: str | None, accept_language: str | None) -> str:
    if cookie in LANGUAGES:
        return cookie
    return parse_accept_language(accept_language) or DEFAULT_LOCALE
