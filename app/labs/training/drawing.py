"""A drawing or photo sent to a trained network, made to look like its training images."""

from __future__ import annotations

import base64
import io

import numpy as np
from PIL import Image, ImageOps

from app.web.errors import UserError
from app.web.i18n import N_
from app.web.numbers import LocalNumber
from engine.edgenet import shift_image

WORK_SIDE = 512  # the long side a drawing or photo is prepared at


def drawing_bytes(upload_data: bytes | None, drawing: str) -> bytes:
    """The picture's bytes: an uploaded file, else the canvas as a PNG data URL."""
    if upload_data:
        return upload_data
    if drawing.startswith("data:image/png;base64,"):
        try:
            return base64.b64decode(drawing.split(",", 1)[1], validate=True)
        except ValueError as error:
            raise UserError(N_("The drawing could not be read.")) from error
    raise UserError(
        N_("The drawing is blank: draw a digit or a shape with the mouse or a finger first.")
    )


def framing(images: np.ndarray) -> tuple[float, str]:
    """How the training images frame their ink: the median share of the side that the ink's
    longer side fills, and whether the ink's box ("box") or its centre of mass ("mass") sits
    nearer the middle. The UCI digits fill the whole frame, box-centred; the shapes fill about
    two thirds. A picture prepared the same way is one the network can recognise."""
    fills, box_offsets, mass_offsets = [], [], []
    middle = (images.shape[-1] - 1) / 2
    for image in images[:, 0][:500]:  # a sample is plenty for a median
        mask = image > 0.2
        if mask.sum() < 3:
            continue
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        fills.append(max(rows[-1] - rows[0] + 1, cols[-1] - cols[0] + 1) / image.shape[-1])
        box = ((rows[0] + rows[-1]) / 2, (cols[0] + cols[-1]) / 2)
        total = image.sum()
        mass = ((image.sum(axis=1) * np.arange(image.shape[0])).sum() / total,
                (image.sum(axis=0) * np.arange(image.shape[1])).sum() / total)  # fmt: skip
        box_offsets.append(np.hypot(box[0] - middle, box[1] - middle))
        mass_offsets.append(np.hypot(mass[0] - middle, mass[1] - middle))
    if not fills:
        return 0.75, "mass"
    centre = "box" if np.median(box_offsets) <= np.median(mass_offsets) else "mass"
    return float(np.clip(np.median(fills), 0.25, 1.0)), centre


def prepare_drawing(
    data: bytes, size: int, max_pixels: int = 4_000_000, fill: float = 0.75, centre: str = "mass"
) -> tuple[list[tuple[str, np.ndarray]], np.ndarray]:
    """A drawing or photo -> the steps that make it look like the training data, and the result.

    Like the training images (see `framing`): bright strokes on black, cropped to the ink,
    scaled so that its longer side fills `fill` of the side, centred by its box or its centre
    of mass (`centre`), values in 0..1.
    """
    try:
        image = Image.open(io.BytesIO(data))
        if image.width * image.height > max_pixels:  # checked before the pixels are decoded
            raise UserError(N_("The picture is too large (at most %(mp)s megapixels)."),
                            status=413,
                            mp=LocalNumber(max_pixels / 1e6, "short", digits=2))  # fmt: skip
        # A JPEG can be decoded at 1/2, 1/4 or 1/8 of its size straight away.
        image.draft("RGB", (WORK_SIDE, WORK_SIDE))
        image.load()
        # Work at most WORK_SIDE pixels on the long side: a 4-megapixel photo would otherwise
        # cost ~70 MB of float arrays for the steps, for a 28-pixel network input.
        if max(image.size) > WORK_SIDE:
            image.thumbnail((WORK_SIDE, WORK_SIDE), Image.Resampling.LANCZOS)
    except UserError:
        raise
    except Exception as error:  # Pillow raises many kinds for bad bytes
        raise UserError(
            N_("This is not an image we can read. Draw on the canvas or upload a PNG or JPEG."),
            status=415,
        ) from error
    if image.mode in ("RGBA", "LA", "P"):
        background = Image.new("RGBA", image.size, (255, 255, 255, 255))
        image = Image.alpha_composite(background, image.convert("RGBA"))
    grey = np.asarray(ImageOps.grayscale(image), dtype=np.float32) / 255.0
    steps = [(N_("your picture"), grey)]
    # Ink is dark on a light page: flip so strokes are bright, as in the training images.
    ink = 1.0 - grey if grey.mean() > 0.5 else grey
    steps.append((N_("strokes made bright"), ink))
    mask = ink > 0.2
    if mask.sum() < 3:
        raise UserError(
            N_("The drawing is blank: draw a digit or a shape with the mouse or a finger first.")
        )
    rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
    crop = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    steps.append((N_("cropped to the ink"), crop))
    inner = max(2, round(size * fill))
    scale = inner / max(crop.shape)
    new_size = (max(1, round(crop.shape[1] * scale)), max(1, round(crop.shape[0] * scale)))
    small = (
        np.asarray(
            Image.fromarray((crop * 255).astype(np.uint8)).resize(
                new_size, Image.Resampling.LANCZOS
            ),
            dtype=np.float32,
        )
        / 255.0
    )
    canvas = np.zeros((size, size), dtype=np.float32)
    top = (size - small.shape[0]) // 2
    left = (size - small.shape[1]) // 2
    canvas[top : top + small.shape[0], left : left + small.shape[1]] = small
    if centre == "box":
        canvas = np.clip(canvas / max(canvas.max(), 1e-6), 0, 1)
        steps.append((N_("scaled and centred like the training images"), canvas))
        return steps, canvas[None]
    # Centre of mass to the middle, as the digits were prepared.
    total = canvas.sum()
    cy = (canvas.sum(axis=1) * np.arange(size)).sum() / total
    cx = (canvas.sum(axis=0) * np.arange(size)).sum() / total
    canvas = shift_image(canvas, int(round((size - 1) / 2 - cx)), int(round((size - 1) / 2 - cy)))
    canvas = np.clip(canvas / max(canvas.max(), 1e-6), 0, 1)
    steps.append((N_("scaled and centred like the training images"), canvas))
    return steps, canvas[None]
