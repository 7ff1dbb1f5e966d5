"""Who the browser is in a class: its teacher (a token in a cookie, the class keeps its digest)
or one of its students (likewise), and whether a student follows the teacher."""

from __future__ import annotations

from dataclasses import dataclass

from fastapi import Request, Response

from app.classroom.classes import Classes, ClassRecord, Student, is_code
from app.web.errors import UserError
from app.web.i18n import N_

TEACHER_COOKIE = "cnnp_teach"
STUDENT_COOKIE = "cnnp_class"
FOLLOW_COOKIE = "cnnp_away"  # set while a student explores on their own

NO_CLASS = N_(
    "There is no class with the code %(code)s: check the code on the projector. A class ends "
    "when its teacher ends it, or after %(hours)s hours."
)
NOT_TEACHER = N_("Only the teacher of this class can do that (from the browser that started it).")
NOT_STUDENT = N_("Join the class first: open the class's page and choose a nickname.")


def classes_of(request: Request) -> Classes:
    return request.app.state.classes


def _cookie(request: Request, name: str) -> tuple[str, str]:
    code, _, token = request.cookies.get(name, "").partition(".")
    valid = is_code(code) and len(token) == 32 and all(c in "0123456789abcdef" for c in token)
    return (code, token) if valid else ("", "")


def teacher_code(request: Request) -> str:
    return _cookie(request, TEACHER_COOKIE)[0]


def student_code(request: Request) -> str:
    return _cookie(request, STUDENT_COOKIE)[0]


def is_teacher(request: Request, record: ClassRecord) -> bool:
    code, token = _cookie(request, TEACHER_COOKIE)
    return code == record.code and classes_of(request).is_teacher(record, token)


def student_of(request: Request, record: ClassRecord) -> Student | None:
    code, token = _cookie(request, STUDENT_COOKIE)
    return classes_of(request).student(record.code, token) if code == record.code else None


def following(request: Request) -> bool:
    return request.cookies.get(FOLLOW_COOKIE) != "1"


def find_class(request: Request, code: str) -> ClassRecord:
    record = classes_of(request).get(code)
    if record is None:
        hours = request.app.state.settings.class_ttl_seconds / 3600
        raise UserError(NO_CLASS, status=404, code=code[:12],
                        hours=round(hours, 1) if hours % 1 else int(hours))  # fmt: skip
    return record


def require_teacher(request: Request, record: ClassRecord) -> None:
    if not is_teacher(request, record):
        raise UserError(NOT_TEACHER, status=403)


def require_student(request: Request, record: ClassRecord) -> Student:
    student = student_of(request, record)
    if student is None:
        raise UserError(NOT_STUDENT, status=403)
    return student


@dataclass(frozen=True)
class CookieJar:
    seconds: int

    def teacher(self, response: Response, code: str, token: str) -> None:
        response.set_cookie(TEACHER_COOKIE, f"{code}.{token}", max_age=self.seconds,
                            httponly=True, samesite="lax")  # fmt: skip

    def student(self, response: Response, code: str, token: str) -> None:
        response.set_cookie(STUDENT_COOKIE, f"{code}.{token}", max_age=self.seconds,
                            httponly=True, samesite="lax")  # fmt: skip
        response.delete_cookie(FOLLOW_COOKIE)

    def away(self, response: Response, away: bool) -> None:
        if away:
            response.set_cookie(FOLLOW_COOKIE, "1", max_age=self.seconds, samesite="lax")
        else:
            response.delete_cookie(FOLLOW_COOKIE)
