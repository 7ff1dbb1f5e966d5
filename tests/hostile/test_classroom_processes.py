"""Following the teacher across web processes: two uvicorn processes on one Redis, the teacher on
one and the students on the other. The store has no pub/sub; each process's poller reads the
class's view from Redis, so a student's stream on process B carries the view the teacher set on
process A."""

from __future__ import annotations

import http.client
import re
from urllib.parse import urlencode, urlsplit

from tests.hostile.server import server_process

FORM = {"Content-Type": "application/x-www-form-urlencoded"}


def request(base: str, method: str, path: str, fields=None, cookie: str = ""):
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=30)
    headers = {**FORM, **({"Cookie": cookie} if cookie else {})}
    connection.request(method, path, urlencode(fields) if fields is not None else None, headers)
    response = connection.getresponse()
    body = response.read().decode()
    connection.close()
    return response, body


def cookie_of(response) -> str:
    return "; ".join(v.split(";")[0] for k, v in response.getheaders() if k.lower() == "set-cookie")


class EventStream:
    """A student's open /events stream, read event by event."""

    def __init__(self, base: str, path: str, cookie: str) -> None:
        parts = urlsplit(base)
        self.connection = http.client.HTTPConnection(parts.hostname, parts.port, timeout=10)
        self.connection.request("GET", path, headers={"Cookie": cookie,
                                                      "Accept": "text/event-stream"})  # fmt: skip
        self.response = self.connection.getresponse()
        assert self.response.status == 200
        assert self.response.getheader("content-type").startswith("text/event-stream")

    def next_event(self) -> tuple[str, str]:
        name, data = "", []
        while True:
            line = self.response.fp.readline().decode().rstrip("\n")
            if line.startswith("event: "):
                name = line[7:]
            elif line.startswith("data: "):
                data.append(line[6:])
            elif line == "" and name:
                return name, "\n".join(data)

    def close(self) -> None:
        self.connection.close()


def test_a_student_on_one_process_follows_a_teacher_on_another(redis_url):
    with (server_process(redis_url=redis_url, run_workers=0) as (first, _),
          server_process(redis_url=redis_url, run_workers=0) as (second, _)):  # fmt: skip
        started, _ = request(first, "POST", "/class", {})
        code = started.getheader("location").split("/")[2]
        teacher = cookie_of(started)
        students = []
        for n in range(3):  # each joins through the other process
            joined, _ = request(second, "POST", f"/class/{code}/join", {"nickname": f"S{n}"})
            assert joined.status == 303
            students.append(cookie_of(joined))
        streams = [EventStream(second, f"/class/{code}/events", c) for c in students]
        try:
            for view in ("/filters?f=sobel_x", "/filters?f=sobel_y&stride=2"):
                response, _ = request(first, "POST", f"/class/{code}/view", {"url": view}, teacher)
                assert response.status == 204
                for stream in streams:
                    name, data = stream.next_event()
                    assert name == "view"
                    assert (
                        re.search(r'data-url="([^"]*)"', data).group(1).replace("&amp;", "&")
                        == view
                    )
            # A question asked on process A reaches the streams on B, and its box shows it.
            asked, _ = request(first, "POST", f"/class/{code}/questions",
                               {"text": "Which?", "options": "a\nb"}, teacher)  # fmt: skip
            assert asked.status == 303
            for stream in streams:
                assert stream.next_event()[0] == "question"
            _, box = request(second, "GET", f"/class/{code}/question", cookie=students[0])
            assert "Which?" in box
            # The class ends on A: the streams on B end with it.
            request(first, "POST", f"/class/{code}/end", {}, teacher)
            for stream in streams:
                assert stream.next_event() == ("end", "ended")
        finally:
            for stream in streams:
                stream.close()
