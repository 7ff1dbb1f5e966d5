"""A picture through a bank of filters: the feature maps the Filters lab shows, and the maps the
Pooling lab can pool (`/pooling?from=filters&...` carries these same fields).

`BankFields` declares the fields once; `compute` runs the engine, with a cache, because every PNG
on a page asks for the same maps.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlencode

import numpy as np
from pydantic import model_validator

from app.config import LIMITS
from app.media.images import DecodedImage, grey, resize_to
from app.media.sources import PictureFields
from app.web.errors import LabelRef, UserError
from app.web.fields import field, parse_number
from app.web.i18n import N_
from app.web.numbers import decimal_commas
from engine.conv import conv2d, output_size, resolve_padding
from engine.explain import channel_partials
from engine.kernels import KERNELS, get_kernel

RESOLUTIONS = (64, 128, 256, 512)
DEFAULT_FILTERS = ("sobel_x",)
DEFAULT_KERNEL_TEXT = "0 -1 0\n-1 5 -1\n0 -1 0"


class BankFields(PictureFields):
    """The picture, the filter bank and the convolution's settings."""

    res: int = field(256, N_("Working size"), ge=16, le=LIMITS.working_size)
    colour: Literal["grey", "rgb"] = field("grey", N_("Colour"))
    filters: list[str] = field(list(DEFAULT_FILTERS), N_("Filter bank"), alias="f")
    kernel_text: str = field(
        DEFAULT_KERNEL_TEXT, N_("Custom kernel"), alias="kernel",
        max_length=LIMITS.max_kernel_text, too_long=N_("The custom kernel text is too long."),
    )  # fmt: skip
    size: int = field(5, N_("Blur size"), ge=1, le=LIMITS.max_kernel)
    sigma: float = field(1.0, N_("Gaussian σ"), ge=0.1, le=10.0)
    bias: float = field(0.0, N_("Bias"), ge=-1000.0, le=1000.0)
    stride: int = field(1, N_("Stride"), ge=1, le=LIMITS.max_stride)
    padding: Literal["valid", "same", "full", "number"] = field("same", N_("Padding"))
    pad: int = field(1, N_("Padding amount"), ge=0, le=LIMITS.max_padding)
    mode: Literal["zeros", "reflect", "replicate", "circular"] = field("zeros", N_("Border mode"))
    dilation: int = field(1, N_("Dilation"), ge=1, le=LIMITS.max_dilation)
    op: Literal["correlate", "convolve"] = field("correlate", N_("Operation"))
    # The form's hidden marker: a form sent with no filter ticked is a mistake, not the default.
    submitted: bool = field(False, in_query=False)

    @model_validator(mode="after")
    def _bank(self):
        self.res = min(RESOLUTIONS, key=lambda r: abs(r - self.res))
        sent = "filters" in self.model_fields_set
        names = [name for name in self.filters if name] if sent else list(DEFAULT_FILTERS)
        if (sent or self.submitted) and not (names if sent else []):
            raise UserError(N_("Choose at least one filter for the bank."))
        self.filters = list(dict.fromkeys(names))  # drop repeats, keep order
        if len(self.filters) > LIMITS.max_bank:
            raise UserError(
                N_("A filter bank here holds at most %(count)s filters."), count=LIMITS.max_bank
            )
        for name in self.filters:
            if name != "custom" and name not in KERNELS:
                raise UserError(N_("Unknown filter '%(name)s'."), status=404, name=name[:40])
        self.kernel_text = decimal_commas(self.kernel_text.strip("\n"))  # "0,5" in pt-BR
        return self

    def omitted(self) -> set[str]:
        return set() if "custom" in self.filters else {"kernel_text"}

    @property
    def padding_arg(self) -> str | int:
        return self.pad if self.padding == "number" else self.padding

    @property
    def channels(self) -> int:
        return 3 if self.colour == "rgb" else 1

    def bank_query(self) -> str:
        """The query of what is computed: the picture, the bank and the convolution."""
        keep = {info.alias or name for name, info in BankFields.model_fields.items()}
        return urlencode([(key, value) for key, value in self.items() if key in keep])

    def compute_key(self) -> str:
        return hashlib.sha256(self.bank_query().encode()).hexdigest()


# --- the custom kernel's text ----------------------------------------------------------------


def parse_kernel_text(text: str, channels: int) -> np.ndarray:
    """Rows of numbers (one row per line) -> (C, K, K') kernel; blank lines separate channel blocks.

    One block is used for every channel; a colour image also accepts three blocks (R, G, B).
    """
    if len(text) > LIMITS.max_kernel_text:
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
        if len(block) > LIMITS.max_kernel or width > LIMITS.max_kernel:
            raise UserError(
                N_("Kernels can be at most %(max)s×%(max)s (this one is %(height)s×%(width)s)."),
                max=LIMITS.max_kernel,
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


# --- the bank ----------------------------------------------------------------------------------


def named_kernel(name: str, fields: BankFields) -> np.ndarray:
    options = {"size": fields.size, "sigma": fields.sigma}
    accepted = {k: v for k, v in options.items() if k in KERNELS[name].params}
    return np.asarray(get_kernel(name, **accepted), dtype=np.float64)


def kernel_title(name: str) -> str:
    """The msgid naming a filter of the bank."""
    return KERNELS[name].title if name != "custom" else N_("Custom kernel")


def kernel_label(name: str) -> LabelRef:
    return LabelRef(kernel_title(name))


def build_bank(fields: BankFields, channels: int) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """The bank as one (F, C, K, K') tensor; smaller kernels are centred in zeros to the largest."""
    kernels = []
    for name in fields.filters:
        if name == "custom":
            try:
                kernels.append(parse_kernel_text(fields.kernel_text, channels))
            except UserError as error:
                raise error.at(error.control or "kernel") from None  # shown by the editor
        else:
            kernels.append(np.repeat(named_kernel(name, fields)[None], channels, axis=0))
    original_shapes = [k.shape[1:] for k in kernels]
    kh = max(shape[0] for shape in original_shapes)
    kw = max(shape[1] for shape in original_shapes)
    bank = np.zeros((len(kernels), channels, kh, kw))
    for index, kernel in enumerate(kernels):
        top = (kh - kernel.shape[1]) // 2
        left = (kw - kernel.shape[2]) // 2
        bank[index, :, top : top + kernel.shape[1], left : left + kernel.shape[2]] = kernel
    if fields.op == "convolve":
        bank = bank[:, :, ::-1, ::-1].copy()  # true convolution = correlation with a flipped kernel
    return bank, original_shapes


@dataclass
class FilterResult:
    image: np.ndarray  # (C, H, W) float32 0..255, what was convolved
    original_size: tuple[int, int]  # (width, height) of the picture as uploaded
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


def compute(fields: BankFields, media) -> FilterResult:
    """The feature maps of the bank on the picture (cached under the fields that change them).
    A setting that gives no output raises the engine's EngineError, which says why. `media` is
    an app.media.deps.MediaStore."""
    return media.results.get_or_compute(
        fields.compute_key(), lambda: _compute(fields, fields.picture(media))
    )


def compute_picture(fields: BankFields, source: DecodedImage) -> FilterResult:
    """The same maps as `compute`, on a picture that is not kept (a camera frame): no cache."""
    return _compute(fields, source)


def _compute(fields: BankFields, source: DecodedImage) -> FilterResult:
    pixels = resize_to(source, fields.res)  # (H, W, 3)
    if fields.colour == "grey":
        image = grey(pixels)[None]
    else:
        image = np.ascontiguousarray(pixels.transpose(2, 0, 1))  # (H, W, 3) -> (3, H, W)
    channels = image.shape[0]
    bank, original_shapes = build_bank(fields, channels)
    kh, kw = bank.shape[2:]
    pads = resolve_padding(fields.padding_arg, (kh, kw), (fields.dilation, fields.dilation), 2)
    biases = np.full(len(bank), fields.bias)
    maps = conv2d(
        image[None],
        bank.astype(np.float32),
        biases.astype(np.float32),
        stride=fields.stride,
        padding=fields.padding_arg,
        dilation=fields.dilation,
        padding_mode=fields.mode,
    )[0]
    partials = None
    if channels == 3:
        partials = channel_partials(
            image, bank.astype(np.float32), fields.stride, fields.padding_arg, fields.dilation,
            fields.mode,
        )  # fmt: skip
    # Not the decoded picture itself: a cached result keeps only what it counts in nbytes.
    return FilterResult(image, source.original_size, bank, original_shapes, maps, partials, pads)


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


def shape_formulas(fields: BankFields, result: FilterResult) -> list[AxisFormula]:
    _, height, width = result.image.shape
    kh, kw = result.bank.shape[2:]
    formulas = []
    for name, n, k, pads in (
        (N_("height"), height, kh, result.pads[0]),
        (N_("width"), width, kw, result.pads[1]),
    ):
        out = output_size(n, k, fields.stride, pads, fields.dilation)
        formulas.append(
            AxisFormula(name, n, k, pads[0], pads[1], fields.dilation, fields.stride, out)
        )
    return formulas
