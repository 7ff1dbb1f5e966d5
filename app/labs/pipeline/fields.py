"""The Pipeline lab's fields: the picture, and the shape calculator's input and layers."""

from pydantic import model_validator

from app.config import LIMITS
from app.media.sources import PictureFields
from app.web.fields import field
from app.web.i18n import N_

RESOLUTIONS = (32, 64, 128)
LENET5 = "conv 6 5x5, pool 2, conv 16 5x5, pool 2, dense 120, dense 84, dense 10"


class PipelineFields(PictureFields):
    default_sample = "cat"

    res: int = field(64, N_("Working size"), alias="pres", ge=8, le=128)
    arch: str = field(LENET5, N_("Layers"), max_length=LIMITS.max_arch_text)
    input_shape: str = field("1x32x32", N_("Input shape"), alias="input", max_length=60)

    @model_validator(mode="after")
    def _snap(self):
        self.res = min(RESOLUTIONS, key=lambda r: abs(r - self.res))
        return self

    def image_key(self) -> str:
        return f"pipe:{self.picture_key()}:{self.res}"
