"""A student's own picture classes: kept per browser, checked, and carried as a zip, with hostile
zips refused whole (paths out of the folder, bombs, too many files, files that are not images)."""

from __future__ import annotations

import io
import tracemalloc
import zipfile

import numpy as np
import pytest
from PIL import Image

from app.media.picture_sets import PICTURE_SIDE, Limits, PictureSets
from app.store.sqlite_store import SQLiteStore
from app.web.errors import UserError

MB = 1024 * 1024


@pytest.fixture
def sets(tmp_path):
    store = SQLiteStore(tmp_path / "store", blob_budget=64 * MB)
    yield PictureSets(store, Limits(max_per_class=12, max_upload_bytes=2 * MB,
                                    max_image_pixels=40_000_000, ttl=3600))  # fmt: skip
    store.close()


def picture(width=40, height=30, mode="RGB", fmt="PNG", value=0, **save) -> bytes:
    rng = np.random.default_rng(value)
    pixels = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    if mode == "I;16":  # 16-bit grey
        image = Image.fromarray(pixels[:, :, 0].astype(np.uint16) * 257)
    else:
        image = Image.fromarray(pixels).convert(mode)
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def zip_of(entries: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", compression=compression) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return out.getvalue()


def refused(call, status: int, text: str) -> None:
    with pytest.raises(UserError) as caught:
        call()
    assert caught.value.status == status
    assert text in caught.value.translated(str)


@pytest.mark.parametrize(
    "names", [["only"], ["a", "b", "c", "d", "e", "f"], ["up", "UP"], ["a", ""]]
)
def test_a_set_needs_two_to_five_distinct_named_classes(sets, names):
    with pytest.raises(UserError) as caught:
        sets.create("me", names)
    assert caught.value.status == 422


def test_odd_pictures_are_kept_as_small_centre_squares(sets):
    s = sets.create("me", ["thumb up", "thumb down"])
    files = [picture(14, 25, mode="P", fmt="GIF"), picture(2000, 60),
             picture(50, 50, "CMYK", "JPEG"), picture(33, 20, "I;16"),
             picture(900, 700, value=3)]  # fmt: skip
    assert sets.add(s, 0, files) == 5
    sizes = [Image.open(io.BytesIO(sets.picture(s, pid))).size for pid in s.classes[0].pictures]
    assert sizes == [(14, 14), (60, 60), (50, 50), (20, 20), (PICTURE_SIDE, PICTURE_SIDE)]
    assert sets.add(s, 0, files[:2]) == 0  # the same pictures again are not new
    again = sets.get(s.id, "me")
    assert again.counts == [5, 0]


def test_a_file_that_is_not_an_image_refuses_the_lot_and_keeps_the_set(sets):
    s = sets.create("me", ["a", "b"])
    sets.add(s, 1, [picture(value=1)])
    refused(lambda: sets.add(s, 1, [picture(value=2), b"<script>alert(1)</script>"]), 415,
            "not an image")  # fmt: skip
    assert sets.get(s.id, "me").counts == [0, 1]


def test_a_full_class_refuses_more_and_keeps_what_it_has(sets):
    s = sets.create("me", ["a", "b"])
    sets.add(s, 0, [picture(value=i) for i in range(10)])
    refused(lambda: sets.add(s, 0, [picture(value=i) for i in range(10, 13)]), 413, "at most")
    assert sets.get(s.id, "me").counts == [10, 0]


def test_someone_elses_set_is_answered_as_missing(sets):
    s = sets.create("me", ["a", "b"])
    refused(lambda: sets.get(s.id, "someone else"), 404, "no longer kept")
    refused(lambda: sets.get("../../etc/passwd", "me"), 404, "no longer kept")


def test_removing_and_renaming(sets):
    s = sets.create("me", ["a", "b"])
    sets.add(s, 0, [picture(value=1), picture(value=2)])
    first = s.classes[0].pictures[0]
    sets.remove(s, 0, first)
    sets.rename(s, 1, "  <b>dark</b>  squares ")
    again = sets.get(s.id, "me")
    assert again.counts == [1, 0] and again.classes[1].name == "<b>dark</b> squares"  # data
    refused(lambda: sets.rename(s, 1, "A"), 422, "same name")


def test_arrays_at_the_working_size_in_grey_or_colour(sets):
    s = sets.create("me", ["a", "b", "c"])
    sets.add(s, 0, [picture(value=1), picture(value=2)])
    sets.add(s, 2, [picture(value=3)])
    images, labels = sets.arrays(s, 32, colour=False)
    assert images.shape == (3, 1, 32, 32) and images.dtype == np.uint8
    assert labels.tolist() == [0, 0, 2]
    images, _ = sets.arrays(s, 64, colour=True)
    assert images.shape == (3, 3, 64, 64)


def test_a_set_goes_out_as_a_zip_and_comes_back_the_same(sets):
    s = sets.create("me", ["thumb up", "a/b", "a-b"])
    sets.add(s, 0, [picture(value=1), picture(value=2)])
    sets.add(s, 1, [picture(value=3)])
    sets.add(s, 2, [picture(value=4)])
    data = sets.export_zip(s)
    names = sorted(zipfile.ZipFile(io.BytesIO(data)).namelist())
    assert names == ["a-b-2/001.png", "a-b/001.png", "thumb up/001.png", "thumb up/002.png"]
    back = sets.import_zip("me", data)
    assert back.id != s.id
    assert sorted((c.name, tuple(c.pictures)) for c in back.classes) == sorted(
        ("a-b-2" if c.name == "a-b" else "a-b" if c.name == "a/b" else c.name, tuple(c.pictures))
        for c in s.classes)  # fmt: skip


def test_a_zip_wrapped_in_one_folder_with_mac_leftovers_is_read(sets):
    data = zip_of({"set/up/1.png": picture(value=1), "set/down/1.png": picture(value=2),
                   "__MACOSX/set/._x": b"junk", "set/.DS_Store": b"junk"})  # fmt: skip
    back = sets.import_zip("me", data)
    assert sorted(c.name for c in back.classes) == ["down", "up"] and back.counts == [1, 1]


@pytest.mark.parametrize(
    ("entries", "status", "text"),
    [
        ({"up/1.png": b"x", "../x.png": b"x"}, 422, "leaves its folder"),
        ({"up/1.png": b"x", "/etc/x.png": b"x"}, 422, "leaves its folder"),
        ({"up/1.png": b"x", "up\\..\\..\\x.png": b"x"}, 422, "leaves its folder"),
        ({"1.png": b"x"}, 422, "one folder per class"),
        ({f"c{i}/1.png": b"x" for i in range(6)}, 422, "2 to 5 classes"),
        ({"only/1.png": b"x"}, 422, "2 to 5 classes"),
    ],
)
def test_hostile_or_badly_shaped_zips_are_refused_whole(sets, entries, status, text):
    refused(lambda: sets.import_zip("me", zip_of(entries)), status, text)


def test_a_zip_bomb_stops_at_the_cap_without_unpacking_it(sets):
    bomb = zip_of({"up/1.png": picture(value=1), "down/bomb.png": bytes(300 * MB)})
    assert len(bomb) < MB  # 300 MB of zeros packs into a few hundred kB
    tracemalloc.start()
    try:
        refused(lambda: sets.import_zip("me", bomb), 413, "unpacks to more than")
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 20 * MB  # read up to the 2 MB cap, not the 300 MB it claims


def test_a_zip_of_ten_thousand_pictures_is_refused_before_reading_them(sets):
    many = zip_of({f"c{i % 2}/{i}.png": b"" for i in range(10_000)}, zipfile.ZIP_STORED)
    refused(lambda: sets.import_zip("me", many), 413, "10000 files")


def test_not_a_zip_and_not_images(sets):
    refused(lambda: sets.import_zip("me", picture()), 415, "not a zip")
    data = zip_of({"up/1.png": picture(value=1), "down/notes.txt": b"hello",
                   "down/2.png": picture(value=2)})  # fmt: skip
    refused(lambda: sets.import_zip("me", data), 415, "down/notes.txt")
