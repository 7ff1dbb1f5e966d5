"""Convolution in 1, 2 and 3 spatial dimensions, in plain NumPy.

Conventions follow PyTorch's ``torch.nn.functional.conv1d/2d/3d`` with ``groups=1``:

* ``x`` is ``(N, C, *spatial)`` (batch, input channels, then L / H, W / D, H, W),
* ``w`` is ``(F, C, *kernel)`` (filters, input channels, kernel size per spatial axis),
* ``b`` is ``(F,)`` or ``None``,
* the result is ``(N, F, *out)`` and is a *cross-correlation*: the kernel is not flipped.
  :func:`true_convolve` flips it, for signal processing.

Padding is an int, one int per axis, or one of the strings ``"valid"`` (none), ``"same"`` (keeps the
size at stride 1; an even kernel gets its extra padding after) or ``"full"`` (``dilation*(k-1)``
on both sides). At stride > 1, ``"same"`` applies the very same padding, so the output size is
``ceil(n / stride)``. Padded values come from ``padding_mode``: ``"zeros"``, ``"reflect"``,
``"replicate"`` or ``"circular"``, as in ``torch.nn.functional.pad``.

This module checks the arguments (``_plan``) and holds the loop reference :func:`conv_naive`;
engine.padding resolves and applies the padding, and engine.conv_fast holds the one generic N-d
fast implementation behind conv1d/2d/3d, with three strategies picked by an estimated cost
(``method="auto"``) or forced (``"direct"``, ``"fft"``). float32 inputs give float32 results
(the fast path); anything else is computed in float64.
"""

from __future__ import annotations

import math

import numpy as np

from engine.conv_batch_last import batch_last_suits, im2col_batch_last
from engine.conv_fast import Plan, choose, direct, fft
from engine.padding import (
    MAX_STEP,
    PADDING_MODES,
    PADDING_STRINGS,
    _check_border,
    _check_mode,
    _per_axis,
    _too_big,
    output_size,
    pad,
    resolve_padding,
)

__all__ = [
    "MAX_STEP",
    "METHODS",
    "PADDING_MODES",
    "PADDING_STRINGS",
    "conv",
    "conv1d",
    "conv2d",
    "conv3d",
    "conv_naive",
    "output_size",
    "pad",
    "resolve_padding",
    "true_convolve",
]

METHODS = ("auto", "direct", "fft")
# Values of an im2col matrix a Conv layer keeps from its forward for its backward (8 MB of
# float32: LeNet's first layer at batch 64 on 28² has 1.25 million); larger ones are built again.
KEPT_WINDOWS_MAX = 1 << 21
_SHAPE_NAMES = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}
_KERNEL_NAMES = {1: "(F, C, K)", 2: "(F, C, KH, KW)", 3: "(F, C, KD, KH, KW)"}


# --------------------------------------------------------------------------------------------
# Argument checking
# --------------------------------------------------------------------------------------------


def _check_method(method) -> str:
    if not isinstance(method, str) or method not in METHODS:
        choices = ", ".join(repr(m) for m in METHODS)
        raise ValueError(f"Method must be one of {choices} (got {method!r}).")
    return method


def _as_real(a, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{what} must hold real numbers (got dtype {a.dtype}).")
    return a


def _plan(x, w, b, stride, padding, dilation, padding_mode, nd: int, name: str) -> Plan:
    x = _as_real(x, "The input x")
    w = _as_real(w, "The kernel w")
    if x.ndim != nd + 2:
        raise ValueError(
            f"{name} expects x shaped {_SHAPE_NAMES[nd]} ({nd + 2} axes) but got {x.ndim} "
            f"axes with shape {x.shape}."
        )
    if w.ndim != nd + 2:
        raise ValueError(
            f"{name} expects the kernel w shaped {_KERNEL_NAMES[nd]} ({nd + 2} axes) but got "
            f"{w.ndim} axes with shape {w.shape}."
        )
    if x.size == 0:
        raise ValueError(f"The input x is empty (shape {x.shape}).")
    if w.size == 0:
        raise ValueError(f"The kernel w is empty (shape {w.shape}).")
    if x.shape[1] != w.shape[1]:
        raise ValueError(
            f"x has {x.shape[1]} input channels but the kernel expects {w.shape[1]} "
            f"(x.shape[1] must equal w.shape[1])."
        )
    if b is not None:
        b = _as_real(b, "The bias b")
        if b.shape != (w.shape[0],):
            raise ValueError(
                f"The bias needs one value per filter: expected shape ({w.shape[0]},), "
                f"got {b.shape}."
            )
    stride_t = _per_axis(stride, "Stride", nd, minimum=1)
    dilation_t = _per_axis(dilation, "Dilation", nd, minimum=1)
    mode = _check_mode(padding_mode)
    kernel = w.shape[2:]
    pads = resolve_padding(padding, kernel, dilation_t, nd)
    spatial = x.shape[2:]
    for n, (before, after) in zip(spatial, pads, strict=True):
        _check_border(mode, n, before, after)
    eff = tuple(d * (k - 1) + 1 for d, k in zip(dilation_t, kernel, strict=True))
    padded = tuple(n + lo + hi for n, (lo, hi) in zip(spatial, pads, strict=True))
    if any(e > p for e, p in zip(eff, padded, strict=True)):
        raise _too_big(eff, padded)
    out_shape = tuple((p - e) // s + 1 for p, e, s in zip(padded, eff, stride_t, strict=True))
    return Plan(x, w, b, stride_t, dilation_t, pads, mode, eff, out_shape)


# Reference implementation
# --------------------------------------------------------------------------------------------


def conv_naive(x, w, b=None, stride=1, padding=0, dilation=1, padding_mode="zeros") -> np.ndarray:
    """Cross-correlation by an explicit loop over output positions, in float64.

    Slow but easy to check: output[n, f, *pos] = sum(window * w[f]) + b[f], where ``window`` is the
    (C, *kernel) patch of the padded input under the kernel at ``pos``. Works for 1, 2 or 3
    spatial axes (taken from ``x.ndim``).
    """
    nd = np.ndim(x) - 2
    if nd not in _SHAPE_NAMES:
        raise _bad_ndim("conv_naive", np.shape(x))
    p = _plan(x, w, b, stride, padding, dilation, padding_mode, nd, "conv_naive")
    xp = pad(p.x.astype(np.float64), p.pads, p.mode)  # (N, C, *padded)
    w64 = p.w.astype(np.float64)
    out = np.zeros((xp.shape[0], w64.shape[0], *p.out_shape))
    sum_axes = tuple(range(2, 3 + nd))  # C and the kernel axes of window * w
    for pos in np.ndindex(*p.out_shape):
        window = xp[
            (slice(None), slice(None))
            + tuple(
                slice(i * s, i * s + e, d)
                for i, s, e, d in zip(pos, p.stride, p.eff, p.dilation, strict=True)
            )
        ]  # (N, C, *kernel)
        # (N, 1, C, *kernel) * (1, F, C, *kernel) -> (N, F)
        out[(slice(None), slice(None)) + pos] = np.sum(window[:, None] * w64[None], axis=sum_axes)
    if p.b is not None:
        out += p.b.astype(np.float64).reshape((1, -1) + (1,) * nd)
    return out


# --------------------------------------------------------------------------------------------


def _conv_nd(
    x, w, b, stride, padding, dilation, padding_mode, method, nd, name, keep_batch_last=False
) -> np.ndarray:
    """The one implementation behind conv1d, conv2d and conv3d. keep_batch_last (for the Conv
    layers) lets the result be a batch-first view of batch-last memory (conv_batch_last)."""
    p = _plan(x, w, b, stride, padding, dilation, padding_mode, nd, name)
    dtype, method, batch_last = _decide(p, _check_method(method), keep_batch_last)
    return _run(p, dtype, method, batch_last, keep_batch_last)


def _decide(p: Plan, method: str, keep_batch_last: bool) -> tuple[type, str, bool]:
    """(the working dtype, "fft" or "direct", whether the direct way is the batch-last im2col)
    for a checked call."""
    # float32 in, float32 out; everything else (float64, ints, mixed) in float64.
    small = np.result_type(p.x.dtype, p.w.dtype) in (np.float16, np.float32)
    dtype = np.float32 if small else np.float64
    wc = np.ascontiguousarray(p.w, dtype=dtype)
    if method == "auto":
        method = choose(p, wc)
    batch_last = method != "fft" and batch_last_suits(p, wc, keep_batch_last)
    return dtype, method, batch_last


def _run(
    p: Plan, dtype, method: str, batch_last: bool, keep_batch_last: bool, cols=None
) -> np.ndarray:
    xc = p.x.astype(dtype, copy=False)
    wc = np.ascontiguousarray(p.w, dtype=dtype)
    if method == "fft":
        out = fft(xc, p.pads, p.mode, wc, p.stride, p.dilation, p.eff, p.out_shape, dtype)
    elif batch_last:  # CNN layers: a batch of many-channel samples
        out = im2col_batch_last(
            xc, p.pads, wc, p.stride, p.dilation, p.out_shape, dtype, keep_batch_last, cols
        )
    else:
        xp = pad(xc, p.pads, p.mode)  # (N, C, *padded)
        out = direct(xp, wc, p.stride, p.dilation, p.eff, p.out_shape, dtype)  # (N, F, *out)
    if p.b is not None:
        out += p.b.astype(dtype).reshape((1, -1) + (1,) * (len(p.out_shape)))
    return out


def conv_layer_forward(
    x, w, b, stride, padding, nd: int, decisions: dict, windows: dict | None = None
) -> tuple[np.ndarray, np.ndarray | None]:
    """A Conv layer's forward: conv1d/conv2d, whose result may be batch-last in memory, and
    the im2col matrix (C, *K, *out, N) it built, when it built one and `windows` (the layer's
    buffers, by shape) is given: the weight gradient needs the same matrix.

    The layer has checked x, and its shapes repeat from step to step: the checks and the
    choice of method are made once per input shape and kept in `decisions` (the layer's).
    Deciding again with later weights could only pick a faster method, never other numbers."""
    key = (x.shape, x.dtype.str, w.dtype.str, b is None)
    decided = decisions.get(key)
    if decided is None:
        name = "conv1d" if nd == 1 else "conv2d"
        p = _plan(x, w, b, stride, padding, 1, "zeros", nd, name)
        decided = decisions[key] = (p._replace(x=None, w=None, b=None), *_decide(p, "auto", True))
    plan, dtype, method, batch_last = decided
    cols = None
    if batch_last and windows is not None:
        shape = (x.shape[1], *w.shape[2:], *plan.out_shape, x.shape[0])
        if math.prod(shape) <= KEPT_WINDOWS_MAX:
            cols = windows.get((shape, dtype))
            if cols is None:
                cols = windows[(shape, dtype)] = np.empty(shape, dtype)
    out = _run(plan._replace(x=x, w=w, b=b), dtype, method, batch_last, True, cols)
    return out, cols


# --------------------------------------------------------------------------------------------


# Public entry points
# --------------------------------------------------------------------------------------------


def conv1d(
    x, w, b=None, stride=1, padding=0, dilation=1, padding_mode="zeros", *, method="auto"
) -> np.ndarray:
    """x (N, C, L), w (F, C, K), b (F,) or None -> (N, F, L'). Cross-correlation, as PyTorch.

    ``method`` is ``"auto"`` (cheapest by estimated cost), ``"direct"`` or ``"fft"``.
    """
    return _conv_nd(x, w, b, stride, padding, dilation, padding_mode, method, 1, "conv1d")


def conv2d(
    x, w, b=None, stride=1, padding=0, dilation=1, padding_mode="zeros", *, method="auto"
) -> np.ndarray:
    """x (N, C, H, W), w (F, C, KH, KW), b (F,) or None -> (N, F, H', W'). See :func:`conv1d`."""
    return _conv_nd(x, w, b, stride, padding, dilation, padding_mode, method, 2, "conv2d")


def conv3d(
    x, w, b=None, stride=1, padding=0, dilation=1, padding_mode="zeros", *, method="auto"
) -> np.ndarray:
    """x (N, C, D, H, W), w (F, C, KD, KH, KW), b (F,) or None -> (N, F, D', H', W')."""
    return _conv_nd(x, w, b, stride, padding, dilation, padding_mode, method, 3, "conv3d")


_BY_NDIM = {3: conv1d, 4: conv2d, 5: conv3d}


def _bad_ndim(name: str, shape) -> ValueError:
    return ValueError(
        f"{name} expects x with 3, 4 or 5 axes (N, C, then 1 to 3 spatial axes) but got "
        f"shape {tuple(shape)}."
    )


def conv(
    x, w, b=None, stride=1, padding=0, dilation=1, padding_mode="zeros", *, method="auto"
) -> np.ndarray:
    """conv1d, conv2d or conv3d, chosen by ``x.ndim`` (3, 4 or 5)."""
    shape = np.shape(x)
    if len(shape) not in _BY_NDIM:
        raise _bad_ndim("conv", shape)
    return _BY_NDIM[len(shape)](x, w, b, stride, padding, dilation, padding_mode, method=method)


def true_convolve(
    x, w, b=None, stride=1, padding=0, dilation=1, padding_mode="zeros", *, method="auto"
) -> np.ndarray:
    """True convolution: the kernel flipped along every spatial axis, then :func:`conv`.

    Padding is applied to the input exactly as in :func:`conv`, so this equals
    ``conv(x, flip(w), ...)``; with ``"full"`` padding and stride 1 it is the textbook
    (and ``numpy.convolve``) full convolution.
    """
    shape = np.shape(x)
    if len(shape) not in _BY_NDIM:
        raise _bad_ndim("true_convolve", shape)
    w = _as_real(w, "The kernel w")
    if w.ndim != len(shape):
        raise ValueError(
            f"true_convolve expects the kernel w with {len(shape)} axes like x, but got shape "
            f"{w.shape}."
        )
    flipped = w[(slice(None), slice(None)) + (slice(None, None, -1),) * (w.ndim - 2)]
    return conv(x, flipped, b, stride, padding, dilation, padding_mode, method=method)
