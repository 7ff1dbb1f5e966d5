"""The class bar every page shows to a browser in a class (base.html): the teacher's version
(the code, the students joined, the board, a question about this view) or a student's (following
the teacher, or exploring alone). Browsers in no class read nothing from the store."""

from __future__ import annotations

from fastapi import Request

from app.classroom.access import (
    classes_of,
    following,
    is_teacher,
    student_code,
    student_of,
    teacher_code,
)  # fmt: skip
from app.classroom.views import ClassBar


def class_bar(request: Request) -> ClassBar | None:
    classes = getattr(request.app.state, "classes", None)
    if classes is None:
        return None
    code = teacher_code(request)
    if code:
        record = classes.get(code)
        if record is not None and is_teacher(request, record):
            return ClassBar(record.code, "teacher", students=classes.student_count(record.code))
    code = student_code(request)
    if code:
        record = classes_of(request).get(code)
        student = student_of(request, record) if record is not None else None
        if student is not None:
            return ClassBar(record.code, "student", following=following(request),
                            student=student)  # fmt: skip
    return None
