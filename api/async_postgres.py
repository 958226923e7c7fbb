"""Prepared reads on the event loop: psycopg2's asynchronous connections, woken by asyncio.

The DRS lookup used to run on a thread: under load, handing each lookup to a thread and back
(the GIL changing hands twice) cost the server as much CPU as the lookup itself, about half a
millisecond (BENCHMARKS.md, DRS, session 4). An asynchronous psycopg2 connection sends the
statement and the event loop waits for its socket, so a lookup costs only its own work, with
the same driver as every other connection (JSON is decoded with orjson here, a thousand
objects' worth at a time). docs/adr/0007-drs-read-path.md says why not asyncpg or psycopg 3.

Asynchronous connections are always autocommit: no BEGIN or COMMIT round trips, nothing held
between statements. ``force_generic_plan`` makes a prepared statement's first plan its only one.
"""

from __future__ import annotations

import asyncio
import functools
import uuid
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from typing import Any

import orjson
import psycopg2
import psycopg2.errors
import psycopg2.extensions
import psycopg2.extras

from catalog.prepared import PreparedQuery, stale_plan

UUIDS_KEPT = 32_768
"""Parsed UUIDs a pool keeps (~9 MB with their texts): rows repeat the same datasets' and
organizations' ids, and ``uuid.UUID`` parsing was half of the driver's work on a 1,000-object
lookup (BENCHMARKS.md, DRS, session 5)."""

CONNECT_SECONDS = 10
"""A connection attempt that has not completed by then fails (libpq's ``connect_timeout``
does not apply to asynchronous connections)."""


def uuid_types(kept: int) -> tuple[Any, Any]:
    """psycopg2 types for ``uuid`` and ``uuid[]`` that parse each distinct UUID once, keeping
    the last ``kept`` (UUIDs are immutable: sharing one is safe)."""
    parsed = functools.lru_cache(maxsize=kept)(uuid.UUID)

    def cast(text: str | bytes | None, _cursor: Any) -> uuid.UUID | None:
        if text is None:
            return None
        return parsed(text if isinstance(text, str) else text.decode())

    single = psycopg2.extensions.new_type((2950,), "UUID", cast)
    return single, psycopg2.extensions.new_array_type((2951,), "UUID[]", single)


class ConnectionLost(Exception):
    """The server went away under a read (a restart, say): the read may simply run again."""


async def _ready(raw: Any) -> None:
    """Until the connection's current command is done, sleeping while its socket is not."""
    loop = asyncio.get_running_loop()
    while True:
        state = raw.poll()
        if state == psycopg2.extensions.POLL_OK:
            return
        reading = state == psycopg2.extensions.POLL_READ
        watch = loop.add_reader if reading else loop.add_writer
        unwatch = loop.remove_reader if reading else loop.remove_writer
        woken = loop.create_future()
        fd = raw.fileno()
        watch(fd, _wake, woken)
        try:
            await woken
        finally:
            unwatch(fd)


def _wake(woken: asyncio.Future[None]) -> None:
    if not woken.done():
        woken.set_result(None)


class AsyncConnection:
    """One server session and the statements already prepared in it."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw
        self.prepared: set[str] = set()

    async def rows(
        self, query: PreparedQuery, values: Mapping[str, Any]
    ) -> Sequence[tuple[Any, ...]]:
        try:
            try:
                return await self._execute(query, values)
            except psycopg2.errors.FeatureNotSupported as exc:
                if not stale_plan(exc):
                    raise
                await self._forget(query)
                return await self._execute(query, values)
        except (psycopg2.OperationalError, psycopg2.InterfaceError) as exc:
            if self.raw.closed:
                raise ConnectionLost(str(exc).strip()) from exc
            raise

    async def _execute(
        self, query: PreparedQuery, values: Mapping[str, Any]
    ) -> Sequence[tuple[Any, ...]]:
        cursor = self.raw.cursor()
        if query.name not in self.prepared:
            cursor.execute(query.prepare_sql)
            await _ready(self.raw)
            self.prepared.add(query.name)
        cursor.execute(query.execute_sql, query.arguments(values))
        await _ready(self.raw)
        rows: Sequence[tuple[Any, ...]] = cursor.fetchall()
        return rows

    async def _forget(self, query: PreparedQuery) -> None:
        """Drops a statement whose result columns changed type under it (a migration applied
        while the server runs), so that it is prepared again from its SQL."""
        cursor = self.raw.cursor()
        cursor.execute(f"DEALLOCATE {query.name}")
        await _ready(self.raw)
        self.prepared.discard(query.name)

    @property
    def reusable(self) -> bool:
        """Open, and not in the middle of a command (a cancelled read leaves one running)."""
        return not self.raw.closed and not self.raw.isexecuting()


class AsyncPool:
    """Up to ``size`` asynchronous connections; callers beyond that wait in turn, first come
    first served: a released connection is handed to the longest waiting caller, never taken
    by a newcomer.

    It holds no asyncio object between calls, so one pool serves every event loop that uses
    it in turn (each test runs its own)."""

    def __init__(self, connect_kwargs: Mapping[str, Any], *, size: int) -> None:
        self._connect_kwargs = dict(connect_kwargs)
        self._size = size
        self._idle: list[AsyncConnection] = []
        self._open = 0
        self._waiters: deque[asyncio.Future[AsyncConnection | None]] = deque()
        self._closed = False
        self._uuid_types = uuid_types(UUIDS_KEPT)
        # UUID parameters: psycopg2 adapts them only once registered, which SQLAlchemy does on
        # its first connection; a worker's first read may come before that.
        psycopg2.extensions.register_adapter(uuid.UUID, psycopg2.extras.UUID_adapter)

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
        """Idle connections close now, busy ones when released; waiting callers are refused."""
        self._closed = True
        self.discard_idle()
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_exception(RuntimeError("the read pool is closed"))

    async def _acquire(self) -> AsyncConnection:
        while True:
            if self._closed:
                raise RuntimeError("the read pool is closed")
            if self._idle:
                return self._idle.pop()
            if self._open < self._size:
                return await self._connect()
            handed = await self._wait()
            if handed is not None:
                return handed

    async def _wait(self) -> AsyncConnection | None:
        """A connection handed over by ``_release``, or None when a slot opened instead."""
        waiter: asyncio.Future[AsyncConnection | None]
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            return await waiter
        except asyncio.CancelledError:
            if waiter in self._waiters:
                self._waiters.remove(waiter)
            elif waiter.done() and not waiter.cancelled():
                handed = waiter.result()
                if handed is None:
                    self._hand(None)
                else:
                    self._release(handed)
            raise

    async def _connect(self) -> AsyncConnection:
        self._open += 1
        raw = None
        try:
            raw = psycopg2.connect(**self._connect_kwargs, async_=True)
            async with asyncio.timeout(CONNECT_SECONDS):
                await _ready(raw)
        except BaseException:
            if raw is not None:
                raw.close()
            self._open -= 1
            self._hand(None)
            raise
        for uuid_type in self._uuid_types:
            psycopg2.extensions.register_type(uuid_type, raw)
        psycopg2.extras.register_default_json(raw, loads=orjson.loads)
        psycopg2.extras.register_default_jsonb(raw, loads=orjson.loads)
        return AsyncConnection(raw)

    def _release(self, connection: AsyncConnection) -> None:
        if connection.reusable and not self._closed:
            if not self._hand(connection):
                self._idle.append(connection)
        else:
            self._discard(connection)
            self._hand(None)

    def _discard(self, connection: AsyncConnection) -> None:
        """Closing is enough to stop a command still running (its read was cancelled): the
        server checks its clients every ``client_connection_check_interval``."""
        connection.raw.close()
        self._open -= 1

    def _hand(self, handed: AsyncConnection | None) -> bool:
        """``handed`` to the longest waiting caller, if any is still waiting."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(handed)
                return True
        return False
