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
    templates_dir: Path = PROJECT_ROOT / "templates"
    static_dir: Path = PROJECT_ROOT / "static"
    locales_dir: Path = PROJECT_ROOT / "locales"
