"""Animated GIFs in and out: an upload read as a video volume, and frames written as an animation.

A GIF is read as (T, H, W, 3) float32 in 0..255 at most `working_size` pixels on the long side;
the lab turns it into a (T, H, W) grey or (C, T, H, W) colour volume.
"""

from __future__ import annotations

import io
import warnings
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageSequence, UnidentifiedImageError

from app.web.errors import UserError
from app.web.i18n import N_
from app.web.numbers import LocalNumber


@dataclass(frozen=True)
class Clip:
    frames: np.ndarray  # (T, H, W, 3) float32 in 0..255, at working size
    frame_ms: int  # display time of one frame
    original_size: tuple[int, int]  # (width, height) as uploaded

    @property
    def nbytes(self) -> int:
        return self.frames.nbytes


def decode_gif(
    data: bytes, max_frames: int, max_pixels: int, max_bytes: int, working_size: int = 128
) -> Clip:
    """Bytes of an animated GIF -> Clip. Raises UserError (4xx) for anything unusable.

    ``max_pixels`` limits one frame (width × height) as uploaded, before scaling down.
    """
    if not data:
        raise UserError(N_("The file is empty. Choose an animated GIF to upload."))
    if len(data) > max_bytes:
        raise UserError(
            N_("The file is larger than the %(limit)s MB limit for GIFs. Choose a smaller one."),
            status=413,
            limit=LocalNumber(max_bytes / (1024 * 1024), "short", digits=2),
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data), formats=["GIF"])
            width, height = image.size
            _check_frame(image, max_pixels)
            count = getattr(image, "n_frames", 1)
            if count > max_frames:
                raise UserError(
                    N_(
                        "The GIF has %(count)s frames; the limit is %(limit)s. Cut it shorter "
                        "and upload it again."
                    ),
                    status=413,
                    count=count,
                    limit=max_frames,
                )
            scale = min(1.0, working_size / max(width, height))
            size = (max(1, round(width * scale)), max(1, round(height * scale)))
            frames, durations = [], []
            for frame in ImageSequence.Iterator(image):
                # A later frame may grow the canvas past the logical screen: each frame's size
                # is known after its seek and before its pixels are decoded.
                _check_frame(frame, max_pixels)
                durations.append(int(frame.info.get("duration", 100) or 100))
                rgb = frame.convert("RGB")
                if rgb.size != size:
                    rgb = rgb.resize(size, Image.Resampling.BILINEAR)
                frames.append(np.asarray(rgb, dtype=np.float32))
    except UserError:
        raise
    except UnidentifiedImageError as exc:
        if data[:4] == b"GIF8":  # it says it is a GIF, but Pillow cannot make sense of it
            raise UserError(
                N_("The GIF file is damaged or cut short, so it cannot be decoded."), status=422
            ) from exc
        raise UserError(
            N_("This file is not a GIF. Upload an animated GIF (a .gif file with several frames)."),
            status=415,
        ) from exc
    except (Image.DecompressionBombError, Image.DecompressionBombWarning) as exc:
        raise UserError(
            N_("The GIF has too many pixels to open safely. Make it smaller and try again."),
            status=413,
        ) from exc
    except (OSError, SyntaxError, ValueError, EOFError, IndexError) as exc:
        raise UserError(
            N_("The GIF file is damaged or cut short, so it cannot be decoded."), status=422
        ) from exc
    frame_ms = int(np.clip(np.median(durations), 40, 500))
    return Clip(np.stack(frames), frame_ms, (width, height))


def _check_frame(frame: Image.Image, max_pixels: int) -> None:
    width, height = frame.size
    if width * height > max_pixels:
        raise UserError(
            N_(
                "The GIF's frames are %(width)s×%(height)s pixels; the limit is "
                "%(limit)s pixels per frame. Make it smaller and upload it again."
            ),
            status=413,
            width=width,
            height=height,
            limit=LocalNumber(max_pixels),
        )


def encode_gif(frames: np.ndarray, frame_ms: int) -> bytes:
    """(T, H, W) or (T, H, W, 3) uint8 -> an animated GIF that loops forever.

    Colour frames share one palette made from all of them, so a colour does not flicker.
    """
    frames = np.asarray(frames, dtype=np.uint8)
    if frames.ndim == 3:
        images = [Image.fromarray(frame, mode="L").convert("P") for frame in frames]
    else:
        strip = Image.fromarray(frames.reshape(-1, *frames.shape[2:]))  # all frames stacked
        palette = strip.quantize(colors=255, method=Image.Quantize.MEDIANCUT)
        images = [
            Image.fromarray(frame).quantize(palette=palette, dither=Image.Dither.NONE)
            for frame in frames
        ]
    buffer = io.BytesIO()
    images[0].save(
        buffer,
        format="GIF",
        save_all=True,
        append_images=images[1:],
        duration=max(20, int(frame_ms)),
        loop=0,
        disposal=1,
        optimize=False,
    )
    return buffer.getvalue()
