"""The fast convolution behind engine.conv: three strategies, picked by an estimated cost.

* direct, shift-and-add: for few filters × channels (one big image), add up ``weight × shifted
  view`` over the kernel taps, in cache-sized blocks of output rows;
* direct, im2col: for CNN layers, copy the windows into one matrix and do one BLAS product
  (for a batch of many-channel samples with the batch axis last: engine.conv_batch_last);
* fft: for big kernels, multiply spectra (stride applied afterwards by subsampling, dilation by
  zeros between the kernel taps).

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

from engine.padding import pad

# NumPy >= 2 keeps float32 FFTs in single precision and accepts out=; older NumPy works in
# float64 and gets no threading on the FFT path.
_NUMPY2 = np.lib.NumpyVersion(np.__version__) >= "2.0.0"
_THREADS = max(1, min(4, os.cpu_count() or 1))
_POOL: ThreadPoolExecutor | None = None
_POOL_LOCK = threading.Lock()


class Plan(NamedTuple):
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


def fast_len(n: int) -> int:
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


def choose(p: Plan, w) -> str:
    n, c = p.x.shape[:2]
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(p.x.shape[2:], p.pads, strict=True))
    f = w.shape[0]
    out_pixels = math.prod(p.out_shape)
    k_taps = math.prod(w.shape[2:])
    blocks = max(1, n * f * out_pixels // _SHIFT_BLOCK)
    direct = min(_direct_costs(n, f, c, k_taps, _taps(w), out_pixels, blocks))
    fft = _fft_cost(n, f, c, tuple(fast_len(s) for s in padded))
    return "fft" if fft < direct else "direct"


def _row_slice(r0: int, r1: int, s: int, e: int) -> slice:
    """Padded-input rows that output rows [r0, r1) of the first spatial axis read."""
    return slice(r0 * s, (r1 - 1) * s + e)


def direct(xp, w, stride, dilation, eff, out_shape, dtype) -> np.ndarray:
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


def fft(x, pads, mode, w, stride, dilation, eff, out_shape, dtype) -> np.ndarray:
    """Correlation through the FFT: full stride-1 result, then every stride-th value.

    A circular correlation of size P ≥ the padded input equals the linear one on every valid
    output, so the input is zero-filled only up to a fast size, not to input + kernel.
    x is the unpadded input (N, C, *spatial); pads and mode say how to pad it.
    """
    n, c = x.shape[:2]
    f = w.shape[0]
    nd = len(out_shape)
    padded = tuple(s + lo + hi for s, (lo, hi) in zip(x.shape[2:], pads, strict=True))
    fft_shape = tuple(fast_len(s) for s in padded)
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
