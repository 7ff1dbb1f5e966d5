"""A mistake the user can fix, and the one path every error takes to the screen.

A UserError is shown in place, translated, with a 4xx status. Field problems (Pydantic's
validation errors, see app.web.fields), engine errors and HTTP errors all become UserErrors here,
and `error_response` answers them the same way everywhere:

* an htmx request gets the messages alone, swapped into the error region its form names
  (`X-Error-Target`), or the page's top region; each names the control at fault, and
  static/js/app.js moves it next to that control and marks the result it left stale;
* a full page request to a lab page gets that lab's page again, with what the user typed and the
  message next to the form (the route's `error_page`, see `shows_errors_in`);
* anything else gets the error page.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.web.deps import templates_of
from app.web.i18n import N_
from engine.errors import EngineError

log = logging.getLogger(__name__)
ERROR_TARGET = re.compile(r"#[a-z][a-z0-9-]{0,40}")

STATUS_MESSAGES = {
    404: N_("There is no page at this address."),
    405: N_("This address does not accept that kind of request."),
    413: N_("The request is too large."),
}


class UserError(Exception):
    """`message` is an English msgid with %(name)s placeholders, filled from `params`."""

    headers: dict[str, str] | None = None  # sent with the error response (a 429's Retry-After)
    control: str | None = None  # the name of the form control at fault, shown next to it

    def at(self, control: str | None) -> UserError:
        """The same error, placed next to the control named `control`."""
        self.control = control
        return self

    def __init__(self, message: str, status: int = 400, **params: object) -> None:
        super().__init__(message)
        self.message = message
        self.status = status
        self.params = params

    def translated(self, gettext) -> str:
        text = gettext(self.message)
        if not self.params:
            return text
        # Control names inside the message are msgids too (LabelRef): translate them as well.
        params = {k: _translate(v, gettext) for k, v in self.params.items()}
        return text % params

    def messages(self, gettext) -> list[str]:
        return [self.translated(gettext)]

    def placed(self, gettext) -> list[tuple[str | None, str]]:
        """(control name or None, message) for each mistake."""
        return [(self.control, self.translated(gettext))]


class UserErrors(UserError):
    """Several mistakes at once (one per field), in the order the form shows the fields."""

    def __init__(self, errors: list[UserError]) -> None:
        super().__init__(errors[0].message, status=max(e.status for e in errors))
        self.errors = errors

    def translated(self, gettext) -> str:
        return " ".join(self.messages(gettext))

    def messages(self, gettext) -> list[str]:
        return [error.translated(gettext) for error in self.errors]

    def placed(self, gettext) -> list[tuple[str | None, str]]:
        return [(error.control, error.translated(gettext)) for error in self.errors]


class PlacedMessage(str):
    """A translated message that names its control: a lab's page shows it there."""

    def __new__(cls, text: str, control: str | None = None) -> PlacedMessage:
        message = super().__new__(cls, text)
        message.control = control
        return message


class LabelRef(str):
    """A control's label inside a message: translated along with the message that holds it."""

    is_label = True


class LabelList(tuple):
    """Several labels inside a message, translated one by one and joined with commas."""

    is_label_list = True


def _translate(value, gettext):
    if getattr(value, "is_label", False):
        return gettext(value)
    if getattr(value, "is_label_list", False):
        return ", ".join(gettext(item) for item in value)
    return value


def from_engine_error(error: EngineError, status: int = 400) -> UserError:
    """An EngineError's template is a msgid in our catalogs; a `what` field names a thing in
    words that are msgids too. The values sent do not work together: a 400, as for a field."""
    params = {k: LabelRef(v) if k == "what" else v for k, v in error.params.items()}
    return UserError(error.template, status=status, **params)


# --- lab pages show their own errors ----------------------------------------------------------

ErrorPage = Callable[[Request, UserError], HTMLResponse]


def shows_errors_in(error_page: ErrorPage):
    """Mark a route whose full-page errors are shown in its own page: `error_page(request,
    error)` renders it with what the user typed and the message in place."""

    def mark(endpoint):
        endpoint.error_page = error_page
        return endpoint

    return mark


def lab_error_page(
    page: str, context: Callable[[Request, UserError, list[str]], dict]
) -> ErrorPage:
    """An error page that is the lab's own page: `context(request, error, messages)` fills it
    with what the user sent and the translated messages."""

    def render(request: Request, error: UserError) -> HTMLResponse:
        templates = templates_of(request)
        placed = error.placed(templates.gettext(request))
        messages = [PlacedMessage(text, control) for control, text in placed]
        return templates.response(
            request, page, context(request, error, messages), status_code=error.status
        )

    return render


async def error_response(request: Request, error: UserError) -> HTMLResponse:
    response = await _error_page(request, error)
    response.headers.update(error.headers or {})
    return response


async def _error_page(request: Request, error: UserError) -> HTMLResponse:
    templates = templates_of(request)
    messages = error.messages(templates.gettext(request))
    if templates.is_htmx(request):
        # A form names its own error region (hx-headers); anything else lands at the page's top.
        declared = request.headers.get("x-error-target") or ""
        target = declared if ERROR_TARGET.fullmatch(declared) else "#page-error"
        # Each message names its control, so the page can put it next to that control.
        return templates.response(
            request,
            "_placed_errors.html",
            {"placed": error.placed(templates.gettext(request))},
            status_code=error.status,
            headers={"HX-Retarget": target, "HX-Reswap": "innerHTML"},
        )
    route = request.scope.get("route")
    error_page = getattr(getattr(route, "endpoint", None), "error_page", None)
    if error_page is not None and error.status < 500:
        try:
            return await run_in_threadpool(error_page, request, error)  # it may compute the lab
        except Exception:  # the lab's page cannot be shown: the message alone still is
            log.exception("The error page of %s failed", request.url.path)
    return templates.response(
        request, "error.html", {"message": messages, "status": error.status},
        status_code=error.status,
    )  # fmt: skip


def install_error_handlers(app: FastAPI, field_errors, place_mistake=None) -> None:
    """`field_errors(request, exc)` turns a RequestValidationError into a UserError
    (app.web.fields.request_errors); `place_mistake(request, error)` names the control a
    UserError is about (app.web.fields.place_mistake)."""

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> HTMLResponse:
        if place_mistake is not None:
            place_mistake(request, exc)
        return await error_response(request, exc)

    @app.exception_handler(EngineError)
    async def engine_error(request: Request, exc: EngineError) -> HTMLResponse:
        return await error_response(request, from_engine_error(exc))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> HTMLResponse:
        return await error_response(request, field_errors(request, exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        default = STATUS_MESSAGES.get(exc.status_code, N_("Something about this request is wrong."))
        return await error_response(request, UserError(default, status=exc.status_code))

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> HTMLResponse:
        # A safety net: a bug still shows a message where the user is looking, not a blank page.
        message = N_("Something went wrong on the server. Please try again or change a setting.")
        response = await error_response(request, UserError(message, status=500))
        # This handler runs outside every middleware: the security headers are added here.
        response.headers.update(getattr(request.app.state, "security_headers", {}))
        return response
