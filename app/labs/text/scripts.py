"""Writing systems in the Text lab: which script a word uses (emoji, right-to-left, others),
which scripts a vocabulary holds, and the direction controls removed from typed text."""

from __future__ import annotations

import unicodedata

from app.web.errors import LabelList
from app.web.i18n import N_
from engine.text import Tokenizer

# Direction controls (LRE … RLO, isolates, marks): they could reorder what the page shows.
BIDI_CONTROLS = dict.fromkeys(map(ord, "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069"
                                       "\u200e\u200f"))  # fmt: skip


def char_script(ch: str) -> str | None:
    """'emoji', a Unicode script name ('LATIN', 'ARABIC', 'CYRILLIC'…), or None (digits,
    combining marks, apostrophes: they belong to any script)."""
    code = ord(ch)
    category = unicodedata.category(ch)
    if category == "So" or 0x1F000 <= code <= 0x1FAFF or 0x2600 <= code <= 0x27BF:
        return "emoji"
    if not category.startswith("L"):
        return None
    name = unicodedata.name(ch, "")
    return name.split(" ")[0] if name else "OTHER"


def word_scripts(word: str) -> set[str]:
    return {s for s in map(char_script, word) if s}


def is_rtl(word: str) -> bool:
    return any(unicodedata.bidirectional(c) in ("R", "AL") for c in word)


def vocabulary_words(tokenizer: Tokenizer) -> int:
    """Words in the vocabulary, not counting the OOV token."""
    return len(tokenizer.word_index) - (1 if tokenizer.oov_token else 0)


def vocabulary_scripts(tokenizer: Tokenizer) -> set[str]:
    scripts: set[str] = set()
    for word in tokenizer.word_index:
        scripts |= word_scripts(word)
    return scripts


def word_kind(word: str, known_scripts: set[str]) -> str | None:
    """What makes a word foreign to the vocabulary: 'emoji', 'rtl', 'script', or None."""
    scripts = word_scripts(word)
    if "emoji" in scripts and "emoji" not in known_scripts:
        return "emoji"
    if is_rtl(word) and not scripts <= known_scripts:
        return "rtl"
    if scripts - known_scripts:
        return "script"
    return None


# Script names as the messages show them (translated there); others appear as Unicode names them.
SCRIPT_TITLES = {
    "LATIN": N_("Latin"), "ARABIC": N_("Arabic"), "HEBREW": N_("Hebrew"),
    "CYRILLIC": N_("Cyrillic"), "GREEK": N_("Greek"), "CJK": N_("Chinese characters"),
    "HIRAGANA": N_("Hiragana"), "KATAKANA": N_("Katakana"), "HANGUL": N_("Hangul"),
    "DEVANAGARI": N_("Devanagari"), "THAI": N_("Thai"), "emoji": N_("emoji"),
}  # fmt: skip


def script_names(scripts: set[str]) -> LabelList:
    """The scripts' names, each translated when the message is (see app.web.errors)."""
    return LabelList(sorted(SCRIPT_TITLES.get(s, s.title()) for s in scripts))
