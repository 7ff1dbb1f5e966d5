"""Matrix products with one long side and a small rest, in pieces the BLAS takes whole.

A CNN's first layer gives two such products: its weight gradient, (C·K, P·N) @ (P·N, F) with
a 25 × 6 result summed over 50,176 values, and its forward, (F, C·K) @ (C·K, P·N) with a
6 × 25 weight. OpenBLAS's SkylakeX kernels multiply products of up to about a million
multiply-adds without packing them first. Beyond that, these thin shapes run at a third of
the speed of the same work cut into such pieces (measured at LeNet's first layer, batch 64:
615 → 231 µs for the weight gradient, 396 → 279 µs for the forward). The pieces depend on the
shapes alone, so a seed replays a run to the last bit.
"""

from __future__ import annotations

import numpy as np

_SMALL_WORK = 1 << 20  # multiply-adds of one piece: what the small-matrix kernels take whole
# At most this many values in the two short sides' product. A long sum into a 25 × 16 result
# still gains from pieces (827 → 522 µs); a 16 × 25 left matrix already loses (335 → 484 µs),
# a 6 × 25 one gains (353 → 214 µs).
_THIN_RESULT = 512
_THIN_LEFT = 160
_MIN_PIECE = 1024  # below this the per-call cost is not worth it


def _piece(short_sides: int, long_side: int, thin: int) -> int | None:
    """Length of the pieces to cut the long side into, or None to multiply whole."""
    if short_sides > thin:
        return None
    piece = 1 << max(0, (_SMALL_WORK // short_sides).bit_length() - 1)  # a power of two
    if piece < _MIN_PIECE or piece >= long_side:
        return None
    return piece


def thin_matmul(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """a (M, K) @ b (K, N), into out (M, N) if given: np.matmul's result to rounding, cut into
    pieces along K (a long sum into a small result) or along N (a small left matrix)."""
    m, k = a.shape
    n = b.shape[1]
    if out is None:
        out = np.empty((m, n), dtype=np.result_type(a, b))
    piece = _piece(m * n, k, _THIN_RESULT)
    if piece is not None:  # a sum over K: add up the pieces' products
        np.matmul(a[:, :piece], b[:piece], out=out)
        part = np.empty_like(out)
        for start in range(piece, k, piece):
            np.matmul(a[:, start : start + piece], b[start : start + piece], out=part)
            out += part
        return out
    piece = _piece(m * k, n, _THIN_LEFT)
    if piece is not None:  # a small left matrix: the columns a piece at a time
        for start in range(0, n, piece):
            np.matmul(a, b[:, start : start + piece], out=out[:, start : start + piece])
        return out
    return np.matmul(a, b, out=out)
