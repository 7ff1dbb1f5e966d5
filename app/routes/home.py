"""Home page (the lesson path), language switch and health check."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse

from app.errors import UserError
from app.i18n import LANG_COOKIE, LANGUAGES, N_

router = APIRouter()


# The lesson path. `url` is None until a lab is built: it is then shown as upcoming text.
LABS = [
    {
        "number": 1,
        "title": N_("Filters"),
        "url": "/filters",
        "teaches": N_(
            "Convolve a photo with a kernel: stride, padding, dilation and C×K×K filters, "
            "with every output number explained."
        ),
    },
    {
        "number": 2,
        "title": N_("Pooling & pipeline"),
        "url": "/pooling",
        "teaches": N_(
            "Max and average pooling, translation invariance, and how a CNN's layers shrink space "
            "and grow channels."
        ),
    },
    {
        "number": 3,
        "title": N_("Training"),
        "url": "/train",
        "teaches": N_(
            "Train a tiny CNN live, with batch norm and data augmentation, and look inside it."
        ),
    },
    {
        "number": 4,
        "title": N_("Text"),
        "url": "/text",
        "teaches": N_(
            "Tokenization, padding and truncating, embeddings, and 1-D convolution over words."
        ),
    },
    {
        "number": 5,
        "title": N_("Signals"),
        "url": "/signals",
        "teaches": N_("Convolution you can hear (audio echo and reverb) and watch (video, 3-D)."),
    },
    {
        "number": 6,
        "title": N_("Losses"),
        "url": "/losses",
        "teaches": N_("MSE, maximum likelihood, and binary and categorical cross-entropy."),
    },
    {
        "number": 7,
        "title": N_("Optimizers"),
        "url": "/optimizers",
        "teaches": N_(
            "Gradient descent, SGD, momentum, schedules, AdaGrad, RMSProp and Adam on loss "
            "surfaces."
        ),
    },
]


@router.get("/", response_class=HTMLResponse)
def home_page(request: Request) -> HTMLResponse:
    return request.app.state.templates.response(request, "home.html", {"labs": LABS})


@router.get("/about", response_class=HTMLResponse)
def about_page(request: Request) -> HTMLResponse:
    from app.samples import SAMPLES

    context = {"samples": SAMPLES, "settings": request.app.state.settings}
    return request.app.state.templates.response(request, "about.html", context)


@router.get("/healthz")
def healthz() -> dict[str, str]:
    return {"status": "ok"}


def _safe_return_path(candidate: str | None, host: str | None) -> str | None:
    """Only paths on this site, so the switch cannot be turned into an open redirect."""
    if not candidate:
        return None
    parts = urlsplit(candidate)
    if parts.netloc and parts.netloc != host:
        return None
    if not parts.path.startswith("/") or parts.path.startswith("//"):
        return None
    return parts.path + (f"?{parts.query}" if parts.query else "")


@router.get("/lang/{code}")
def switch_language(request: Request, code: str, next: str | None = None) -> RedirectResponse:
    if code not in LANGUAGES:
        raise UserError(N_("Unknown language '%(code)s'."), status=404, code=code[:20])
    host = request.headers.get("host")
    target = (
        _safe_return_path(next, host)
        or _safe_return_path(request.headers.get("referer"), host)
        or "/"
    )
    response = RedirectResponse(target, status_code=303)
    response.set_cookie(LANG_COOKIE, code, max_age=365 * 24 * 3600, samesite="lax")
    return response
