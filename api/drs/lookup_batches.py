"""Concurrent lookups of one caller share one statement.

Most of a one-object lookup's cost in Postgres is the statement, not the object: a lookup of
one key took ~186 µs of Postgres CPU, a lookup of 1,000 keys ~19 µs a key (BENCHMARKS.md, DRS).
Under load a server process starts many small lookups in the same turn of its event loop, so
those of one caller (the same issuer and subject, or anonymous) are gathered into one batch
that runs on the next turn: at low load a batch holds one lookup, and the busier the server,
the more lookups each statement answers. Callers never share a batch: the statement reads the
caller's grants and roles, and a batch answers only for its own caller.

A batch holds at most ``most_keys`` keys. The routes batch only small lookups and run bulk
requests' chunks ``alone``, so a single-object request never waits for, or parses the rows of,
someone's bulk request.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from api.database import ReadConnections
from catalog.prepared import PreparedQuery
from catalog.principals import Principal

Caller = tuple[str | None, str | None]
Rows = Sequence[tuple[Any, ...]]
Values = Callable[[Principal, datetime, list[str]], Mapping[str, Any]]


class _Batch:
    """The keys gathered so far, how many lookups wait for them, and the rows that will answer
    all of them."""

    def __init__(self, caller: Principal, loop: asyncio.AbstractEventLoop) -> None:
        self.caller = caller
        self.loop = loop
        self.keys: dict[str, None] = {}
        self.waiting = 0
        self.rows: asyncio.Future[Rows] = loop.create_future()
        self.rows.add_done_callback(_retrieved)
        self.task: asyncio.Task[None] | None = None


def _retrieved(rows: asyncio.Future[Rows]) -> None:
    """Marks a failure as seen: each lookup that awaited it has reported it, and one that
    none awaited any more is of no interest."""
    if not rows.cancelled():
        rows.exception()


class LookupBatches:
    """``query``'s rows for a caller's keys, one statement per batch of concurrent lookups."""

    def __init__(
        self, reads: ReadConnections, query: PreparedQuery, values: Values, *, most_keys: int
    ) -> None:
        self._reads = reads
        self._query = query
        self._values = values
        self._most_keys = most_keys
        self._gathering: dict[Caller, _Batch] = {}

    async def rows(self, caller: Principal, keys: list[str]) -> Rows:
        """Rows for at least ``keys`` (a batch's rows answer every lookup in it: each picks its
        own from them). When every lookup of a batch is cancelled, so is its statement."""
        if len(keys) > self._most_keys:
            raise ValueError(f"a batched lookup takes at most {self._most_keys} keys")
        who = (caller.issuer, caller.subject)
        batch = self._join(who, caller, keys)
        try:
            return await asyncio.shield(batch.rows)
        except asyncio.CancelledError:
            batch.waiting -= 1
            if batch.waiting == 0:
                self._abandon(who, batch)
            raise

    async def alone(self, caller: Principal, keys: list[str]) -> Rows:
        """Rows for exactly ``keys``, in a statement of their own."""
        return await self._reads.rows(self._query, self._values(caller, _now(), keys))

    def _join(self, who: Caller, caller: Principal, keys: list[str]) -> _Batch:
        """The caller's gathering batch, with ``keys`` added; a new one when there is none on
        this event loop (one left by a loop that ended never ran) or it has no room left."""
        loop = asyncio.get_running_loop()
        batch = self._gathering.get(who)
        if batch is None or batch.loop is not loop or len(batch.keys) + len(keys) > self._most_keys:
            batch = self._gathering[who] = _Batch(caller, loop)
        batch.keys.update(dict.fromkeys(keys))
        if batch.task is None:  # started after its first keys are in, however tasks start
            batch.task = loop.create_task(self._run(who, batch))
        batch.waiting += 1
        return batch

    def _abandon(self, who: Caller, batch: _Batch) -> None:
        """No lookup waits for the batch any more: it takes no one else, and its statement is
        cancelled (which closes its connection, so Postgres stops it too)."""
        if self._gathering.get(who) is batch:
            del self._gathering[who]
        if batch.task is not None:
            batch.task.cancel()
        batch.rows.cancel()

    async def _run(self, who: Caller, batch: _Batch) -> None:
        """On the turn after the batch opened: it takes no more keys, and its rows are read
        (``now`` is when the statement runs, not when the first lookup arrived)."""
        if self._gathering.get(who) is batch:
            del self._gathering[who]
        try:
            values = self._values(batch.caller, _now(), list(batch.keys))
            rows = await self._reads.rows(self._query, values)
        except Exception as exc:
            if not batch.rows.done():
                batch.rows.set_exception(exc)
        except BaseException:
            batch.rows.cancel()
            raise
        else:
            if not batch.rows.done():
                batch.rows.set_result(tuple(rows))


def _now() -> datetime:
    return datetime.now(UTC)
