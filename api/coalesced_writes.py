"""uvicorn's httptools protocol, with a response's writes sent as one.

uvicorn writes a response's status line and headers, then its body, each with its own
``transport.write``: two system calls and two TCP segments for a DRS object of a few hundred
bytes, which the client then reads twice. Under load that was the largest single part of the
server's CPU per request (BENCHMARKS.md, DRS, session 5). Here the writes a connection makes
in one turn of the event loop are joined and handed to the real transport at the end of that
turn: one system call, one segment, and no wait beyond the turn. ``atrium serve`` runs uvicorn
with ``PROTOCOL``.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

PROTOCOL = "api.coalesced_writes:CoalescingHttpToolsProtocol"
FLUSH_BYTES = 65_536
"""Pending bytes that are handed over at once, without waiting for the turn to end: the real
transport then asks uvicorn to pause (its buffer limit is as large) inside the same ``send``,
so a body streamed without yielding to the loop is held back as it would be without joining."""


class CoalescedWrites(asyncio.Transport):
    """A transport whose writes of one event-loop turn reach ``transport`` together (up to
    ``FLUSH_BYTES``). Closing sends what is pending first; aborting drops it, as aborting drops
    a transport's buffer."""

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__()
        self._transport = transport
        self._loop = loop
        self._pending: list[bytes] = []
        self._pending_bytes = 0

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._pending:
            self._loop.call_soon(self._flush)
        self._pending.append(bytes(data))
        self._pending_bytes += len(data)
        if self._pending_bytes >= FLUSH_BYTES:
            self._flush()

    def writelines(self, list_of_data: Any) -> None:
        for data in list_of_data:
            self.write(data)

    def _flush(self) -> None:
        """Small pieces are joined; a large body goes as it is, beside the headers, rather than
        copied (``writelines`` gathers them into one system call where the loop can)."""
        pending, size = self._pending, self._pending_bytes
        self._pending, self._pending_bytes = [], 0
        if not pending or self._transport.is_closing():
            return
        if len(pending) == 1:
            self._transport.write(pending[0])
        elif size < FLUSH_BYTES:
            self._transport.write(b"".join(pending))
        else:
            self._transport.writelines(pending)

    def close(self) -> None:
        self._flush()
        self._transport.close()

    def abort(self) -> None:
        self._pending, self._pending_bytes = [], 0
        self._transport.abort()

    def write_eof(self) -> None:
        self._flush()
        self._transport.write_eof()

    def can_write_eof(self) -> bool:
        return self._transport.can_write_eof()

    def is_closing(self) -> bool:
        return self._transport.is_closing()

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return self._transport.get_extra_info(name, default)

    def get_write_buffer_size(self) -> int:
        return self._transport.get_write_buffer_size() + self._pending_bytes

    def get_write_buffer_limits(self) -> tuple[int, int]:
        return self._transport.get_write_buffer_limits()

    def set_write_buffer_limits(self, high: int | None = None, low: int | None = None) -> None:
        self._transport.set_write_buffer_limits(high, low)

    def pause_reading(self) -> None:
        self._transport.pause_reading()

    def resume_reading(self) -> None:
        self._transport.resume_reading()

    def is_reading(self) -> bool:
        return self._transport.is_reading()

    def set_protocol(self, protocol: asyncio.BaseProtocol) -> None:
        self._transport.set_protocol(protocol)

    def get_protocol(self) -> asyncio.BaseProtocol:
        return self._transport.get_protocol()


class CoalescingHttpToolsProtocol(HttpToolsProtocol):
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CoalescedWrites(transport, asyncio.get_running_loop()))
