"""The caches routes work with, as FastAPI dependencies."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from fastapi import Depends, Request

from app.media.cache import LRUBytesCache
from app.media.shared import SharedMedia


def uploads_of(request: Request) -> SharedMedia:
    return request.app.state.uploads


def results_of(request: Request) -> LRUBytesCache:
    return request.app.state.results


def samples_dir_of(request: Request) -> Path:
    return request.app.state.settings.static_dir / "samples"


@dataclass(frozen=True)
class MediaStore:
    """What the image labs compute on."""

    uploads: SharedMedia  # decoded uploads, by content id, shared by every web process
    results: LRUBytesCache  # computed results, by their inputs
    samples_dir: Path  # the built-in photos


def media_of(request: Request) -> MediaStore:
    return MediaStore(uploads_of(request), results_of(request), samples_dir_of(request))


Uploads = Annotated[SharedMedia, Depends(uploads_of)]
Results = Annotated[LRUBytesCache, Depends(results_of)]
Media = Annotated[MediaStore, Depends(media_of)]
