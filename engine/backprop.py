"""The backward pass of one 2-D convolution, written as the two operations a student can check
by hand (the Filters lab's "backward" view):

- dL/dkernel is the correlation of the (padded) input with the output gradient: kernel cell
  (c, i, j) collects dout[o] · x[c, o·stride + (i, j)] over every output position o.
- dL/dinput is the full convolution of the output gradient (spread out by the stride) with the
  flipped kernel, cropped by the padding: input pixel (c, r, s) collects
  dout[o] · k[c, (r, s) − o·stride] over the positions o whose window covers it.

Both are plain loops over one cell, so each doubles as the "explain" view of a clicked cell and
as a reference: tests check them against engine.layers.Conv2D.backward.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from engine.conv import pad, resolve_padding

__all__ = ["CellGradient", "input_gradient_cell", "kernel_gradient", "kernel_gradient_cell",
           "conv_input_gradient"]  # fmt: skip


@dataclass(frozen=True)
class CellGradient:
    """One gradient cell and the products that add up to it."""

    factors: np.ndarray  # (M,) the input values (dL/dkernel) or kernel values (dL/dinput)
    douts: np.ndarray  # (M,) the output-gradient value each is multiplied by
    positions: np.ndarray  # (M, 2) the output positions (row, col) that contribute
    value: float  # sum of factors · douts


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else (int(value[0]), int(value[1]))


def _setup(image, kernel_shape, dout, stride, padding):
    sh, sw = _pair(stride)
    kh, kw = kernel_shape
    pads = resolve_padding(padding, (kh, kw), 1, 2)
    padded = pad(np.asarray(image, dtype=np.float64)[None], pads)[0]  # (C, H+pads, W+pads)
    rows = (padded.shape[1] - kh) // sh + 1
    cols = (padded.shape[2] - kw) // sw + 1
    if np.shape(dout) != (rows, cols):
        raise ValueError(f"The output gradient must be {rows}×{cols} (got {np.shape(dout)}).")
    return padded, pads, (sh, sw)


def kernel_gradient_cell(image, dout, kernel_shape, c: int, i: int, j: int, stride=1,
                         padding=0) -> CellGradient:  # fmt: skip
    """dL/dkernel[c, i, j] for image (C, H, W) and dout (H_o, W_o):
    Σ_o dout[o] · x_pad[c, o·stride + (i, j)]."""
    padded, _, (sh, sw) = _setup(image, kernel_shape, dout, stride, padding)
    dout = np.asarray(dout, dtype=np.float64)
    positions = np.array(list(np.ndindex(dout.shape)))  # (M, 2)
    factors = padded[c, positions[:, 0] * sh + i, positions[:, 1] * sw + j]
    douts = dout[positions[:, 0], positions[:, 1]]
    return CellGradient(factors, douts, positions, float(factors @ douts))


def kernel_gradient(image, dout, kernel_shape, stride=1, padding=0) -> np.ndarray:
    """(C, KH, KW): every kernel cell's gradient, the correlation of the input with dout."""
    kh, kw = kernel_shape
    grad = np.empty((np.shape(image)[0], kh, kw))
    for c, i, j in np.ndindex(grad.shape):
        grad[c, i, j] = kernel_gradient_cell(image, dout, kernel_shape, c, i, j, stride,
                                             padding).value  # fmt: skip
    return grad


def input_gradient_cell(kernel, dout, image_shape, c: int, r: int, s: int, stride=1,
                        padding=0) -> CellGradient:  # fmt: skip
    """dL/dinput[c, r, s] for kernel (C, KH, KW), dout (H_o, W_o) and an input (C, H, W): the
    output positions whose window covers the pixel, each with the kernel value over it."""
    kh, kw = np.shape(kernel)[1:]
    _, pads, (sh, sw) = _setup(np.zeros(image_shape), (kh, kw), dout, stride, padding)
    dout = np.asarray(dout, dtype=np.float64)
    pr, ps = r + pads[0][0], s + pads[1][0]  # the pixel in padded coordinates
    found = [(o, q) for o, q in np.ndindex(dout.shape)
             if 0 <= pr - o * sh < kh and 0 <= ps - q * sw < kw]  # fmt: skip
    positions = np.array(found, dtype=int).reshape(-1, 2)
    factors = np.array([kernel[c, pr - o * sh, ps - q * sw] for o, q in found], dtype=np.float64)
    douts = np.array([dout[o, q] for o, q in found], dtype=np.float64)
    return CellGradient(factors, douts, positions, float(factors @ douts))


def conv_input_gradient(kernel, dout, image_shape, stride=1, padding=0) -> np.ndarray:
    """(C, H, W): every input pixel's gradient, the full convolution of the stride-spread dout
    with the flipped kernel, cropped by the padding."""
    kernel = np.asarray(kernel, dtype=np.float64)
    c_in, kh, kw = kernel.shape
    sh, sw = _pair(stride)
    pads = resolve_padding(padding, (kh, kw), 1, 2)
    dout = np.asarray(dout, dtype=np.float64)
    spread = np.zeros(((dout.shape[0] - 1) * sh + 1, (dout.shape[1] - 1) * sw + 1))
    spread[::sh, ::sw] = dout  # the stride's gaps are zeros
    full = np.pad(spread, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    flipped = kernel[:, ::-1, ::-1]
    padded_h = image_shape[1] + pads[0][0] + pads[0][1]
    padded_w = image_shape[2] + pads[1][0] + pads[1][1]
    grad = np.zeros((c_in, padded_h, padded_w))
    out_h, out_w = spread.shape[0] + kh - 1, spread.shape[1] + kw - 1
    for ch in range(c_in):  # a plain correlation of the zero-padded gradient with the flip
        for y in range(min(out_h, padded_h)):
            for x in range(min(out_w, padded_w)):
                grad[ch, y, x] = np.sum(full[y : y + kh, x : x + kw] * flipped[ch])
    return grad[
        :, pads[0][0] : pads[0][0] + image_shape[1], pads[1][0] : pads[1][0] + image_shape[2]
    ]
