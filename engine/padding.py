"""Padding for convolution and pooling, PyTorch's conventions: how much (`resolve_padding`), with
what (`pad`: zeros, reflect, replicate or circular), and the output size it gives
(`output_size`). Every mistake is an EngineError a student can act on."""

from __future__ import annotations

import numpy as np

from engine.errors import N_, EngineError

PADDING_MODES = ("zeros", "reflect", "replicate", "circular")
PADDING_STRINGS = ("valid", "same", "full")
# Stride, dilation and explicit padding above this are surely typos; refuse them before they
# allocate gigabytes.
MAX_STEP = 4096
_NP_PAD_MODE = {"zeros": "constant", "reflect": "reflect", "replicate": "edge", "circular": "wrap"}


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
