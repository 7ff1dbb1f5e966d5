"""Presentation mode: `?present=1` on any lab's address gives the projector layout (issue #15).

The flag lives in the address, so a presented view is a link a teacher can keep in a lesson plan.
The layout itself is CSS (`body.present` in static/css/app.css); this module only says whether a
request presents and builds the addresses that enter, keep or leave the mode. htmx requests send
the flag as the X-Present header (static/js/app.js), since a lab's form does not carry it; the
addresses they push get it back here.
"""

from __future__ import annotations

from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from fastapi import Request

PRESENT_PARAM = "present"
PRESENT_HEADER = "x-present"
ON = "1"


def is_presenting(request: Request) -> bool:
    """Whether this request asks for the projector layout: `?present=1`, or an htmx request sent
    from a presented page."""
    return (
        request.query_params.get(PRESENT_PARAM) == ON or request.headers.get(PRESENT_HEADER) == ON
    )


def with_present(url: str, on: bool = True) -> str:
    """`url` with the flag set (on) or removed (off); every other parameter kept in its order."""
    parts = urlsplit(url)
    query = [(key, value) for key, value in parse_qsl(parts.query, keep_blank_values=True)
             if key != PRESENT_PARAM]  # fmt: skip
    if on:
        query.append((PRESENT_PARAM, ON))
    return urlunsplit(parts._replace(query=urlencode(query)))


def keep_present(request: Request, url: str) -> str:
    """A link on this page: it keeps the flag when the page presents, and is unchanged otherwise."""
    return with_present(url) if is_presenting(request) else url


def toggle_url(request: Request) -> str:
    """This page's address with the mode switched: the enter or leave button's link."""
    here = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return with_present(here, on=not is_presenting(request))
