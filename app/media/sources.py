"""Which picture an image lab works on: a built-in sample or an upload.

Every image lab reads it the same way, declared once here: `sample=<name>` or `upload=<id>`, or
the picture menu's single `source` ("sample:<name>" or "upload:<id>"), which wins when present.
"""

from __future__ import annotations

from typing import ClassVar

from pydantic import model_validator

from app.media.images import DecodedImage
from app.media.samples import SAMPLES, load_sample
from app.media.uploads import is_valid_upload_id
from app.web.errors import UserError
from app.web.fields import Fields, field
from app.web.i18n import N_

EXPIRED = N_(
    "This uploaded image is no longer on the server (uploads are kept only for a while). "
    "Please upload it again."
)


def expired() -> UserError:
    return UserError(EXPIRED, status=410)


class PictureFields(Fields):
    """The picture fields of an image lab. After validation exactly one of `sample` and
    `upload` is set; an unknown sample is a 404, a malformed upload id reads as expired (410)."""

    default_sample: ClassVar[str] = "astronaut"

    sample: str | None = field(None, N_("Picture"))
    upload: str | None = field(None, N_("Your upload"))
    source: str | None = field(
        None, N_("Picture"), in_query=False,
        description="The picture menu: sample:<name> or upload:<id>; wins over sample and upload.",
    )  # fmt: skip

    @model_validator(mode="after")
    def _one_picture(self):
        upload = (self.upload or "").strip()
        sample = (self.sample or "").strip() or self.default_picture()
        kind, _, value = (self.source or "").strip().partition(":")
        if kind == "sample":
            upload, sample = "", value
        elif kind == "upload":
            upload = value
        self.source = None
        if upload:
            if not is_valid_upload_id(upload):
                raise expired()
            self.sample, self.upload = None, upload
            return self
        if sample not in SAMPLES:
            raise UserError(N_("Unknown sample image '%(name)s'."), status=404, name=sample[:40])
        self.sample, self.upload = sample, None
        return self

    def default_picture(self) -> str:
        return self.default_sample

    def picture(self, media) -> DecodedImage:
        """The picture itself; `media` is an app.media.deps.MediaStore."""
        if self.upload:
            cached = media.uploads.get(self.upload)
            if cached is None:
                raise expired()
            return cached.image
        return load_sample(self.sample, media.samples_dir)

    def picture_key(self) -> str:
        return self.upload or self.sample or ""
