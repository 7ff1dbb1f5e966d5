"""Every limit of the app in one settings object, read from the environment (prefix ``CNN_``).

    CNN_MAX_UPLOAD_BYTES=5000000 cnn-playground serve

Each field is one limit, with the unit in its name or comment. ``create_app(Settings(...))`` takes
the limits for its caches, uploads and runs. The limits that bound a lab's fields (kernel sizes,
filters in a bank, epochs, text lengths...) are also what ``/openapi.json`` documents, so the lab
field declarations read them once, from the environment, when they are imported: ``LIMITS``.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

MB = 1024 * 1024


def _cores() -> int:
    return os.cpu_count() or 1


def default_data_dir() -> Path:
    """Where the embedded store keeps its files when CNN_DATA_DIR is not set: the user's data
    folder (XDG), as other command-line tools keep theirs."""
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "cnn-playground"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CNN_", frozen=True, extra="ignore")

    # --- bytes -----------------------------------------------------------------------------
    max_upload_bytes: int = 10 * MB  # one uploaded picture, sound or GIF
    # Any request body; an upload's form fields ride along with the file.
    request_overhead_bytes: int = 64 * 1024
    upload_cache_bytes: int = 256 * MB  # decoded uploads kept, least recently used dropped first
    result_cache_bytes: int = 128 * MB  # computed maps kept for the PNG requests that follow
    max_drawing_bytes: int = 2 * MB  # a drawing or photo sent to a trained network
    max_form_field_bytes: int = MB  # one text field of a multipart form (a kernel, a corpus)
    max_form_fields: int = 200  # fields of one form
    max_corpus_bytes: int = 256 * 1024  # a pasted or uploaded text corpus

    # --- pixels ----------------------------------------------------------------------------
    max_image_pixels: int = 40_000_000  # width × height above which a file is a decompression bomb
    working_size: int = 512  # long side, in pixels, that the image labs compute on
    max_drawing_pixels: int = 4_000_000  # a drawing or photo sent to a trained network
    max_gif_frame_pixels: int = 1024 * 1024  # one GIF frame, as uploaded
    video_working_size: int = 128  # long side of a GIF frame in the video lab (T·H·W·K³ work)

    # --- kernels, banks and windows --------------------------------------------------------
    max_kernel: int = 15  # side of a Filters-lab kernel
    max_bank: int = 8  # filters in a bank
    max_stride: int = 64
    max_padding: int = 64
    max_dilation: int = 16
    max_pool: int = 16  # side of a pooling window
    max_shift: int = 16  # pixels of the translation experiment
    max_video_stride: int = 4
    max_video_padding: int = 4
    max_video_depth: int = 16  # frames of the temporal blur
    max_moving_average: int = 400  # samples of the Signals lab's moving average

    # Decodes and computations running at once in the web process; more wait their turn. Each
    # may hold tens of MB of arrays, and two cores gain nothing from a third at once.
    max_heavy_work: int = Field(default_factory=lambda: max(2, _cores()))

    # --- where state lives: the store and the queue ----------------------------------------
    # The embedded store and queue (SQLite and files), when CNN_REDIS_URL is not set.
    data_dir: Path = Field(default_factory=lambda: default_data_dir())
    # redis://host:6379/0: the store and the queue in Redis, shared by many processes and hosts.
    redis_url: str = ""
    store_blob_bytes: int = 1024 * MB  # decoded uploads kept in the store, oldest use first out
    upload_ttl_seconds: int = 6 * 3600  # an upload is kept this long after its last use
    own_max_pictures_per_class: int = 200  # a student's own class, camera shots or uploads
    own_min_pictures_per_class: int = 5  # before a run on them may start (a share is the test)

    # --- runs, epochs and seconds ----------------------------------------------------------
    # Queue consumers (runs training at once) that the web app starts beside itself, in one child
    # process, when the first run is queued: one per core. 0 when `cnn-playground worker` runs
    # them (`serve` starts that command itself and sets this to 0 for its web processes).
    run_workers: int = Field(default_factory=_cores)
    max_queued_runs: int = 200  # runs waiting for a slot; past it, "come back in N minutes"
    run_max_seconds: int = 120  # wall time of one run, from its start (not its time queued)
    run_ttl_seconds: int = 3600  # how long a finished run is kept
    max_runs: int = 240  # finished runs kept in all, oldest first out
    max_epochs: int = 50  # image runs
    max_text_epochs: int = 60  # text runs
    max_batch: int = 512
    max_params: int = 300_000  # a network trained in the browser
    max_sound_seconds: float = 10.0  # an uploaded sound
    max_delay_ms: int = 2000  # echo delay
    max_reverb_ms: int = 3000
    max_gif_frames: int = 100
    max_optimizer_steps: int = 5000  # steps of the optimizer race

    # --- classes (app.classroom) ------------------------------------------------------------
    class_ttl_seconds: int = 4 * 3600  # a class and everything in it, from its start
    max_class_students: int = 200  # students who may join one class
    max_classes: int = 200  # classes live at once on this server (its store)
    max_class_questions: int = 100  # questions asked in one class
    max_nickname: int = 30  # characters of a student's nickname
    # Open event streams of one class in one web process (students' tabs and the projector).
    max_class_connections: int = 400
    class_poll_seconds: float = 0.2  # how often a web process looks for a class's changes
    class_keepalive_seconds: float = 15.0  # a comment on an idle event stream, so proxies keep it

    # --- text lengths ----------------------------------------------------------------------
    max_kernel_text: int = 6000  # characters of a typed kernel
    max_arch_text: int = 2000  # characters of the shape calculator's layer text
    max_train_arch_text: int = 1000  # characters of the Training lab's layer text
    max_text: int = 1000  # characters of the Text lab's sentences (they travel in the URL)
    max_text_lines: int = 8  # sentences in the Text lab's matrix
    max_maxlen: int = 100  # the Text lab's maxlen
    max_num_words: int = 50_000
    max_corpus_lines: int = 2000
    max_corpus_line: int = 500  # characters of one corpus text
    max_corpus_classes: int = 10
    max_loss_text: int = 5000  # characters of a Loss-lab list of numbers
    max_loss_points: int = 50  # numbers in a Loss-lab list
    max_tosses: int = 1000

    # --- who may embed the pages and send forms ------------------------------------------
    # CSP frame-ancestors: "'self'" only; a school's LMS that frames the app adds its origin.
    frame_ancestors: str = "'self'"
    # Origins besides the app's own whose forms may start or stop runs (a proxy's public name).
    allowed_origins: tuple[str, ...] = ()

    # --- where the pages come from (inside the installed package, or the checkout) ---------
    templates_dir: Path = Field(default_factory=lambda: asset_dir("templates"))
    static_dir: Path = Field(default_factory=lambda: asset_dir("static"))
    locales_dir: Path = Field(default_factory=lambda: asset_dir("locales"))

    @property
    def max_request_bytes(self) -> int:
        """The one limit on a request body (app.web.body): an upload and its form's fields."""
        return self.max_upload_bytes + self.request_overhead_bytes


def asset_dir(name: str) -> Path:
    """templates/, static/ or locales/: inside the package when installed from a wheel (the build
    copies them to app/<name>), else at the top of the checkout."""
    package = Path(__file__).resolve().parent
    installed = package / name
    return installed if installed.is_dir() else package.parent / name


LIMITS = Settings()
