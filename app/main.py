"""create_app(): static files, one router per lab, languages and the error handlers."""

from __future__ import annotations

import re
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from app.config import Settings
from app.errors import UserError
from app.i18n import N_, load_translations
from app.jobs import RunManager
from app.routes import filters, home, losses, optimizers, pipeline, pooling, signals, text, training
from app.templating import Templates, is_htmx
from app.uploads import LRUBytesCache

ERROR_TARGET = re.compile(r"#[a-z][a-z0-9-]{0,40}")

STATUS_MESSAGES = {
    404: N_("There is no page at this address."),
    405: N_("This address does not accept that kind of request."),
    413: N_("The request is too large."),
}


def error_response(request: Request, status: int, message: str) -> HTMLResponse:
    """The message in place for htmx (into the form's error region), or as a page otherwise."""
    templates: Templates = request.app.state.templates
    if is_htmx(request):
        # A form names its own error region (hx-headers); anything else lands at the page's top.
        declared = request.headers.get("x-error-target") or ""
        target = declared if ERROR_TARGET.fullmatch(declared) else "#page-error"
        return templates.response(
            request,
            "_error.html",
            {"message": message},
            status_code=status,
            headers={"HX-Retarget": target, "HX-Reswap": "innerHTML"},
        )
    return templates.response(
        request, "error.html", {"message": message, "status": status}, status_code=status
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    runs = RunManager(
        settings.max_active_runs, settings.run_ttl_seconds, settings.max_runs,
        settings.run_max_seconds,
    )  # fmt: skip

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        runs.shutdown()  # no training process outlives the server

    app = FastAPI(title="CNN Playground", version="0.1.0", lifespan=lifespan)
    app.state.runs = runs
    translations = load_translations(settings.locales_dir)
    app.state.settings = settings
    app.state.templates = Templates(settings.templates_dir, translations)
    app.state.uploads = LRUBytesCache(settings.upload_cache_bytes)
    app.state.results = LRUBytesCache(settings.result_cache_bytes)

    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    app.include_router(home.router)
    app.include_router(filters.router)
    app.include_router(pooling.router)
    app.include_router(pipeline.router)
    app.include_router(losses.router)
    app.include_router(optimizers.router)
    app.include_router(training.router)
    app.include_router(signals.router)
    app.include_router(text.router)

    @app.exception_handler(UserError)
    async def user_error(request: Request, exc: UserError) -> HTMLResponse:
        message = exc.translated(app.state.templates.gettext(request))
        return error_response(request, exc.status, message)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> HTMLResponse:
        gettext = app.state.templates.gettext(request)
        default = STATUS_MESSAGES.get(exc.status_code, N_("Something about this request is wrong."))
        return error_response(request, exc.status_code, gettext(default))

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError) -> HTMLResponse:
        gettext = app.state.templates.gettext(request)
        names = ", ".join(str(err["loc"][-1]) for err in exc.errors())
        message = gettext("Some values in this request are missing or not valid: %(names)s.")
        return error_response(request, 422, message % {"names": names})

    @app.exception_handler(Exception)
    async def unexpected_error(request: Request, exc: Exception) -> HTMLResponse:
        # A safety net: a bug still shows a message where the user is looking, not a blank page.
        gettext = app.state.templates.gettext(request)
        message = gettext(
            "Something went wrong on the server. Please try again or change a setting."
        )
        return error_response(request, 500, message)

    return app
