"""Built-in images: photos shipped under free licences (see static/samples/CREDITS.md), and small
synthetic images whose response to a filter is easy to predict."""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np

from app.media.images import DecodedImage, decode_image
from app.web.i18n import N_


@dataclass(frozen=True)
class Sample:
    name: str
    title: str  # msgid
    credit: str  # msgid (names are not translated, the wording is)
    file: str | None = None  # under static/samples, for photos


def _checkerboard() -> np.ndarray:
    squares = (np.indices((64, 64)) // 8).sum(axis=0) % 2
    return squares * 255.0


def _dot() -> np.ndarray:
    image = np.zeros((33, 33))
    image[16, 16] = 255.0
    return image


def _step_edge() -> np.ndarray:
    image = np.full((48, 48), 40.0)
    image[:, 24:] = 220.0
    return image


def _square() -> np.ndarray:
    image = np.zeros((48, 48))
    image[14:34, 14:34] = 255.0
    return image


SYNTHETIC = {
    "checkerboard": _checkerboard,
    "dot": _dot,
    "step": _step_edge,
    "square": _square,
}

SAMPLES = {
    sample.name: sample
    for sample in [
        Sample(
            "astronaut",
            N_("Astronaut"),
            N_("Eileen Collins, NASA (public domain)"),
            "astronaut.png",
        ),
        Sample("cat", N_("Cat"), N_("Chelsea, by Stéfan van der Walt (CC0)"), "chelsea.png"),
        Sample("coffee", N_("Coffee"), N_("by Rachel Michetti (CC0)"), "coffee.png"),
        Sample("camera", N_("Camera"), N_("by Lav Varshney (CC0)"), "camera.png"),
        Sample("brick", N_("Brick wall"), N_("CC0Textures (CC0)"), "brick.png"),
        Sample("checkerboard", N_("Checkerboard"), N_("synthetic, 64×64")),
        Sample("dot", N_("Single bright dot"), N_("synthetic, 33×33")),
        Sample("step", N_("Step edge"), N_("synthetic, 48×48")),
        Sample("square", N_("White square"), N_("synthetic, 48×48")),
    ]
}
DEFAULT_SAMPLE = "astronaut"


@cache
def load_sample(name: str, samples_dir: Path) -> DecodedImage:
    """Samples are decoded once per process; callers must not modify the returned pixels."""
    sample = SAMPLES[name]
    if sample.file is None:
        grey = SYNTHETIC[name]().astype(np.float32)
        pixels = np.repeat(grey[:, :, None], 3, axis=2)
        height, width = grey.shape
        return DecodedImage(pixels, (width, height), 1.0, "L", "synthetic")
    data = (samples_dir / sample.file).read_bytes()
    return decode_image(data, max_pixels=10_000_000)
