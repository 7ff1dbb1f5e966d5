"""A student's own picture classes: 2 to 5 named classes of pictures taken with the camera or
uploaded, kept in the store for the browser that made them, and carried as a zip (a folder per
class) to bring a prepared set to class.

Every picture is decoded once, cropped to its centre square and kept as a PNG of at most
PICTURE_SIDE pixels (the Training lab works at 32 or 64): small blobs, one shape for the
network, and nothing of the original file (EXIF, GPS) kept. Records and pictures expire with the
uploads' expiry, renewed on use, and count against the store's blob budget. A set is read only
by its owner (a digest of the browser's cookie, given by the route); it is never listed.

A zip is read with its own limits, whatever its headers claim: entries are counted before any is
read, each is read at most `max_upload_bytes` (a bomb stops there), the total read is bounded,
and a path that leaves its folder (``../x``, ``/etc/x``) refuses the whole zip. Nothing already
in a set changes unless the zip was good.
"""

from __future__ import annotations

import io
import json
import secrets
import zipfile
from dataclasses import dataclass, field
from pathlib import PurePosixPath

import numpy as np
from PIL import Image

from app.media.images import decode_image
from app.media.uploads import content_id
from app.web.errors import UserError
from app.web.i18n import N_

PICTURE_SIDE = 128  # pixels of a kept picture's side
MIN_CLASSES, MAX_CLASSES = 2, 5
MAX_CLASS_NAME = 40  # characters
MAX_DECODE_SIDE = 4096  # long side a picture is decoded at, at most, before its square is cut
MAX_ZIP_TOTAL_FACTOR = 8  # a zip may unpack to this many times the largest upload, in all
IGNORED = ("__MACOSX", ".DS_Store", "Thumbs.db")


@dataclass
class PictureClass:
    name: str
    pictures: list[str] = field(default_factory=list)  # content ids, oldest first


@dataclass
class PictureSet:
    id: str
    owner: str
    classes: list[PictureClass]

    def to_bytes(self) -> bytes:
        classes = [[c.name, c.pictures] for c in self.classes]
        return json.dumps({"id": self.id, "owner": self.owner, "classes": classes}).encode()

    @classmethod
    def from_bytes(cls, data: bytes) -> PictureSet:
        raw = json.loads(data)
        classes = [PictureClass(name, list(pictures)) for name, pictures in raw["classes"]]
        return cls(raw["id"], raw["owner"], classes)

    @property
    def counts(self) -> list[int]:
        return [len(c.pictures) for c in self.classes]


@dataclass(frozen=True)
class Limits:
    max_per_class: int  # pictures in one class
    max_upload_bytes: int  # one picture file, or one zip
    max_image_pixels: int
    ttl: float  # seconds a set and its pictures are kept after their last use

    @classmethod
    def from_settings(cls, settings) -> Limits:
        return cls(settings.own_max_pictures_per_class, settings.max_upload_bytes,
                   settings.max_image_pixels, settings.upload_ttl_seconds)  # fmt: skip


def check_class_name(name: str) -> str:
    name = " ".join(str(name).split())
    if not name:
        raise UserError(N_("Give the class a name."), status=422)
    if len(name) > MAX_CLASS_NAME:
        raise UserError(N_("A class name can be at most %(n)s characters long."), status=422,
                        n=MAX_CLASS_NAME)  # fmt: skip
    return name


def check_class_names(names: list[str]) -> list[str]:
    if not MIN_CLASSES <= len(names) <= MAX_CLASSES:
        raise UserError(N_("Make %(low)s to %(high)s classes (this has %(n)s)."), status=422,
                        low=MIN_CLASSES, high=MAX_CLASSES, n=len(names))  # fmt: skip
    names = [check_class_name(name) for name in names]
    if len({name.casefold() for name in names}) != len(names):
        raise UserError(N_("Two classes have the same name: give each its own."), status=422)
    return names


def picture_png(data: bytes, limits: Limits) -> tuple[str, bytes]:
    """A file -> (content id, PNG of its centre square at most PICTURE_SIDE px). UserError when
    it is not an image we can read."""
    decoded = decode_image(data, limits.max_image_pixels, working_size=_working_size(data))
    pixels = decoded.pixels  # (H, W, 3) float32 0..255
    h, w = pixels.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    square = np.clip(np.round(pixels[top : top + side, left : left + side]), 0, 255)
    image = Image.fromarray(square.astype(np.uint8))
    if side > PICTURE_SIDE:
        image = image.resize((PICTURE_SIDE, PICTURE_SIDE), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, format="PNG", optimize=False)
    png = out.getvalue()
    return content_id(png), png


def picture_array(png: bytes, size: int, colour: bool) -> np.ndarray:
    """A kept picture (its PNG) at the working size: (C, size, size) uint8, C = 3 or 1. A
    picture to classify goes through picture_png and this, as the training pictures did."""
    image = Image.open(io.BytesIO(png)).convert("RGB" if colour else "L")
    image = image.resize((size, size), Image.Resampling.LANCZOS)
    pixels = np.asarray(image, dtype=np.uint8)
    return pixels.transpose(2, 0, 1) if colour else pixels[None]


def _working_size(data: bytes) -> int:
    """The long side to decode at so that the short side keeps PICTURE_SIDE pixels (a banner's
    centre square must not shrink to a few pixels), within MAX_DECODE_SIDE."""
    try:
        width, height = Image.open(io.BytesIO(data)).size  # reads the header only
    except (OSError, ValueError, SyntaxError, Image.DecompressionBombError):
        # decode_image says what is wrong with the file
        return PICTURE_SIDE
    short, long = max(1, min(width, height)), max(width, height)
    return max(PICTURE_SIDE, min(MAX_DECODE_SIDE, -(-PICTURE_SIDE * long // short)))


class PictureSets:
    def __init__(self, store, limits: Limits) -> None:
        self.store = store
        self.limits = limits

    @staticmethod
    def _key(set_id: str) -> str:
        return f"pics:{set_id}"

    @staticmethod
    def _picture_key(picture_id: str) -> str:
        return f"pic:{picture_id}"

    def create(self, owner: str, names: list[str]) -> PictureSet:
        names = check_class_names(names)
        picture_set = PictureSet(secrets.token_urlsafe(12), owner, [PictureClass(n) for n in names])
        self.save(picture_set)
        return picture_set

    def get(self, set_id: str, owner: str) -> PictureSet:
        data = self.store.get(self._key(set_id)) if set_id.isascii() and len(set_id) < 40 else None
        picture_set = PictureSet.from_bytes(data) if data is not None else None
        if picture_set is None or not secrets.compare_digest(picture_set.owner, owner):
            # Someone else's set is answered as a missing one: sets are never listed to others.
            raise UserError(N_("These pictures are no longer kept (they expire %(hours)s hours "
                               "after their last use). Start a new set."), status=404,
                            hours=round(self.limits.ttl / 3600))  # fmt: skip
        self.save(picture_set)  # renews the expiry
        return picture_set

    def save(self, picture_set: PictureSet) -> None:
        self.store.set(self._key(picture_set.id), picture_set.to_bytes(), ttl=self.limits.ttl)

    def picture(self, picture_set: PictureSet, picture_id: str) -> bytes:
        if not any(picture_id in c.pictures for c in picture_set.classes):
            raise UserError(N_("This picture is not in the set."), status=404)
        data = self.store.get_blob(self._picture_key(picture_id))
        if data is None:
            raise UserError(N_("This picture is no longer kept. Take or upload it again."),
                            status=404)  # fmt: skip
        return data

    def add(self, picture_set: PictureSet, class_index: int, files: list[bytes]) -> int:
        """Add pictures to one class, all or none: a file that is not an image, or one over the
        class's limit, refuses the lot and leaves the set as it was. Returns how many were new."""
        chosen = self._class(picture_set, class_index)
        pngs = [picture_png(data, self.limits) for data in files]
        fresh = [(pid, png) for pid, png in dict(pngs).items() if pid not in chosen.pictures]
        if len(chosen.pictures) + len(fresh) > self.limits.max_per_class:
            raise UserError(N_("A class holds at most %(n)s pictures; %(name)s has %(have)s."),
                            status=413, n=self.limits.max_per_class, name=chosen.name,
                            have=len(chosen.pictures))  # fmt: skip
        for pid, png in fresh:
            self.store.put_blob(self._picture_key(pid), png, ttl=self.limits.ttl)
            chosen.pictures.append(pid)
        self.save(picture_set)
        return len(fresh)

    def remove(self, picture_set: PictureSet, class_index: int, picture_id: str) -> None:
        chosen = self._class(picture_set, class_index)
        if picture_id in chosen.pictures:
            chosen.pictures.remove(picture_id)
            self.save(picture_set)

    def rename(self, picture_set: PictureSet, class_index: int, name: str) -> None:
        names = [c.name for c in picture_set.classes]
        names[class_index if 0 <= class_index < len(names) else 0] = name
        check_class_names(names)
        self._class(picture_set, class_index).name = check_class_name(name)
        self.save(picture_set)

    def _class(self, picture_set: PictureSet, class_index: int) -> PictureClass:
        if not 0 <= class_index < len(picture_set.classes):
            raise UserError(N_("There is no class number %(n)s."), status=422, n=class_index + 1)
        return picture_set.classes[class_index]

    def arrays(self, picture_set: PictureSet, size: int, colour: bool):
        """(images (N, C, size, size) uint8, labels (N,)) of every picture kept, in class order."""
        images, labels = [], []
        for index, chosen in enumerate(picture_set.classes):
            for pid in chosen.pictures:
                data = self.store.get_blob(self._picture_key(pid))
                if data is None:
                    continue  # expired on its own: the counts on the page say so
                images.append(picture_array(data, size, colour))
                labels.append(index)
        channels = 3 if colour else 1
        stacked = np.stack(images) if images else np.zeros((0, channels, size, size), np.uint8)
        return stacked, np.asarray(labels, dtype=np.int64)

    def export_zip(self, picture_set: PictureSet) -> bytes:
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w", compression=zipfile.ZIP_STORED) as archive:  # PNGs: packed
            used: set[str] = set()
            for chosen in picture_set.classes:
                folder = _folder_name(chosen.name)
                while folder.casefold() in used:  # "a/b" and "a-b" would share a folder
                    folder += "-2"
                used.add(folder.casefold())
                for number, pid in enumerate(chosen.pictures, start=1):
                    data = self.store.get_blob(self._picture_key(pid))
                    if data is not None:
                        archive.writestr(f"{folder}/{number:03d}.png", data)
        return out.getvalue()

    def import_zip(self, owner: str, data: bytes) -> PictureSet:
        """A zip with a folder per class -> a new set. Refused whole, with the reason, when it
        is not a zip, holds a path outside its folder, too many classes or pictures, a file that
        is not an image, or more than it may unpack to."""
        limits = self.limits
        try:
            archive = zipfile.ZipFile(io.BytesIO(data))
            entries = [info for info in archive.infolist() if not info.is_dir()]
        except (zipfile.BadZipFile, ValueError, OSError) as exc:
            raise UserError(N_("This file is not a zip archive we can read."), status=415) from exc
        entries = [info for info in entries if not _ignored(info.filename)]
        most = limits.max_per_class * MAX_CLASSES
        if len(entries) > most:
            raise UserError(N_("This zip holds %(n)s files; a set holds at most %(most)s pictures "
                               "(%(per)s per class, %(classes)s classes)."), status=413,
                            n=len(entries), most=most, per=limits.max_per_class,
                            classes=MAX_CLASSES)  # fmt: skip
        # One folder around the class folders (how most tools zip a folder): look inside it.
        tops = {_parts(info.filename)[0] for info in entries}
        wrapped = len(tops) == 1 and all(_depth(info.filename) == 3 for info in entries)
        by_class: dict[str, list[zipfile.ZipInfo]] = {}
        for info in entries:
            by_class.setdefault(_class_folder(info.filename, skip=int(wrapped)), []).append(info)
        names = check_class_names(list(by_class))
        budget = limits.max_upload_bytes * MAX_ZIP_TOTAL_FACTOR
        pictures: list[list[tuple[str, bytes]]] = []
        not_images: list[str] = []
        for name in by_class:
            kept: list[tuple[str, bytes]] = []
            for info in by_class[name]:
                raw = _read_capped(archive, info, limits.max_upload_bytes)
                budget -= len(raw)
                if budget < 0:
                    raise _bomb(limits)
                try:
                    kept.append(picture_png(raw, limits))
                except UserError:
                    not_images.append(info.filename)
            if len(kept) > limits.max_per_class:
                raise UserError(N_("A class holds at most %(n)s pictures; %(name)s has %(have)s."),
                                status=413, n=limits.max_per_class, name=name,
                                have=len(kept))  # fmt: skip
            pictures.append(kept)
        if not_images:
            shown = ", ".join(not_images[:3]) + (" …" if len(not_images) > 3 else "")
            raise UserError(N_("%(n)s files in this zip are not images we can read: %(names)s. "
                               "Keep only PNG, JPEG, GIF, WebP or BMP pictures in it."),
                            status=415, n=len(not_images), names=shown)  # fmt: skip
        picture_set = PictureSet(secrets.token_urlsafe(12), owner, [])
        for name, kept in zip(names, pictures, strict=True):
            ids = list(dict(kept))
            for pid, png in dict(kept).items():
                self.store.put_blob(self._picture_key(pid), png, ttl=limits.ttl)
            picture_set.classes.append(PictureClass(name, ids))
        self.save(picture_set)
        return picture_set


def _ignored(name: str) -> bool:
    parts = PurePosixPath(name).parts
    return any(part in IGNORED or part.startswith("._") for part in parts)


def _parts(name: str) -> tuple[str, ...]:
    """The path's parts, refusing any that would leave the archive's folder."""
    unsafe = (name.startswith(("/", "\\")) or "\\" in name or ":" in name.split("/")[0]
              or any(part in ("..", "") for part in name.split("/")))  # fmt: skip
    if unsafe:
        raise UserError(N_("This zip holds a path that leaves its folder (%(name)s): it is "
                           "refused whole."), status=422, name=name[:80])  # fmt: skip
    return tuple(name.split("/"))


def _depth(name: str) -> int:
    return len(_parts(name))


def _class_folder(name: str, skip: int = 0) -> str:
    parts = _parts(name)[skip:]
    if len(parts) != 2:
        raise UserError(N_("Put the pictures in one folder per class, like thumb-up/001.png "
                           "(found %(name)s)."), status=422, name=name[:80])  # fmt: skip
    return parts[0]


def _read_capped(archive: zipfile.ZipFile, info: zipfile.ZipInfo, cap: int) -> bytes:
    """At most `cap` bytes of one entry, whatever its header says: past that it is a bomb."""
    try:
        with archive.open(info) as stream:
            data = stream.read(cap + 1)
    except (zipfile.BadZipFile, OSError, EOFError, NotImplementedError, RuntimeError) as exc:
        raise UserError(N_("The zip is damaged or encrypted, so %(name)s cannot be read."),
                        status=422, name=info.filename[:80]) from exc  # fmt: skip
    if len(data) > cap:
        raise UserError(N_("%(name)s in this zip unpacks to more than %(mb)s MB: it is refused "
                           "whole."), status=413, name=info.filename[:80],
                        mb=cap // (1024 * 1024))  # fmt: skip
    return data


def _bomb(limits: Limits) -> UserError:
    most = limits.max_upload_bytes * MAX_ZIP_TOTAL_FACTOR // (1024 * 1024)
    return UserError(N_("This zip unpacks to more than %(mb)s MB: it is refused whole."),
                     status=413, mb=most)  # fmt: skip


def _folder_name(name: str) -> str:
    """A class name as a folder name that any unzip tool accepts."""
    safe = "".join(ch if ch.isalnum() or ch in " -_." else "-" for ch in name).strip(" .")
    return safe or "class"
