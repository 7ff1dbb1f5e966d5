"""The caches routes work with, as FastAPI dependencies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from app.media.cache import LRUBytesCache


def uploads_of(request: Request) -> LRUBytesCache:
    return request.app.state.uploads


def results_of(request: Request) -> LRUBytesCache:
    return request.app.state.results


def samples_dir_of(request: Request) -> Path:
    return request.app.state.settings.static_dir / "samples"


Uploads = Annotated[LRUBytesCache, Depends(uploads_of)]  # decoded uploads, by content id
Results = Annotated[LRUBytesCache, Depends(results_of)]  # computed results, by their inputs
SamplesDir = Annotated[Path, Depends(samples_dir_of)]
