"""The store contract (app.store.base.Store): every test runs against the embedded store (SQLite
plus content-addressed files) and against a real Redis, and asserts the same values from both;
a few SQLite-only tests at the end cover what only the embedded store has (its files, several
store objects and processes on one folder)."""

import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from app.store.sqlite_store import SQLiteStore

BUDGET = 100  # the blob budget of every store here, in bytes
ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["sqlite", "redis"])
def store(request, tmp_path):
    if request.param == "sqlite":
        opened = SQLiteStore(tmp_path, blob_budget=BUDGET)
    else:
        from app.store.redis_store import RedisStore

        opened = RedisStore(request.getfixturevalue("redis_url"), blob_budget=BUDGET)
    yield opened
    opened.close()


def blob(char: str, size: int) -> bytes:
    return char.encode() * size


# --- values ----------------------------------------------------------------------------------
def test_values_round_trip_as_bytes(store):
    values = {"text": b"hello", "empty": b"", "binary": b"\x00\xff\x00\x01nul\x00"}
    for key, value in values.items():
        store.set(key, value)
    for key, value in values.items():
        got = store.get(key)
        assert type(got) is bytes
        assert got == value


def test_missing_key_is_none(store):
    assert store.get("never-set") is None
    store.set("other", b"x")
    assert store.get("never-set") is None


def test_set_overwrites(store):
    store.set("k", b"first")
    store.set("k", b"second")
    assert store.get("k") == b"second"
    store.set("k", b"")
    assert store.get("k") == b""


def test_delete_several_keys(store):
    for key in "abcd":
        store.set(key, key.encode())
    store.delete("a", "c", "not-there")
    assert [store.get(key) for key in "abcd"] == [None, b"b", None, b"d"]
    store.delete()  # nothing named: nothing happens
    store.delete("b")
    assert [store.get(key) for key in "abcd"] == [None, None, None, b"d"]


def test_value_ttl_expires_and_others_stay(store):
    store.set("short", b"s", ttl=0.2)
    store.set("forever", b"f")
    store.set("long", b"l", ttl=60)
    assert store.get("short") == b"s"
    time.sleep(0.35)
    assert store.get("short") is None
    assert store.get("forever") == b"f"
    assert store.get("long") == b"l"


def test_set_without_ttl_drops_an_earlier_ttl(store):
    store.set("k", b"old", ttl=0.2)
    store.set("k", b"new")
    time.sleep(0.35)
    assert store.get("k") == b"new"


def test_incr_counts_from_one(store):
    assert [store.incr("n") for _ in range(3)] == [1, 2, 3]
    assert store.incr("other") == 1
    assert store.get("n") == b"3"  # a counter is a value too, its decimal digits


def test_incr_continues_a_set_number(store):
    store.set("n", b"41")
    assert store.incr("n") == 42


def test_incr_after_expiry_starts_again(store):
    store.set("n", b"5", ttl=0.2)
    time.sleep(0.35)
    assert store.incr("n") == 1


def test_incr_keeps_a_live_expiry(store):
    store.set("n", b"5", ttl=0.3)
    assert store.incr("n") == 6
    assert store.get("n") == b"6"
    time.sleep(0.45)
    assert store.get("n") is None


def test_incr_from_many_threads_gives_distinct_numbers(store):
    results: list[int] = []
    lock = threading.Lock()

    def work():
        for _ in range(50):
            value = store.incr("seq")
            with lock:
                results.append(value)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert not any(thread.is_alive() for thread in threads)
    assert sorted(results) == list(range(1, 201))
    assert store.get("seq") == b"200"


# --- sorted sets -----------------------------------------------------------------------------
def fill(store, name: str = "z") -> None:
    # Added out of order; b, c and d tie at 2.0.
    for member, score in [("d", 2), ("e", 3.5), ("a", -1), ("c", 2), ("f", 10), ("b", 2)]:
        store.zadd(name, member, score)


ASCENDING = [("a", -1.0), ("b", 2.0), ("c", 2.0), ("d", 2.0), ("e", 3.5), ("f", 10.0)]


def test_zrange_ascending_by_score_ties_by_member(store):
    fill(store)
    rows = store.zrange("z")
    assert rows == ASCENDING
    assert all(type(member) is str and type(score) is float for member, score in rows)


def test_zrange_newest_first_is_the_exact_reverse(store):
    fill(store)
    assert store.zrange("z", newest_first=True) == ASCENDING[::-1]


def test_zrank_is_zero_based_with_ties_by_member(store):
    fill(store)
    assert [store.zrank("z", member) for member in "abcdef"] == [0, 1, 2, 3, 4, 5]
    assert store.zrank("z", "absent") is None
    assert store.zrank("no-such-set", "a") is None


def test_zrange_bounds_are_inclusive(store):
    fill(store)
    assert store.zrange("z", 2, 3.5) == ASCENDING[1:5]
    assert store.zrange("z", low=3.5) == [("e", 3.5), ("f", 10.0)]
    assert store.zrange("z", high=-1) == [("a", -1.0)]
    assert store.zrange("z", 2, 2) == ASCENDING[1:4]
    assert store.zrange("z", 4, 9) == []
    assert store.zrange("z", 2, 3.5, newest_first=True) == ASCENDING[1:5][::-1]


def test_zrange_limit(store):
    fill(store)
    assert store.zrange("z", limit=2) == ASCENDING[:2]
    assert store.zrange("z", newest_first=True, limit=2) == [("f", 10.0), ("e", 3.5)]
    assert store.zrange("z", low=2, limit=2) == [("b", 2.0), ("c", 2.0)]
    assert store.zrange("z", high=3, newest_first=True, limit=2) == [("d", 2.0), ("c", 2.0)]
    assert store.zrange("z", limit=100) == ASCENDING
    assert store.zrange("z", limit=0) == []


def test_zrem_several(store):
    fill(store)
    store.zrem("z", "b", "f", "absent")
    assert store.zrange("z") == [("a", -1.0), ("c", 2.0), ("d", 2.0), ("e", 3.5)]
    assert store.zcard("z") == 4
    assert store.zrank("z", "b") is None
    assert store.zrank("z", "c") == 1
    store.zrem("z")  # no members: nothing happens
    assert store.zcard("z") == 4


def test_zadd_updates_a_score(store):
    fill(store)
    store.zadd("z", "a", 20)
    assert store.zcard("z") == 6
    assert store.zrank("z", "a") == 5
    assert store.zrank("z", "b") == 0
    assert store.zrange("z", low=15) == [("a", 20.0)]
    assert store.zrange("z", high=0) == []


def test_zcard_and_names_are_independent(store):
    assert store.zcard("z") == 0
    assert store.zrange("z") == []
    fill(store, "z")
    store.zadd("y", "a", 100)
    store.zadd("y", "x", 0)
    assert store.zcard("z") == 6
    assert store.zcard("y") == 2
    assert store.zrange("y") == [("x", 0.0), ("a", 100.0)]
    assert store.zrank("z", "a") == 0
    assert store.zrank("y", "a") == 1
    store.zrem("y", "a")
    assert store.zrank("z", "a") == 0
    assert store.zcard("z") == 6
    assert store.zcard("y") == 1


# --- blobs -----------------------------------------------------------------------------------
def test_blob_round_trip(store):
    data = bytes(range(50)) + b"\x00" * 10
    store.put_blob("k", data, ttl=60)
    got = store.get_blob("k")
    assert type(got) is bytes
    assert got == data
    assert store.blob_bytes() == 60
    assert store.get_blob("missing") is None


def test_blob_larger_than_the_budget_is_not_kept(store):
    store.put_blob("small", blob("s", 10), ttl=60)
    store.put_blob("big", blob("b", BUDGET + 1), ttl=60)
    assert store.get_blob("big") is None
    assert store.get_blob("small") == blob("s", 10)  # and it evicted nothing
    assert store.blob_bytes() == 10
    store.put_blob("whole", blob("w", BUDGET), ttl=60)  # exactly the budget fits
    assert store.get_blob("whole") == blob("w", BUDGET)
    assert store.get_blob("small") is None
    assert store.blob_bytes() == BUDGET


def test_blob_budget_drops_the_oldest_put_first(store):
    for key in "abc":
        store.put_blob(key, blob(key, 40), ttl=60)
    assert store.get_blob("a") is None
    assert store.get_blob("b") == blob("b", 40)
    assert store.get_blob("c") == blob("c", 40)
    assert store.blob_bytes() == 80


def test_blob_budget_drops_the_least_recently_used(store):
    store.put_blob("a", blob("a", 40), ttl=60)
    store.put_blob("b", blob("b", 40), ttl=60)
    assert store.get_blob("a") == blob("a", 40)  # a use: b is now the least recent
    store.put_blob("c", blob("c", 40), ttl=60)
    assert store.get_blob("b") is None
    assert store.get_blob("a") == blob("a", 40)
    assert store.get_blob("c") == blob("c", 40)
    assert store.blob_bytes() == 80


def test_blob_budget_drops_as_many_as_needed(store):
    for key in "abcd":
        store.put_blob(key, blob(key, 25), ttl=60)
    store.put_blob("e", blob("e", 60), ttl=60)
    kept = [key for key in "abcde" if store.get_blob(key) is not None]
    assert kept == ["d", "e"]
    assert store.blob_bytes() == 85


def test_blob_eviction_goes_by_last_use_not_by_ttl(store):
    # a is used longer ago than b but kept longer: the budget still drops a first.
    store.put_blob("a", blob("a", 40), ttl=60)
    store.put_blob("b", blob("b", 40), ttl=5)
    store.put_blob("c", blob("c", 40), ttl=60)
    assert store.get_blob("a") is None
    assert store.get_blob("b") == blob("b", 40)
    assert store.get_blob("c") == blob("c", 40)


def test_blob_ttl_expires(store):
    store.put_blob("short", blob("s", 10), ttl=0.2)
    store.put_blob("long", blob("l", 20), ttl=60)
    assert store.blob_bytes() == 30
    time.sleep(0.35)
    assert store.blob_bytes() == 20  # before any get has seen the expiry
    assert store.get_blob("short") is None
    assert store.get_blob("long") == blob("l", 20)
    assert store.blob_bytes() == 20


def test_blob_get_refreshes_its_expiry(store):
    store.put_blob("k", blob("k", 10), ttl=0.6)
    time.sleep(0.4)
    assert store.get_blob("k") == blob("k", 10)
    time.sleep(0.4)  # 0.8 s after the put, 0.4 s after the use
    assert store.get_blob("k") == blob("k", 10)
    time.sleep(0.75)
    assert store.blob_bytes() == 0
    assert store.get_blob("k") is None


def test_expired_blobs_do_not_count_against_the_budget(store):
    store.put_blob("kept", blob("k", 60), ttl=60)
    store.put_blob("brief", blob("b", 30), ttl=0.2)
    time.sleep(0.35)
    store.put_blob("new", blob("n", 40), ttl=60)  # 100 live bytes: within the budget
    assert store.get_blob("kept") == blob("k", 60)
    assert store.get_blob("new") == blob("n", 40)
    assert store.blob_bytes() == 100


def test_blob_same_key_overwritten(store):
    store.put_blob("other", blob("o", 40), ttl=60)
    store.put_blob("k", blob("x", 40), ttl=60)
    store.put_blob("k", blob("y", 50), ttl=60)  # 90 bytes kept, not 130: nothing evicted
    assert store.get_blob("k") == blob("y", 50)
    assert store.get_blob("other") == blob("o", 40)
    assert store.blob_bytes() == 90


def test_blob_bytes_counts_what_is_kept(store):
    assert store.blob_bytes() == 0
    store.put_blob("a", blob("a", 30), ttl=60)
    assert store.blob_bytes() == 30
    store.put_blob("b", blob("b", 30), ttl=60)
    store.put_blob("same-as-a", blob("a", 30), ttl=60)  # the budget counts each key
    assert store.blob_bytes() == 90
    store.put_blob("c", blob("c", 30), ttl=60)
    assert store.blob_bytes() == 90
    assert store.get_blob("a") is None


def test_blobs_and_values_are_apart(store):
    store.put_blob("k", b"blob", ttl=60)
    assert store.get("k") is None
    store.set("v", b"value")
    assert store.get_blob("v") is None
    assert store.get_blob("k") == b"blob"


# --- SQLite only: files, several store objects and processes on one folder --------------------
def blob_files(folder: Path) -> list[Path]:
    return sorted(path for path in (folder / "blobs").rglob("*") if path.is_file())


def test_sqlite_two_stores_on_one_folder_see_each_other(tmp_path):
    one = SQLiteStore(tmp_path, blob_budget=BUDGET)
    two = SQLiteStore(tmp_path, blob_budget=BUDGET)
    one.set("k", b"from one")
    assert two.get("k") == b"from one"
    two.delete("k")
    assert one.get("k") is None
    assert [one.incr("n"), two.incr("n"), one.incr("n")] == [1, 2, 3]
    one.zadd("z", "a", 1)
    two.zadd("z", "b", 0)
    assert one.zrange("z") == two.zrange("z") == [("b", 0.0), ("a", 1.0)]
    one.put_blob("x", blob("x", 40), ttl=60)
    assert two.get_blob("x") == blob("x", 40)
    two.put_blob("y", blob("y", 40), ttl=60)
    assert one.get_blob("x") == blob("x", 40)  # two's use of x counts for one too
    one.put_blob("w", blob("w", 40), ttl=60)
    assert two.get_blob("y") is None
    assert two.get_blob("x") == blob("x", 40)
    assert one.blob_bytes() == two.blob_bytes() == 80
    one.close()
    two.close()


def test_sqlite_same_bytes_under_two_keys_are_one_file(tmp_path):
    store = SQLiteStore(tmp_path, blob_budget=BUDGET)
    store.put_blob("a", blob("s", 30), ttl=60)
    store.put_blob("b", blob("s", 30), ttl=60)
    files = blob_files(tmp_path)
    assert len(files) == 1
    assert files[0].read_bytes() == blob("s", 30)
    assert files[0].parent.name == files[0].name[:2]  # blobs/<2 hex>/<sha256>
    assert len(files[0].name) == 64
    assert store.get_blob("a") == store.get_blob("b") == blob("s", 30)
    store.close()


def test_sqlite_blob_file_goes_once_no_key_names_it(tmp_path):
    store = SQLiteStore(tmp_path, blob_budget=BUDGET)
    store.put_blob("a", blob("s", 30), ttl=60)
    store.put_blob("b", blob("s", 30), ttl=60)
    store.put_blob("c", blob("c", 30), ttl=60)
    assert len(blob_files(tmp_path)) == 2
    store.put_blob("d", blob("d", 30), ttl=60)  # evicts a: b still names its file
    assert store.get_blob("a") is None
    assert len(blob_files(tmp_path)) == 3
    assert store.get_blob("b") == blob("s", 30)
    store.put_blob("e", blob("e", 30), ttl=60)  # evicts c
    store.put_blob("f", blob("f", 30), ttl=60)  # evicts d (b was used after c and d)
    store.put_blob("g", blob("g", 30), ttl=60)  # evicts b: now nothing names s's file
    assert store.get_blob("b") is None
    assert sorted(path.read_bytes() for path in blob_files(tmp_path)) == [
        blob(char, 30) for char in "efg"
    ]
    store.close()


def test_sqlite_expired_blob_file_goes_at_the_next_put(tmp_path):
    store = SQLiteStore(tmp_path, blob_budget=BUDGET)
    store.put_blob("brief", blob("b", 30), ttl=0.2)
    time.sleep(0.35)
    store.put_blob("new", blob("n", 30), ttl=60)
    assert [path.read_bytes() for path in blob_files(tmp_path)] == [blob("n", 30)]
    store.close()


def test_sqlite_overwritten_blob_file_goes(tmp_path):
    store = SQLiteStore(tmp_path, blob_budget=BUDGET)
    store.put_blob("k", blob("x", 30), ttl=60)
    store.put_blob("k", blob("y", 30), ttl=60)
    assert [path.read_bytes() for path in blob_files(tmp_path)] == [blob("y", 30)]
    store.put_blob("k", blob("y", 30), ttl=60)  # the same bytes again: their file stays
    assert [path.read_bytes() for path in blob_files(tmp_path)] == [blob("y", 30)]
    assert store.get_blob("k") == blob("y", 30)
    store.close()


def test_sqlite_oversize_blob_writes_no_file(tmp_path):
    store = SQLiteStore(tmp_path, blob_budget=BUDGET)
    store.put_blob("big", blob("b", BUDGET + 1), ttl=60)
    assert blob_files(tmp_path) == []
    store.close()


CHILD = """
import sys
from pathlib import Path
from app.store.sqlite_store import SQLiteStore

store = SQLiteStore(Path(sys.argv[1]), blob_budget=100)
assert store.get("k") == b"from the parent\\x00", store.get("k")
assert store.zrange("z") == [("a", 1.0)], store.zrange("z")
assert store.get_blob("x") == b"x" * 40
assert store.incr("n") == 2
store.set("reply", b"from the child")
store.close()
"""


def test_sqlite_a_second_process_sees_the_first(tmp_path):
    store = SQLiteStore(tmp_path, blob_budget=BUDGET)
    store.set("k", b"from the parent\x00")
    store.zadd("z", "a", 1)
    store.put_blob("x", blob("x", 40), ttl=60)
    assert store.incr("n") == 1
    done = subprocess.run(
        [sys.executable, "-c", CHILD, str(tmp_path)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert store.get("reply") == b"from the child"
    assert store.incr("n") == 3
    store.close()
