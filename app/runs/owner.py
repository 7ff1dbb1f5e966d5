"""Who may pause, resume or stop a run: the browser that started it.

The browser gets a random token in a cookie the first time it starts a run; the run keeps a digest
of it. Other students watching the same run see its progress but not its controls.
"""

from __future__ import annotations

import hashlib
import secrets

from fastapi import Request, Response
from fastapi.responses import RedirectResponse
from starlette.concurrency import run_in_threadpool

from app.runs.record import NAME_LENGTH, Run
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.templating import is_htmx

OWNER_COOKIE = "cnnp_runs"
TOKEN_BYTES = 16
COOKIE_SECONDS = 7 * 24 * 3600


def _token_of(request: Request) -> str | None:
    token = request.cookies.get(OWNER_COOKIE, "")
    valid = len(token) == 2 * TOKEN_BYTES and all(c in "0123456789abcdef" for c in token)
    return token if valid else None


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def starting_owner(request: Request) -> tuple[str, str | None]:
    """(the digest a new run keeps, a new token to set in the cookie, or None if the browser
    already has one)."""
    token = _token_of(request)
    if token is not None:
        return _digest(token), None
    token = secrets.token_hex(TOKEN_BYTES)
    return _digest(token), token


def viewer(request: Request) -> str:
    """The digest of this browser's token, or "" if it has never started a run."""
    token = _token_of(request)
    return _digest(token) if token is not None else ""


def remember(response: Response, new_token: str | None) -> Response:
    if new_token is not None:
        response.set_cookie(OWNER_COOKIE, new_token, max_age=COOKIE_SECONDS, httponly=True,
                            samesite="lax")  # fmt: skip
    return response


def owns(request: Request, run: Run) -> bool:
    token = _token_of(request)
    return (
        bool(run.owner) and token is not None and secrets.compare_digest(_digest(token), run.owner)
    )


def require_owner(request: Request, run: Run) -> None:
    if not owns(request, run):
        raise UserError(
            N_("Only the browser that started this run can pause, resume, stop or rename it."),
            status=403,
        )


async def rename(request: Request, run: Run, runs, templates, run_base: str) -> Response:
    """POST {run_base}/{id}/name, for both labs' runs: the owner's new name for a run, from the
    form's `name` field (blank: back to "Run #12"); htmx gets the name's partial back."""
    await rename_from_form(request, run, runs)
    if not is_htmx(request):
        return RedirectResponse(f"{run_base}/{run.id}", status_code=303)
    return templates.response(request, "_run_name.html", {"run": run, "run_base": run_base})


async def rename_from_form(request: Request, run: Run, runs) -> None:
    require_owner(request, run)
    form = await request.form()
    name = form.get("name")
    name = name if isinstance(name, str) else ""
    if len(name) > 4 * NAME_LENGTH:  # far past the box's own limit: not typed there
        raise UserError(N_("A run's name has at most %(n)s characters."), n=NAME_LENGTH).at("name")
    await run_in_threadpool(runs.rename, run, name)  # a store write: not on the event loop
