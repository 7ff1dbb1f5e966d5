"""A hand-built CNN whose every filter has a name: layer 1 finds edges at four orientations (both
polarities), layer 2 combines them into corners, junctions and lines. The Pooling lab's
translation experiment and the pipeline view run real images through it.

    image (N, 1, H, W) -> conv1 (N, 8, H, W) -> ReLU, 2×2 max pool (N, 8, H/2, W/2)
                       -> conv2 (N, 12, H/2, W/2) -> ReLU, 2×2 max pool (N, 12, H/4, W/4)
"""

from __future__ import annotations

import numpy as np

from engine.activations import relu
from engine.conv import conv2d
from engine.errors import N_
from engine.pool import max_pool2d

_SOBEL = np.array([[-1, 0, 1], [-2, 0, 2], [-1, 0, 1]], dtype=np.float32)
_DIAGONAL = np.array([[0, 1, 2], [-1, 0, 1], [-2, -1, 0]], dtype=np.float32)

# Layer 1: (name, kernel). Brightness rising to the right is a "dark→light" vertical edge, etc.
LAYER1 = [
    (N_("vertical edge, dark→light"), _SOBEL),
    (N_("vertical edge, light→dark"), -_SOBEL),
    (N_("horizontal edge, dark→light"), _SOBEL.T.copy()),
    (N_("horizontal edge, light→dark"), -_SOBEL.T),
    (N_("diagonal edge ↗"), _DIAGONAL),
    (N_("diagonal edge ↗, reversed"), -_DIAGONAL),
    (N_("diagonal edge ↘"), _DIAGONAL[:, ::-1].copy()),
    (N_("diagonal edge ↘, reversed"), -_DIAGONAL[:, ::-1]),
]

# Layer 2: (name, layer-1 channels it adds up). Each is an average over a 3×3 neighbourhood.
# A dark→light vertical edge is bright on its right; a dark→light horizontal edge, below.
LAYER2 = [
    (N_("corner, bright to the lower right"), (0, 2)),
    (N_("corner, bright to the lower left"), (1, 2)),
    (N_("corner, bright to the upper right"), (0, 3)),
    (N_("corner, bright to the upper left"), (1, 3)),
    (N_("vertical line: both vertical polarities side by side"), (0, 1)),
    (N_("horizontal line: both horizontal polarities"), (2, 3)),
    (N_("diagonal line ↗"), (4, 5)),
    (N_("diagonal line ↘"), (6, 7)),
    (N_("plus junction: vertical and horizontal"), (0, 1, 2, 3)),
    (N_("X junction: both diagonals"), (4, 5, 6, 7)),
    (N_("diagonal corner: ↗ meets ↘"), (4, 6)),
    (N_("texture: every orientation"), tuple(range(8))),
]


def layer1_bank() -> np.ndarray:
    """(8, 1, 3, 3) oriented edge detectors, scaled so a 0..1 image gives responses up to ~4."""
    return np.stack([kernel for _, kernel in LAYER1])[:, None].astype(np.float32)


def layer2_bank() -> np.ndarray:
    """(12, 8, 3, 3): each filter averages the layer-1 channels it names over 3×3."""
    bank = np.zeros((len(LAYER2), len(LAYER1), 3, 3), dtype=np.float32)
    for index, (_, channels) in enumerate(LAYER2):
        bank[index, list(channels)] = 1.0 / (9 * len(channels))
    return bank


def stages(images: np.ndarray) -> dict[str, np.ndarray]:
    """(N, 1, H, W) in 0..1 -> the features at each depth, keyed by stage name."""
    images = np.asarray(images, dtype=np.float32)
    conv1 = conv2d(images, layer1_bank(), padding="same")
    # ReLU and max pooling commute (both keep order), so pooling first rectifies 4× fewer values.
    pool1 = relu(max_pool2d(conv1, 2))
    conv2 = conv2d(pool1, layer2_bank(), padding="same")
    pool2 = relu(max_pool2d(conv2, 2))
    return {"conv1": conv1, "pool1": pool1, "conv2": conv2, "pool2": pool2}


def shift_image(image: np.ndarray, dx: int, dy: int) -> np.ndarray:
    """Move the content of (..., H, W) right by dx and down by dy; uncovered pixels become 0."""
    height, width = image.shape[-2:]
    if abs(dx) >= width or abs(dy) >= height:
        raise ValueError(f"A shift of ({dx}, {dy}) moves the whole {height}×{width} image out.")
    out = np.zeros_like(image)
    dst_y = slice(max(dy, 0), height + min(dy, 0))
    src_y = slice(max(-dy, 0), height + min(-dy, 0))
    dst_x = slice(max(dx, 0), width + min(dx, 0))
    src_x = slice(max(-dx, 0), width + min(-dx, 0))
    out[..., dst_y, dst_x] = image[..., src_y, src_x]
    return out


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per sample: a·b / (|a||b|) over all features; (N, ...) × (N, ...) -> (N,). 1 = same
    direction, 0 = nothing in common. Two all-zero feature sets count as identical."""
    a = a.reshape(len(a), -1).astype(np.float64)
    b = b.reshape(len(b), -1).astype(np.float64)
    dot = np.einsum("nf,nf->n", a, b)
    norms = np.linalg.norm(a, axis=1) * np.linalg.norm(b, axis=1)
    return np.where(norms > 0, dot / np.where(norms > 0, norms, 1), 1.0)


def similarity_to_first(features: np.ndarray) -> np.ndarray:
    """(N, ...) -> (N,): cosine similarity of every sample's features with sample 0's."""
    return similarity_to(features[0], features)


def similarity_to(reference: np.ndarray, features: np.ndarray) -> np.ndarray:
    """(...) and (N, ...) -> (N,): cosine similarity of every sample's features with
    `reference`. One float32 matrix-vector product instead of N copies of the reference."""
    flat = features.reshape(len(features), -1)
    ref = reference.reshape(-1)
    dots = (flat @ ref).astype(np.float64)
    norms = np.sqrt(np.einsum("nf,nf->n", flat, flat, dtype=np.float64)) * np.sqrt(
        np.dot(ref.astype(np.float64), ref.astype(np.float64))
    )
    return np.where(norms > 0, dots / np.where(norms > 0, norms, 1), 1.0)


DEPTHS = ("conv1", "pool1", "pool2")  # the conv map, after one stage, after two stages
CURVE_CHUNK = 4  # shifted copies through the network at once: memory ~ chunk, not curve length


def largest_shift(shape: tuple[int, int], direction: tuple[float, float], max_shift: int) -> int:
    """The largest t <= max_shift for which shifting an (H, W) image by t·direction (rounded
    toward zero, as invariance_curve does) still leaves some of it in view."""
    height, width = shape
    ux, uy = direction
    t = max_shift
    while t > 0 and (abs(int(t * ux)) >= width or abs(int(t * uy)) >= height):
        t -= 1
    return t


def invariance_curve(image: np.ndarray, direction: tuple[int, int], max_shift: int):
    """Similarity between the features of `image` (H, W) and of the image shifted by
    t·direction, for t = 0..max_shift, at each depth. Returns (shifts, {depth: (T,) scores}).

    The shifted copies go through the network CURVE_CHUNK at a time, each compared with the
    unshifted features as it comes: a 256-pixel curve of 17 shifts peaks at ~37 MB, not ~73.
    """
    ux, uy = direction
    shifts = np.arange(max_shift + 1)
    reference: dict[str, np.ndarray] = {}
    parts: dict[str, list[np.ndarray]] = {depth: [] for depth in DEPTHS}
    for start in range(0, len(shifts), CURVE_CHUNK):
        chunk = shifts[start : start + CURVE_CHUNK]
        batch = np.stack([shift_image(image, int(t * ux), int(t * uy)) for t in chunk])[:, None]
        features = stages(batch)
        for depth in DEPTHS:
            reference.setdefault(depth, features[depth][0].copy())
            parts[depth].append(similarity_to(reference[depth], features[depth]))
    return shifts, {depth: np.concatenate(parts[depth]) for depth in DEPTHS}
