"""Jinja2 environments, one per language, and the helper that returns a page or an htmx fragment."""

from __future__ import annotations

import gettext
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from app.i18n import LANG_COOKIE, LANGUAGES, choose_locale

HTMX_VERSION = "2.0.11"


def _format_number(value: float, digits: int = 3) -> str:
    """Short, readable numbers for explanations: 0.125, -3, 1.2e+04."""
    if value != value:  # NaN
        return "NaN"
    if abs(value) >= 1e5 or (0 < abs(value) < 1e-3):
        return f"{value:.{digits}g}"
    rounded = round(value, digits)
    if rounded == int(rounded):
        return str(int(rounded))
    return f"{rounded:.{digits}f}".rstrip("0").rstrip(".")


def make_environment(directory: Path, translations: gettext.NullTranslations) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(["html", "svg"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
    )
    env.install_gettext_translations(translations, newstyle=True)  # type: ignore[attr-defined]
    env.filters["num"] = _format_number
    env.globals["urlencode"] = urlencode
    env.globals["HTMX_VERSION"] = HTMX_VERSION
    env.globals["LANGUAGES"] = LANGUAGES
    return env


def request_locale(request: Request) -> str:
    cached = getattr(request.state, "locale", None)
    if cached:
        return cached
    locale = choose_locale(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))
    request.state.locale = locale
    return locale


def is_htmx(request: Request) -> bool:
    # A history-restore request wants the whole page even though htmx sent it.
    return (
        request.headers.get("hx-request") == "true"
        and request.headers.get("hx-history-restore-request") != "true"
    )


class Templates:
    def __init__(self, directory: Path, translations: dict[str, gettext.NullTranslations]) -> None:
        self.translations = translations
        self.environments = {
            code: make_environment(directory, translations[code]) for code in LANGUAGES
        }

    def gettext(self, request: Request):
        return self.translations[request_locale(request)].gettext

    def render(self, request: Request, name: str, context: dict | None = None) -> str:
        locale = request_locale(request)
        full_context = {
            "request": request,
            "locale": locale,
            "language": LANGUAGES[locale],
            **(context or {}),
        }
        return self.environments[locale].get_template(name).render(full_context)

    def response(
        self,
        request: Request,
        name: str,
        context: dict | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        response = HTMLResponse(self.render(request, name, context), status_code=status_code)
        response.headers["Vary"] = "HX-Request, Cookie, Accept-Language"
        response.headers["Content-Language"] = LANGUAGES[request_locale(request)].tag
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return response

    def page_or_fragment(
        self,
        request: Request,
        page: str,
        fragment: str,
        context: dict | None = None,
        status_code: int = 200,
        headers: dict[str, str] | None = None,
    ) -> HTMLResponse:
        name = fragment if is_htmx(request) else page
        return self.response(request, name, context, status_code, headers)
