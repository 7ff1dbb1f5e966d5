"""The Filters lab's "Backward" mode: one convolution's backward pass on the current image and
the selected map's kernel, for an output gradient dL/dy the student chooses.

- dL/dkernel is the correlation of the (padded) input with dL/dy, its positions spread by the
  stride: computed here as one engine convolution with dL/dy as the kernel, dilated by the stride.
- dL/dinput is the full convolution of the stride-spread dL/dy with the flipped kernel: one engine
  convolution of the zero-bordered gradient with the flipped kernel.

Dilation and border modes are folded in without changing the engine's backward: a dilated
kernel is the same kernel with zeros between its taps, and a reflect/replicate/circular border
copies image pixels into the padding, so each copy's gradient is added back onto the pixel it
copies (the adjoint of padding). The engine's `Conv2D.backward` on the padded image with the
dilated kernel is run beside it, and the largest difference is shown, not assumed.

One clicked cell of either gradient is listed term by term with engine.backprop's cell
functions, the "explain this pixel" of the backward pass.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from app.labs.filters.fields import FilterFields
from app.media.filterbank import FilterResult
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.png import diverging_rgb, symmetric_limit
from engine.backprop import input_gradient_cell, kernel_gradient_cell
from engine.conv import conv2d, pad
from engine.layers import Conv2D

GRADIENTS = ("ones", "pixel", "map")
# The check against Conv2D.backward builds the layer's im2col matrix, C·K·K·H'·W' numbers (as
# float64: 64 MiB at this limit). Past it the gradients are still shown, the check is skipped.
MAX_LAYER_VALUES = 1 << 23
TOP_TERMS = 8  # products listed for a clicked cell; the rest are counted


@dataclass
class BackwardResult:
    dout: np.ndarray  # (H', W') dL/dy, the output gradient chosen
    kernel: np.ndarray  # (C, KH, KW) the kernel as applied (flipped for true convolution)
    kernel_grad: np.ndarray  # (C, KH, KW) dL/dkernel
    input_grad: np.ndarray  # (C, H, W) dL/dinput
    bias_grad: float  # dL/dbias = Σ dL/dy
    pixel: tuple[int, int] | None  # where the one-pixel gradient is 1
    layer_values: int  # numbers in Conv2D.backward's im2col matrix
    # max |ours − Conv2D.backward| for the kernel, the input and the bias; None when skipped
    layer_diffs: tuple[float, float, float] | None

    @property
    def layer_relative(self) -> tuple[float, float, float] | None:
        """The differences as fractions of each gradient's largest value (float64 round-off is
        about 1e-16 of it)."""
        if self.layer_diffs is None:
            return None
        tops = (np.abs(self.kernel_grad).max(), np.abs(self.input_grad).max(), abs(self.bias_grad))
        return tuple(d / t if t > 0 else d for d, t in zip(self.layer_diffs, tops, strict=True))

    @property
    def nbytes(self) -> int:
        return self.dout.nbytes + self.kernel.nbytes * 2 + self.input_grad.nbytes


def output_gradient(fields: FilterFields, y: np.ndarray) -> tuple[np.ndarray, tuple | None]:
    """dL/dy for L = Σ y (all ones), L = y[row, col] (one pixel), or L = ½·Σ y² (the map)."""
    if fields.grad == "ones":
        return np.ones(y.shape), None
    if fields.grad == "map":
        return y.astype(np.float64), None
    out_h, out_w = y.shape
    if fields.row is not None and fields.col is not None:
        pixel = (min(fields.row, out_h - 1), min(fields.col, out_w - 1))
    else:
        pixel = (out_h // 2, out_w // 2)  # nothing explained yet: the centre
    dout = np.zeros(y.shape)
    dout[pixel] = 1.0
    return dout, pixel


def dilate(kernel: np.ndarray, dilation: int) -> np.ndarray:
    """(C, KH, KW) -> (C, d·(KH−1)+1, d·(KW−1)+1): the taps d apart, zeros between."""
    c, kh, kw = kernel.shape
    wide = np.zeros((c, dilation * (kh - 1) + 1, dilation * (kw - 1) + 1))
    wide[:, ::dilation, ::dilation] = kernel
    return wide


def padded_input(fields: FilterFields, result: FilterResult) -> np.ndarray:
    """(C, H + pads, W + pads) in float64, the border filled as the forward pass filled it."""
    return pad(result.image.astype(np.float64)[None], result.pads, fields.mode)[0]


def source_index(shape: tuple[int, int], pads, mode: str) -> np.ndarray:
    """For each cell of the padded grid, the flat index of the image pixel it copies; −1 for a
    zero of the padding."""
    height, width = shape
    index = np.arange(height * width).reshape(1, height, width)
    if mode == "zeros":
        return np.pad(index[0], pads, constant_values=-1)
    return pad(index, pads, mode)[0]


def fold_padding(grad: np.ndarray, shape: tuple[int, int], pads, mode: str) -> np.ndarray:
    """(C, Hp, Wp) gradient on the padded grid -> (C, H, W): each padded cell's gradient goes to
    the pixel it copies (the adjoint of padding); zeros of the padding take theirs nowhere."""
    index = source_index(shape, pads, mode).ravel()
    keep = index >= 0
    size = shape[0] * shape[1]
    folded = [np.bincount(index[keep], weights=g.ravel()[keep], minlength=size) for g in grad]
    return np.stack(folded).reshape(len(grad), *shape)


def kernel_gradient_map(padded: np.ndarray, dout: np.ndarray, stride: int, dilation: int,
                        kernel_shape: tuple[int, int]) -> np.ndarray:  # fmt: skip
    """(C, KH, KW): Σ_o dL/dy[o] · x_pad[c, o·stride + d·(i, j)], the correlation of the padded
    input with dL/dy (dL/dy used as a kernel dilated by the stride)."""
    # (C, 1, Hp, Wp) ⋆ (1, 1, H', W') dilated by the stride -> (C, 1, ≥ d·(KH−1)+1, ...)
    corr = conv2d(padded[:, None], dout[None, None], dilation=stride)[:, 0]
    kh, kw = kernel_shape
    return corr[:, : dilation * (kh - 1) + 1 : dilation, : dilation * (kw - 1) + 1 : dilation]


def input_gradient_map(wide: np.ndarray, dout: np.ndarray, stride: int,
                       padded_shape: tuple[int, int]) -> np.ndarray:  # fmt: skip
    """(C, Hp, Wp): the full convolution of the stride-spread dL/dy with the (dilated) kernel,
    on the padded grid."""
    out_h, out_w = dout.shape
    spread = np.zeros(((out_h - 1) * stride + 1, (out_w - 1) * stride + 1))
    spread[::stride, ::stride] = dout  # the stride's gaps are zeros
    kh, kw = wide.shape[1:]
    bordered = np.pad(spread, ((kh - 1, kh - 1), (kw - 1, kw - 1)))
    flipped = np.ascontiguousarray(wide[:, None, ::-1, ::-1])  # (C, 1, KH, KW)
    full = conv2d(bordered[None, None], flipped)[0]  # (C, s·(H'−1)+KH, s·(W'−1)+KW)
    # Rows and columns past the last window (when the stride does not divide evenly) get 0.
    grad = np.zeros((len(wide), *padded_shape))
    grad[:, : full.shape[1], : full.shape[2]] = full[:, : padded_shape[0], : padded_shape[1]]
    return grad


def layer_values(channels: int, wide_shape: tuple[int, int], out_shape: tuple[int, int]) -> int:
    return channels * wide_shape[0] * wide_shape[1] * out_shape[0] * out_shape[1]


def layer_gradients(padded, wide, dout, stride):
    """The engine's Conv2D layer (float64, no padding: the border is already in `padded`):
    dL/dweight (C, KH', KW'), dL/dinput on the padded grid (C, Hp, Wp) and dL/dbias."""
    layer = Conv2D(len(wide), 1, wide.shape[1:], stride=stride, padding=0, dtype=np.float64)
    layer.params["weight"][...] = wide[None]
    layer.forward(padded[None], training=False)
    dx = layer.backward(dout[None, None], input_grad=True)[0]
    return layer.grads["weight"][0], dx, float(layer.grads["bias"][0])


def compute(fields: FilterFields, result: FilterResult, index: int) -> BackwardResult:
    """The backward pass of map `index`'s filter, for the output gradient the fields choose."""
    kernel = result.bank[index].astype(np.float64)  # (C, KH, KW)
    dout, pixel = output_gradient(fields, result.maps[index])
    padded = padded_input(fields, result)
    wide = dilate(kernel, fields.dilation)
    shape = result.image.shape[1:]
    kernel_grad = kernel_gradient_map(padded, dout, fields.stride, fields.dilation,
                                      kernel.shape[1:])  # fmt: skip
    padded_grad = input_gradient_map(wide, dout, fields.stride, padded.shape[1:])
    input_grad = fold_padding(padded_grad, shape, result.pads, fields.mode)
    bias_grad = float(dout.sum())
    values = layer_values(len(kernel), wide.shape[1:], dout.shape)
    diffs = None
    if values <= MAX_LAYER_VALUES:
        layer_w, layer_dx, layer_b = layer_gradients(padded, wide, dout, fields.stride)
        layer_w = layer_w[:, :: fields.dilation, :: fields.dilation]  # the real taps
        layer_input = fold_padding(layer_dx, shape, result.pads, fields.mode)
        diffs = (
            float(np.abs(kernel_grad - layer_w).max()),
            float(np.abs(input_grad - layer_input).max()),
            abs(bias_grad - layer_b),
        )
    return BackwardResult(dout, kernel, kernel_grad, input_grad, bias_grad, pixel, values, diffs)


# --- one clicked cell, term by term --------------------------------------------------------


@dataclass(frozen=True)
class Term:
    out: tuple[int, int]  # the output position o whose gradient is used
    at: tuple[int, int]  # kernel cell: the input pixel o·s + d·(i, j) − pad; input cell: (i, j)
    factor: float  # the input value (kernel cell) or the kernel entry (input cell)
    dout: float  # dL/dy at o
    in_padding: bool = False  # the input value comes from the padding (kernel cell)

    @property
    def product(self) -> float:
        return self.factor * self.dout


@dataclass(frozen=True)
class CellTerms:
    cell: tuple[int, int, int]  # (channel, row, column) of the gradient explained
    terms: list[Term]  # the largest products first, at most TOP_TERMS
    count: int  # every term of the sum
    nonzero: int  # terms whose product is not 0
    total: float  # their sum: the gradient's value
    copies: int = 1  # input cell: the times the pixel appears on the padded grid


def _largest(terms: list[Term]) -> list[Term]:
    """The products worth reading: the non-zero ones, largest first (all, if every one is 0)."""
    nonzero = [t for t in terms if t.product != 0] or terms
    return sorted(nonzero, key=lambda t: -abs(t.product))[:TOP_TERMS]


def explain_kernel_cell(fields: FilterFields, result: FilterResult, back: BackwardResult,
                        c: int, i: int, j: int) -> CellTerms:  # fmt: skip
    """dL/dkernel[c, i, j] = Σ_o x_pad[c, o·s + d·(i, j)] · dL/dy[o], as its products."""
    c, i, j = (min(c, back.kernel.shape[0] - 1), min(i, back.kernel.shape[1] - 1),
               min(j, back.kernel.shape[2] - 1))  # fmt: skip
    d, s = fields.dilation, fields.stride
    padded = padded_input(fields, result)
    wide_shape = ((back.kernel.shape[1] - 1) * d + 1, (back.kernel.shape[2] - 1) * d + 1)
    cell = kernel_gradient_cell(padded, back.dout, wide_shape, c, i * d, j * d, stride=s)
    (top, _), (left, _) = result.pads
    height, width = result.image.shape[1:]
    products = cell.factors * cell.douts
    # A term per output position: up to 262,144 of them, so the largest are found in NumPy.
    largest = np.argsort(-np.abs(products), kind="stable")[:TOP_TERMS]
    if np.count_nonzero(products):
        largest = largest[products[largest] != 0]  # the zeros add nothing to read
    terms = []
    for n in largest:
        (o, q), factor, g = cell.positions[n], cell.factors[n], cell.douts[n]
        r, col = int(o) * s + i * d - top, int(q) * s + j * d - left
        outside = not (0 <= r < height and 0 <= col < width)
        terms.append(Term((int(o), int(q)), (r, col), float(factor), float(g), outside))
    nonzero = int(np.count_nonzero(products))
    return CellTerms((c, i, j), terms, len(products), nonzero, cell.value)


def explain_input_cell(fields: FilterFields, result: FilterResult, back: BackwardResult,
                       c: int, r: int, col: int) -> CellTerms:  # fmt: skip
    """dL/dinput[c, r, col] = Σ over the windows that cover the pixel (and its copies in the
    padding) of kernel entry × dL/dy, as its products."""
    channels, height, width = result.image.shape
    c, r, col = min(c, channels - 1), min(r, height - 1), min(col, width - 1)
    d, s = fields.dilation, fields.stride
    wide = dilate(back.kernel, d)
    index = source_index((height, width), result.pads, fields.mode)
    copies = np.argwhere(index == r * width + col)  # where the pixel sits on the padded grid
    terms, count, nonzero, total = [], 0, 0, 0.0
    for pr, ps in copies:
        cell = input_gradient_cell(wide, back.dout, (channels, *index.shape), c, int(pr),
                                   int(ps), stride=s)  # fmt: skip
        for (o, q), factor, g in zip(cell.positions, cell.factors, cell.douts, strict=True):
            a, b = int(pr) - int(o) * s, int(ps) - int(q) * s  # the tap of the dilated kernel
            if a % d or b % d:
                continue  # a zero between a dilated kernel's taps: not a kernel entry
            terms.append(Term((int(o), int(q)), (a // d, b // d), float(factor), float(g)))
            count += 1
            nonzero += bool(factor * g)
        total += cell.value
    return CellTerms((c, r, col), _largest(terms), count, nonzero, total, len(copies))


# --- what the lab's page and its PNGs get ----------------------------------------------------


def cached(fields: FilterFields, result: FilterResult, media) -> BackwardResult:
    """The backward pass of the selected map, cached under what changes it."""
    index = min(fields.map_index, len(result.maps) - 1)
    pixel = (fields.row, fields.col) if fields.grad == "pixel" else None
    key = f"backward:{fields.compute_key()}:{index}:{fields.grad}:{pixel}"
    return media.results.get_or_compute(key, lambda: compute(fields, result, index))


def context(fields: FilterFields, result: FilterResult, media) -> dict | None:
    """The template's `backward`: the gradients, their scales and the clicked cells' terms."""
    if fields.grad == "off":
        return None
    back = cached(fields, result, media)
    kernel_cell = input_cell = None
    if fields.ki is not None and fields.kj is not None:
        kernel_cell = explain_kernel_cell(fields, result, back, fields.kc or 0, fields.ki,
                                          fields.kj)  # fmt: skip
        fields.kc, fields.ki, fields.kj = kernel_cell.cell  # clamped, as the form shows it
    if fields.xi is not None and fields.xj is not None:
        input_cell = explain_input_cell(fields, result, back, fields.xc or 0, fields.xi,
                                        fields.xj)  # fmt: skip
        fields.xc, fields.xi, fields.xj = input_cell.cell
    return {
        "back": back,
        "kernel_top": max(float(np.abs(back.kernel_grad).max()), 1e-12),
        "input_limit": symmetric_limit(back.input_grad),
        "dout_limit": symmetric_limit(back.dout),
        "kernel_cell": kernel_cell,
        "input_cell": input_cell,
        "dilated": fields.dilation > 1,
        "folded": fields.mode != "zeros",
        "max_layer_values": MAX_LAYER_VALUES,
    }


def image_pixels(fields: FilterFields, result: FilterResult, media, view: str,
                 channel: int) -> np.ndarray:  # fmt: skip
    """The PNG of dL/dy ("grad-out") or of one channel of dL/dinput ("grad-input"), in diverging
    colours around zero with symmetric limits (one scale for the three channels)."""
    if fields.grad == "off":
        raise UserError(N_("Choose an output gradient to see the backward pass."))
    back = cached(fields, result, media)
    if view == "grad-out":
        return diverging_rgb(back.dout, symmetric_limit(back.dout))
    values = back.input_grad[min(channel, len(back.input_grad) - 1)]
    return diverging_rgb(values, symmetric_limit(back.input_grad))
