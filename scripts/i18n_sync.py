"""Extract every translatable string, merge it into the catalogs, and report what is missing.

    python scripts/i18n_sync.py          # update locales/, fill English, list untranslated pt_BR
    python scripts/i18n_sync.py --check  # change nothing; exit 1 if a catalog is incomplete

English msgstrs equal their msgids, so both catalogs are complete files, not fallbacks.
"""

from __future__ import annotations

import argparse
import copy
import sys
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po

ROOT = Path(__file__).resolve().parents[1]
LOCALES = ROOT / "locales"
KEYWORDS = {"_": None, "gettext": None, "ngettext": (1, 2), "N_": None}


def extract() -> Catalog:
    with (ROOT / "babel.cfg").open() as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    template = Catalog(project="cnn-playground")
    for _filename, _lineno, message, comments, context in extract_from_dir(
        str(ROOT), method_map, options_map, keywords=KEYWORDS
    ):
        template.add(message, None, auto_comments=comments, context=context)
    return template


def load(code: str) -> Catalog:
    path = LOCALES / code / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as fh:
        return read_po(fh, locale=code)


def missing(template: Catalog, code: str) -> list[str]:
    catalog = load(code)
    problems = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id)
        strings = (
            found.string if found and isinstance(found.string, tuple) else (found and found.string,)
        )
        if found is None or not all(strings):
            problems.append(str(message.id))
        elif found.fuzzy:
            problems.append(f"(fuzzy) {message.id}")
    return problems


def update(template: Catalog) -> None:
    for code in ("en", "pt_BR"):
        path = LOCALES / code / "LC_MESSAGES" / "messages.po"
        catalog = load(code)
        # update() may adopt the template's Message objects: give each language its own copy.
        catalog.update(copy.deepcopy(template), no_fuzzy_matching=True)
        catalog.obsolete.clear()
        if code == "en":
            for message in catalog:
                if message.pluralizable and not all(message.string):
                    message.string = tuple(message.id)  # English: one, other
                elif message.id and not message.string:
                    message.string = message.id
        with path.open("wb") as fh:
            write_po(fh, catalog, width=100, omit_header=False, sort_output=True, no_location=True)


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args()
    template = extract()
    if not args.check:
        update(template)
    status = 0
    for code in ("en", "pt_BR"):
        problems = missing(template, code)
        if problems:
            status = 1
            print(f"{code}: {len(problems)} untranslated")
            for text in problems:
                print(f"  {text!r}")
    return status


if __name__ == "__main__":
    sys.exit(main())
