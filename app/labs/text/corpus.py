"""A pasted or uploaded training corpus for the Text lab: `label,text` lines decoded, checked
line by line (every bad line reported by number), and the fixed train/test split a run uses."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import numpy as np

from app.config import LIMITS
from app.labs.text.scripts import BIDI_CONTROLS
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.numbers import LocalNumber
from engine.datasets import stratified_split
from engine.text import Tokenizer

MAX_CORPUS_BYTES = LIMITS.max_corpus_bytes
MAX_CORPUS_LINES = LIMITS.max_corpus_lines
MAX_CORPUS_LINE = LIMITS.max_corpus_line
MAX_CLASSES = LIMITS.max_corpus_classes
MIN_CORPUS_LINES = 10  # a classifier needs something to learn from, and something to test on
BAD_LINES_SHOWN = 10


def decode_upload(data: bytes) -> str:
    if len(data) > MAX_CORPUS_BYTES:
        raise UserError(
            N_("The file is larger than %(limit)s KB, the limit for a corpus. Use fewer lines."),
            status=413, limit=MAX_CORPUS_BYTES // 1024,
        )  # fmt: skip
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise UserError(
            N_("The file is not UTF-8 text: line %(line)s has the byte %(byte)s, which UTF-8 "
               "cannot read (an older encoding such as Latin-1?). Save it as UTF-8 (\"CSV UTF-8\" "
               "in a spreadsheet) and upload it again."),
            line=data[: error.start].count(b"\n") + 1, byte=f"0x{data[error.start]:02X}",
        ) from None  # fmt: skip


@dataclass
class Corpus:
    texts: list[str]
    labels: list[int]
    class_names: list[str]


def parse_corpus(raw: str, lower: bool = True) -> Corpus:
    """`label,text` lines (an optional `label,text` header, blank lines skipped) -> a corpus.
    Every bad line is reported by number; one class alone is refused."""
    if len(raw.encode("utf-8")) > MAX_CORPUS_BYTES:
        raise UserError(N_("The corpus is larger than %(limit)s KB. Use fewer lines."),
                        status=413, limit=MAX_CORPUS_BYTES // 1024)  # fmt: skip
    if "\ufffd" in raw:
        raise UserError(N_("The corpus is not valid UTF-8 text: save it as UTF-8 and try again."))
    lines = unicodedata.normalize("NFC", raw.replace("\r\n", "\n").replace("\r", "\n")).split("\n")
    if len(lines) > MAX_CORPUS_LINES:
        raise UserError(N_("The corpus has %(n)s lines; the limit is %(limit)s."),
                        status=413, n=LocalNumber(len(lines)),
                        limit=LocalNumber(MAX_CORPUS_LINES))  # fmt: skip
    rows, bad = [], []
    for number, line in enumerate(lines, start=1):
        line = line.translate(BIDI_CONTROLS).strip()
        if not line or (number == 1 and line.replace(" ", "").lower() == "label,text"):
            continue
        label, comma, text = line.partition(",")
        label, text = label.strip(), text.strip()
        usable = (comma and label and len(label) <= 30 and len(text) <= MAX_CORPUS_LINE
                  and Tokenizer(lower=lower).words(text))  # fmt: skip
        if usable:
            rows.append((label, text))
        else:
            bad.append(number)
    if bad:
        shown = ", ".join(str(n) for n in bad[:BAD_LINES_SHOWN])
        more = len(bad) - BAD_LINES_SHOWN
        raise UserError(
            N_("%(n)s lines are not 'label,text' with words after the comma: line %(lines)s"
               "%(more)s. Write each as a label, a comma and the text, e.g. positive,I loved it "
               "(labels up to 30 characters, texts up to %(max)s)."),
            status=422, n=len(bad), lines=shown, more=f" (+{more})" if more > 0 else "",
            max=MAX_CORPUS_LINE,
        )  # fmt: skip
    if len(rows) < MIN_CORPUS_LINES:
        raise UserError(
            N_("The corpus has %(n)s usable lines; paste at least %(min)s, like positive,I "
               "loved it"),
            status=422, n=len(rows), min=MIN_CORPUS_LINES,
        )  # fmt: skip
    class_names = sorted({label for label, _ in rows})
    if len(class_names) == 1:
        raise UserError(
            N_("Every line has the label '%(label)s': a classifier needs at least two classes "
               "to tell apart. Add lines with another label."),
            status=422, label=class_names[0],
        )  # fmt: skip
    if len(class_names) > MAX_CLASSES:
        raise UserError(N_("The corpus has %(n)s different labels; the limit is %(max)s."),
                        status=422, n=len(class_names), max=MAX_CLASSES)  # fmt: skip
    counts = {c: sum(1 for label, _ in rows if label == c) for c in class_names}
    few = [c for c, n in counts.items() if n < 2]
    if few:
        raise UserError(
            N_("Each label needs at least two lines, one to train on and one to test; "
               "'%(label)s' has only one."),
            status=422, label=few[0],
        )  # fmt: skip
    labels = [class_names.index(label) for label, _ in rows]
    return Corpus([t for _, t in rows], labels, class_names)


def split_own(labels: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """The fixed split of a pasted corpus: a fifth of every class to test, seed 0."""
    return stratified_split(np.array(labels), 0.2, seed=0)
