"""Train on your own classes: a tab of the Training lab (/train/own).

The student names 2 to 5 classes and adds pictures to each (uploads, or the camera held down),
then trains on them with the Training lab's own choices (OwnTrainFields, the setup template).
The set lives in the store for the browser that made it (app.media.picture_sets); a run keeps a
snapshot of its pictures at the working size beside it (app.labs.training.worker.pack_own), so
removing a picture later changes nothing in a trained run's look inside.

Every change to a set is all or none: a refused upload, zip, name or class leaves the set as it
was, and the message lands next to the control that sent it.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import QueryParams, UploadFile

from app.labs.training import views
from app.labs.training.fields import OWN_SIZES, OwnTrainFields
from app.labs.training.worker import OWN_SPLIT_SEED, augmenter_for, pack_own
from app.media.deps import Results
from app.media.picture_sets import (
    MAX_CLASSES,
    MIN_CLASSES,
    Limits,
    PictureClass,
    PictureSet,
    PictureSets,
    check_class_name,
    check_class_names,
    picture_array,
    picture_png,
)  # fmt: skip
from app.media.uploads import buffered_form, content_id
from app.runs import owner
from app.runs.deps import ImageRun, Runs
from app.web.deps import Templates
from app.web.errors import UserError, lab_error_page, shows_errors_in
from app.web.i18n import N_
from app.web.png import png_bytes, png_data_uri
from app.web.templating import is_htmx
from engine.augment import Augmenter
from engine.datasets.base import stratified_split
from engine.datasets.own import MIN_TEST_PER_CLASS, held_out_is_small
from engine.losses import softmax

router = APIRouter()
BASE = "/train/own"
PAGE, FRAGMENT = "training/own.html", "training/_own_pictures.html"
WORKER = "app.labs.training.worker:run"
TEST_FRACTION = 0.25  # of each class, held out for the test (engine.datasets.own's default)
MAX_FILES = 40  # pictures in one upload request (the page sends larger choices in batches)
QUEUE_SLACK = 1800  # seconds a run's pictures may wait in the queue on top of its own time
CHANGED = {"HX-Trigger": "own-set-changed"}  # the setup below asks for its summary again


# --- the set of the browser asking ---------------------------------------------------------------


def picture_sets(request: Request) -> PictureSets:
    settings = request.app.state.settings
    return PictureSets(request.app.state.store, Limits.from_settings(settings))


def min_per_class(request: Request) -> int:
    return request.app.state.settings.own_min_pictures_per_class


def _own_set(request: Request, set_id: str) -> PictureSet:
    return picture_sets(request).get(set_id, owner.viewer(request))


def pictures_context(request: Request, picture_set: PictureSet | None) -> dict:
    settings = request.app.state.settings
    return {
        "own": picture_set,
        "own_min": settings.own_min_pictures_per_class,
        "own_max": settings.own_max_pictures_per_class,
        "own_classes": (MIN_CLASSES, MAX_CLASSES),
        "own_files": MAX_FILES,
        "own_upload_mb": settings.max_upload_bytes // (1024 * 1024),
    }


def _pictures(request: Request, templates, picture_set: PictureSet) -> Response:
    """The pictures panel again after a change: the panel alone for htmx, else the page."""
    if not is_htmx(request):
        return RedirectResponse(f"{BASE}?set={picture_set.id}", status_code=303)
    context = pictures_context(request, picture_set)
    return templates.response(request, FRAGMENT, context, headers=CHANGED)


def _form_text(form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- the page --------------------------------------------------------------------------------


def own_fields(params, picture_set: PictureSet) -> OwnTrainFields:
    """The setup's fields with the set's own class count (a link may carry a stale one)."""
    items = [(k, v) for k, v in params.multi_items() if k not in ("k", "class_count", "set")]
    items += [("k", str(len(picture_set.classes))), ("set", picture_set.id)]
    return OwnTrainFields.parse(QueryParams(items))


def split_counts(counts: list[int]) -> tuple[int, int]:
    """(training, test) pictures the run will have: the split own_dataset makes."""
    if min(counts, default=0) < 1:
        return sum(counts), 0
    labels = np.repeat(np.arange(len(counts)), counts)
    train, test = stratified_split(labels, TEST_FRACTION, OWN_SPLIT_SEED)
    return len(train), len(test)


def setup_context(request: Request, form: OwnTrainFields, picture_set: PictureSet) -> dict:
    infos, total = views.summarise(form)
    n_train, n_test = split_counts(picture_set.counts)
    return pictures_context(request, picture_set) | {
        "traininglab": views.LAB,
        "form": form,
        "setup_fields": form.items(),
        "infos": infos,
        "total_params": total,
        "class_names": [c.name for c in picture_set.classes],
        "n_train": n_train,
        "n_test": n_test,
        "runs": [],
        "error": None,
        "lab_base": BASE,
        "own_sizes": OWN_SIZES,
        # The previews' addresses change with the pictures, so a browser never shows old ones.
        "own_version": content_id(
            "".join(p for c in picture_set.classes for p in c.pictures).encode()
        )[:8],
    }


def error_context(request: Request, error, messages: list[str]) -> dict:
    """The page again with the message in place, and the set as it is (nothing was lost)."""
    picture_set = None
    set_id = request.path_params.get("set_id") or request.query_params.get("set", "")
    if set_id:
        try:
            picture_set = _own_set(request, set_id)
        except UserError:
            picture_set = None
    return pictures_context(request, picture_set) | {
        "traininglab": views.LAB, "form": None, "raw": request.query_params, "error": messages,
        "runs": [], "lab_base": BASE, "own_sizes": OWN_SIZES, "own_error": messages,
        "own_version": "",
    }  # fmt: skip


# Without JavaScript, a refused form answers with the page itself, the message at its top.
IN_PAGE = lab_error_page(PAGE, error_context)


@router.get(BASE, response_class=HTMLResponse)
@shows_errors_in(IN_PAGE)
def own_page(request: Request, templates: Templates) -> Response:
    set_id = request.query_params.get("set", "")
    if not set_id:
        return templates.response(request, PAGE, pictures_context(request, None))
    picture_set = _own_set(request, set_id)
    form = own_fields(request.query_params, picture_set)
    context = setup_context(request, form, picture_set)
    url = f"{BASE}?{form.query()}"
    if "edit" in request.query_params and not is_htmx(request):
        return RedirectResponse(url, status_code=303)  # a layer-editor button without JS
    return templates.page(request, PAGE, "training/_setup.html", context, push=url)


def _new_set_response(request: Request, picture_set: PictureSet, new_token) -> Response:
    url = f"{BASE}?set={picture_set.id}"
    if is_htmx(request):
        return owner.remember(Response(status_code=204, headers={"HX-Redirect": url}), new_token)
    return owner.remember(RedirectResponse(url, status_code=303), new_token)


@router.post(f"{BASE}/sets")
@shows_errors_in(IN_PAGE)
async def create_set(request: Request) -> Response:
    form = await buffered_form(request, max_files=0)
    # The form has a box for each of the most classes: the blank ones are not classes.
    names = [name for name in form.getlist("name") if isinstance(name, str) and name.strip()]
    digest, new_token = owner.starting_owner(request)
    try:
        picture_set = await run_in_threadpool(picture_sets(request).create, digest, names)
    except UserError as error:
        raise error.at("name") from None
    return _new_set_response(request, picture_set, new_token)


@router.post(f"{BASE}/sets/import")
@shows_errors_in(IN_PAGE)
async def import_set(request: Request) -> Response:
    form = await buffered_form(request)
    upload = form.get("zip")
    if not isinstance(upload, UploadFile) or not upload.filename:
        raise UserError(N_("Choose a zip file of pictures, a folder per class."),
                        status=422).at("zip")  # fmt: skip
    data = await upload.read()
    digest, new_token = owner.starting_owner(request)
    try:
        picture_set = await run_in_threadpool(picture_sets(request).import_zip, digest, data)
    except UserError as error:
        raise error.at("zip") from None
    return _new_set_response(request, picture_set, new_token)


@router.get(f"{BASE}/sets/{{set_id}}/export.zip")
def export_set(request: Request, set_id: str) -> Response:
    picture_set = _own_set(request, set_id)
    data = picture_sets(request).export_zip(picture_set)
    headers = {"Content-Disposition": f'attachment; filename="my-classes-{picture_set.id}.zip"'}
    return Response(data, media_type="application/zip", headers=headers)


@router.get(f"{BASE}/sets/{{set_id}}/pictures/{{picture_id}}.png")
def picture(request: Request, set_id: str, picture_id: str) -> Response:
    sets = picture_sets(request)
    data = sets.picture(sets.get(set_id, owner.viewer(request)), picture_id)
    return Response(data, media_type="image/png", headers={"Cache-Control": "private, max-age=600"})


# --- changing a set --------------------------------------------------------------------------


@router.post(f"{BASE}/sets/{{set_id}}/classes/{{index}}/pictures")
@shows_errors_in(IN_PAGE)
async def add_pictures(request: Request, set_id: str, index: int, templates: Templates):
    form = await buffered_form(request, max_files=MAX_FILES)
    files = [item for item in form.getlist("pictures") if isinstance(item, UploadFile)]
    files = [item for item in files if item.filename or item.size]
    if not files:
        raise UserError(N_("Choose one or more pictures to add."), status=422).at("pictures")
    contents = [await item.read() for item in files]
    sets = picture_sets(request)
    picture_set = await run_in_threadpool(sets.get, set_id, owner.viewer(request))
    try:
        await run_in_threadpool(sets.add, picture_set, index, contents)
    except UserError as error:
        raise error.at("pictures") from None
    return _pictures(request, templates, picture_set)


@router.post(f"{BASE}/sets/{{set_id}}/classes/{{index}}/remove")
@shows_errors_in(IN_PAGE)
async def remove_picture(request: Request, set_id: str, index: int, templates: Templates):
    form = await buffered_form(request, max_files=0)
    sets = picture_sets(request)
    picture_set = await run_in_threadpool(sets.get, set_id, owner.viewer(request))
    await run_in_threadpool(sets.remove, picture_set, index, _form_text(form, "picture"))
    return _pictures(request, templates, picture_set)


@router.post(f"{BASE}/sets/{{set_id}}/classes/{{index}}/name")
@shows_errors_in(IN_PAGE)
async def rename_class(request: Request, set_id: str, index: int, templates: Templates):
    form = await buffered_form(request, max_files=0)
    sets = picture_sets(request)
    picture_set = await run_in_threadpool(sets.get, set_id, owner.viewer(request))
    try:
        await run_in_threadpool(sets.rename, picture_set, index, _form_text(form, "name"))
    except UserError as error:
        raise error.at("name") from None
    return _pictures(request, templates, picture_set)


@router.post(f"{BASE}/sets/{{set_id}}/classes")
@shows_errors_in(IN_PAGE)
async def add_class(request: Request, set_id: str, templates: Templates):
    form = await buffered_form(request, max_files=0)
    sets = picture_sets(request)
    picture_set = await run_in_threadpool(sets.get, set_id, owner.viewer(request))
    try:
        name = check_class_name(_form_text(form, "name"))
        check_class_names([c.name for c in picture_set.classes] + [name])
    except UserError as error:
        raise error.at("name") from None
    picture_set.classes.append(PictureClass(name))
    await run_in_threadpool(sets.save, picture_set)
    return _pictures(request, templates, picture_set)


@router.post(f"{BASE}/sets/{{set_id}}/classes/{{index}}/delete")
@shows_errors_in(IN_PAGE)
async def remove_class(request: Request, set_id: str, index: int, templates: Templates):
    sets = picture_sets(request)
    picture_set = await run_in_threadpool(sets.get, set_id, owner.viewer(request))
    if not 0 <= index < len(picture_set.classes):
        raise UserError(N_("There is no class number %(n)s."), status=422, n=index + 1)
    if len(picture_set.classes) <= MIN_CLASSES:
        raise UserError(N_("A set needs at least %(n)s classes: add another before you remove "
                           "this one."), status=422, n=MIN_CLASSES)  # fmt: skip
    del picture_set.classes[index]
    await run_in_threadpool(sets.save, picture_set)
    return _pictures(request, templates, picture_set)


# --- previews and the run --------------------------------------------------------------------


def _grid(tiles: list[list[np.ndarray]], size: int) -> np.ndarray:
    """Rows of (C, S, S) pictures in [0, 1] -> one (H, W) or (H, W, 3) uint8 picture with a
    1-pixel grey gap between tiles."""
    rows, cols = len(tiles), max(len(row) for row in tiles)
    channels = tiles[0][0].shape[0]
    grid = np.full((channels, rows * (size + 1) - 1, cols * (size + 1) - 1), 0.5, np.float32)
    for i, row in enumerate(tiles):
        for j, tile in enumerate(row):
            top, left = i * (size + 1), j * (size + 1)
            grid[:, top : top + size, left : left + size] = tile
    return views.picture_pixels(grid, as_is=True)


def _set_arrays(request: Request, fields: OwnTrainFields):
    sets = picture_sets(request)
    picture_set = sets.get(fields.picture_set, owner.viewer(request))
    images, labels = sets.arrays(picture_set, fields.size, fields.colour)
    return picture_set, images.astype(np.float32) / 255.0, labels


def _png(pixels: np.ndarray) -> Response:
    return Response(png_bytes(pixels), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=60"})  # fmt: skip


def _placeholder(size: int, colour: bool) -> np.ndarray:
    return np.full((3 if colour else 1, size, size), 0.5, np.float32)


@router.get(f"{BASE}/preview.png")
def own_preview(request: Request) -> Response:
    """Up to four pictures of each class (one column per class) at the working size."""
    picture_set = _own_set(request, request.query_params.get("set", ""))
    fields = own_fields(request.query_params, picture_set)
    _, images, labels = _set_arrays(request, fields)
    columns = []
    for label in range(len(picture_set.classes)):
        picks = [images[i] for i in np.flatnonzero(labels == label)[:4]]
        columns.append(picks + [_placeholder(fields.size, fields.colour)] * (4 - len(picks)))
    rows = [[column[i] for column in columns] for i in range(4)]
    return _png(_grid(rows, fields.size))


@router.get(f"{BASE}/augment.png")
def own_augment_preview(request: Request) -> Response:
    """One picture of each class, then five augmented copies of it, one row each."""
    picture_set = _own_set(request, request.query_params.get("set", ""))
    fields = own_fields(request.query_params, picture_set)
    _, images, labels = _set_arrays(request, fields)
    firsts = [np.flatnonzero(labels == c)[:1] for c in range(len(picture_set.classes))]
    picks = [int(f[0]) for f in firsts if len(f)]
    if not picks:
        return _png(_grid([[_placeholder(fields.size, fields.colour)] * 6], fields.size))
    samples = images[picks]
    augmenter = augmenter_for({name: True for name in fields.augment}, fields.size)
    copies = (augmenter or Augmenter()).preview(samples, n_copies=6, seed=fields.seed)
    copies[:, 0] = samples  # the first column is the untouched picture
    return _png(_grid([list(np.clip(row, 0, 1)) for row in copies], fields.size))


@router.post(f"{BASE}/runs")
async def own_start(request: Request, runs: Runs) -> Response:
    form = await buffered_form(request, max_files=0)
    sets = picture_sets(request)
    picture_set = await run_in_threadpool(sets.get, _form_text(form, "set"), owner.viewer(request))
    fields = own_fields(form, picture_set)
    await run_in_threadpool(views.summarise, fields)  # a stack that does not fit, first
    least = min_per_class(request)
    short = [c.name for c in picture_set.classes if len(c.pictures) < least]
    if short:
        raise UserError(N_("Every class needs at least %(n)s pictures before training; add more "
                           "to: %(names)s."), status=422, n=least,
                        names=", ".join(short))  # fmt: skip
    images, labels = await run_in_threadpool(sets.arrays, picture_set, fields.size, fields.colour)
    names = [c.name for c in picture_set.classes]
    counts = np.bincount(labels, minlength=len(names))
    if counts.min() < least:  # pictures that expired on their own since the page was drawn
        raise UserError(N_("Some pictures are no longer kept: add more to every class that "
                           "has fewer than %(n)s."), status=409, n=least)  # fmt: skip
    blob = await run_in_threadpool(pack_own, images, labels)
    key = f"own:data:{content_id(blob)}"
    settings = request.app.state.settings
    ttl = settings.run_ttl_seconds + settings.run_max_seconds + QUEUE_SLACK
    await run_in_threadpool(request.app.state.store.put_blob, key, blob, ttl)
    config = fields.run_config() | {
        "query": fields.query(), "own_data": key, "class_names": names, "min_per_class": 1,
    }  # fmt: skip
    digest, new_token = owner.starting_owner(request)
    run = await run_in_threadpool(runs.start, config, WORKER, digest)
    url = f"/train/runs/{run.id}"
    if is_htmx(request):
        return owner.remember(Response(status_code=204, headers={"HX-Redirect": url}), new_token)
    return owner.remember(RedirectResponse(url, status_code=303), new_token)


# --- a trained run: how it did, and trying it -------------------------------------------------


def inside_extra(run, results) -> dict:
    """What look inside adds for an own-pictures run: train and test accuracy side by side,
    the test pictures per class, and whether that is too few to mean much."""
    data = views.run_data(run)
    model, _ = views.run_model(run, results)

    def accuracy() -> float:
        return float((model.predict(data.x_train).argmax(axis=1) == data.y_train).mean())

    train_accuracy = results.get_or_compute(
        f"own:train-acc:{run.id}", accuracy, nbytes=lambda _: 64
    )
    test_per_class = np.bincount(data.y_test, minlength=data.n_classes).tolist()
    test_accuracy = float((views.run_evaluation(run, results).predictions == data.y_test).mean())
    return {
        "own_summary": {
            "train_accuracy": train_accuracy,
            "test_accuracy": test_accuracy,
            "n_train": len(data.y_train),
            "n_test": len(data.y_test),
            "test_per_class": list(zip(data.class_names, test_per_class, strict=True)),
            "small": held_out_is_small(data),
            "min_test": MIN_TEST_PER_CLASS,
        }
    }


@router.post("/train/runs/{run_id}/own/predict", response_class=HTMLResponse)
async def own_predict(request: Request, run: ImageRun, templates: Templates, results: Results):
    if run.config.get("dataset") != "own":
        raise UserError(N_("This run was not trained on your own pictures."), status=404)
    form = await buffered_form(request)
    upload = form.get("image")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    if not data:
        raise UserError(N_("Choose a picture, or start the camera."), status=422).at("image")
    limits = picture_sets(request).limits
    context = await run_in_threadpool(predict_context, run, results, data, limits)
    return templates.response(request, "training/_own_prediction.html", context)


def predict_context(run, results, data: bytes, limits: Limits) -> dict:
    _, png = picture_png(data, limits)  # the centre square, as the training pictures were kept
    size, colour = run.config["image_size"], bool(run.config.get("colour"))
    image = picture_array(png, size, colour).astype(np.float32) / 255.0
    model, _ = views.run_model(run, results)
    probabilities = softmax(model.predict(image[None]))[0]
    order = np.argsort(-probabilities, kind="stable")
    names = run.config["class_names"]
    return {
        "run": run,
        "input_uri": png_data_uri(views.picture_pixels(image, as_is=True)),
        "bars": [(names[i], float(probabilities[i])) for i in range(len(names))],
        "prediction": names[int(order[0])],
        "probability": float(probabilities[order[0]]),
    }
