"""A connection's writes of one event-loop turn leave as one; closing sends what is pending,
aborting drops it; and uvicorn serves through it as before: keep-alive, streamed bodies, HEAD,
``Connection: close``."""

from __future__ import annotations

import asyncio
import socket
import threading
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from api.coalesced_writes import (
    FLUSH_BYTES,
    PROTOCOL,
    CoalescedWrites,
    CoalescingHttpToolsProtocol,
)


class Recorder(asyncio.Transport):
    """The real transport's side: what reached it, and whether it was closed or aborted."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False
        self.aborted = False

    def write(self, data: Any) -> None:
        self.writes.append(bytes(data))

    def is_closing(self) -> bool:
        return self.closed or self.aborted

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True

    def get_write_buffer_size(self) -> int:
        return 0


def test_the_writes_of_one_turn_leave_together_at_its_end() -> None:
    async def scenario() -> list[list[bytes]]:
        real = Recorder()
        writes = CoalescedWrites(real, asyncio.get_running_loop())
        writes.write(b"HTTP/1.1 200 OK\r\n\r\n")
        writes.write(b"body")
        seen = [list(real.writes)]
        await asyncio.sleep(0)
        seen.append(list(real.writes))
        writes.write(b"next")
        await asyncio.sleep(0)
        seen.append(list(real.writes))
        return seen

    assert asyncio.run(scenario()) == [
        [],
        [b"HTTP/1.1 200 OK\r\n\r\nbody"],
        [b"HTTP/1.1 200 OK\r\n\r\nbody", b"next"],
    ]


def test_a_large_body_is_handed_over_at_once_so_that_backpressure_still_holds() -> None:
    """The real transport asks the protocol to pause from inside its ``write``: that must
    happen within the ``send`` that filled its buffer, not a turn later."""

    async def scenario() -> tuple[list[int], list[int]]:
        real = Recorder()
        writes = CoalescedWrites(real, asyncio.get_running_loop())
        writes.write(b"headers")
        writes.write(b"x" * (FLUSH_BYTES - 10))
        within_the_turn = [len(w) for w in real.writes]
        writes.write(b"tail")  # now past the limit: handed over within the turn
        after = [len(w) for w in real.writes]
        await asyncio.sleep(0)
        assert [len(w) for w in real.writes] == after  # and nothing left for the turn's end
        return within_the_turn, after

    within_the_turn, after = asyncio.run(scenario())
    assert within_the_turn == []  # not yet at the limit: waits for the turn's other writes
    assert after == [FLUSH_BYTES + 1]


def test_closing_sends_what_is_pending_and_aborting_drops_it() -> None:
    async def scenario() -> tuple[Recorder, Recorder, int]:
        closed, aborted = Recorder(), Recorder()
        loop = asyncio.get_running_loop()
        first, second = CoalescedWrites(closed, loop), CoalescedWrites(aborted, loop)
        first.write(b"last words")
        size = first.get_write_buffer_size()
        first.close()
        second.write(b"never sent")
        second.abort()
        await asyncio.sleep(0)
        return closed, aborted, size

    closed, aborted, size = asyncio.run(scenario())
    assert size == len(b"last words")
    assert (closed.writes, closed.closed) == ([b"last words"], True)
    assert (aborted.writes, aborted.aborted) == ([], True)


def test_nothing_is_written_to_a_transport_that_is_closing() -> None:
    async def scenario() -> list[bytes]:
        real = Recorder()
        writes = CoalescedWrites(real, asyncio.get_running_loop())
        writes.write(b"too late")
        real.closed = True  # the peer went away within the turn
        await asyncio.sleep(0)
        return real.writes

    assert asyncio.run(scenario()) == []


async def small(_request: Request) -> Response:
    return PlainTextResponse("x" * 300)


async def streamed(_request: Request) -> Response:
    async def chunks() -> Any:
        for number in range(64):
            yield bytes([65 + number % 26]) * 16_384

    return StreamingResponse(chunks(), media_type="application/octet-stream")


@pytest.fixture(scope="module")
def server() -> Iterator[str]:
    app = Starlette(routes=[Route("/small", small), Route("/streamed", streamed)])
    listening = socket.socket()
    listening.bind(("127.0.0.1", 0))
    port = listening.getsockname()[1]
    config = uvicorn.Config(app, http=PROTOCOL, log_level="warning", lifespan="off")
    running = uvicorn.Server(config)
    thread = threading.Thread(target=running.run, kwargs={"sockets": [listening]}, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{port}"
    for _ in range(100):
        if running.started:
            break
        threading.Event().wait(0.05)
    assert running.config.http_protocol_class is CoalescingHttpToolsProtocol
    yield base
    running.should_exit = True
    thread.join(timeout=10)
    listening.close()


def test_uvicorn_serves_through_it_on_a_kept_alive_connection(server: str) -> None:
    with httpx.Client(base_url=server) as client:
        answers = [client.get("/small") for _ in range(20)]
        head = client.head("/small")
        big = client.get("/streamed")
    assert {a.status_code for a in answers} == {200}
    assert all(a.text == "x" * 300 for a in answers)
    assert (head.status_code, head.content, head.headers["content-length"]) == (200, b"", "300")
    expected = b"".join(bytes([65 + n % 26]) * 16_384 for n in range(64))
    assert big.content == expected


def test_a_connection_the_client_closes_is_answered_then_closed(server: str) -> None:
    host, port = server.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=5) as conn:
        conn.sendall(b"GET /small HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        received = b""
        while chunk := conn.recv(65_536):
            received += chunk
    head, _, body = received.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK")
    assert b"connection: close" in head.lower()
    assert body == b"x" * 300
