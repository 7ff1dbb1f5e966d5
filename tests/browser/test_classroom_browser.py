"""A class in real browsers: one teacher and three students, each in a browser context of its own
(their own cookies), on one server."""

import re

import pytest
from playwright.sync_api import expect

from tests.browser.conftest import SCREENSHOTS

pytestmark = pytest.mark.browser
FOLLOW = 2_000  # ms: every following student is on the teacher's view by then
KERNEL_A = "/filters?f=box_blur"
KERNEL_B = "/filters?f=sobel_y"


def new_page(browser, width=1280, height=800, locale="en-US"):
    context = browser.new_context(viewport={"width": width, "height": height}, locale=locale)
    page = context.new_page()
    page.set_default_timeout(15_000)
    refused = []
    page.on("console", lambda message: refused.append(message.text)
            if "Content Security Policy" in message.text else None)  # fmt: skip
    page.csp_refusals = refused
    return page


def start_class(page, live_server) -> str:
    page.goto(f"{live_server}/class")
    page.get_by_role("button", name="Start a class").click()
    page.wait_for_url(re.compile(r"/class/[A-Z2-9]{6}/teach$"))
    return page.url.split("/")[-2]


def join(page, live_server, code: str, nickname: str) -> None:
    page.goto(f"{live_server}/class")
    page.get_by_label("Class code").fill(code.lower())  # as a student may type it
    page.get_by_role("button", name="Join", exact=True).click()
    page.get_by_label("Nickname").fill(nickname)
    page.get_by_role("button", name="Join the class").click()


def follows(page, url_end: str, timeout: int = FOLLOW) -> None:
    """The student's page has moved to the view (its navigation committed) within `timeout`."""
    page.wait_for_url(re.compile(re.escape(url_end) + "$"), timeout=timeout, wait_until="commit")


def path_of(page) -> str:
    url = page.url.split("://", 1)[1]
    return url[url.index("/") :]


def test_a_class_follows_its_teacher_answers_and_shows_its_runs(browser, live_server):
    teacher = new_page(browser, 1280, 720)
    code = start_class(teacher, live_server)
    expect(teacher.locator(".class-code")).to_have_text(code)
    assert teacher.locator(".class-qr svg path").count() >= 1  # the QR code, drawn here
    assert teacher.locator(".class-url").inner_text().endswith(f"/class/{code}")
    teacher.screenshot(path=str(SCREENSHOTS / "classroom-projector-1280-en.png"))

    students = [new_page(browser) for _ in range(3)]
    for student, nickname in zip(students, ("Ana", "Bruno", "Caio"), strict=True):
        join(student, live_server, code, nickname)
        expect(student.get_by_text("Waiting for the teacher to open a lab")).to_be_visible()
        expect(student.locator(".class-status")).to_have_text("Following the teacher")
    expect(teacher.locator("#class-count .class-joined-number")).to_have_text("3")

    # The teacher opens a lab: every follower moves there.
    teacher.goto(f"{live_server}{KERNEL_A}")
    expect(teacher.locator(".class-bar-teacher")).to_contain_text("3 students")
    for student in students:
        follows(student, KERNEL_A, FOLLOW + 3000)  # the first view: the stream may be opening

    # The teacher changes the kernel in the lab (htmx pushes the new URL): they all follow.
    teacher.get_by_label("Box blur").uncheck()
    teacher.get_by_label("Sobel y").check()
    teacher.wait_for_url(re.compile(r"f=sobel_y"))
    wanted = path_of(teacher)
    for student in students:
        follows(student, wanted)

    # One breaks away and explores; the others keep following; one click brings it back.
    away = students[0]
    away.get_by_role("button", name="Break away").click()
    expect(away.locator(".class-status")).to_have_text("Exploring on your own")
    away.goto(f"{live_server}/pooling")
    teacher.goto(f"{live_server}{KERNEL_A}")
    for student in students[1:]:
        follows(student, KERNEL_A)
    away.wait_for_timeout(800)
    assert "/pooling" in away.url  # it stayed where it went
    away.get_by_role("button", name="Follow again").click()
    expect(away).to_have_url(re.compile(re.escape(KERNEL_A) + "$"))
    expect(away.locator(".class-status")).to_have_text("Following the teacher")

    # A question about the view: three answers, a histogram, then the reveal.
    teacher.get_by_role("link", name="Ask the class about this view").click()
    ready = teacher.locator(".class-ready-question").first
    expect(ready).to_contain_text("what is its size")
    ready.get_by_role("button", name="Ask this").click()
    teacher.wait_for_url(re.compile(r"/questions/\w+$"))
    options = [s.text_content() for s in teacher.locator(".bar-label").all()]
    assert len(options) >= 2
    for index, student in enumerate(students):
        box = student.locator("#class-question")
        expect(box).to_contain_text("what is its size", timeout=FOLLOW)
        box.locator(".class-option input").nth(index % 2).check()
        box.get_by_role("button", name="Answer").click()
        expect(box).to_contain_text("Your answer:")
    expect(teacher.locator(".class-answer-count")).to_contain_text("3 answers")
    counts = [int(t.text_content()) for t in teacher.locator(".bar-count").all()]
    assert sum(counts) == 3 and counts[0] == 2 and counts[1] == 1
    teacher.screenshot(path=str(SCREENSHOTS / "classroom-histogram-en.png"))
    teacher.get_by_role("button", name="Reveal the answer").click()
    expect(teacher.locator(".class-answer")).to_contain_text("The answer: 256 × 256")
    for student in students:
        expect(student.locator("#class-question .class-answer")).to_contain_text(
            "The answer: 256 × 256", timeout=FOLLOW
        )

    # A student's finished run is on the board, by nickname, with its accuracy.
    trainer = students[1]
    trainer.get_by_role("button", name="Break away").click()
    # Only once broken away: a page still following is sent the teacher's view as it connects.
    expect(trainer.locator(".class-status")).to_have_text("Exploring on your own")
    trainer.goto(f"{live_server}/train?dataset=digits&size=16&preset=lenet&epochs=1")
    trainer.get_by_role("button", name="Train", exact=True).click()
    trainer.wait_for_url(re.compile(r"/train/runs/\w+$"))
    trainer.get_by_test_id("test-accuracy").wait_for(timeout=90_000)
    teacher.goto(f"{live_server}/class/{code}/board")
    row = teacher.locator(".class-runs tbody tr").first
    expect(row).to_contain_text("Bruno")
    expect(row).to_contain_text("Epochs 1")
    expect(teacher.locator(".class-ranking li").first).to_contain_text("Bruno")
    assert teacher.locator(".class-overlay polyline").count() == 1
    teacher.screenshot(path=str(SCREENSHOTS / "classroom-board-en.png"))

    # The teacher opens the run on the projector: the followers go there too.
    row.get_by_role("link", name="Look inside").click()
    teacher.wait_for_url(re.compile(r"/train/runs/\w+/inside$"))
    follows(students[2], "/inside")

    # The teacher ends the class: the students' bars say so.
    teacher.goto(f"{live_server}/class/{code}/teach")
    teacher.get_by_role("button", name="End the class now").click()
    expect(students[2].locator(".class-bar")).to_contain_text("The class has ended")
    for page in (teacher, *students):
        assert not page.csp_refusals, page.csp_refusals
        page.context.close()


def test_students_on_another_web_process_follow_over_redis(browser, redis_url):
    """Two web processes on one Redis: the teacher's browser talks to the first, the students'
    to the second; the second's poller finds the teacher's view in Redis."""
    from tests.hostile.server import server_process

    with (server_process(redis_url=redis_url, run_workers=0) as (first, _),
          server_process(redis_url=redis_url, run_workers=0) as (second, _)):  # fmt: skip
        teacher = new_page(browser)
        code = start_class(teacher, first)
        students = [new_page(browser) for _ in range(3)]
        for student, nickname in zip(students, ("Ana", "Bruno", "Caio"), strict=True):
            join(student, second, code, nickname)
            expect(student.locator(".class-status")).to_have_text("Following the teacher")
        expect(teacher.locator("#class-count .class-joined-number")).to_have_text("3")
        teacher.goto(f"{first}{KERNEL_A}")
        for student in students:
            follows(student, KERNEL_A, FOLLOW + 3000)
            assert student.url.startswith(second)  # still on its own process
        teacher.get_by_label("Box blur").uncheck()
        teacher.get_by_label("Sobel y").check()
        teacher.wait_for_url(re.compile(r"f=sobel_y"))
        wanted = path_of(teacher)
        for student in students:
            follows(student, wanted)
        for page in (teacher, *students):
            assert not page.csp_refusals, page.csp_refusals
            page.context.close()
