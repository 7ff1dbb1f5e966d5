"""Which picture a lab works on: a built-in sample or an upload, from the query string.

Every image lab reads it the same way: `sample=<name>` or `upload=<id>`, or the picture menu's
single `source` ("sample:<name>" or "upload:<id>"), which wins when present.
"""

from __future__ import annotations

from app.errors import UserError
from app.i18n import N_
from app.samples import SAMPLES
from app.uploads import is_valid_upload_id

EXPIRED = N_(
    "This uploaded image is no longer on the server (uploads are kept only for a while). "
    "Please upload it again."
)


def expired() -> UserError:
    return UserError(EXPIRED, status=410)


def parse_source(params, default_sample: str) -> tuple[str | None, str | None]:
    """(sample, upload): exactly one is set. Unknown samples are 404, bad upload ids 410."""
    upload = (params.get("upload") or "").strip()
    sample = (params.get("sample") or default_sample).strip()
    kind, _, value = (params.get("source") or "").strip().partition(":")
    if kind == "sample":
        upload, sample = "", value
    elif kind == "upload":
        upload = value
    if upload:
        if not is_valid_upload_id(upload):
            raise expired()
        return None, upload
    if sample not in SAMPLES:
        raise UserError(N_("Unknown sample image '%(name)s'."), status=404, name=sample[:40])
    return sample, None
