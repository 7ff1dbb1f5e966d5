"""Jinja2 environments, one per language, and the one helper that renders a page or its htmx
fragment."""

from __future__ import annotations

import gettext
import itertools
from pathlib import Path
from urllib.parse import urlencode

import jinja2
from fastapi import Request
from fastapi.responses import HTMLResponse

from app.web.i18n import LANG_COOKIE, LANGUAGES, choose_locale
from app.web.numbers import Numbers, numbers_for
from app.web.present import is_presenting, keep_present, toggle_url, with_present

HTMX_VERSION = "2.0.11"
POLL_TOKENS = itertools.count()
# The morph swap keeps focus and what is typed in the controls while a lab is re-rendered.
IDIOMORPH_VERSION = "0.8.0"
# Pages differ by these request headers: caches must keep one copy per value.
VARY = "HX-Request, Cookie, Accept-Language, X-Present"


def plain_gettext(translations: gettext.NullTranslations):
    """`_("Feature map %(n)s", n=3)` in a template: our own message, translated and filled in
    as plain text. Autoescaping then escapes it and every value in it, so no text can turn into
    markup on the way (Jinja's own i18n extension marks what gettext returns as safe)."""

    def translate(message: str, **values) -> str:
        return translations.gettext(message) % values

    return translate


def plain_ngettext(translations: gettext.NullTranslations):
    """`ngettext("%(n)s epoch", "%(n)s epochs", n, n=n)`: the form the count needs, as text."""

    def translate(singular: str, plural: str, count: int, **values) -> str:
        return translations.ngettext(singular, plural, count) % values

    return translate


def make_environment(
    directory: Path, translations: gettext.NullTranslations, locale: str = "en"
) -> jinja2.Environment:
    env = jinja2.Environment(
        loader=jinja2.FileSystemLoader(directory),
        autoescape=jinja2.select_autoescape(["html", "svg"]),
        trim_blocks=True,
        lstrip_blocks=True,
        undefined=jinja2.StrictUndefined,
        # Templates do not change under a running server (`uvicorn --reload` restarts it): no
        # stat() of every template file on every render.
        auto_reload=False,
    )
    env.globals["_"] = env.globals["gettext"] = plain_gettext(translations)
    env.globals["ngettext"] = plain_ngettext(translations)
    # A value new on every render: a morphed element that asks for itself again (a run's status)
    # then differs from the last one, so htmx sets up its next request.
    env.globals["poll_token"] = lambda: next(POLL_TOKENS)
    # Numbers as this language writes them: `x|num(4)`, `n|integer`, `fraction|percent`.
    numbers = numbers_for(locale)
    env.globals["numbers"] = numbers
    env.filters["num"] = numbers.short
    env.filters["integer"] = numbers.integer
    env.filters["percent"] = numbers.percent
    env.globals["urlencode"] = urlencode
    env.globals["HTMX_VERSION"] = HTMX_VERSION
    env.globals["IDIOMORPH_VERSION"] = IDIOMORPH_VERSION
    env.globals["LANGUAGES"] = LANGUAGES
    # Presentation mode (?present=1): the body's class, and links that keep or toggle the flag.
    env.globals["presenting"] = is_presenting
    env.globals["keep_present"] = keep_present
    env.globals["present_toggle_url"] = toggle_url
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
    def __init__(
        self, directory: Path, translations: dict[str, gettext.NullTranslations], limits=None
    ) -> None:
        self.translations = translations
        self.environments = {
            code: make_environment(directory, translations[code], code) for code in LANGUAGES
        }
        for env in self.environments.values():
            env.globals["limits"] = limits  # the settings, for the limits pages state
        self.navigation: list[tuple[str, str]] = []  # (path, msgid) of the navigation bar

    is_htmx = staticmethod(is_htmx)

    def add_global(self, name: str, value) -> None:
        """A function or value every template can use, in every language."""
        for env in self.environments.values():
            env.globals[name] = value

    def gettext(self, request: Request):
        return self.translations[request_locale(request)].gettext

    def numbers(self, request: Request) -> Numbers:
        """The request's number formatter, the one its templates use."""
        return self.environments[request_locale(request)].globals["numbers"]

    def render(self, request: Request, name: str, context: dict | None = None) -> str:
        locale = request_locale(request)
        gettext = self.translations[locale].gettext
        full_context = {
            "request": request,
            "locale": locale,
            "language": LANGUAGES[locale],
            "nav": [(path, gettext(title)) for path, title in self.navigation],
            # A fragment for htmx leaves out <noscript> copies of fields: parsed outside a page,
            # they would turn into real fields with stale values.
            "htmx": is_htmx(request),
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
        response.headers["Vary"] = VARY
        response.headers["Content-Language"] = LANGUAGES[request_locale(request)].tag
        for key, value in (headers or {}).items():
            response.headers[key] = value
        return response

    def page(
        self,
        request: Request,
        page: str,
        fragment: str,
        context: dict | None = None,
        *,
        status: int = 200,
        push: str | None = None,
    ) -> HTMLResponse:
        """The one render path of the labs: `fragment` for htmx, with `push` as the URL it puts
        in the address bar (the canonical query, shorter than the form and with nothing
        stale); the whole `page` otherwise."""
        if is_htmx(request):
            if push and is_presenting(request):
                push = with_present(push)  # the presented view stays a link to itself
            headers = {"HX-Push-Url": push} if push else None
            return self.response(request, fragment, context, status, headers)
        return self.response(request, page, context, status)
