"""Concurrent lookups of one caller share one statement.

Most of a one-object lookup's cost in Postgres is the statement, not the object: a lookup of
one key took ~186 µs of Postgres CPU, a lookup of 1,000 keys ~19 µs a key (BENCHMARKS.md, DRS).
Under load a server process starts many small lookups in the same turn of its event loop, so
those of one caller (the same issuer and subject, or anonymous) are gathered into one batch
that runs on the next turn: at low load a batch holds one lookup and waits for nothing; the
busier the server, the more lookups each statement answers. Callers never share a batch: the
statement reads the caller's grants and roles, and a batch answers only for its own caller.

A batch holds at most ``most_keys`` keys; a lookup large enough to be split into chunks runs
each chunk ``alone``, as it always did.
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
Values = Callable[[Principal, datetime, list[str]], Mapping[str, Any]]


class _Batch:
    """The keys gathered so far and the rows that will answer all of them."""

    def __init__(self, caller: Principal) -> None:
        self.caller = caller
        self.keys: dict[str, None] = {}
        self.rows: asyncio.Future[Sequence[tuple[Any, ...]]] = (
            asyncio.get_running_loop().create_future()
        )
        self.rows.add_done_callback(_retrieved)


def _retrieved(rows: asyncio.Future[Sequence[tuple[Any, ...]]]) -> None:
    """A failure no waiting request is left to see (all were cancelled) is not worth a
    warning from asyncio: each request that does see it reports it."""
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
        self._running: set[asyncio.Task[None]] = set()

    async def rows(self, caller: Principal, keys: list[str]) -> Sequence[tuple[Any, ...]]:
        """Rows for at least ``keys`` (a batch's rows answer every lookup in it: the caller
        picks its own from them)."""
        batch = self._batch_for(caller, len(keys))
        batch.keys.update(dict.fromkeys(keys))
        return await asyncio.shield(batch.rows)

    async def alone(self, caller: Principal, keys: list[str]) -> Sequence[tuple[Any, ...]]:
        """Rows for exactly ``keys``, in a statement of their own (a bulk request's chunks,
        which run side by side on separate connections)."""
        return await self._reads.rows(self._query, self._values(caller, _now(), keys))

    def _batch_for(self, caller: Principal, adding: int) -> _Batch:
        who = (caller.issuer, caller.subject)
        batch = self._gathering.get(who)
        if batch is None or len(batch.keys) + adding > self._most_keys:
            batch = self._gathering[who] = _Batch(caller)
            task = asyncio.get_running_loop().create_task(self._run(who, batch))
            self._running.add(task)
            task.add_done_callback(self._running.discard)
        return batch

    async def _run(self, who: Caller, batch: _Batch) -> None:
        """On the turn after the batch opened: it takes no more keys, and its rows are read
        (``now`` is when the statement runs, not when the first lookup arrived)."""
        if self._gathering.get(who) is batch:
            del self._gathering[who]
        try:
            values = self._values(batch.caller, _now(), list(batch.keys))
            rows = await self._reads.rows(self._query, values)
        except Exception as exc:
            batch.rows.set_exception(exc)
        except BaseException:
            batch.rows.cancel()
            raise
        else:
            batch.rows.set_result(rows)


def _now() -> datetime:
    return datetime.now(UTC)
