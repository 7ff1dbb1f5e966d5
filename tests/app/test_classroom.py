"""Classroom sessions through the app: starting and ending a class, joining, the teacher's view
and who may set it, the event hub, ready-made questions and their computed answers, answers and
the histogram, the class board."""

from __future__ import annotations

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from html.parser import HTMLParser

import numpy as np
import pytest
from starlette.datastructures import QueryParams
from starlette.testclient import TestClient

from app.classroom import questions, views
from app.classroom.classes import CODE_ALPHABET, Classes, Question, digest
from app.classroom.events import END_EVENT, EventHub
from app.classroom.routes import qr_svg
from app.config import Settings
from app.labs.optimizers.fields import OptFields
from app.main import create_app
from app.runs import record
from app.runs.record import Run
from app.store.sqlite_store import SQLiteStore
from app.web.numbers import Numbers
from engine.surfaces import make_surface


@pytest.fixture
def app(tmp_path):
    return create_app(Settings(data_dir=tmp_path, run_workers=0, max_class_students=5))


def browser(app) -> TestClient:
    return TestClient(app, follow_redirects=False)


def start(app) -> tuple[TestClient, str]:
    teacher = browser(app)
    response = teacher.post("/class")
    assert response.status_code == 303
    code = re.fullmatch(r"/class/(\w+)/teach", response.headers["location"]).group(1)
    return teacher, code


def join(app, code: str, nickname: str = "Ana") -> TestClient:
    student = browser(app)
    response = student.post(f"/class/{code}/join", data={"nickname": nickname})
    assert response.status_code == 303, response.text
    return student


class Texts(HTMLParser):
    """The text of every element with a given class."""

    def __init__(self, wanted: str) -> None:
        super().__init__()
        self.wanted, self.depth, self.found = wanted, 0, []

    def handle_starttag(self, tag, attrs):
        classes = (dict(attrs).get("class") or "").split()
        if self.depth:
            self.depth += 1
        elif self.wanted in classes:
            self.depth = 1
            self.found.append("")

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.found[-1] += data


def texts(html: str, wanted: str) -> list[str]:
    parser = Texts(wanted)
    parser.feed(html)
    return [" ".join(t.split()) for t in parser.found]


# --- a class -----------------------------------------------------------------------------------


def test_a_class_has_an_unambiguous_code_and_keeps_only_its_teachers_digest(app):
    teacher, code = start(app)
    assert len(code) == 6 and set(code) <= set(CODE_ALPHABET)
    assert not set(code) & set("0O1I")
    token = teacher.cookies["cnnp_teach"].split(".")[1]
    stored = app.state.store.get(f"class:{code}")
    assert token.encode() not in stored and digest(token).encode() in stored


def test_the_projector_shows_the_code_a_qr_code_and_the_address_the_students_use(app):
    teacher, code = start(app)
    page = teacher.get(f"/class/{code}/teach", headers={"host": "10.1.2.3:8000"})
    assert page.status_code == 200
    assert texts(page.text, "class-code") == [code]
    assert texts(page.text, "class-url") == [f"http://10.1.2.3:8000/class/{code}"]
    assert re.search(r'<figure class="class-qr">\s*<svg[^>]*>.*<path', page.text, re.S)
    # The QR code holds the address as the students reach the server, not localhost.
    assert str(qr_svg(f"http://10.1.2.3:8000/class/{code}")) in page.text
    assert texts(page.text, "class-joined-number") == ["0"]
    join(app, code, "Ana"), join(app, code, "Bia")
    count = teacher.get(f"/class/{code}/count")
    assert texts(count.text, "class-joined-number") == ["2"]
    assert "Ana" not in page.text and "Ana" not in count.text  # nicknames only on the board


def test_ending_a_class_removes_it_and_everything_in_it(app):
    teacher, code = start(app)
    join(app, code)
    assert teacher.post(f"/class/{code}/end").status_code == 303
    assert teacher.get(f"/class/{code}").status_code == 404
    store = app.state.store
    assert store.zcard(f"class:{code}:students") == 0 and store.get(f"class:{code}:live") is None


def test_a_page_that_reconnects_after_the_end_is_told_the_class_ended(app):
    teacher, code = start(app)
    student = join(app, code)
    teacher.post(f"/class/{code}/end")
    stream = student.get(f"/class/{code}/events", headers={"Accept": "text/event-stream"})
    assert stream.status_code == 200 and stream.text == "event: end\ndata: ended\n\n"
    plain = student.get(f"/class/{code}/events")  # not an event source: the page that says why
    assert plain.status_code == 404 and f"There is no class with the code {code}" in plain.text


def test_an_expired_class_is_gone_and_its_page_says_so(tmp_path, monkeypatch):
    app = create_app(Settings(data_dir=tmp_path, run_workers=0, class_ttl_seconds=60))
    teacher, code = start(app)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 61)
    page = browser(app).get(f"/class/{code}")
    assert page.status_code == 404
    assert f"There is no class with the code {code}" in page.text


# --- joining -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("nickname", "message"),
    [("", "Choose a nickname"), ("   ", "Choose a nickname"),
     ("x" * 500, "at most 30 characters (this one has 500)"),
     ("<b>Ana</b>", "plain text"), ('Ana" onmouseover="x', "plain text")],
)  # fmt: skip
def test_a_bad_nickname_gets_a_message_next_to_its_field(app, nickname, message):
    _, code = start(app)
    page = browser(app).post(f"/class/{code}/join", data={"nickname": nickname})
    assert page.status_code == 422
    assert message in texts(page.text, "error-message")[0]
    assert 'aria-invalid="true"' in page.text and 'id="nickname-error"' in page.text
    assert "<b>Ana" not in page.text  # what was typed comes back escaped
    assert app.state.classes.student_count(code) == 0


def test_a_nickname_taken_in_the_class_is_refused_next_to_its_field(app):
    _, code = start(app)
    join(app, code, "Ana Lima")
    for typed in ("Ana Lima", "  ana   LIMA ", "ANA LIMA"):
        page = browser(app).post(f"/class/{code}/join", data={"nickname": typed})
        assert page.status_code == 409
        message = texts(page.text, "error-message")[0]
        assert "Someone in this class already has the nickname" in message
        assert 'aria-invalid="true"' in page.text and 'id="nickname-error"' in page.text
        assert f'value="{typed}"' in page.text  # what was typed is kept
    assert [s.nickname for s in app.state.classes.students(code)] == ["Ana Lima"]
    join(app, code, "Ana Lima 2")  # another name is fine, and so is the same in another class
    _, other = start(app)
    join(app, other, "ana lima")
    student = browser(app)
    student.cookies.set("lang", "pt_BR")
    page = student.post(f"/class/{code}/join", data={"nickname": "ANA LIMA"})
    assert page.status_code == 409
    assert "Alguém nesta turma já tem o apelido “ANA LIMA”" in texts(page.text, "error-message")[0]


def test_a_refused_nickname_takes_no_place_and_a_full_class_frees_its_name(app):
    _, code = start(app)
    join(app, code, "S0")
    for _ in range(6):  # the class holds 5: refused nicknames do not fill it
        assert browser(app).post(f"/class/{code}/join", data={"nickname": "s0"}).status_code == 409
    for n in range(1, 5):
        join(app, code, f"S{n}")
    assert browser(app).post(f"/class/{code}/join", data={"nickname": "Late"}).status_code == 409
    assert app.state.store.get(f"class:{code}:nick:{digest('late')[:24]}") is None  # not kept
    app.state.classes.end(code)
    assert not app.state.store.zrange(f"class:{code}:nicks")


def test_two_students_sending_one_nickname_at_once_get_one_place(app):
    _, code = start(app)

    def send(_):
        return browser(app).post(f"/class/{code}/join", data={"nickname": "Ana"}).status_code

    with ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(send, range(8)))
    assert sorted(codes) == [303] + [409] * 7
    assert [s.nickname for s in app.state.classes.students(code)] == ["Ana"]


def test_an_unknown_code_is_a_404_next_to_the_code_box(app):
    page = browser(app).get("/class?code=zzzz99")
    assert page.status_code == 404
    assert "There is no class with the code zzzz99" in texts(page.text, "error-message")[0]
    assert browser(app).post("/class/ZZZZ99/join", data={"nickname": "Ana"}).status_code == 404


def test_a_typed_code_is_read_as_the_projector_shows_it(app):
    _, code = start(app)
    typed = f"{code[:3].lower()} {code[3:].lower()}"
    response = browser(app).get("/class", params={"code": typed})
    assert response.status_code == 303 and response.headers["location"] == f"/class/{code}"


def test_a_full_class_says_so(app):
    _, code = start(app)
    for n in range(5):
        join(app, code, f"S{n}")
    page = browser(app).post(f"/class/{code}/join", data={"nickname": "Late"})
    assert page.status_code == 409
    assert "This class is full: it has 5 students" in texts(page.text, "error-message")[0]


def test_a_student_gets_a_run_owner_at_join_so_their_runs_are_theirs(app):
    _, code = start(app)
    student = join(app, code)
    token = student.cookies["cnnp_runs"]
    (kept,) = app.state.classes.students(code)
    assert kept.owner == digest(token) and kept.nickname == "Ana"


# --- following -----------------------------------------------------------------------------------


def test_late_joiners_land_on_the_teachers_view_unless_they_broke_away(app):
    teacher, code = start(app)
    student = join(app, code)
    waiting = student.get(f"/class/{code}")
    assert waiting.status_code == 200 and "Waiting for the teacher" in waiting.text
    assert (
        teacher.post(f"/class/{code}/view", data={"url": "/filters?f=sobel_y"}).status_code == 204
    )
    assert student.get(f"/class/{code}").headers["location"] == "/filters?f=sobel_y"
    late = join(app, code, "Late")
    assert late.get(f"/class/{code}").headers["location"] == "/filters?f=sobel_y"
    bar = late.post(f"/class/{code}/away", headers={"HX-Request": "true"})
    assert 'data-following="0"' in bar.text and "Follow again" in bar.text
    assert late.get(f"/class/{code}").status_code == 200  # exploring: not moved
    back = late.post(f"/class/{code}/follow")
    assert back.headers["location"] == "/filters?f=sobel_y"
    assert 'data-following="1"' in late.get("/filters?f=sobel_y").text


def test_the_class_bar_shows_on_lab_pages_for_class_members_only(app):
    teacher, code = start(app)
    student = join(app, code, "Ana")
    outsider = browser(app)
    teacher_page = teacher.get("/pooling").text
    assert "class-bar-teacher" in teacher_page and "htmx-ext-sse-2.2.4.min.js" not in teacher_page
    assert "/static/js/classroom.js" in teacher_page
    student_page = student.get("/pooling").text
    assert f'sse-connect="/class/{code}/events"' in student_page
    assert "htmx-ext-sse-2.2.4.min.js" in student_page and "Following the teacher" in student_page
    plain = outsider.get("/pooling").text
    assert "class-bar" not in plain and "classroom.js" not in plain


@pytest.mark.parametrize(
    "url",
    ["https://evil.example/filters", "//evil.example/filters", "/class/ABC234/board",
     "javascript:alert(1)", "/filters" + "?k=" + "x" * 9000, "filters", ""],
)  # fmt: skip
def test_only_a_labs_own_page_can_be_the_class_view(app, url):
    teacher, code = start(app)
    assert teacher.post(f"/class/{code}/view", data={"url": url}).status_code == 422
    assert app.state.classes.live(code).view == ""


def test_the_event_hub_sends_each_follower_the_view_and_question_changes(tmp_path):
    store = SQLiteStore(tmp_path, blob_budget=1 << 20)
    classes = Classes(store, ttl=60, max_students=10)
    record_, _ = classes.start()
    classes.set_view(record_, "/filters?f=sobel_x")

    async def scenario():
        hub = EventHub(classes, poll_seconds=0.02, max_connections=2)
        first, second = hub.subscribe(record_.code), hub.subscribe(record_.code)
        assert hub.subscribe(record_.code) is None  # bounded per class
        assert len(hub.channels) == 1 and hub.channels[record_.code].task is not None  # one poller
        for queue in (first, second):
            name, data = await asyncio.wait_for(queue.get(), 2)
            assert name == "view" and 'data-url="/filters?f=sobel_x"' in data
        classes.set_view(record_, "/filters?f=sobel_y&stride=2")
        for queue in (first, second):
            name, data = await asyncio.wait_for(queue.get(), 2)
            assert 'data-url="/filters?f=sobel_y&amp;stride=2"' in data  # escaped in HTML
        late = None
        hub.unsubscribe(record_.code, second)
        late = hub.subscribe(record_.code)  # a late joiner gets the current view at once
        assert "sobel_y" in late.get_nowait()[1]
        classes.ask(record_, Question(id="", kind="number", text="How many?"))
        assert (await asyncio.wait_for(first.get(), 2))[0] == "question"
        classes.end(record_.code)
        assert await asyncio.wait_for(first.get(), 2) == END_EVENT
        hub.unsubscribe(record_.code, first)
        hub.unsubscribe(record_.code, late)
        assert hub.channels == {}  # no followers: no poller

    # In a thread of its own: a browser test's Playwright may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()


# --- questions -----------------------------------------------------------------------------------


def naive_output(n: int, k: int, stride: int, pad: int, dilation: int) -> int:
    """Count the window positions one by one."""
    span = dilation * (k - 1) + 1
    return sum(1 for start in range(0, n + pad - span + 1) if start % stride == 0)


@pytest.mark.parametrize(
    ("query", "k"),
    [("f=sobel_x", 3), ("f=sobel_x&stride=2&padding=valid&dilation=2", 3),
     ("f=box_blur&size=7&stride=3&padding=number&pad=4", 7), ("f=sobel_x&padding=full", 3),
     ("f=box_blur&size=5&res=64&stride=2", 5)],
)  # fmt: skip
def test_the_filters_output_size_question_is_answered_by_counting_windows(app, query, k):
    from app.media.deps import MediaStore

    media = MediaStore(
        app.state.uploads, app.state.results, app.state.settings.static_dir / "samples"
    )
    found = {
        item.key: item.question for item in questions.ready_questions(f"/filters?{query}", media)
    }
    choice, number = found["output-size"], found["output-count"]
    params = QueryParams(query)
    side = int(params.get("res", 256))  # the astronaut is square
    padding = params.get("padding", "same")
    pad = {"valid": 0, "full": 2 * (k - 1), "number": 2 * int(params.get("pad", 0))}.get(padding)
    dilation, stride = int(params.get("dilation", 1)), int(params.get("stride", 1))
    if pad is None:  # same: what keeps the size at stride 1
        pad = dilation * (k - 1)
    expected = naive_output(side, k, stride, pad, dilation)
    right = choice.options[int(choice.answer)]["params"]
    assert (right["h"], right["w"]) == (expected, expected)
    assert number.answer == expected * expected
    assert len(choice.options) == 4 and len({str(o) for o in choice.options}) == 4


def gd_first_step_within(surface, start, lr: float, eps: float, horizon: int) -> int | None:
    x = np.array(start, dtype=np.float64)
    minima = np.array(surface.minima, dtype=np.float64)
    for step in range(1, horizon + 1):
        gx, gy = surface.gradient(x[0], x[1])
        x = x - lr * np.array([gx, gy], dtype=np.float64)
        if (np.sum((minima - x) ** 2, axis=1) <= eps * eps).any():
            return step
    return None


def test_the_optimizers_question_is_answered_by_racing_them(app):
    query = "surface=bowl&o1=gd&lr1=0.1&o2=gd&lr2=0.01"
    state = OptFields.parse(QueryParams(query))
    reached = dict(questions.first_to_minimum(state))
    surface = make_surface("bowl", kappa=10.0, angle=30.0)
    for slot, lr in ((1, 0.1), (2, 0.01)):
        assert reached[slot] == gd_first_step_within(
            surface, (state.x0, state.y0), lr, state.eps, questions.RACE_HORIZON
        )
    (item,) = questions.ready_questions(f"/optimizers?{query}", None)
    assert reached[1] < reached[2] and item.question.answer == 0  # the larger step wins here


def naive_pooled(n: int, k: int, stride: int, pad: int) -> int:
    """Count the windows that fit, one by one."""
    return sum(1 for start in range(0, n + 2 * pad - k + 1, stride))


@pytest.mark.parametrize(
    ("query", "side", "k", "stride", "pad"),
    [("", 64, 2, 2, 0), ("psize=3&pstride=2&ppad=1", 64, 3, 2, 1),
     ("psize=5&pres=128", 128, 5, 5, 0), ("from=filters&f=sobel_x&stride=2&psize=2", 128, 2, 2, 0)],
)  # fmt: skip
def test_the_pooled_size_question_is_answered_by_counting_windows(app, query, side, k, stride, pad):
    from app.media.deps import MediaStore

    samples = app.state.settings.static_dir / "samples"
    media = MediaStore(app.state.uploads, app.state.results, samples)
    (item,) = questions.ready_questions(f"/pooling?{query}", media)
    right = item.question.options[int(item.question.answer)]["params"]
    expected = naive_pooled(side, k, stride, pad)  # the astronaut is square
    assert (right["h"], right["w"]) == (expected, expected)


def test_a_page_that_is_no_lab_view_or_a_broken_view_offers_none(app):
    assert questions.ready_questions("/class", None) == []
    assert questions.ready_questions("/losses?yhat=99", None) == []
    assert questions.ready_questions("/filters?stride=0", None) == []
    assert questions.ready_questions("/filters/image.png", None) == []


def test_a_question_gets_answers_once_each_and_a_histogram(app):
    teacher, code = start(app)
    teacher.post(f"/class/{code}/view", data={"url": "/filters?f=sobel_x"})
    asked = teacher.post(f"/class/{code}/questions", data={"ready": "output-size"})
    question_id = asked.headers["location"].rsplit("/", 1)[1]
    question = app.state.classes.question(code, question_id)
    right = int(question.answer)
    students = [join(app, code, f"S{n}") for n in range(3)]
    picks = [right, right, (right + 1) % 4]
    for student, pick in zip(students, picks, strict=True):
        box = student.get(f"/class/{code}/question")
        assert "what is its size" in box.text and box.text.count('type="radio"') == 4
        sent = student.post(f"/class/{code}/answer", headers={"HX-Request": "true"},
                            data={"question": question_id, "answer": str(pick)})  # fmt: skip
        assert sent.status_code == 200 and "Your answer:" in sent.text
    again = students[0].post(f"/class/{code}/answer", headers={"HX-Request": "true"},
                             data={"question": question_id, "answer": "0"})  # fmt: skip
    assert again.status_code == 409 and "already answered" in again.text
    results = teacher.get(f"/class/{code}/questions/{question_id}")
    counts = [int(n) for n in re.findall(r'class="bar-count">(\d+)<', results.text)]
    assert sum(counts) == 3 and counts[right] == 2 and counts[(right + 1) % 4] == 1
    assert "3 answers" in results.text and "✓" not in results.text
    teacher.post(f"/class/{code}/questions/{question_id}/reveal")
    assert "✓" in teacher.get(f"/class/{code}/questions/{question_id}").text
    shown = students[2].get(f"/class/{code}/question")
    assert "The answer: 256 × 256" in shown.text and "Your answer:" in shown.text
    assert "You were right!" in students[0].get(f"/class/{code}/question").text


def test_a_teachers_own_question_with_mistakes_next_to_its_fields(app):
    teacher, code = start(app)
    page = teacher.post(f"/class/{code}/questions", data={"text": "", "options": "only one"})
    assert page.status_code == 400
    assert 'id="q-text-error"' in page.text and 'id="q-options-error"' in page.text
    assert "only one" in page.text  # what was typed stays
    sent = teacher.post(
        f"/class/{code}/questions",
        data={"text": "<i>Which</i> is bigger?", "options": "<b>3×3</b>\n5×5\n", "right": "2"},
    )
    assert sent.status_code == 303
    student = join(app, code)
    box = student.get(f"/class/{code}/question").text
    assert "&lt;i&gt;Which&lt;/i&gt;" in box and "&lt;b&gt;3×3&lt;/b&gt;" in box
    assert "<i>" not in box and "<b>3" not in box


def test_a_number_question_in_portuguese_counts_and_bins_the_answers(app):
    question = Question(id="q", kind="number", text="?", answer=2.5)
    found = views.bars(question, [2.5, 2.5, 3.0], [], Numbers("pt_BR"))
    assert [(b.label, b.count, b.right) for b in found] == [("2,5", 2, True), ("3", 1, False)]
    many = views.bars(question, [float(v) for v in range(20)], [], Numbers("en"))
    assert len(many) == views.HISTOGRAM_BARS and sum(b.count for b in many) == 20


# --- the class board -----------------------------------------------------------------------------


def put_run(app, owner: str, created: float, accuracy: float, query: str) -> Run:
    store = app.state.store
    epoch = {"epoch": 1, "val_accuracy": accuracy, "train_accuracy": accuracy, "train_loss": 1.0}
    run = Run(f"r{store.incr('test-ids'):05d}", {"kind": "image", "query": query}, created,
              seq=store.incr("run-seq"), status="finished", owner=owner, finished=time.time(),
              test_accuracy=accuracy, epochs=[epoch])  # fmt: skip
    record.save(store, run)
    store.zadd("runs", run.id, run.created)
    store.zadd("finished", run.id, run.finished)
    store.zadd(f"owner:{owner}", run.id, run.created)
    return run


def test_the_board_shows_each_students_runs_since_joining_ranked(app):
    teacher, code = start(app)
    join(app, code, "Ana"), join(app, code, "Bia")
    owners = {s.nickname: s.owner for s in app.state.classes.students(code)}
    before = put_run(app, owners["Ana"], time.time() - 3600, 0.99, "preset=lenet")
    put_run(app, owners["Ana"], time.time(), 0.71, "preset=lenet&epochs=3")
    put_run(app, owners["Bia"], time.time(), 0.84, "preset=lenet&lr=0.01&optimizer=sgd")
    board = teacher.get(f"/class/{code}/board")
    assert board.status_code == 200
    assert texts(board.text, "class-rank-name") == ["Bia", "Ana"]
    assert texts(board.text, "class-rank-accuracy") == ["84%", "71%"]
    assert f"#{before.seq}" not in texts(board.text, "class-rank-run")  # before joining
    rows = re.findall(r"<tr>(.*?)</tr>", board.text, re.S)[1:]
    assert any("Ana" in row and "Epochs 3" in row for row in rows)
    assert board.text.count("<polyline") == 2  # the two runs' curves, overlaid
    assert "/train/compare?run=" in board.text
    teacher.cookies.set("lang", "pt_BR")
    portuguese = teacher.get(f"/class/{code}/board")
    assert texts(portuguese.text, "class-rank-accuracy") == [
        "84 %",
        "71 %",
    ]  # a no-break space, folded by texts()


def test_the_board_names_each_choice_as_the_form_does_in_the_pages_language(app):
    teacher, code = start(app)
    join(app, code, "Ana")
    owner = app.state.classes.students(code)[0].owner
    query = "preset=lenet&optimizer=momentum&aug=shift&aug=scale&bn=1"
    put_run(app, owner, time.time(), 0.9, query)
    expected = {
        "en": ["Optimizer SGD with momentum", "Augmentation shift + zoom", "Batch norm on"],
        "pt_BR": ["Otimizador SGD com momentum", "Aumento de dados deslocamento + zoom",
                  "Normalização em lote (batch norm) ligada"],
    }  # fmt: skip
    for lang, shown in expected.items():
        teacher.cookies.set("lang", lang)
        board = teacher.get(f"/class/{code}/board")
        row = next(r for r in re.findall(r"<tr>(.*?)</tr>", board.text, re.S) if "Ana" in r)
        cells = [" ".join(c.split()) for c in re.findall(r"<td>(.*?)</td>", row, re.S)]
        changes = next(c for c in cells if "momentum" in c)
        for text in shown:
            assert text in changes, (lang, changes)
        # The URL's own values are not what a student picked from the menu.
        for raw in ("Optimizer momentum", "Otimizador momentum", "scale", "True", "['"):
            assert raw not in changes, (lang, changes)


# --- who may do what -----------------------------------------------------------------------------


def test_teacher_actions_refuse_students_and_strangers_with_a_403(app):
    teacher, code = start(app)
    teacher.post(f"/class/{code}/view", data={"url": "/filters"})
    asked = teacher.post(f"/class/{code}/questions", data={"text": "?", "options": "a\nb"})
    question_id = asked.headers["location"].rsplit("/", 1)[1]
    student, stranger = join(app, code), browser(app)
    forged = browser(app)
    forged.cookies.set("cnnp_teach", f"{code}.{'0' * 32}")
    actions = [
        ("get", f"/class/{code}/teach", {}), ("get", f"/class/{code}/count", {}),
        ("get", f"/class/{code}/board", {}), ("get", f"/class/{code}/ask", {}),
        ("post", f"/class/{code}/view", {"url": "/pooling"}),
        ("post", f"/class/{code}/questions", {"text": "?", "options": "a\nb"}),
        ("get", f"/class/{code}/questions/{question_id}", {}),
        ("post", f"/class/{code}/questions/{question_id}/reveal", {}),
        ("post", f"/class/{code}/questions/close", {}), ("post", f"/class/{code}/end", {}),
    ]  # fmt: skip
    for client in (student, stranger, forged):
        for method, url, data in actions:
            response = getattr(client, method)(url, **({"data": data} if method == "post" else {}))
            assert response.status_code == 403, (method, url)
            assert "Only the teacher of this class" in response.text
    assert app.state.classes.get(code) is not None
    assert app.state.classes.live(code).view == "/filters"


def test_student_actions_need_a_student_of_this_class(app):
    _, code = start(app)
    _, other = start(app)
    outsider = join(app, other)  # a student of another class
    for url in (f"/class/{code}/question", f"/class/{code}/events"):
        assert outsider.get(url).status_code == 403
    assert outsider.post(f"/class/{code}/answer", data={"answer": "0"}).status_code == 403
    assert outsider.post(f"/class/{code}/away").status_code == 403


@pytest.mark.parametrize(
    ("text", "locale", "value"),
    [("16384", "en", 16384.0), ("16.384", "pt_BR", 16384.0), ("16.384", "en", 16.384),
     ("0,5", "pt_BR", 0.5), ("2.5", "pt_BR", 2.5), ("-1.000", "pt_BR", -1000.0), ("x", "en", None),
     ("44,426", "en", 44426.0), ("1,234,567", "en", 1234567.0), ("0,5", "en", 0.5),
     ("44,426", "pt_BR", 44.426)],
)  # fmt: skip
def test_a_typed_answer_is_read_as_the_pages_language_writes_numbers(text, locale, value):
    from app.classroom.question_routes import parse_answer

    assert parse_answer(text, locale) == value
