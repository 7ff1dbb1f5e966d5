"""The classroom's pages: start a class, the projector, joining, following the teacher (server-sent
events) and the class board. The questions are in app.classroom.question_routes."""

from __future__ import annotations

from urllib.parse import urlsplit

import segno
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response, StreamingResponse
from markupsafe import Markup
from starlette.concurrency import run_in_threadpool

from app.classroom import views
from app.classroom.access import (
    FOLLOW_COOKIE,
    NO_CLASS,
    STUDENT_COOKIE,
    TEACHER_COOKIE,
    CookieJar,
    classes_of,
    find_class,
    following,
    is_teacher,
    require_student,
    require_teacher,
    student_of,
    teacher_code,
)  # fmt: skip
from app.classroom.classes import NicknameTaken, normal_code
from app.classroom.events import END_EVENT, sse, stream
from app.classroom.questions import lab_of
from app.runs import owner
from app.web.deps import templates_of
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.templating import is_htmx

router = APIRouter()
MAX_VIEW_URL = 8192  # characters of a view's address (a typed kernel travels in it)
MAX_QUESTION = 300  # characters of a teacher's question
MAX_OPTION = 80  # characters of one of its options
MIN_OPTIONS, MAX_OPTIONS = 2, 6


def _jar(request: Request) -> CookieJar:
    return CookieJar(request.app.state.settings.class_ttl_seconds)


def _page(request: Request, name: str, context: dict, status: int = 200) -> HTMLResponse:
    response = templates_of(request).response(request, name, context, status_code=status)
    response.headers["Cache-Control"] = "no-store"  # a class changes under it
    return response


async def _form(request: Request) -> dict[str, str]:
    form = await request.form()
    return {key: value for key, value in form.items() if isinstance(value, str)}


# --- starting and ending a class -----------------------------------------------------------------


@router.get("/class", response_class=HTMLResponse)
def class_home(request: Request, code: str = "") -> Response:
    if code:  # the join box: the class's own page
        typed = normal_code(code)
        record = classes_of(request).get(typed)
        if record is None:
            hours = request.app.state.settings.class_ttl_seconds // 3600
            message = templates_of(request).gettext(request)(NO_CLASS) % {
                "code": code[:12],
                "hours": hours,
            }
            context = {"code": code[:12], "code_error": message, "current": ""}
            return _page(request, "classroom/start.html", context, status=404)
        return RedirectResponse(f"/class/{record.code}", status_code=303)
    return _page(
        request,
        "classroom/start.html",
        {"code": "", "code_error": "", "current": taught_class(request)},
    )


def taught_class(request: Request) -> str:
    """The class this browser teaches now, if any."""
    code = teacher_code(request)
    record = classes_of(request).get(code) if code else None
    return record.code if record is not None and is_teacher(request, record) else ""


@router.post("/class")
def start_class(request: Request) -> Response:
    record, token = classes_of(request).start()
    response = RedirectResponse(f"/class/{record.code}/teach", status_code=303)
    _jar(request).teacher(response, record.code, token)
    return response


@router.post("/class/{code}/end")
def end_class(request: Request, code: str) -> Response:
    record = find_class(request, code)
    require_teacher(request, record)
    classes_of(request).end(record.code)
    response = RedirectResponse("/class?ended=1", status_code=303)
    response.delete_cookie(TEACHER_COOKIE)
    return response


def join_url(request: Request, code: str) -> str:
    """The class's address as the students' laptops reach this server: the host they asked
    for (a classroom network's address, not localhost)."""
    return f"{request.url.scheme}://{request.headers.get('host', request.url.netloc)}/class/{code}"


def qr_svg(url: str) -> Markup:
    """The join URL as a QR code, drawn here (no outside service), as inline SVG."""
    code = segno.make(url, error="m")
    svg = code.svg_inline(scale=8, border=2, dark="#000", light="#fff", omitsize=True)
    return Markup(svg)  # segno's own markup, from a URL we built


@router.get("/class/{code}/teach", response_class=HTMLResponse)
def teach(request: Request, code: str) -> Response:
    record = find_class(request, code)
    require_teacher(request, record)
    url = join_url(request, record.code)
    return _page(request, "classroom/teach.html", {
        "record": record, "join_url": url, "qr": qr_svg(url),
        "students": classes_of(request).student_count(record.code),
        "minutes": views.minutes_left(record),
    })  # fmt: skip


@router.get("/class/{code}/count", response_class=HTMLResponse)
def student_count(request: Request, code: str) -> Response:
    record = find_class(request, code)
    require_teacher(request, record)
    count = classes_of(request).student_count(record.code)
    return _page(request, "classroom/_count.html", {"record": record, "students": count})


# --- joining -------------------------------------------------------------------------------------


@router.get("/class/{code}", response_class=HTMLResponse)
def class_page(request: Request, code: str) -> Response:
    record = find_class(request, normal_code(code))
    if student_of(request, record) is not None:
        live = classes_of(request).live(record.code)
        if live is not None and live.view and following(request):
            return RedirectResponse(live.view, status_code=303)  # a late joiner: the current view
        return _page(request, "classroom/waiting.html", {"record": record})
    return _page(request, "classroom/join.html", {"record": record, "nickname": "",
                                                  "error": ""})  # fmt: skip


def check_nickname(text: str, limit: int) -> str:
    """The nickname as kept (spaces folded), or a UserError saying what is wrong with it."""
    nickname = " ".join(text.split())
    if not nickname:
        raise UserError(N_("Choose a nickname: the class board shows it beside your runs."))
    if len(nickname) > limit:
        raise UserError(N_("A nickname has at most %(n)s characters (this one has %(count)s)."),
                        n=limit, count=len(nickname))  # fmt: skip
    if any(c in nickname for c in "<>&\"'`") or not nickname.isprintable():
        raise UserError(N_("A nickname is plain text: it cannot hold < > & ` or quotes."))
    return nickname


@router.post("/class/{code}/join", response_class=HTMLResponse)
async def join(request: Request, code: str) -> Response:
    classes = classes_of(request)
    record = await run_in_threadpool(classes.get, code)
    form = await _form(request)
    typed = form.get("nickname", "")
    gettext = templates_of(request).gettext(request)
    if record is None:
        find_class(request, code)  # the 404 that says why
    limit = request.app.state.settings.max_nickname
    try:
        nickname = check_nickname(typed, limit)
    except UserError as error:
        return _page(request, "classroom/join.html", {
            "record": record, "nickname": typed[: limit * 4], "error": error.translated(gettext)
        }, status=422)  # fmt: skip
    digest, new_owner = owner.starting_owner(request)
    try:
        joined = await run_in_threadpool(classes.join, record, nickname, digest)
    except NicknameTaken as taken:  # next to the field, what was typed kept
        return _page(request, "classroom/join.html", {
            "record": record, "nickname": typed[: limit * 4], "error": taken.translated(gettext)
        }, status=taken.status)  # fmt: skip
    if joined is None:
        message = gettext(N_("This class is full: it has %(n)s students, the most one class "
                             "holds.")) % {"n": classes.max_students}  # fmt: skip
        return _page(request, "classroom/join.html",
                     {"record": record, "nickname": typed[: limit * 4], "error": message},
                     status=409)  # fmt: skip
    _, token = joined
    response = RedirectResponse(f"/class/{record.code}", status_code=303)
    _jar(request).student(response, record.code, token)
    owner.remember(response, new_owner)  # the runs this browser starts are then its own
    return response


@router.post("/class/{code}/leave")
def leave(request: Request, code: str) -> Response:
    response = RedirectResponse("/class", status_code=303)
    response.delete_cookie(STUDENT_COOKIE)
    response.delete_cookie(FOLLOW_COOKIE)
    return response


# --- following the teacher -----------------------------------------------------------------------


@router.get("/class/{code}/events")
async def events(request: Request, code: str) -> Response:
    """The class's events as server-sent events: "view" (the teacher's view), "question" (a
    question asked, revealed or closed) and "end"."""
    classes = classes_of(request)
    record = await run_in_threadpool(classes.get, code)
    if record is None and "text/event-stream" in request.headers.get("accept", ""):
        # A page that was following (re)connects after the class ended, e.g. mid-way through
        # following the teacher to another view: tell it so, or its bar would say "following".
        return StreamingResponse(iter([sse(*END_EVENT)]), media_type="text/event-stream",
                                 headers={"Cache-Control": "no-store"})  # fmt: skip
    if record is None:
        find_class(request, code)  # the 404 that says why
    member = is_teacher(request, record) or await run_in_threadpool(student_of, request, record)
    if not member:
        raise UserError(N_("Join the class first: open the class's page and choose a nickname."),
                        status=403)  # fmt: skip
    hub = request.app.state.class_events
    queue = hub.subscribe(record.code)
    if queue is None:
        raise UserError(
            N_(
                "This class has as many live connections as this server holds for "
                "one class. Close the class's page in other tabs."
            ),
            status=503,
        )
    keepalive = request.app.state.settings.class_keepalive_seconds
    return StreamingResponse(
        stream(hub, record.code, queue, keepalive), media_type="text/event-stream",
        headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"},
    )  # fmt: skip


def check_view(url: str) -> str:
    """A lab view's address, as the teacher's page reports it: a path of ours and its query."""
    parts = urlsplit(url)
    if (len(url) > MAX_VIEW_URL or parts.scheme or parts.netloc or not url.startswith("/")
            or url.startswith("//") or lab_of(url) is None):  # fmt: skip
        raise UserError(N_("Only a lab's page can be shown to the class."), status=422)
    return url


@router.post("/class/{code}/view")
async def set_view(request: Request, code: str) -> Response:
    classes = classes_of(request)
    record = await run_in_threadpool(find_class, request, code)
    require_teacher(request, record)
    url = check_view((await _form(request)).get("url", ""))
    live = await run_in_threadpool(classes.set_view, record, url)
    return Response(status_code=204, headers={"X-Class-View-Version": str(live.view_version)})


@router.post("/class/{code}/away", response_class=HTMLResponse)
def break_away(request: Request, code: str) -> Response:
    record = find_class(request, code)
    require_student(request, record)
    bar = views.ClassBar(record.code, "student", following=False)
    if is_htmx(request):
        response = _page(request, "classroom/_follow.html", {"bar": bar})
    else:
        response = RedirectResponse(_back(request, record.code), status_code=303)
    _jar(request).away(response, True)
    return response


@router.post("/class/{code}/follow")
def follow_again(request: Request, code: str) -> Response:
    record = find_class(request, code)
    require_student(request, record)
    live = classes_of(request).live(record.code)
    target = live.view if live is not None and live.view else f"/class/{record.code}"
    response = RedirectResponse(target, status_code=303)
    _jar(request).away(response, False)
    return response


def _back(request: Request, code: str) -> str:
    referer = urlsplit(request.headers.get("referer", ""))
    if referer.netloc == request.headers.get("host") and lab_of(referer.path):
        return referer.path + (f"?{referer.query}" if referer.query else "")
    return f"/class/{code}"


# --- the class board -----------------------------------------------------------------------------


@router.get("/class/{code}/board", response_class=HTMLResponse)
def board(request: Request, code: str) -> Response:
    record = find_class(request, code)
    require_teacher(request, record)
    templates = templates_of(request)
    gettext, numbers = templates.gettext(request), templates.numbers(request)
    found = views.board_runs(classes_of(request), request.app.state.runs, record, gettext,
                             numbers)  # fmt: skip
    context = {"record": record, **views.board_context(found, gettext, numbers),
               "students": classes_of(request).student_count(record.code)}  # fmt: skip
    name = "classroom/_board.html" if is_htmx(request) else "classroom/board.html"
    return _page(request, name, context)
