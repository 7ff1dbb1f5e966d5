"""A class under hostile use: markup everywhere a student or teacher types, forged cookies and
ids, answers that are not answers, too many streams, and 200 students joining at the same moment
on a real server."""

from __future__ import annotations

import asyncio
import http.client
import re
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import urlencode, urlsplit

import pytest
from starlette.testclient import TestClient

from app.config import Settings
from app.main import create_app
from tests.hostile.conftest import XSS, assert_escaped
from tests.hostile.server import server_process

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


@pytest.fixture
def app(tmp_path):
    return create_app(Settings(data_dir=tmp_path, run_workers=0, max_class_connections=3))


def start(app) -> tuple[TestClient, str]:
    teacher = TestClient(app, follow_redirects=False)
    code = teacher.post("/class").headers["location"].split("/")[2]
    return teacher, code


def join(app, code: str, nickname: str) -> TestClient:
    student = TestClient(app, follow_redirects=False)
    assert student.post(f"/class/{code}/join", data={"nickname": nickname}).status_code == 303
    return student


@pytest.mark.parametrize("probe", XSS)
def test_markup_in_a_nickname_is_refused_and_shown_back_escaped(app, probe):
    _, code = start(app)
    page = TestClient(app).post(f"/class/{code}/join", data={"nickname": probe})
    assert page.status_code == 422 and "plain text" in page.text
    assert_escaped(page.text)


@pytest.mark.parametrize("probe", XSS)
def test_markup_in_a_teachers_question_is_data_everywhere(app, probe):
    teacher, code = start(app)
    student = join(app, code, "Ana")
    asked = teacher.post(f"/class/{code}/questions",
                         data={"text": probe, "options": f"{probe}\nplain"})  # fmt: skip
    question_id = asked.headers["location"].rsplit("/", 1)[1]
    for page in (student.get(f"/class/{code}/question").text,
                 teacher.get(f"/class/{code}/questions/{question_id}").text):  # fmt: skip
        assert_escaped(page)
    student.post(f"/class/{code}/answer", data={"question": question_id, "answer": "0"},
                 headers={"HX-Request": "true"})  # fmt: skip
    teacher.post(f"/class/{code}/questions/{question_id}/reveal")
    assert_escaped(teacher.get(f"/class/{code}/questions/{question_id}").text)


@pytest.mark.parametrize(
    "cookie",
    ["", "ABC", "ABCDEF.", "ABCDEF." + "z" * 32, "../../etc." + "0" * 32, "<b>.x", "A" * 5000],
)
def test_forged_class_cookies_are_no_one(app, cookie):
    _, code = start(app)
    client = TestClient(app, follow_redirects=False)
    client.cookies.set("cnnp_teach", cookie)
    client.cookies.set("cnnp_class", cookie)
    assert client.get("/filters").status_code == 200  # a plain page, no class bar
    assert "class-bar" not in client.get("/pooling").text
    assert client.get(f"/class/{code}/board").status_code == 403
    assert client.get(f"/class/{code}/question").status_code == 403


@pytest.mark.parametrize("answer", ["nan", "inf", "-inf", "1e999", "-1", "4", "0.5", "<b>", ""])
def test_an_answer_that_is_not_one_of_the_options_gets_a_400(app, answer):
    teacher, code = start(app)
    student = join(app, code, "Ana")
    asked = teacher.post(f"/class/{code}/questions", data={"text": "?", "options": "a\nb\nc\nd"})
    question_id = asked.headers["location"].rsplit("/", 1)[1]
    sent = student.post(f"/class/{code}/answer", headers={"HX-Request": "true"},
                        data={"question": question_id, "answer": answer})  # fmt: skip
    assert sent.status_code == 400 and "Choose one of the answers" in sent.text
    assert app.state.classes.answers(code, app.state.classes.question(code, question_id)) == {}


@pytest.mark.parametrize("question_id", ["../../x", "a" * 200, "", "<b>", "deadbeef"])
def test_an_answer_to_a_question_that_is_not_open_is_a_409(app, question_id):
    _, code = start(app)
    student = join(app, code, "Ana")
    sent = student.post(f"/class/{code}/answer", headers={"HX-Request": "true"},
                        data={"question": question_id, "answer": "0"})  # fmt: skip
    assert sent.status_code == 409 and "closed" in sent.text


@pytest.mark.parametrize("code", ["..x..", "abcdef", "A" * 300, "<b>", "0O1I00"])
def test_odd_codes_are_a_404_that_says_why(app, code):
    client = TestClient(app, follow_redirects=False)
    for response in (client.get(f"/class/{code}"),
                     client.post(f"/class/{code}/join", data={"nickname": "Ana"})):  # fmt: skip
        assert response.status_code == 404, code
        assert "There is no class with the code" in response.text
        assert_escaped(response.text)


def test_a_class_has_a_bounded_number_of_streams_per_process(app):
    _, code = start(app)
    student = join(app, code, "Ana")
    hub = app.state.class_events

    async def scenario():
        queues = [hub.subscribe(code) for _ in range(3)]
        assert all(q is not None for q in queues) and hub.subscribe(code) is None
        for queue in queues:
            hub.unsubscribe(code, queue)

    # In a thread of its own: a browser test's Playwright may hold this thread's event loop.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, scenario()).result()
    # Through HTTP: past the bound, a 503 that says what to do.
    hub.max_connections = 0
    response = student.get(f"/class/{code}/events")
    assert response.status_code == 503 and "other tabs" in response.text


def post(base: str, path: str, fields: dict, cookie: str = "") -> http.client.HTTPResponse:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {**FORM, **({"Cookie": cookie} if cookie else {})}
    connection.request("POST", path, urlencode(fields), headers)
    response = connection.getresponse()
    response.read()
    connection.close()
    return response


def test_two_hundred_students_join_at_once_and_the_next_is_told_the_class_is_full():
    with server_process(run_workers=0, max_class_students=200) as (base, _):
        start = post(base, "/class", {})
        code = start.getheader("location").split("/")[2]
        barrier = threading.Barrier(50)

        def join_one(n: int) -> int:
            if n < 50:
                barrier.wait()  # the first fifty at the very same moment
            return post(base, f"/class/{code}/join", {"nickname": f"Student {n}"}).status

        with ThreadPoolExecutor(50) as pool:
            statuses = list(pool.map(join_one, range(200)))
        assert statuses == [303] * 200
        late = post(base, f"/class/{code}/join", {"nickname": "Late"})
        assert late.status == 409
        teacher = start.getheader("set-cookie").split(";")[0]
        parts = urlsplit(base)
        connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
        connection.request("GET", f"/class/{code}/count", headers={"Cookie": teacher})
        count = connection.getresponse().read().decode()
        connection.close()
        assert re.search(r'class-joined-number">200<', count)


def test_classes_and_questions_are_bounded(tmp_path):
    app = create_app(Settings(data_dir=tmp_path, run_workers=0, max_classes=2,
                              max_class_questions=2))  # fmt: skip
    teacher, code = start(app)
    start(app)
    refused = TestClient(app, follow_redirects=False).post("/class")
    assert refused.status_code == 503 and "already holds 2 classes" in refused.text
    for _ in range(2):
        sent = teacher.post(f"/class/{code}/questions", data={"text": "?", "options": "a\nb"})
        assert sent.status_code == 303
    third = teacher.post(f"/class/{code}/questions", data={"text": "?", "options": "a\nb"})
    assert third.status_code == 409 and "at most 2 questions" in third.text
    teacher.post(f"/class/{code}/end")
    assert TestClient(app, follow_redirects=False).post("/class").status_code == 303
