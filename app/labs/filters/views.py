"""What the Filters lab's templates get: the maps, the shape formulas, the explained pixel, the
kernel editor's grid; and the kernel editor's buttons."""

from __future__ import annotations

import numpy as np

from app.config import LIMITS
from app.labs.filters import backward
from app.labs.filters.fields import FilterFields
from app.labs.filters.frequency import frequency_context
from app.labs.filters.slide import lab_strip
from app.media import filterbank
from app.media.filterbank import FilterResult, format_kernel_text, named_kernel, parse_kernel_text
from app.media.samples import SAMPLES
from app.web.errors import UserError
from app.web.i18n import N_
from app.web.png import map_scale
from engine.explain import PixelExplanation, explain_pixel
from engine.kernels import KERNELS


def page_context() -> dict:
    """What every render of the lab needs, whatever the state."""
    return {"samples": SAMPLES, "kernels": KERNELS, "resolutions": filterbank.RESOLUTIONS}


def lab_context(fields: FilterFields, media) -> dict:
    result = filterbank.compute(fields, media)
    backward_view = backward.context(fields, result, media)  # clamps its cells before the form
    return {
        "state": fields,
        "form": fields.form(),
        "result": result,
        "scales": [map_scale(result.maps[i]) for i in range(len(result.maps))],
        "formulas": filterbank.shape_formulas(fields, result),
        "explanation": explain(fields, result),
        "upload": media.uploads.get(fields.upload) if fields.upload else None,
        "error": None,
        "custom_preview": custom_preview(fields),
        "slide": lab_strip(fields, result),  # after "explanation", which clamps the pixel
        **frequency_context(fields, result),
        "backward": backward_view,
    }


def error_context(request, error, messages: list[str]) -> dict:
    """The whole page again, the form as the user sent it and the message next to it."""
    typed = FilterFields.typed(request.query_params)
    return {**page_context(), "state": None, "form": typed, "result": None, "error": messages,
            "upload": None}  # fmt: skip


def custom_preview(fields: FilterFields):
    """The editor's numbers as a grid, or None while they do not parse (the error says why)."""
    try:
        kernel = parse_kernel_text(fields.kernel_text, fields.channels)
    except UserError:
        return None
    kernel = kernel[:1] if (kernel == kernel[:1]).all() else kernel
    return {"kernel": kernel, "top": max(float(np.abs(kernel).max()), 1e-12)}


def apply_editor_action(fields: FilterFields) -> None:
    """The kernel editor's buttons: load a named filter, normalise, or flip the custom kernel.
    Their mistakes are shown by the editor's text."""
    try:
        _apply_editor_action(fields)
    except UserError as error:
        raise error.at(error.control or "kernel") from None


def _apply_editor_action(fields: FilterFields) -> None:
    if fields.action == "load":
        name = (fields.load or "").strip()
        if name not in KERNELS:
            raise UserError(N_("Unknown filter '%(name)s'."), status=404, name=name[:40])
        fields.kernel_text = format_kernel_text(named_kernel(name, fields))
    else:
        kernel = parse_kernel_text(fields.kernel_text, fields.channels)
        if fields.colour == "grey" or np.all(kernel == kernel[:1]):
            kernel = kernel[:1]
        if fields.action == "flip":
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
        fields.kernel_text = format_kernel_text(kernel)
    if "custom" not in fields.filters:
        fields.filters = ["custom", *fields.filters][: LIMITS.max_bank]
    fields.action = None  # done; "Start from" keeps its choice, for the next Load


def explain(fields: FilterFields, result: FilterResult) -> PixelExplanation | None:
    """The numbers behind the chosen output value; a position past the map is clamped to it."""
    if fields.row is None or fields.col is None:
        return None
    out_h, out_w = result.maps.shape[1:]
    fields.row, fields.col = min(fields.row, out_h - 1), min(fields.col, out_w - 1)
    index = min(fields.map_index, len(result.bank) - 1)
    return explain_pixel(
        result.image.astype(np.float64),
        result.bank[index],
        fields.bias,
        fields.row,
        fields.col,
        stride=fields.stride,
        padding=fields.padding_arg,
        dilation=fields.dilation,
        padding_mode=fields.mode,
    )
