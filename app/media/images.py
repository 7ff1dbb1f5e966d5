"""Pictures: decode and check an uploaded image, and bring any picture to the size and channels a
lab computes on."""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from app.web.errors import UserError
from app.web.i18n import N_
from app.web.numbers import LocalNumber

ALLOWED_FORMATS = ("PNG", "JPEG", "GIF", "WEBP", "BMP")
ANIMATED_FORMATS = ("GIF", "WEBP", "PNG")  # PNG: APNG


def configure_pillow(max_pixels: int) -> None:
    """Pillow's own decompression-bomb guard, set once at start from the settings."""
    Image.MAX_IMAGE_PIXELS = max_pixels


@dataclass(frozen=True)
class DecodedImage:
    pixels: np.ndarray  # (H, W, 3) float32 in 0..255, at working size
    original_size: tuple[int, int]  # (width, height) as uploaded
    scale: float  # working size / original size (1.0 when not scaled)
    source_mode: str  # Pillow mode of the file, e.g. "CMYK", "I;16", "P"
    file_format: str
    animated: bool = False  # an animation (GIF, WebP, APNG) of which the first frame is used


def _to_rgb_array(img: Image.Image) -> np.ndarray:
    """Any Pillow mode -> (H, W, 3) float32 in 0..255. Alpha is composited onto white."""
    mode = img.mode
    if mode in ("I;16", "I;16L", "I;16B", "I;16N", "I", "F"):
        # 16-bit and 32-bit grey: Pillow's convert("L") would clip at 255, so rescale ourselves.
        grey = np.asarray(img, dtype=np.float64)
        top = 65535.0 if mode.startswith("I;16") else max(float(grey.max()), 1.0)
        if mode in ("I", "F") and grey.max() <= 255 and grey.min() >= 0:
            top = 255.0
        grey = np.clip(grey / top * 255.0, 0, 255).astype(np.float32)
        return np.repeat(grey[:, :, None], 3, axis=2)
    if mode == "P" or mode in ("LA", "La", "PA", "RGBa"):
        img = img.convert("RGBA")
    if img.mode == "RGBA":
        background = Image.new("RGBA", img.size, (255, 255, 255, 255))
        img = Image.alpha_composite(background, img)
    img = img.convert("RGB")  # also covers L, 1, CMYK and YCbCr
    return np.asarray(img, dtype=np.float32)


def decode_image(data: bytes, max_pixels: int, working_size: int = 512) -> DecodedImage:
    """Bytes of an image file -> pixels at working size. Raises UserError for anything unusable."""
    if not data:
        raise UserError(N_("The file is empty. Choose an image file to upload."))
    try:
        with warnings.catch_warnings():
            # Pillow only warns between 1× and 2× its limit; treat that as the bomb it is.
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            img = Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)
            width, height = img.size
            if width * height > max_pixels:
                raise Image.DecompressionBombError("too many pixels")
            file_format = img.format or "?"
            source_mode = img.mode
            if file_format == "JPEG":
                # The JPEG decoder can shrink by a power of two as it decodes: fast, low memory.
                img.draft("RGB", (working_size, working_size))
            # Reads the second frame's header only. Not a phone's MPO JPEG: its other frames are
            # previews or depth maps, not an animation.
            animated = file_format in ANIMATED_FORMATS and bool(getattr(img, "is_animated", False))
            img.seek(0)  # GIF and WebP animations: the first frame
            img.load()
            img = ImageOps.exif_transpose(img)
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UserError(
            N_(
                "This image has too many pixels to open safely (the limit is %(limit)s "
                "megapixels). Shrink it and try again."
            ),
            status=413,
            limit=LocalNumber(max_pixels / 1e6, "short"),
        ) from exc
    except UnidentifiedImageError as exc:
        raise UserError(
            N_("This file is not an image we can read. Upload a PNG, JPEG, GIF, WebP or BMP file."),
            status=415,
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise UserError(
            N_("The image file is damaged or cut short, so it cannot be decoded."), status=422
        ) from exc

    long_side = max(img.size)
    scale = 1.0
    if long_side > working_size:
        scale = working_size / long_side
        new_size = (max(1, round(img.width * scale)), max(1, round(img.height * scale)))
        if img.mode not in ("RGB", "RGBA", "L", "LA"):
            img = img.convert("RGBA" if "A" in img.mode or img.mode == "P" else "RGB")
        img = img.resize(new_size, Image.Resampling.LANCZOS, reducing_gap=3.0)
    pixels = _to_rgb_array(img)
    return DecodedImage(
        pixels=np.ascontiguousarray(pixels),
        original_size=(width, height),
        scale=scale if scale < 1.0 else 1.0,
        source_mode=source_mode,
        file_format=file_format,
        animated=animated,
    )


def resize_to(image: DecodedImage, res: int) -> np.ndarray:
    """(H, W, 3) at most `res` on the long side; small images are never enlarged."""
    pixels = image.pixels
    height, width = pixels.shape[:2]
    if max(height, width) <= res:
        return pixels
    scale = res / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    channels = [
        np.asarray(Image.fromarray(pixels[:, :, c]).resize(size, Image.Resampling.LANCZOS))
        for c in range(3)
    ]
    # Whole numbers, as in an 8-bit image, keep the explained patches readable.
    return np.clip(np.round(np.stack(channels, axis=2)), 0, 255).astype(np.float32)


def grey(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W): ITU-R BT.601 luma, the weights Pillow's convert("L") uses, rounded as
    an 8-bit grey image is, so explained products are exact."""
    return np.round(pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32))
