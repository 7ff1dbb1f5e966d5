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

Layout of this module: argument checking (``_plan``), padding, the loop reference
:func:`conv_naive`, then one generic N-d fast implementation behind conv1d/2d/3d with three
strategies, picked by an estimated cost (``method="auto"``) or forced (``"direct"``, ``"fft"``):

* direct, shift-and-add: for few filters × channels (one big image), add up ``weight × shifted
  view`` over the kernel taps, in cache-sized blocks of output rows;
* direct, im2col: for CNN layers, copy the windows into one matrix and do one BLAS product;
* fft: for big kernels, multiply spectra (stride applied afterwards by subsampling, dilation by
  zeros between the kernel taps).

float32 inputs give float32 results (the fast path); anything else is computed in float64.
Large jobs use a few threads (NumPy releases the GIL inside its loops); BLAS threads on its own.
"""

from __future__ import annotations

import math
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import NamedTuple

import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from engine.errors import N_, EngineError

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

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_STRINGS = ("valid", "same", "full")
METHODS = ("auto", "direct", "fft")
# Stride, dilation and explicit padding above this are surely typos; refuse them before they
# allocate gigabytes.
MAX_STEP = 4096

_NP_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}
_SHAPE_NAMES = {1: "(N, C, L)", 2: "(N, C, H, W)", 3: "(N, C, D, H, W)"}
_KERNEL_NAMES = {1: "(F, C, K)", 2: "(F, C, KH, KW)", 3: "(F, C, KD, KH, KW)"}

# NumPy >= 2 keeps float32 FFTs in single precision and accepts out=; older NumPy works in
# float64 and gets no threading on the FFT path.
_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


# --------------------------------------------------------------------------------------------
# Argument checking
# --------------------------------------------------------------------------------------------


def _whole(value, what: str, minimum: int, maximum: int = MAX_STEP) -> int:
    """One whole number in [minimum, maximum], or a ValueError a student can act on."""
    if isinstance(value, bool | np.bool_):
        raise ValueError(f"{what} must be a whole number ≥ {minimum} (got {value!r}).")
    if isinstance(value, float | np.floating) and float(value).is_integer():
        value = int(value)
    if not isinstance(value, int | np.integer):
        raise ValueError(f"{what} must be a whole number ≥ {minimum} (got {value!r}).")
    value = int(value)
    if value < minimum:
        raise ValueError(f"{what} must be a whole number ≥ {minimum} (got {value}).")
    if value > maximum:
        raise ValueError(f"{what} must be at most {maximum} (got {value}).")
    return value


def _per_axis(value, what: str, nd: int, minimum: int) -> tuple[int, ...]:
    """An int (same on every axis) or a tuple with one int per spatial axis."""
    if isinstance(value, np.ndarray):
        value = value.tolist()  # 0-d -> scalar, 1-d -> list
    if isinstance(value, tuple | list):
        values = list(value)
        if len(values) != nd:
            raise ValueError(
                f"{what} needs one value per spatial axis ({nd} for a {nd}-D convolution); "
                f"got {len(values)}."
            )
        return tuple(_whole(v, what, minimum) for v in values)
    return (_whole(value, what, minimum),) * nd


def _check_mode(padding_mode) -> str:
    if not isinstance(padding_mode, str) or padding_mode.lower() not in PADDING_MODES:
        choices = ", ".join(repr(m) for m in PADDING_MODES)
        raise ValueError(f"Padding mode must be one of {choices} (got {padding_mode!r}).")
    return padding_mode.lower()


def _check_method(method) -> str:
    if not isinstance(method, str) or method not in METHODS:
        choices = ", ".join(repr(m) for m in METHODS)
        raise ValueError(f"Method must be one of {choices} (got {method!r}).")
    return method


def _times(sizes) -> str:
    return "×".join(str(s) for s in sizes)


def resolve_padding(padding, kernel_shape, dilation=1, ndim=None) -> tuple[tuple[int, int], ...]:
    """Padding as one ``(before, after)`` pair per spatial axis.

    ``padding`` is an int (both sides of every axis), a tuple with one entry per axis (an int for
    both sides, or a ``(before, after)`` pair), or ``"valid"``, ``"same"``, ``"full"``.
    ``kernel_shape`` is the spatial kernel size, e.g. ``(3, 3)``.
    """
    kernel_shape = tuple(int(k) for k in np.atleast_1d(kernel_shape))
    nd = len(kernel_shape) if ndim is None else int(ndim)
    if len(kernel_shape) != nd:
        raise ValueError(
            f"The kernel has {len(kernel_shape)} spatial axes but the convolution has {nd}."
        )
    if any(k < 1 for k in kernel_shape):
        raise ValueError(
            f"The kernel needs at least one tap along every axis (got {kernel_shape})."
        )
    dil = _per_axis(dilation, "Dilation", nd, minimum=1)
    if isinstance(padding, np.ndarray):
        padding = padding.tolist()  # 0-d -> scalar, 1-d -> list
    if isinstance(padding, str):
        name = padding.lower()
        spans = [d * (k - 1) for d, k in zip(dil, kernel_shape, strict=True)]  # total pad per axis
        if name == "valid":
            return ((0, 0),) * nd
        if name == "same":
            # floor(total/2) before, the remainder (one more for even spans) after.
            return tuple((t // 2, t - t // 2) for t in spans)
        if name == "full":
            return tuple((t, t) for t in spans)
    elif isinstance(padding, tuple | list):
        if len(padding) != nd:
            raise ValueError(
                f"Padding needs one value per spatial axis ({nd} for a {nd}-D convolution); "
                f"got {len(padding)}."
            )
        pairs = []
        for p in padding:
            if isinstance(p, tuple | list):
                if len(p) != 2:
                    raise ValueError(f"A per-axis padding pair must be (before, after); got {p!r}.")
                pairs.append((_whole(p[0], "Padding", 0), _whole(p[1], "Padding", 0)))
            else:
                q = _whole(p, "Padding", 0)
                pairs.append((q, q))
        return tuple(pairs)
    else:
        try:
            p = _whole(padding, "Padding", 0)
        except ValueError as err:
            if isinstance(padding, int | float | np.integer | np.floating):
                raise  # a number, just out of range: keep the precise message
            raise _bad_padding(padding) from err
        return ((p, p),) * nd
    raise _bad_padding(padding)  # an unknown string


def _bad_padding(padding) -> ValueError:
    choices = ", ".join(repr(s) for s in PADDING_STRINGS)
    return ValueError(
        f"Padding must be a whole number ≥ 0, one per axis, or one of {choices} (got {padding!r})."
    )


def _too_big(eff, padded) -> EngineError:
    span, size = next((e, p) for e, p in zip(eff, padded, strict=True) if e > p)
    return EngineError(
        N_(
            "The kernel (%(kernel)s after dilation) is larger than the padded input "
            "(%(padded)s); use 'same' or 'full' padding or a smaller kernel. Along one axis it "
            "spans %(span)s values, but the padded input is only %(size)s."
        ),
        kernel=_times(eff),
        padded=_times(padded),
        span=span,
        size=size,
    )


def output_size(n: int, k: int, stride: int = 1, padding=0, dilation: int = 1) -> int:
    """Output length along one axis: floor((n + pad_total - dilation*(k-1) - 1) / stride) + 1.

    ``padding`` is an int (on both sides), a ``(before, after)`` pair, or ``"valid"``, ``"same"``,
    ``"full"``.
    """
    n = _whole(n, "The input size", 1, maximum=2**31)
    k = _whole(k, "The kernel size", 1, maximum=2**31)
    s = _whole(stride, "Stride", 1)
    d = _whole(dilation, "Dilation", 1)
    if isinstance(padding, tuple | list):
        if len(padding) != 2:
            raise ValueError(
                f"Padding for one axis must be an int or (before, after); got {padding!r}."
            )
        padding = (tuple(padding),)  # one axis, one (before, after) pair
    ((before, after),) = resolve_padding(padding, (k,), d, 1)
    span = d * (k - 1) + 1
    if span > n + before + after:
        raise _too_big((span,), (n + before + after,))
    return (n + before + after - span) // s + 1


class _Plan(NamedTuple):
    """Checked arguments of one convolution call."""

    x: np.ndarray  # (N, C, *spatial)
    w: np.ndarray  # (F, C, *kernel)
    b: np.ndarray | None  # (F,)
    stride: tuple[int, ...]
    dilation: tuple[int, ...]
    pads: tuple[tuple[int, int], ...]
    mode: str
    eff: tuple[int, ...]  # kernel extent after dilation
    out_shape: tuple[int, ...]


def _as_real(a, what: str) -> np.ndarray:
    a = np.asarray(a)
    if a.dtype.kind not in "biuf":
        raise ValueError(f"{what} must hold real numbers (got dtype {a.dtype}).")
    return a


def _plan(x, w, b, stride, padding, dilation, padding_mode, nd: int, name: str) -> _Plan:
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
    return _Plan(x, w, b, stride_t, dilation_t, pads, mode, eff, out_shape)


def _check_border(mode: str, n: int, before: int, after: int) -> None:
    # The same limits as torch.nn.functional.pad.
    if mode == "reflect" and max(before, after) >= n:
        raise EngineError(
            N_(
                "Reflect padding must be smaller than the input along each axis: padding "
                "%(pad)s on an axis of size %(size)s. Reflect padding needs a value inside the "
                "input to mirror for each padded one: use less padding or another border mode."
            ),
            pad=max(before, after),
            size=n,
        )
    if mode == "circular" and max(before, after) > n:
        raise EngineError(
            N_(
                "Circular padding can wrap at most once: padding %(pad)s on an axis of size "
                "%(size)s. Use less padding or another border mode."
            ),
            pad=max(before, after),
            size=n,
        )


# --------------------------------------------------------------------------------------------
# Padding
# --------------------------------------------------------------------------------------------


def pad(x, pads, mode: str = "zeros") -> np.ndarray:
    """Pad the trailing ``len(pads)`` axes of ``x`` by the ``(before, after)`` pairs in ``pads``.

    ``mode`` is ``"zeros"``, ``"reflect"`` (mirror without repeating the edge), ``"replicate"``
    (repeat the edge) or ``"circular"`` (wrap around), as ``torch.nn.functional.pad``.
    """
    x = np.asarray(x)
    mode = _check_mode(mode)
    pairs = []
    for pair in pads:
        if not isinstance(pair, tuple | list | np.ndarray) or len(pair) != 2:
            raise ValueError(f"Each padding entry must be a (before, after) pair; got {pair!r}.")
        pairs.append((_whole(pair[0], "Padding", 0), _whole(pair[1], "Padding", 0)))
    if len(pairs) > x.ndim:
        raise ValueError(f"Got padding for {len(pairs)} axes but x has only {x.ndim}.")
    spatial = x.shape[x.ndim - len(pairs) :]
    for n, (before, after) in zip(spatial, pairs, strict=True):
        _check_border(mode, n, before, after)
    if not any(lo or hi for lo, hi in pairs):
        return x
    width = [(0, 0)] * (x.ndim - len(pairs)) + pairs
    return np.pad(x, width, mode=_NP_PAD_MODE[mode])


# --------------------------------------------------------------------------------------------
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
# Fast implementation
# --------------------------------------------------------------------------------------------


def _pool() -> ThreadPoolExecutor:
    """The module's worker threads, created on first use.

    Pool tasks never wait for other pool tasks, so concurrent callers cannot deadlock it.
    """
    global _POOL
    with _POOL_LOCK:
        if _POOL is None:
            _POOL = ThreadPoolExecutor(max_workers=_THREADS, thread_name_prefix="engine-conv")
    return _POOL


def _run(tasks) -> None:
    """Run zero-argument callables, spread over the thread pool when there are several."""
    if len(tasks) == 1 or _THREADS == 1:
        for task in tasks:
            task()
        return
    futures = [_pool().submit(task) for task in tasks[1:]]
    tasks[0]()  # the calling thread works too
    for future in futures:
        future.result()


def _split(n: int, parts: int) -> list[tuple[int, int]]:
    """Cut range(n) into at most ``parts`` contiguous, nearly equal pieces."""
    parts = max(1, min(parts, n))
    edges = [n * i // parts for i in range(parts + 1)]
    return [(lo, hi) for lo, hi in zip(edges[:-1], edges[1:], strict=True) if hi > lo]


def _fast_len(n: int) -> int:
    """Smallest 5-smooth number (only factors 2, 3, 5) that is ≥ n: FFTs of that size are fast."""
    best = 2 ** math.ceil(math.log2(max(n, 1)))
    p5 = 1
    while p5 < best:
        p35 = p5
        while p35 < best:
            q = p35
            while q < n:
                q *= 2
            best = min(best, q)
            p35 *= 3
        p5 *= 5
    return best


# Cost model in rough nanoseconds, fitted to timings on a 2-core AVX-512 machine with OpenBLAS
# (benchmarks/bench_conv.py shows the big cases). Only the ratios between strategies matter.
_NS_SHIFT_MAC = 0.37  # one multiply-add of shift-and-add (two ufunc passes over cached data)
_NS_UFUNC_CALL = 1500.0  # Python + ufunc dispatch overhead of one shift-and-add step
_NS_COPY = 0.27  # one element copied into the im2col matrix
_NS_GEMM_MAC = 0.04  # one multiply-add inside BLAS (about 50 GFLOP/s)
_NS_FFT = 0.22  # per point and log2(size) of one real FFT on one thread
_FFT_THREAD_GAIN = 1.8  # FFT passes split well over two threads
_NS_SPECTRAL_MAC = 0.8  # one complex multiply-add of the channel sum, per FFT point
_SHIFT_THREAD_GAIN = 1.25  # shift-and-add on two threads: memory-bound, so a modest gain
_PARALLEL_MIN_NS = 1e6  # below ~1 ms of work, threads cost more than they save
_SHIFT_BLOCK = 1 << 16  # elements per shift-and-add block: keeps it in L2 cache
_IM2COL_BLOCK = 1 << 21  # elements of the im2col matrix built at once (8 MB of float32)


def _taps(w: np.ndarray) -> int:
    return int(np.count_nonzero(w))


def _direct_costs(n, f, c, k_taps, k_nonzero, out_pixels, blocks) -> tuple[float, float]:
    """Estimated time of shift-and-add and of im2col + matrix product.

    k_taps counts kernel positions (K...), k_nonzero the non-zero weights of all F×C kernels.
    """
    shift = n * out_pixels * k_nonzero * _NS_SHIFT_MAC + k_nonzero * blocks * 2 * _NS_UFUNC_CALL
    if shift > _PARALLEL_MIN_NS and _THREADS > 1:
        shift /= _SHIFT_THREAD_GAIN
    copies = n * c * k_taps * out_pixels
    im2col = copies * (_NS_COPY + f * _NS_GEMM_MAC) + n * f * out_pixels * _NS_COPY
    return shift, im2col


def _fft_cost(n, f, c, fft_shape) -> float:
    size = math.prod(fft_shape)
    transforms = n * c + n * f + 0.5 * f * c  # kernels are mostly zeros: cheaper
    t = _NS_FFT * transforms * size * math.log2(max(size, 2))
    # Passes split along another axis, so a single 1-D signal cannot use threads.
    if t > _PARALLEL_MIN_NS and _THREADS > 1 and (len(fft_shape) > 1 or n * c > 1):
        t /= _FFT_THREAD_GAIN
    return t + _NS_SPECTRAL_MAC * n * f * c * size


def _choose(p: _Plan, w) -> str:
    n, c = p.x.shape[:2]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(p.x.shape[2:], p.pads, strict=True))
    f = w.shape[0]
    out_pixels = math.prod(p.out_shape)
    k_taps = math.prod(w.shape[2:])
    blocks = max(1, n * f * out_pixels // _SHIFT_BLOCK)
    direct = min(_direct_costs(n, f, c, k_taps, _taps(w), out_pixels, blocks))
    fft = _fft_cost(n, f, c, tuple(_fast_len(s) for s in padded))
    return "fft" if fft < direct else "direct"


def _row_slice(r0: int, r1: int, s: int, e: int) -> slice:
    """Padded-input rows that output rows [r0, r1) of the first spatial axis read."""
    return slice(r0 * s, (r1 - 1) * s + e)


def _direct(xp, w, stride, dilation, eff, out_shape, dtype) -> np.ndarray:
    """Direct correlation of padded xp (N, C, *padded) with w (F, C, *kernel)."""
    n, c = xp.shape[:2]
    f = w.shape[0]
    out = np.empty((n, f, *out_shape), dtype=dtype)
    out_pixels = math.prod(out_shape)
    k_taps = math.prod(w.shape[2:])
    per_row = n * f * out_pixels // out_shape[0]  # output elements per row of spatial axis 0
    rows = max(1, _SHIFT_BLOCK // per_row)
    blocks = -(-out_shape[0] // rows)
    shift, im2col = _direct_costs(n, f, c, k_taps, _taps(w), out_pixels, blocks)
    if shift <= im2col:
        # Blocks of output rows, in cache, spread over threads in contiguous runs.
        def run(lo: int, hi: int) -> None:
            tmp = np.empty((n, min(rows, hi - lo), *out_shape[1:]), dtype=dtype)
            for r0 in range(lo, hi, rows):
                r1 = min(r0 + rows, hi)
                xs = xp[:, :, _row_slice(r0, r1, stride[0], eff[0])]
                _shift_add(xs, w, stride, dilation, out[:, :, r0:r1], tmp[:, : r1 - r0])

        threads = _THREADS if shift > _PARALLEL_MIN_NS else 1  # the same rule as the model
        ranges = [(lo * rows, min(hi * rows, out_shape[0])) for lo, hi in _split(blocks, threads)]
        _run([lambda lo=lo, hi=hi: run(lo, hi) for lo, hi in ranges])
        return out
    # im2col: BLAS threads on its own, so no thread pool here. Build the matrix a few samples
    # (or, for one huge sample, a few output rows) at a time to bound its memory.
    w2 = w.reshape(f, c * k_taps)  # (F, C*K...)
    per_row = c * k_taps * out_pixels // out_shape[0]  # matrix elements per sample and row
    samples = max(1, _IM2COL_BLOCK // (per_row * out_shape[0]))
    rows = out_shape[0] if samples > 1 else max(1, _IM2COL_BLOCK // per_row)
    for n0 in range(0, n, samples):
        n1 = min(n0 + samples, n)
        for r0 in range(0, out_shape[0], rows):
            r1 = min(r0 + rows, out_shape[0])
            xs = xp[n0:n1, :, _row_slice(r0, r1, stride[0], eff[0])]
            _im2col_matmul(xs, w2, w.shape[2:], stride, dilation, eff, out[n0:n1, :, r0:r1])
    return out


def _shift_add(xs, w, stride, dilation, out, tmp) -> None:
    """out[:, f] = sum over c and taps of w[f, c, tap] * (shifted, strided view of xs[:, c]).

    xs (N, C, *padded block), out (N, F, *out block), tmp a scratch array shaped like out[:, 0].
    Each term is one multiply and one add over the whole block: no im2col matrix is built.
    """
    f_count, c_count = w.shape[:2]
    out_shape = out.shape[2:]
    kernel = w.shape[2:]
    for f in range(f_count):
        target = out[:, f]  # (N, *out block)
        first = True
        for c in range(c_count):
            for tap in np.ndindex(*kernel):
                weight = w[(f, c) + tap]
                if weight == 0:
                    continue  # e.g. the zero column of a Sobel kernel
                view = xs[
                    (slice(None), c)
                    + tuple(
                        slice(t * d, t * d + s * (o - 1) + 1, s)
                        for t, d, s, o in zip(tap, dilation, stride, out_shape, strict=True)
                    )
                ]  # (N, *out block), a strided window of the padded input
                if first:
                    np.multiply(view, weight, out=target)
                    first = False
                else:
                    np.multiply(view, weight, out=tmp)
                    np.add(target, tmp, out=target)
        if first:  # an all-zero filter
            target[...] = 0


def _im2col_matmul(xs, w2, kernel, stride, dilation, eff, out) -> None:
    """One matrix product over an im2col matrix. out (N, F, *out block) is filled in place."""
    n, c = xs.shape[:2]
    nd = len(kernel)
    out_shape = out.shape[2:]
    spatial = tuple(range(2, 2 + nd))
    windows = sliding_window_view(xs, eff, axis=spatial)  # (N, C, *positions, *eff), a view
    windows = windows[
        (slice(None), slice(None))
        + tuple(slice(0, s * (o - 1) + 1, s) for s, o in zip(stride, out_shape, strict=True))
        + tuple(slice(None, None, d) for d in dilation)
    ]  # (N, C, *out block, *kernel)
    # (N, C, *out, *kernel) -> (N, C, *kernel, *out) -> (N, C*K..., out pixels): the only copy
    order = (0, 1, *range(2 + nd, 2 + 2 * nd), *range(2, 2 + nd))
    cols = windows.transpose(order).reshape(n, c * math.prod(kernel), math.prod(out_shape))
    # (F, C*K...) @ (N, C*K..., P) -> (N, F, P), straight into out when it is one block
    if out.flags.c_contiguous:
        np.matmul(w2, cols, out=out.reshape(n, w2.shape[0], -1))
    else:
        out[...] = np.matmul(w2, cols).reshape(out.shape)


def _fft_axis(func, a: np.ndarray, size: int, axis: int, out=None, threads=None) -> np.ndarray:
    """``func(a, n=size, axis=axis, norm="ortho", out=out)`` for a NumPy FFT function.

    Large transforms are split over threads along another axis. Always norm="ortho": with the
    default norm NumPy passes the scale factor as the Python int 1, which picks its float64 loop,
    so float32 forward FFTs would run ~3x slower through casting.
    """
    if not _NUMPY2:  # no out= and no single precision before NumPy 2
        res = func(a, n=size, axis=axis, norm="ortho")
        if out is None:
            return res
        out[...] = res
        return out
    threads = _THREADS if threads is None else threads
    split = max((ax for ax in range(a.ndim) if ax != axis), key=lambda ax: a.shape[ax])
    work = a.size * math.log2(max(size, 2)) * _NS_FFT
    if threads == 1 or work < _PARALLEL_MIN_NS or a.shape[split] < 2:
        return func(a, n=size, axis=axis, norm="ortho", out=out)
    if out is None:
        shape = list(a.shape)
        shape[axis] = size // 2 + 1 if func is np.fft.rfft else size
        if func is np.fft.irfft:
            dtype = np.float32 if a.dtype == np.complex64 else np.float64
        else:
            dtype = np.complex64 if a.dtype in (np.float32, np.complex64) else np.complex128
        out = np.empty(shape, dtype=dtype)

    def task(lo: int, hi: int) -> None:
        part = (slice(None),) * split + (slice(lo, hi),)
        func(a[part], n=size, axis=axis, norm="ortho", out=out[part])

    _run([lambda lo=lo, hi=hi: task(lo, hi) for lo, hi in _split(a.shape[split], threads)])
    return out


def _spectrum(a: np.ndarray, fft_shape, complex_dtype, threads=None) -> np.ndarray:
    """Orthonormal real FFT of ``a`` (B0, B1, *spatial) over its spatial axes, zero-filled to
    ``fft_shape``: (B0, B1, *fft_shape[:-1], fft_shape[-1] // 2 + 1).

    Works in place in one zeroed array and skips rows known to be zero. (NumPy's own zero-filling,
    ``n=`` larger than the axis, is ~3x slower, and fresh arrays cost page faults.)
    """
    nd = len(fft_shape)
    last = fft_shape[-1]
    if a.shape[-1] != last:  # zero-fill the last axis (only the kernel needs it)
        filled = np.zeros((*a.shape[:-1], last), dtype=a.dtype)
        filled[..., : a.shape[-1]] = a
        a = filled
    spec = np.zeros((*a.shape[:2], *fft_shape[:-1], last // 2 + 1), dtype=complex_dtype)
    known = list(a.shape[2:-1])  # extent of the non-zero region along each non-last axis
    region = (slice(None),) * 2 + tuple(slice(0, k) for k in known)
    _fft_axis(np.fft.rfft, a, last, 1 + nd, out=spec[region], threads=threads)
    for i in reversed(range(nd - 1)):  # the axes next to the last first
        known[i] = fft_shape[i]
        region = (slice(None),) * 2 + tuple(slice(0, k) for k in known)
        view = spec[region]
        _fft_axis(np.fft.fft, view, fft_shape[i], 2 + i, out=view, threads=threads)
    return spec


def _fft(x, pads, mode, w, stride, dilation, eff, out_shape, dtype) -> np.ndarray:
    """Correlation through the FFT: full stride-1 result, then every stride-th value.

    A circular correlation of size P ≥ the padded input equals the linear one on every valid
    output, so the input is zero-filled only up to a fast size, not to input + kernel.
    x is the unpadded input (N, C, *spatial); pads and mode say how to pad it.
    """
    n, c = x.shape[:2]
    f = w.shape[0]
    nd = len(out_shape)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads, strict=True))
    fft_shape = tuple(_fast_len(s) for s in padded)
    last = fft_shape[-1]
    complex_dtype = np.complex64 if dtype == np.float32 else np.complex128
    # Dilation: put the kernel taps dilation apart with zeros between them. The factor sqrt(P)
    # undoes the extra 1/sqrt(P) that two orthonormal forward transforms leave in the product.
    wd = np.zeros((f, c, *eff), dtype=dtype)
    wd[(slice(None), slice(None)) + tuple(slice(None, None, d) for d in dilation)] = w
    wd *= math.sqrt(math.prod(fft_shape))
    # The kernel's spectrum is computed on another thread while this one transforms the input.
    job = _pool().submit(_spectrum, wd, fft_shape, complex_dtype, 1) if _THREADS > 1 else None
    # (N, C, *spatial) -> (N, C, *padded[:-1], fft_shape[-1]): padded, zero-filled on the last axis
    buf = np.zeros((n, c, *padded[:-1], last), dtype=dtype)
    if mode == "zeros":
        inner = tuple(slice(lo, lo + s) for s, (lo, _) in zip(x.shape[2:], pads, strict=True))
        buf[(slice(None), slice(None)) + inner] = x
    else:
        buf[..., : padded[-1]] = pad(x, pads, mode)
    spec = _spectrum(buf, fft_shape, complex_dtype)  # (N, C, *Q)
    wspec = job.result() if job else _spectrum(wd, fft_shape, complex_dtype)  # (F, C, *Q)
    # Correlating = multiplying by the complex conjugate of the kernel's spectrum.
    np.conjugate(wspec, out=wspec)
    if n == 1 and f == 1 and c == 1:
        prod = np.multiply(spec, wspec, out=spec)
    else:
        # (N, 1, *Q) * (1, F, *Q) summed over C -> (N, F, *Q)
        prod = spec[:, None, 0] * wspec[None, :, 0]
        for ch in range(1, c):
            prod += spec[:, None, ch] * wspec[None, :, ch]
    # Inverse, complex axes first, each time keeping only the (strided) rows still needed.
    for i in range(nd - 1):
        _fft_axis(np.fft.ifft, prod, fft_shape[i], 2 + i, out=prod)
        rows = slice(0, stride[i] * (out_shape[i] - 1) + 1, stride[i])
        prod = prod[(slice(None),) * (2 + i) + (rows,)]
    # The real inverse writes into buf's memory when it fits: no fresh pages to fault in.
    full_shape = (n, f, *prod.shape[2:-1], last)
    size = math.prod(full_shape)
    target = buf.reshape(-1)[:size].reshape(full_shape) if buf.size >= size else None
    res = _fft_axis(np.fft.irfft, prod, last, 1 + nd, out=target)
    res = res[..., : stride[-1] * (out_shape[-1] - 1) + 1 : stride[-1]]  # (N, F, *out)
    return np.ascontiguousarray(res, dtype=dtype)


def _conv_nd(x, w, b, stride, padding, dilation, padding_mode, method, nd, name) -> np.ndarray:
    """The one implementation behind conv1d, conv2d and conv3d."""
    p = _plan(x, w, b, stride, padding, dilation, padding_mode, nd, name)
    method = _check_method(method)
    # float32 in, float32 out; everything else (float64, ints, mixed) in float64.
    small = np.result_type(p.x.dtype, p.w.dtype) in (np.float16, np.float32)
    dtype = np.float32 if small else np.float64
    xc = p.x.astype(dtype, copy=False)
    wc = np.ascontiguousarray(p.w, dtype=dtype)
    if method == "auto":
        method = _choose(p, wc)
    if method == "fft":
        out = _fft(xc, p.pads, p.mode, wc, p.stride, p.dilation, p.eff, p.out_shape, dtype)
    else:
        xp = pad(xc, p.pads, p.mode)  # (N, C, *padded)
        out = _direct(xp, wc, p.stride, p.dilation, p.eff, p.out_shape, dtype)  # (N, F, *out)
    if p.b is not None:
        out += p.b.astype(dtype).reshape((1, -1) + (1,) * nd)
    return out


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
