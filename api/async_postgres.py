"""Prepared reads on the event loop: psycopg2's asynchronous connections, woken by asyncio.

The DRS lookup used to run on a thread: under load, handing each lookup to a thread and back
(the GIL changing hands twice) cost the server as much CPU as the lookup itself, about half a
millisecond (BENCHMARKS.md). An asynchronous psycopg2 connection sends the statement and the
event loop waits for its socket, so a lookup costs only its own work, with the same driver and
the same type conversion as every other connection.

Asynchronous connections are always autocommit: no BEGIN or COMMIT round trips, nothing held
between statements. ``force_generic_plan`` makes a prepared statement's first plan its only one.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
import psycopg2
import psycopg2.extensions
import psycopg2.extras

from catalog.prepared import PreparedQuery


class ConnectionLost(Exception):
    """The server went away under a read (a restart, say): the read may simply run again."""


async def _ready(raw: Any) -> None:
    """Until the connection's current command is done, sleeping while its socket is not."""
    loop = asyncio.get_running_loop()
    while True:
        state = raw.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        woken = loop.create_future()
        fd = raw.fileno()
        if state == psycopg2.extensions.POLL_READ:
            loop.add_reader(fd, woken.set_result, None)
            try:
                await woken
            finally:
                loop.remove_reader(fd)
        else:
            loop.add_writer(fd, woken.set_result, None)
            try:
                await woken
            finally:
                loop.remove_writer(fd)


class AsyncConnection:
    """One server session and the statements already prepared in it."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.prepared: set[str] = set()

    async def rows(
        self, query: PreparedQuery, values: Mapping[str, Any]
    ) -> Sequence[tuple[Any, ...]]:
        try:
            cursor = self.raw.cursor()
            if query.name not in self.prepared:
                cursor.execute(query.prepare_sql)
                await _ready(self.raw)
                self.prepared.add(query.name)
            cursor.execute(query.execute_sql, query.arguments(values))
            await _ready(self.raw)
            return list(cursor.fetchall())
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            if self.raw.closed:
                raise ConnectionLost(str(exc).strip()) from exc
            raise

    @property
    def reusable(self) -> bool:
        """Open, and not in the middle of a command (a cancelled read leaves one running)."""
        return not self.raw.closed and not self.raw.isexecuting()


class AsyncPool:
    """Up to ``size`` asynchronous connections; callers beyond that wait for one in turn.

    It holds no asyncio object between calls, so one pool serves every event loop that uses
    it in turn (each test runs its own)."""

    def __init__(self, connect_kwargs: Mapping[str, Any], *, size: int) -> None:
        self._connect_kwargs = dict(connect_kwargs)
        self._size = size
        self._idle: list[AsyncConnection] = []
        self._open = 0
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._closed = False

    @property
    def open_connections(self) -> int:
        return self._open

    @asynccontextmanager
    async def connection(self) -> AsyncIterator[AsyncConnection]:
        connection = await self._acquire()
        try:
            yield connection
        finally:
            self._release(connection)

    def discard_idle(self) -> None:
        """Close the idle connections: after one was found dead, the others likely are too."""
        idle, self._idle = self._idle, []
        for connection in idle:
            self._discard(connection)

    def close(self) -> None:
        self._closed = True
        self.discard_idle()

    async def _acquire(self) -> AsyncConnection:
        while True:
            if self._closed:
                raise RuntimeError("the read pool is closed")
            if self._idle:
                return self._idle.pop()
            if self._open < self._size:
                self._open += 1
                try:
                    return await self._connect()
                except BaseException:
                    self._open -= 1
                    self._wake_one()
                    raise
            await self._wait_for_release()

    async def _connect(self) -> AsyncConnection:
        raw = psycopg2.connect(**self._connect_kwargs, async_=True)
        try:
            await _ready(raw)
        except BaseException:
            raw.close()
            raise
        psycopg2.extras.register_uuid(conn_or_curs=raw)  # type: ignore[no-untyped-call]
        psycopg2.extras.register_default_json(raw, loads=orjson.loads)
        psycopg2.extras.register_default_jsonb(raw, loads=orjson.loads)
        return AsyncConnection(raw)

    async def _wait_for_release(self) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self._wake_one()
            else:
                self._waiters.remove(waiter)
            raise

    def _release(self, connection: AsyncConnection) -> None:
        if connection.reusable and not self._closed:
            self._idle.append(connection)
        else:
            self._discard(connection)
        self._wake_one()

    def _discard(self, connection: AsyncConnection) -> None:
        """A command still running (its read was cancelled) is cancelled on the server too."""
        if not connection.raw.closed and connection.raw.isexecuting():
            connection.raw.cancel()
        connection.raw.close()
        self._open -= 1

    def _wake_one(self) -> None:
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return
