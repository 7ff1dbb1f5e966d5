"""Settings read from the environment, with defaults that suit a classroom."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

PROJECT_ROOT = Path(os.environ.get("CNN_PLAYGROUND_ROOT", Path(__file__).resolve().parents[1]))


def _env_int(name: str, default: int) -> int:
    raw = os.environ.get(name)
    return int(raw) if raw else default


@dataclass(frozen=True)
class Settings:
    # Uploads larger than this are refused while the body streams in.
    max_upload_bytes: int = field(
        default_factory=lambda: _env_int("CNN_MAX_UPLOAD_BYTES", 10 * 1024 * 1024)
    )
    # Pixel count above which a file is treated as a decompression bomb (width × height).
    max_image_pixels: int = field(
        default_factory=lambda: _env_int("CNN_MAX_IMAGE_PIXELS", 40_000_000)
    )
    # Decoded uploads kept in memory, least recently used dropped first.
    upload_cache_bytes: int = field(
        default_factory=lambda: _env_int("CNN_UPLOAD_CACHE_BYTES", 256 * 1024 * 1024)
    )
    # Computed feature maps kept so the PNG requests that follow a page do not recompute.
    result_cache_bytes: int = field(
        default_factory=lambda: _env_int("CNN_RESULT_CACHE_BYTES", 128 * 1024 * 1024)
    )
    # Training runs: at most this many at once (one per core), each limited in wall time; finished
    # runs are kept for run_ttl_seconds, and at most max_runs runs are kept in all.
    max_active_runs: int = field(
        default_factory=lambda: _env_int("CNN_MAX_ACTIVE_RUNS", os.cpu_count() or 1)
    )
    run_max_seconds: int = field(default_factory=lambda: _env_int("CNN_RUN_MAX_SECONDS", 120))
    run_ttl_seconds: int = field(default_factory=lambda: _env_int("CNN_RUN_TTL_SECONDS", 3600))
    max_runs: int = field(default_factory=lambda: _env_int("CNN_MAX_RUNS", 24))
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "static"
    locales_dir: Path = PROJECT_ROOT / "locales"
