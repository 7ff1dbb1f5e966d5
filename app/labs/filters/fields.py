"""The Filters lab's fields: the picture, the bank and the convolution (app.media.filterbank), and
which output value to explain."""

from typing import Literal

from pydantic import model_validator

from app.config import LIMITS
from app.media.filterbank import BankFields
from app.web.fields import field
from app.web.i18n import N_

MAX_POSITION = 100_000  # of an explained pixel; positions past the map are clamped to its edge


class FilterFields(BankFields):
    # The picture menu's "camera": live frames (app.labs.filters.camera) instead of a picture.
    camera: bool = field(False, N_("Camera"))
    map_index: int = field(0, N_("Feature map"), alias="m", ge=0, le=LIMITS.max_bank - 1)
    row: int | None = field(None, N_("Row"), ge=0, le=MAX_POSITION)
    col: int | None = field(None, N_("Column"), ge=0, le=MAX_POSITION)
    # The kernel editor's buttons and menu: they change the kernel, then the URL forgets them.
    action: Literal["load", "normalise", "flip"] | None = field(
        None, N_("Kernel editor"), in_query=False,
        invalid=N_("Unknown editor action '%(name)s'."),
    )  # fmt: skip
    load: str | None = field(None, N_("Start from"), in_query=False)
    # A row typed without its column stays in the form (the pixel is explained once both are
    # there: views.explain), so "type a position" can be done one box at a time.
    # Backward mode (app.labs.filters.backward): the output gradient dL/dy, and the dL/dkernel
    # entry and dL/dinput pixel whose products are listed (clamped to the kernel and image).
    grad: Literal["off", "ones", "pixel", "map"] = field(
        "off", N_("Output gradient"), invalid=N_("Unknown output gradient '%(name)s'.")
    )
    kc: int | None = field(None, N_("Kernel channel"), ge=0, le=2)
    ki: int | None = field(None, N_("Kernel row"), ge=0, le=LIMITS.max_kernel - 1)
    kj: int | None = field(None, N_("Kernel column"), ge=0, le=LIMITS.max_kernel - 1)
    xc: int | None = field(None, N_("Input channel"), ge=0, le=2)
    xi: int | None = field(None, N_("Input row"), ge=0, le=MAX_POSITION)
    xj: int | None = field(None, N_("Input column"), ge=0, le=MAX_POSITION)

    @model_validator(mode="before")
    @classmethod
    def _camera_source(cls, data):
        # The menu's choice wins: "camera" turns the live source on, a picture turns it off.
        if not isinstance(data, dict):
            return data
        source = data.get("source")
        source = source[-1] if isinstance(source, list) and source else source
        if not isinstance(source, str) or not source.strip():
            return data
        data = dict(data, camera="1" if source.strip() == "camera" else "0")
        if source.strip() == "camera":
            del data["source"]  # the picture under it stays the one the URL names
        return data

    def omitted(self) -> set[str]:
        # Backward mode off: its fields stay out of the URL, which is then as it always was.
        backward = {"grad", "kc", "ki", "kj", "xc", "xi", "xj"} if self.grad == "off" else set()
        camera = set() if self.camera else {"camera"}
        return super().omitted() | backward | camera
