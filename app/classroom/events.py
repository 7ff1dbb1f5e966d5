"""Server-sent events to a class's followers, from whichever web process holds their connection.

The store has no pub/sub, so each web process runs ONE poller per class while it has followers
of that class connected: every `poll_seconds` it reads the class's live state (one store read)
and, when the view's or the question's version has moved, puts an event on each of its own
followers' queues. A process with no followers of a class reads nothing for it. A new
follower gets the last view the poller saw at once (a late joiner lands on the current view).

Bounded: at most `max_connections` streams per class in one process; a keep-alive comment every
`keepalive_seconds`; every stream ends when its class ends or expires.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass, field
from html import escape

from starlette.concurrency import run_in_threadpool

from app.classroom.classes import Classes, Live

log = logging.getLogger(__name__)
QUEUE_SIZE = 16  # events waiting for one slow follower; past it the oldest are dropped


@dataclass
class Channel:
    """One class's followers in this process, and its poller."""

    queues: set[asyncio.Queue] = field(default_factory=set)
    task: asyncio.Task | None = None
    last: Live | None = None
    ended: bool = False


def view_event(live: Live) -> tuple[str, str]:
    url, version = escape(live.view), live.view_version
    return "view", f'<span data-url="{url}" data-version="{version}"></span>'


def question_event(live: Live) -> tuple[str, str]:
    return "question", f'<span data-question="{escape(live.question)}"></span>'


END_EVENT = ("end", "ended")  # an event with no data is never dispatched (the SSE spec)


def put(queue: asyncio.Queue, event: tuple[str, str]) -> None:
    if queue.full():  # a follower that reads nothing must not hold the others' memory
        with contextlib.suppress(asyncio.QueueEmpty):
            queue.get_nowait()
    queue.put_nowait(event)


class EventHub:
    def __init__(self, classes: Classes, poll_seconds: float, max_connections: int) -> None:
        self.classes = classes
        self.poll_seconds = poll_seconds
        self.max_connections = max_connections
        self.channels: dict[str, Channel] = {}

    def connections(self, code: str) -> int:
        channel = self.channels.get(code)
        return len(channel.queues) if channel else 0

    def subscribe(self, code: str) -> asyncio.Queue | None:
        """A queue of this class's events, or None when the class has as many streams open in
        this process as it may."""
        channel = self.channels.setdefault(code, Channel())
        if len(channel.queues) >= self.max_connections:
            return None
        queue: asyncio.Queue = asyncio.Queue(QUEUE_SIZE)
        channel.queues.add(queue)
        if channel.ended:
            put(queue, END_EVENT)
        elif channel.last is not None and channel.last.view:
            put(queue, view_event(channel.last))
        if channel.task is None:
            channel.task = asyncio.get_running_loop().create_task(self._poll(code, channel))
        return queue

    def unsubscribe(self, code: str, queue: asyncio.Queue) -> None:
        channel = self.channels.get(code)
        if channel is None:
            return
        channel.queues.discard(queue)
        if not channel.queues:
            if channel.task is not None:
                channel.task.cancel()
            del self.channels[code]

    async def _poll(self, code: str, channel: Channel) -> None:
        try:
            while channel.queues:
                live = await run_in_threadpool(self._read, code)
                if live is None:
                    channel.ended = True
                    for queue in list(channel.queues):
                        put(queue, END_EVENT)
                    return
                last, channel.last = channel.last, live
                if live.view and (last is None or live.view_version != last.view_version):
                    self._send(channel, view_event(live))
                if last is not None and live.question_version != last.question_version:
                    self._send(channel, question_event(live))
                await asyncio.sleep(self.poll_seconds)
        except asyncio.CancelledError:
            raise
        except Exception:  # a store that stopped answering: the streams end, browsers retry
            log.exception("The poller of class %s stopped", code)
            for queue in list(channel.queues):
                put(queue, ("retry", ""))
        finally:
            channel.task = None

    def _read(self, code: str) -> Live | None:
        return self.classes.live(code) if self.classes.get(code) is not None else None

    @staticmethod
    def _send(channel: Channel, event: tuple[str, str]) -> None:
        for queue in list(channel.queues):
            put(queue, event)

    def close(self) -> None:
        """End every stream (the app is shutting down)."""
        for channel in list(self.channels.values()):
            for queue in list(channel.queues):
                put(queue, END_EVENT)
            if channel.task is not None:
                channel.task.cancel()


def sse(name: str, data: str) -> str:
    lines = data.splitlines() or [""]
    return f"event: {name}\n" + "".join(f"data: {line}\n" for line in lines) + "\n"


async def stream(hub: EventHub, code: str, queue: asyncio.Queue, keepalive: float):
    """The text/event-stream of one follower: its queue's events, a keep-alive comment when
    idle, to the class's end (or the browser's leaving: Starlette then cancels it)."""
    try:
        yield "retry: 2000\n\n"
        while True:
            try:
                name, data = await asyncio.wait_for(queue.get(), keepalive)
            except TimeoutError:
                yield ": keep-alive\n\n"
                continue
            if name == "retry":  # the poller failed: end this stream, the browser reconnects
                return
            yield sse(name, data)
            if name == "end":
                return
    finally:
        hub.unsubscribe(code, queue)
