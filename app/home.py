"""The pages around the labs: home (the lesson path), about, the language switch and health."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.labs import LABS
from app.media.samples import SAMPLES
from app.web.deps import AppSettings, Gettext, Templates
from app.web.errors import UserError
from app.web.i18n import LANG_COOKIE, LANGUAGES, N_

router = APIRouter()


def lesson_cards(gettext) -> list[dict]:
    """The lesson path: one card per lesson, from the lab registry, translated here."""
    return [
        {"number": lab.lesson, "title": gettext(lab.card_title or lab.title), "url": lab.path,
         "teaches": gettext(lab.teaches)}
        for lab in LABS
        if lab.teaches
    ]  # fmt: skip


@router.get("/", response_class=HTMLResponse)
def home_page(request: Request, templates: Templates, gettext: Gettext) -> HTMLResponse:
    return templates.response(request, "home.html", {"cards": lesson_cards(gettext)})


@router.get("/about", response_class=HTMLResponse)
def about_page(request: Request, templates: Templates, settings: AppSettings) -> HTMLResponse:
    return templates.response(request, "about.html", {"samples": SAMPLES, "settings": settings})


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _safe_return_path(candidate: str | None, host: str | None) -> str | None:
    """Only paths on this site, so the switch cannot be turned into an open redirect."""
    if not candidate:
        return None
    try:
        parts = urlsplit(candidate)
    except ValueError:  # "http://[": an unclosed IPv6 bracket
        return None
    if "\\" in candidate:  # browsers read "/\\evil.example" as "//evil.example"
        return None
    if parts.netloc and parts.netloc != host:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _is_address(candidate: str) -> bool:
    try:
        urlsplit(candidate)
    except ValueError:
        return False
    return True


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> RedirectResponse:
    if code not in LANGUAGES:
        raise UserError(N_("Unknown language '%(code)s'."), status=404, code=code[:20])
    host = request.headers.get("host")
    if next and not _is_address(next):
        raise UserError(N_("The return address '%(next)s' is not a valid address."), next=next[:80])
    target = (
        _safe_return_path(next, host)
        or _safe_return_path(request.headers.get("referer"), host)
        or "/"
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response
