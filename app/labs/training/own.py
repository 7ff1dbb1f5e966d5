"""Train on your own classes: a tab of the Training lab (/train/own).

The student names 2 to 5 classes and adds pictures to each (uploads, or the camera held down),
then trains on them with the Training lab's own choices (OwnTrainFields, the setup template).
The set lives in the store for the browser that made it (app.media.picture_sets); a run keeps a
snapshot of its pictures at the working size beside it (app.labs.training.worker.pack_own), so
removing a picture later changes nothing in a trained run's look inside. What the pages show is
made in app.labs.training.own_views.

Every change to a set is all or none: a refused upload, zip, name or class leaves the set as it
was, and the message lands next to the control that sent it.
"""

from __future__ import annotations

import numpy as np
from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from app.labs.training import own_views, views
from app.labs.training.own_views import BASE, MAX_FILES
from app.labs.training.worker import pack_own
from app.media.deps import Results
from app.media.picture_sets import (
    MIN_CLASSES,
    PictureClass,
    PictureSet,
    check_class_name,
    check_class_names,
)
from app.media.uploads import buffered_form, content_id
from app.runs import owner
from app.runs.deps import ImageRun, Runs
from app.web.deps import Templates
from app.web.errors import UserError, lab_error_page, shows_errors_in
from app.web.i18n import N_
from app.web.png import png_bytes
from app.web.templating import is_htmx

router = APIRouter()
PAGE, FRAGMENT = "training/own.html", "training/_own_pictures.html"
WORKER = "app.labs.training.worker:run"
QUEUE_SLACK = 1800  # seconds a run's pictures may wait in the queue on top of its own time
CHANGED = {"HX-Trigger": "own-set-changed"}  # the setup below asks for its summary again


# --- the set of the browser asking ---------------------------------------------------------------


def _pictures(request: Request, templates, picture_set: PictureSet) -> Response:
    """The pictures panel again after a change: the panel alone for htmx, else the page."""
    if not is_htmx(request):
        return RedirectResponse(f"{BASE}?set={picture_set.id}", status_code=303)
    context = own_views.pictures_context(request, picture_set)
    return templates.response(request, FRAGMENT, context, headers=CHANGED)


def _form_text(form, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


# --- the page --------------------------------------------------------------------------------


IN_PAGE = lab_error_page(PAGE, own_views.error_context)


@router.get(BASE, response_class=HTMLResponse)
@shows_errors_in(IN_PAGE)
def own_page(request: Request, templates: Templates) -> Response:
    set_id = request.query_params.get("set", "")
    if not set_id:
        return templates.response(request, PAGE, own_views.pictures_context(request, None))
    picture_set = own_views.own_set(request, set_id)
    form = own_views.own_fields(request.query_params, picture_set)
    context = own_views.setup_context(request, form, picture_set)
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
        sets = own_views.picture_sets(request)
        picture_set = await run_in_threadpool(sets.create, digest, names)
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
        sets = own_views.picture_sets(request)
        picture_set = await run_in_threadpool(sets.import_zip, digest, data)
    except UserError as error:
        raise error.at("zip") from None
    return _new_set_response(request, picture_set, new_token)


@router.get(f"{BASE}/sets/{{set_id}}/export.zip")
def export_set(request: Request, set_id: str) -> Response:
    picture_set = own_views.own_set(request, set_id)
    data = own_views.picture_sets(request).export_zip(picture_set)
    headers = {"Content-Disposition": f'attachment; filename="my-classes-{picture_set.id}.zip"'}
    return Response(data, media_type="application/zip", headers=headers)


@router.get(f"{BASE}/sets/{{set_id}}/pictures/{{picture_id}}.png")
def picture(request: Request, set_id: str, picture_id: str) -> Response:
    sets = own_views.picture_sets(request)
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
    sets = own_views.picture_sets(request)
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
    sets = own_views.picture_sets(request)
    picture_set = await run_in_threadpool(sets.get, set_id, owner.viewer(request))
    await run_in_threadpool(sets.remove, picture_set, index, _form_text(form, "picture"))
    return _pictures(request, templates, picture_set)


@router.post(f"{BASE}/sets/{{set_id}}/classes/{{index}}/name")
@shows_errors_in(IN_PAGE)
async def rename_class(request: Request, set_id: str, index: int, templates: Templates):
    form = await buffered_form(request, max_files=0)
    sets = own_views.picture_sets(request)
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
    sets = own_views.picture_sets(request)
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
    sets = own_views.picture_sets(request)
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


def _png(pixels: np.ndarray) -> Response:
    return Response(png_bytes(pixels), media_type="image/png",
                    headers={"Cache-Control": "private, max-age=60"})  # fmt: skip


@router.get(f"{BASE}/preview.png")
def own_preview(request: Request) -> Response:
    """Up to four pictures of each class (one column per class) at the working size."""
    return _png(own_views.preview_pixels(request))


@router.get(f"{BASE}/augment.png")
def own_augment_preview(request: Request) -> Response:
    """One picture of each class, then five augmented copies of it, one row each."""
    return _png(own_views.augment_pixels(request))


@router.post(f"{BASE}/runs")
async def own_start(request: Request, runs: Runs) -> Response:
    form = await buffered_form(request, max_files=0)
    sets = own_views.picture_sets(request)
    picture_set = await run_in_threadpool(sets.get, _form_text(form, "set"), owner.viewer(request))
    fields = own_views.own_fields(form, picture_set)
    await run_in_threadpool(views.summarise, fields)  # a stack that does not fit, first
    least = own_views.min_per_class(request)
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


@router.post("/train/runs/{run_id}/own/predict", response_class=HTMLResponse)
async def own_predict(request: Request, run: ImageRun, templates: Templates, results: Results):
    if run.config.get("dataset") != "own":
        raise UserError(N_("This run was not trained on your own pictures."), status=404)
    form = await buffered_form(request)
    upload = form.get("image")
    data = await upload.read() if isinstance(upload, UploadFile) else b""
    if not data:
        raise UserError(N_("Choose a picture, or start the camera."), status=422).at("image")
    limits = own_views.picture_sets(request).limits
    context = await run_in_threadpool(own_views.predict_context, run, results, data, limits)
    return templates.response(request, "training/_own_prediction.html", context)
