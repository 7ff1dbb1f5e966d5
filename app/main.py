"""The app: `create_app(settings)` builds it; `app` is one built from the environment, for
`uvicorn app.main:app`.

It holds the settings, the templates, the store (app.store), the bounded caches and the run
manager (on `app.state`, which routes reach through the dependencies in app.web.deps,
app.media.deps and app.runs.deps), the routers of every lab in the registry, the body limit
and the one error path.
"""

from __future__ import annotations

from contextlib import asynccontextmanager
from functools import cache

from fastapi import Depends, FastAPI
from fastapi.staticfiles import StaticFiles

from app import home
from app.classroom import question_routes
from app.classroom import routes as classroom_routes
from app.classroom.bar import class_bar
from app.classroom.classes import Classes
from app.classroom.events import EventHub
from app.config import Settings
from app.labs import LABS
from app.media.cache import HeavyWork, LRUBytesCache
from app.media.images import configure_pillow
from app.media.shared import SharedMedia
from app.runs import owner
from app.runs.local import LocalWorkers
from app.runs.manager import RunManager
from app.runs.record import NAME_LENGTH
from app.store import open_store
from app.web.body import BodyLimit
from app.web.deps import use_request_locale
from app.web.errors import install_error_handlers
from app.web.fields import place_mistake, request_errors
from app.web.i18n import load_translations
from app.web.security import SecurityHeaders, check_origin, security_headers
from app.web.templating import Templates

VERSION = "0.1.0"
SSE_VERSION = "2.2.4"  # static/vendor/htmx-ext-sse-<version>.min.js: following the teacher


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or Settings()
    configure_pillow(settings.max_image_pixels)
    store = open_store(settings)
    local = LocalWorkers(settings) if settings.run_workers > 0 else None
    runs = RunManager(settings, store, local)

    classes = Classes(
        store,
        settings.class_ttl_seconds,
        settings.max_class_students,
        settings.max_classes,
        settings.max_class_questions,
    )
    class_events = EventHub(classes, settings.class_poll_seconds, settings.max_class_connections)

    @asynccontextmanager
    async def lifespan(_app: FastAPI):
        yield
        class_events.close()  # the classes' event streams end with the app
        runs.shutdown()  # the consumers this app started end with it

    # /docs and /redoc would load their scripts from a CDN: off, for a site that works offline.
    # /openapi.json stays, for tools.
    app = FastAPI(
        title="CNN Playground", version=VERSION, lifespan=lifespan,
        docs_url=None, redoc_url=None,
        dependencies=[Depends(check_origin), Depends(use_request_locale)],
    )  # fmt: skip
    templates = Templates(
        settings.templates_dir, load_translations(settings.locales_dir), limits=settings
    )
    templates.navigation = [(lab.path, lab.title) for lab in LABS]
    templates.add_global("owns_run", owner.owns)  # a run's controls show only to its owner
    templates.add_global("name_length", NAME_LENGTH)
    templates.add_global("classroom", class_bar)  # the class bar of a browser in a class
    templates.add_global("SSE_VERSION", SSE_VERSION)
    app.state.settings = settings
    app.state.templates = templates
    heavy = HeavyWork(settings.max_heavy_work)  # shared: decoding and computing alike
    app.state.store = store
    app.state.uploads = SharedMedia(
        LRUBytesCache(settings.upload_cache_bytes, heavy), store, settings.upload_ttl_seconds
    )
    app.state.results = LRUBytesCache(settings.result_cache_bytes, heavy)
    app.state.runs = runs
    app.state.classes = classes
    app.state.class_events = class_events

    app.add_middleware(BodyLimit, limit=settings.max_request_bytes)
    app.add_middleware(SecurityHeaders, frame_ancestors=settings.frame_ancestors)
    app.state.security_headers = {
        k.decode(): v.decode() for k, v in security_headers(settings.frame_ancestors)
    }
    app.mount("/static", StaticFiles(directory=settings.static_dir), name="static")
    app.include_router(home.router)
    app.include_router(classroom_routes.router)
    app.include_router(question_routes.router)
    for lab in LABS:
        app.include_router(lab.router)
    install_error_handlers(app, request_errors, place_mistake)
    return app


@cache
def _default_app() -> FastAPI:
    return create_app()


def __getattr__(name: str):
    # `uvicorn app.main:app` builds the app on first use, not when this module is imported.
    if name == "app":
        return _default_app()
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
