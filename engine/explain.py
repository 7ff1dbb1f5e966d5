"""What lies behind one output value of a 2-D convolution: its receptive field, the patch, the
element-wise products and their sum, as the Filters lab's "explain this pixel" view shows them.

Everything here is a plain loop over one output position, so it doubles as a readable reference.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.conv import conv2d, pad, resolve_padding


@dataclass(frozen=True)
class PixelExplanation:
    patch: np.ndarray  # (C, KH, KW) input values under the kernel (padding included)
    kernel: np.ndarray  # (C, KH, KW)
    products: np.ndarray  # (C, KH, KW) patch * kernel
    channel_sums: np.ndarray  # (C,) one partial sum per input channel
    bias: float
    value: float  # sum of channel_sums + bias
    rows: np.ndarray  # (KH,) input row of each kernel row; outside 0..H-1 means padding
    cols: np.ndarray  # (KW,) input column of each kernel column
    in_padding: np.ndarray  # (KH, KW) True where the kernel sits on padding


def _pair(value: int | tuple[int, int]) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def explain_pixel(
    image: np.ndarray,
    kernel: np.ndarray,
    bias: float,
    row: int,
    col: int,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple | str = 0,
    dilation: int | tuple[int, int] = 1,
    padding_mode: str = "zeros",
) -> PixelExplanation:
    """image (C, H, W), kernel (C, KH, KW): the numbers behind output[row, col] of one filter."""
    channels, height, width = image.shape
    kh, kw = kernel.shape[1:]
    sh, sw = _pair(stride)
    dh, dw = _pair(dilation)
    pads = resolve_padding(padding, (kh, kw), (dh, dw), 2)
    padded = pad(image[None].astype(np.float64), pads, padding_mode)[0]  # (C, H+pads, W+pads)
    top, left = row * sh, col * sw
    rows_padded = top + dh * np.arange(kh)
    cols_padded = left + dw * np.arange(kw)
    outside = rows_padded[-1] >= padded.shape[1] or cols_padded[-1] >= padded.shape[2]
    if outside or row < 0 or col < 0:
        raise ValueError(f"Output position ({row}, {col}) is outside the feature map.")
    patch = padded[:, rows_padded[:, None], cols_padded[None, :]]  # (C, KH, KW)
    products = patch * kernel
    channel_sums = products.reshape(channels, -1).sum(axis=1)
    rows = rows_padded - pads[0][0]
    cols = cols_padded - pads[1][0]
    in_padding = ((rows < 0) | (rows >= height))[:, None] | ((cols < 0) | (cols >= width))[None, :]
    return PixelExplanation(
        patch=patch,
        kernel=kernel.astype(np.float64),
        products=products,
        channel_sums=channel_sums,
        bias=float(bias),
        value=float(channel_sums.sum() + bias),
        rows=rows,
        cols=cols,
        in_padding=in_padding,
    )


def channel_partials(
    image: np.ndarray,
    kernels: np.ndarray,
    stride: int | tuple[int, int] = 1,
    padding: int | tuple | str = 0,
    dilation: int | tuple[int, int] = 1,
    padding_mode: str = "zeros",
) -> np.ndarray:
    """image (C, H, W), kernels (F, C, KH, KW) -> (F, C, H', W'): each input channel's share.

    Summing over C (and adding the bias) gives the conv layer's output; showing the shares makes the
    C×K×K filter visible.
    """
    channels = image.shape[0]
    # Treat channels as a batch of one-channel images and pair each with its own kernel slice.
    per_channel = [
        conv2d(
            image[None, c : c + 1],
            kernels[:, c : c + 1],
            stride=stride,
            padding=padding,
            dilation=dilation,
            padding_mode=padding_mode,
        )[0]
        for c in range(channels)
    ]  # C × (F, H', W')
    return np.stack(per_channel, axis=1)
