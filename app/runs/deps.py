"""The run manager and a lab's runs, as FastAPI dependencies."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from app.runs.manager import Run, RunManager, ViewerRuns
from app.runs.owner import viewer
from app.web.errors import UserError
from app.web.i18n import N_


def runs_of(request: Request) -> ViewerRuns:
    manager: RunManager = request.app.state.runs
    return ViewerRuns(manager, viewer(request))


Runs = Annotated[ViewerRuns, Depends(runs_of)]


def find_run(runs: RunManager, run_id: str, kind: str) -> Run:
    """The run of this kind (a Training-lab "image" run, a Text-lab "text" run), or a 404 that
    says why it may be gone."""
    run = runs.get(run_id)
    if run is None or run.config.get("kind", "image") != kind:
        message = (
            N_("There is no run '%(id)s': it never existed or has expired (finished runs are "
               "kept for %(minutes)s minutes). Start a new one.")
            if kind == "image" else
            N_("There is no text run '%(id)s': it never existed or has expired (finished runs "
               "are kept for %(minutes)s minutes). Train a new one.")
        )  # fmt: skip
        raise UserError(message, status=404, id=run_id[:20], minutes=round(runs.ttl / 60))
    return run


def image_run(run_id: str, runs: Runs) -> Run:
    return find_run(runs, run_id, "image")


def text_run(run_id: str, runs: Runs) -> Run:
    return find_run(runs, run_id, "text")


ImageRun = Annotated[Run, Depends(image_run)]  # from the path's {run_id}
TextRun = Annotated[Run, Depends(text_run)]
