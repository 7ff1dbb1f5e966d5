"""What a lab's ready-made question is (app.classroom.questions and .lab_questions make them)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from starlette.datastructures import QueryParams

from app.classroom.classes import Question


@dataclass(frozen=True)
class ReadyQuestion:
    key: str  # the provider's name for it, sent back by the teacher's form
    question: Question


Provider = Callable[[QueryParams, object], list[ReadyQuestion]]


def options_around(right, wrong, limit: int = 4) -> tuple[list, int]:
    """The right answer among up to limit − 1 distinct wrong ones that students typically give,
    in order: (the options, the right one's index)."""
    options = [right]
    for value in wrong:
        if value not in options and len(options) < limit:
            options.append(value)
    options.sort()
    return options, options.index(right)


def decimals_tolerance(value: float) -> float:
    """A whole number must be typed exactly; another counts when right to two decimals."""
    return 0.0 if float(value).is_integer() else 0.005
