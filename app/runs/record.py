"""A run as the store keeps it: one record per run, written by the consumer that trains it, read
by every web process.

Keys of run `id` (app.store):
- `run:<id>`: the record (this dataclass, pickled without its weights);
- `run:<id>:state`: the trained weights, written once at the end, read only by pages that use them;
- `run:<id>:control`: "pause", "resume" or "stop", written by a web process, obeyed by the consumer;
- `run:<id>:name`: the short name its student gave it.
Sorted sets: `runs` (by creation), `queue` (waiting, by ticket), `active` (training, by expected
end), `finished` (by end), `owner:<digest>` (a browser's runs), `slots` (consumer slots, by last
heartbeat).

The records are pickles, like the queue's own messages (Huey pickles its tasks into the same
store): the store must be reachable by the app's processes only.
"""

from __future__ import annotations

import dataclasses
import pickle
import time
from dataclasses import dataclass, field

from app.web.i18n import N_

ACTIVE = ("queued", "starting", "running", "paused")
# The statuses as the pages show them (translated there with gettext).
STATUS_NAMES = (
    N_("queued"),
    N_("starting"),
    N_("running"),
    N_("paused"),
    N_("finished"),
    N_("stopped"),
    N_("diverged"),
    N_("failed"),
)
NAME_LENGTH = 40  # characters of a run's name


@dataclass
class Run:
    id: str
    config: dict
    created: float
    seq: int = 0  # the run's number on this server: its default name ("Run 12")
    status: str = "queued"  # queued, starting, running, paused, finished, stopped, diverged, failed
    message: str = ""  # why the run ended: an English msgid, translated by the page
    message_params: dict = field(default_factory=dict)  # the msgid's %(name)s fields
    total_steps: int = 0
    epoch: int = 0
    step_loss: list[float] = field(default_factory=list)
    step_lr: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)
    histograms: list[dict] = field(default_factory=list)  # before training, then per epoch
    filters: object = None  # the first layer's weights, latest snapshot
    test_accuracy: float | None = None
    test_loss: float | None = None
    seconds: float = 0.0
    started: float | None = None  # wall-clock times: every process reads the same record
    first_point: float | None = None  # seconds from the start to the first curve point
    finished: float | None = None
    beat: float | None = None  # the consumer's last sign of life while the run is active
    worker: str = ""  # host:pid of the consumer that trains it
    max_seconds: float = 0.0
    has_state: bool = False  # trained weights are in the store
    extra: dict = field(default_factory=dict)  # anything else a worker reports when done
    owner: str = ""  # a digest of the starting browser's token (app.runs.owner)
    # Filled in by the web process that reads the record, never stored:
    name: str = ""  # the student's name for it, if any
    position: int | None = None  # 1 for the next to start, while queued
    start_eta: float | None = None  # seconds until it is expected to start, while queued
    slots: int = 0  # consumer slots alive, while queued
    workers_starting: bool = False  # this server's own consumer is starting, while queued
    _state: dict | None = field(default=None, repr=False)
    _load_state: object = field(default=None, repr=False, compare=False)
    # The store's blob reader, for data a lab keeps beside its runs (a student's own pictures).
    read_blob: object = field(default=None, repr=False, compare=False)

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def queued(self) -> bool:
        return self.status == "queued"

    @property
    def steps_done(self) -> int:
        return len(self.step_loss)

    @property
    def progress(self) -> float:
        return self.steps_done / self.total_steps if self.total_steps else 0.0

    @property
    def eta_seconds(self) -> float | None:
        if not self.active or not self.started or self.steps_done < 3 or not self.total_steps:
            return None
        elapsed = time.time() - self.started
        return elapsed / self.steps_done * (self.total_steps - self.steps_done)

    @property
    def lr(self) -> float | None:
        return self.step_lr[-1] if self.step_lr else None

    @property
    def state(self) -> dict | None:
        """The trained weights, read from the store the first time a page asks."""
        if self._state is None and self.has_state and callable(self._load_state):
            self._state = self._load_state()
        return self._state

    @state.setter
    def state(self, value: dict | None) -> None:
        self._state = value
        self.has_state = value is not None

    def expected_end(self, typical: float | None = None) -> float:
        """When the run should free its slot: its estimated finish once it has one, before
        that a typical run's length (`typical` seconds), never later than its time limit."""
        start = self.started or time.time()
        eta = self.eta_seconds if self.status == "running" else None
        limit_end = start + (self.max_seconds or 0)
        if eta is not None:
            return min(limit_end, time.time() + eta)
        return min(limit_end, start + typical) if typical else limit_end


# What a run record keeps; the rest is this process's view of it (its queue position, slots,
# the store handles that load its state and its blobs).
_NOT_STORED = ("name", "position", "start_eta", "slots", "workers_starting", "_state",
               "_load_state", "read_blob")  # fmt: skip
_STORED = [f.name for f in dataclasses.fields(Run) if f.name not in _NOT_STORED]


def dumps(run: Run) -> bytes:
    return pickle.dumps({name: getattr(run, name) for name in _STORED}, protocol=5)


def loads(data: bytes) -> Run:
    values = pickle.loads(data)
    return Run(**{k: v for k, v in values.items() if k in _STORED})


def key(run_id: str, part: str = "") -> str:
    return f"run:{run_id}:{part}" if part else f"run:{run_id}"


def save(store, run: Run) -> None:
    store.set(key(run.id), dumps(run))


def load(store, run_id: str) -> Run | None:
    data = store.get(key(run_id))
    if data is None:
        return None
    run = loads(data)
    run._load_state = lambda: _load_state(store, run_id)
    run.read_blob = store.get_blob
    return run


def _load_state(store, run_id: str) -> dict | None:
    data = store.get(key(run_id, "state"))
    return pickle.loads(data) if data is not None else None


def save_state(store, run: Run, state: dict | None) -> None:
    if state is not None:
        store.set(key(run.id, "state"), pickle.dumps(state, protocol=5))
    run.state = state
