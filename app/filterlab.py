"""The Filters lab's state (parsed from the query string), its computation and what it displays.

Routes stay thin: `parse_state` turns the query into a FilterState, `compute` runs the engine (with
a cache, because every PNG on the page asks for the same maps), `describe` builds the numbers and
formulas the templates show.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass, field
from urllib.parse import urlencode

import numpy as np
from PIL import Image

from app.errors import UserError
from app.forms import LabelRef, parse_choice, parse_float, parse_int, parse_number
from app.i18n import N_
from app.samples import DEFAULT_SAMPLE, load_sample
from app.sources import expired, parse_source
from app.uploads import DecodedImage, LRUBytesCache
from engine.conv import conv2d, output_size, resolve_padding
from engine.explain import PixelExplanation, channel_partials, explain_pixel
from engine.kernels import KERNELS, get_kernel

MAX_KERNEL = 15
MAX_BANK = 8
MAX_KERNEL_TEXT = 6000
RESOLUTIONS = (64, 128, 256, 512)
PADDINGS = ("valid", "same", "full", "number")
BORDER_MODES = ("zeros", "reflect", "replicate", "circular")
COLOURS = ("grey", "rgb")
OPERATIONS = ("correlate", "convolve")
DEFAULT_FILTERS = ("sobel_x",)
DEFAULT_KERNEL_TEXT = "0 -1 0\n-1 5 -1\n0 -1 0"

# Query parameters that change the computed maps (the rest only change what is displayed).
COMPUTE_KEYS = (
    "sample", "upload", "res", "colour", "f", "kernel", "size", "sigma", "bias", "stride",
    "padding", "pad", "mode", "dilation", "op",
)  # fmt: skip
VIEW_KEYS = ("m", "row", "col")


@dataclass
class FilterState:
    sample: str | None = DEFAULT_SAMPLE
    upload: str | None = None
    res: int = 256
    colour: str = "grey"
    filters: list[str] = field(default_factory=lambda: list(DEFAULT_FILTERS))
    kernel_text: str = DEFAULT_KERNEL_TEXT
    size: int = 5
    sigma: float = 1.0
    bias: float = 0.0
    stride: int = 1
    padding: str = "same"
    pad: int = 1
    mode: str = "zeros"
    dilation: int = 1
    op: str = "correlate"
    # Which output value to explain: map index, row and column (None = none chosen yet).
    map_index: int = 0
    row: int | None = None
    col: int | None = None

    @property
    def padding_arg(self) -> str | int:
        return self.pad if self.padding == "number" else self.padding

    def query(self, **overrides) -> str:
        """The canonical query string of this state: what a shared link carries."""
        items: list[tuple[str, str]] = []
        if self.upload:
            items.append(("upload", self.upload))
        else:
            items.append(("sample", self.sample or DEFAULT_SAMPLE))
        items += [("res", str(self.res)), ("colour", self.colour)]
        items += [("f", name) for name in self.filters]
        if "custom" in self.filters:
            items.append(("kernel", self.kernel_text))
        items += [
            ("size", str(self.size)),
            ("sigma", f"{self.sigma:g}"),
            ("bias", f"{self.bias:g}"),
            ("stride", str(self.stride)),
            ("padding", self.padding),
            ("pad", str(self.pad)),
            ("mode", self.mode),
            ("dilation", str(self.dilation)),
            ("op", self.op),
            ("m", str(self.map_index)),
        ]
        if self.row is not None and self.col is not None:
            items += [("row", str(self.row)), ("col", str(self.col))]
        replaced = dict(overrides)
        items = [(k, replaced.pop(k) if k in replaced else v) for k, v in items]
        items = [(k, v) for k, v in items if v is not None]
        items += [(k, str(v)) for k, v in replaced.items() if v is not None]
        return urlencode(items)

    def compute_key(self) -> str:
        keep = self.query(m=None, row=None, col=None)
        return hashlib.sha256(keep.encode()).hexdigest()


def parse_kernel_text(text: str, channels: int) -> np.ndarray:
    """Rows of numbers (one row per line) -> (C, K, K') kernel; blank lines separate channel blocks.

    One block is used for every channel; a colour image also accepts three blocks (R, G, B).
    """
    if len(text) > MAX_KERNEL_TEXT:
        raise UserError(N_("The custom kernel text is too long."))
    blocks: list[list[list[float]]] = [[]]
    for line_number, line in enumerate(text.replace(";", "\n").splitlines(), start=1):
        tokens = line.replace(",", " ").split()
        if not tokens:
            if blocks[-1]:
                blocks.append([])
            continue
        row = []
        for column, token in enumerate(tokens, start=1):
            value = parse_number(token)
            if value is None:
                raise UserError(
                    N_("Kernel line %(line)s, entry %(column)s: '%(text)s' is not a number."),
                    line=line_number,
                    column=column,
                    text=token[:20],
                )
            if not math.isfinite(value):
                raise UserError(
                    N_("Kernel entries must be finite numbers; '%(text)s' is not."), text=token[:20]
                )
            row.append(value)
        blocks[-1].append(row)
    blocks = [block for block in blocks if block]
    if not blocks:
        raise UserError(N_("The custom kernel is empty. Type rows of numbers, one row per line."))
    for block in blocks:
        width = len(block[0])
        for row_number, row in enumerate(block, start=1):
            if len(row) != width:
                raise UserError(
                    N_(
                        "Every kernel row needs the same number of entries: the first row has "
                        "%(first)s, row %(row)s has %(count)s."
                    ),
                    first=width,
                    row=row_number,
                    count=len(row),
                )
        if len(block) > MAX_KERNEL or width > MAX_KERNEL:
            raise UserError(
                N_("Kernels can be at most 15×15 (this one is %(height)s×%(width)s)."),
                height=len(block),
                width=width,
            )
    shapes = {(len(block), len(block[0])) for block in blocks}
    if len(shapes) > 1:
        raise UserError(N_("All channel blocks of the kernel must have the same size."))
    if len(blocks) == 1:
        return np.repeat(np.array(blocks, dtype=np.float64), channels, axis=0)
    if channels == 1:
        raise UserError(
            N_(
                "A grey image has one channel, so the kernel needs one block of rows "
                "(it has %(count)s). Switch to RGB to use one block per channel."
            ),
            count=len(blocks),
        )
    if len(blocks) != channels:
        raise UserError(
            N_(
                "A colour kernel has one block (used for all three channels) or three blocks "
                "(red, green, blue); this one has %(count)s."
            ),
            count=len(blocks),
        )
    return np.array(blocks, dtype=np.float64)


def format_kernel_text(kernel: np.ndarray) -> str:
    """(C, K, K') or (K, K') -> editor text, blocks separated by a blank line."""
    blocks = kernel[None] if kernel.ndim == 2 else kernel
    return "\n\n".join(
        "\n".join(" ".join(_short(v) for v in row) for row in block) for block in blocks
    )


def _short(value: float) -> str:
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def parse_state(params) -> FilterState:
    """`params` is a Starlette QueryParams/FormData (multi-valued `f`)."""
    state = FilterState()
    state.sample, state.upload = parse_source(params, DEFAULT_SAMPLE)
    state.res = parse_int(params.get("res"), N_("Working size"), 256, 16, 512)
    if state.res not in RESOLUTIONS:
        state.res = min(RESOLUTIONS, key=lambda r: abs(r - state.res))
    state.colour = parse_choice(params.get("colour"), N_("Colour"), COLOURS, "grey")
    filters = [name.strip() for name in params.getlist("f") if name.strip()]
    if "f" in params or params.get("submitted"):
        if not filters:
            raise UserError(N_("Choose at least one filter for the bank."))
        state.filters = list(dict.fromkeys(filters))  # drop repeats, keep order
    if len(state.filters) > MAX_BANK:
        raise UserError(N_("A filter bank here holds at most %(count)s filters."), count=MAX_BANK)
    for name in state.filters:
        if name != "custom" and name not in KERNELS:
            raise UserError(N_("Unknown filter '%(name)s'."), status=404, name=name[:40])
    if params.get("kernel") is not None:
        state.kernel_text = params.get("kernel").strip("\n") or ""
    state.size = parse_int(params.get("size"), N_("Blur size"), 5, 1, MAX_KERNEL)
    state.sigma = parse_float(params.get("sigma"), N_("Gaussian σ"), 1.0, 0.1, 10.0)
    state.bias = parse_float(params.get("bias"), N_("Bias"), 0.0, -1000.0, 1000.0)
    state.stride = parse_int(params.get("stride"), N_("Stride"), 1, 1, 64)
    state.padding = parse_choice(params.get("padding"), N_("Padding"), PADDINGS, "same")
    state.pad = parse_int(params.get("pad"), N_("Padding amount"), 1, 0, 64)
    state.mode = parse_choice(params.get("mode"), N_("Border mode"), BORDER_MODES, "zeros")
    state.dilation = parse_int(params.get("dilation"), N_("Dilation"), 1, 1, 16)
    state.op = parse_choice(params.get("op"), N_("Operation"), OPERATIONS, "correlate")
    state.map_index = parse_int(params.get("m"), N_("Feature map"), 0, 0, MAX_BANK - 1)
    if (params.get("row") or "").strip() and (params.get("col") or "").strip():
        state.row = parse_int(params.get("row"), N_("Row"), 0, 0, 100_000)
        state.col = parse_int(params.get("col"), N_("Column"), 0, 0, 100_000)
    return state


def apply_editor_action(state: FilterState, action: str, load: str | None) -> None:
    """The kernel editor's buttons: load a named filter, normalise, or flip the custom kernel."""
    if action == "load":
        name = (load or "").strip()
        if name not in KERNELS:
            raise UserError(N_("Unknown filter '%(name)s'."), status=404, name=name[:40])
        state.kernel_text = format_kernel_text(named_kernel(name, state))
    elif action in ("normalise", "flip"):
        kernel = parse_kernel_text(state.kernel_text, 3 if state.colour == "rgb" else 1)
        if state.colour == "grey" or np.all(kernel == kernel[:1]):
            kernel = kernel[:1]
        if action == "flip":
            kernel = kernel[:, ::-1, ::-1]
        else:
            total = kernel.sum()
            if abs(total) < 1e-12:
                raise UserError(
                    N_(
                        "This kernel sums to 0 (an edge detector), so it cannot be normalised to "
                        "sum to 1."
                    )
                )
            kernel = kernel / total
        state.kernel_text = format_kernel_text(kernel)
    else:
        raise UserError(N_("Unknown editor action '%(name)s'."), name=action[:40])
    if "custom" not in state.filters:
        state.filters = ["custom", *state.filters][:MAX_BANK]


def named_kernel(name: str, state: FilterState) -> np.ndarray:
    options = {"size": state.size, "sigma": state.sigma}
    accepted = {k: v for k, v in options.items() if k in KERNELS[name].params}
    return np.asarray(get_kernel(name, **accepted), dtype=np.float64)


def build_bank(state: FilterState, channels: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The bank as one (F, C, K, K') tensor; smaller kernels are centred in zeros to the largest."""
    kernels = []
    for name in state.filters:
        if name == "custom":
            kernels.append(parse_kernel_text(state.kernel_text, channels))
        else:
            kernels.append(np.repeat(named_kernel(name, state)[None], channels, axis=0))
    original_shapes = [k.shape[1:] for k in kernels]
    kh = max(shape[0] for shape in original_shapes)
    kw = max(shape[1] for shape in original_shapes)
    bank = np.zeros((len(kernels), channels, kh, kw))
    for index, kernel in enumerate(kernels):
        top = (kh - kernel.shape[1]) // 2
        left = (kw - kernel.shape[2]) // 2
        bank[index, :, top : top + kernel.shape[1], left : left + kernel.shape[2]] = kernel
    if state.op == "convolve":
        bank = bank[:, :, ::-1, ::-1].copy()  # true convolution = correlation with a flipped kernel
    return bank, original_shapes


def resize_to(image: DecodedImage, res: int) -> np.ndarray:
    """(H, W, 3) at most `res` on the long side; small images are never enlarged."""
    pixels = image.pixels
    height, width = pixels.shape[:2]
    if max(height, width) <= res:
        return pixels
    scale = res / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    channels = [
        np.asarray(Image.fromarray(pixels[:, :, c]).resize(size, Image.Resampling.LANCZOS))
        for c in range(3)
    ]
    # Whole numbers, as in an 8-bit image, keep the explained patches readable.
    return np.clip(np.round(np.stack(channels, axis=2)), 0, 255).astype(np.float32)


@dataclass
class FilterResult:
    image: np.ndarray  # (C, H, W) float32 0..255, what was convolved
    source: DecodedImage
    bank: np.ndarray  # (F, C, K, K')
    original_shapes: list[tuple[int, int]]
    maps: np.ndarray  # (F, H', W')
    partials: np.ndarray | None  # (F, C, H', W') for colour images
    pads: tuple[tuple[int, int], tuple[int, int]]

    def flip_symmetric(self, index: int) -> bool:
        """Whether filter `index` equals itself rotated by 180°: then correlation = convolution."""
        kernel = self.bank[index]
        return bool(np.allclose(kernel, kernel[:, ::-1, ::-1]))

    @property
    def nbytes(self) -> int:
        extra = self.partials.nbytes if self.partials is not None else 0
        return self.image.nbytes + self.maps.nbytes + self.bank.nbytes + extra


def grey(pixels: np.ndarray) -> np.ndarray:
    """(H, W, 3) -> (H, W): ITU-R BT.601 luma, the weights Pillow's convert("L") uses, rounded as
    an 8-bit grey image is, so explained products are exact."""
    return np.round(pixels @ np.array([0.299, 0.587, 0.114], dtype=np.float32))


def load_source(state: FilterState, uploads: LRUBytesCache, samples_dir) -> DecodedImage:
    if state.upload:
        cached = uploads.get(state.upload)
        if cached is None:
            raise expired()
        return cached.image
    return load_sample(state.sample, samples_dir)


def compute(state: FilterState, uploads: LRUBytesCache, results: LRUBytesCache, samples_dir):
    key = state.compute_key()
    cached = results.get(key)
    if cached is not None:
        return cached
    source = load_source(state, uploads, samples_dir)
    pixels = resize_to(source, state.res)  # (H, W, 3)
    if state.colour == "grey":
        image = grey(pixels)[None]
    else:
        image = np.ascontiguousarray(pixels.transpose(2, 0, 1))  # (H, W, 3) -> (3, H, W)
    channels, height, width = image.shape
    bank, original_shapes = build_bank(state, channels)
    kh, kw = bank.shape[2:]
    pads = resolve_padding(state.padding_arg, (kh, kw), (state.dilation, state.dilation), 2)
    check_fits(state, (height, width), (kh, kw), pads)
    biases = np.full(len(bank), state.bias)
    maps = conv2d(
        image[None],
        bank.astype(np.float32),
        biases.astype(np.float32),
        stride=state.stride,
        padding=state.padding_arg,
        dilation=state.dilation,
        padding_mode=state.mode,
    )[0]
    partials = None
    if channels == 3:
        partials = channel_partials(
            image,
            bank.astype(np.float32),
            state.stride,
            state.padding_arg,
            state.dilation,
            state.mode,
        )
    result = FilterResult(image, source, bank, original_shapes, maps, partials, pads)
    results.put(key, result, result.nbytes)
    return result


def check_fits(state: FilterState, size: tuple[int, int], kernel: tuple[int, int], pads) -> None:
    """Say in words why a setting yields no output, before the engine is asked."""
    for n, k, (before, after) in zip(size, kernel, pads, strict=True):
        span = state.dilation * (k - 1) + 1
        if state.mode == "reflect" and max(before, after) >= n:
            raise UserError(
                N_(
                    "Reflect padding needs the padding (%(pad)s) to be smaller than the image "
                    "(%(size)s pixels). Use less padding or another border mode."
                ),
                pad=max(before, after),
                size=n,
            )
        if state.mode == "circular" and max(before, after) > n:
            raise UserError(
                N_(
                    "Circular padding can wrap at most once around the image: the padding "
                    "(%(pad)s) is larger than the image (%(size)s pixels)."
                ),
                pad=max(before, after),
                size=n,
            )
        if span > n + before + after:
            raise UserError(
                N_(
                    "The kernel covers %(span)s pixels along one side after dilation, but the "
                    "padded input is only %(padded)s pixels. Use 'same' or 'full' padding, a "
                    "smaller dilation, or a smaller kernel."
                ),
                span=span,
                padded=n + before + after,
            )


@dataclass(frozen=True)
class AxisFormula:
    name: str  # msgid: "height" or "width"
    n: int
    k: int
    pad_before: int
    pad_after: int
    dilation: int
    stride: int
    result: int


def shape_formulas(state: FilterState, result: FilterResult) -> list[AxisFormula]:
    _, height, width = result.image.shape
    kh, kw = result.bank.shape[2:]
    formulas = []
    for name, n, k, pads in (
        (N_("height"), height, kh, result.pads[0]),
        (N_("width"), width, kw, result.pads[1]),
    ):
        out = output_size(n, k, state.stride, pads, state.dilation)
        formulas.append(
            AxisFormula(name, n, k, pads[0], pads[1], state.dilation, state.stride, out)
        )
    return formulas


def explain(state: FilterState, result: FilterResult) -> PixelExplanation | None:
    if state.row is None or state.col is None:
        return None
    out_h, out_w = result.maps.shape[1:]
    row = min(state.row, out_h - 1)
    col = min(state.col, out_w - 1)
    state.row, state.col = row, col
    index = min(state.map_index, len(result.bank) - 1)
    return explain_pixel(
        result.image.astype(np.float64),
        result.bank[index],
        state.bias,
        row,
        col,
        stride=state.stride,
        padding=state.padding_arg,
        dilation=state.dilation,
        padding_mode=state.mode,
    )


def kernel_label(name: str) -> str:
    return LabelRef(KERNELS[name].title) if name != "custom" else LabelRef(N_("Custom kernel"))
