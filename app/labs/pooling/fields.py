"""The Pooling lab's fields. Its own carry a `p` prefix (ptype, psize, pstride, ppad, prow, pcol)
or are the shift (dx, dy), so that the Filters lab's fields ride along unchanged when the input is
one of its feature maps (`from=filters`, with the bank's fields and `m`)."""

from typing import Literal

from pydantic import model_validator

from app.config import LIMITS
from app.media.filterbank import BankFields
from app.web.errors import UserError
from app.web.fields import field
from app.web.i18n import N_

RESOLUTIONS = (16, 32, 64, 128, 256)
MAX_POSITION = 100_000


class PoolFields(BankFields):
    default_sample = "camera"

    from_lab: Literal["filters"] | None = field(
        None, N_("Map to pool"), alias="from",
        description="filters: pool a feature map of the Filters lab, given by its fields.",
    )  # fmt: skip
    pool_res: int = field(64, N_("Working size"), alias="pres", ge=8, le=256)
    ptype: Literal["max", "avg"] = field("max", N_("Pooling"))
    pool_size: int = field(2, N_("Pool size"), alias="psize", ge=1, le=LIMITS.max_pool)
    # None: the pool size, as PyTorch's default.
    pool_stride: int | None = field(
        None, N_("Pool stride"), alias="pstride", ge=1, le=LIMITS.max_pool
    )
    pool_pad: int = field(0, N_("Pool padding"), alias="ppad", ge=0, le=LIMITS.max_pool)
    dx: int = field(4, N_("Shift right (dx)"), ge=-LIMITS.max_shift, le=LIMITS.max_shift)
    dy: int = field(0, N_("Shift down (dy)"), ge=-LIMITS.max_shift, le=LIMITS.max_shift)
    row: int | None = field(None, N_("Row"), alias="prow", ge=0, le=MAX_POSITION)
    col: int | None = field(None, N_("Column"), alias="pcol", ge=0, le=MAX_POSITION)
    map_index: int = field(0, N_("Feature map"), alias="m", ge=0, le=LIMITS.max_bank - 1)
    # Backward mode (app.labs.pooling.backward): the output gradient dL/dy sent back.
    pool_grad: Literal["off", "ones", "cell", "map"] = field(
        "off", N_("Output gradient"), alias="pgrad",
        invalid=N_("Unknown output gradient '%(name)s'."),
    )  # fmt: skip

    @model_validator(mode="before")
    @classmethod
    def _input(cls, data):
        """The menu's "filters" entry, or a link from the Filters lab (`from=filters`) while no
        picture is chosen in the menu: the input is a Filters-lab map."""
        if isinstance(data, dict):
            data = dict(data)
            source = str(data.get("source") or "").strip()
            if source == "filters" or (data.get("from") == "filters" and not source):
                data["from"] = "filters"
                data.pop("source", None)
            else:
                data.pop("from", None)
        return data

    @model_validator(mode="after")
    def _window(self):
        self.pool_res = min(RESOLUTIONS, key=lambda r: abs(r - self.pool_res))
        if 2 * self.pool_pad > self.pool_size:
            raise UserError(
                N_(
                    "Pool padding (%(pad)s) can be at most half the pool size (%(size)s): more "
                    "would make windows that hold only padding."
                ),
                pad=self.pool_pad,
                size=self.pool_size,
            ).at("ppad")
        # A row typed without its column stays in the form: the window is explained once both
        # are there (views), so "type a position" can be done one box at a time.
        return self

    @property
    def from_filters(self) -> bool:
        return self.from_lab == "filters"

    def default_picture(self) -> str:
        return "astronaut" if self.from_filters else self.default_sample

    @property
    def effective_stride(self) -> int:
        return self.pool_size if self.pool_stride is None else self.pool_stride

    def omitted(self) -> set[str]:
        # Backward mode off: the URL is as it always was.
        backward = {"pool_grad"} if self.pool_grad == "off" else set()
        if self.from_filters:
            return super().omitted() | {"pool_res"} | backward
        bank = set(BankFields.model_fields) - {"sample", "upload", "source"}
        return bank | {"map_index"} | backward

    def items(self) -> list[tuple[str, str]]:
        """The lab's own fields first when a Filters-lab map rides along, then that map's."""
        items = super().items()
        if not self.from_filters:
            return items
        own = {info.alias or name for name, info in PoolFields.model_fields.items()
               if name not in BankFields.model_fields and name != "map_index"}  # fmt: skip
        return [i for i in items if i[0] in own] + [i for i in items if i[0] not in own]

    def filters_items(self) -> list[tuple[str, str]]:
        """The Filters lab's fields of the map pooled: what a link back to it carries."""
        keep = {info.alias or name for name, info in BankFields.model_fields.items()} | {"m"}
        return [(k, v) for k, v in self.items() if k in keep]

    def source_key(self) -> str:
        return self.compute_key() if self.from_filters else self.picture_key()
