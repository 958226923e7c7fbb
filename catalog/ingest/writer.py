"""The ingest's writer thread: it does every database write of an ingest, in file order, while
the calling thread parses the next lines. On a two-core machine this takes parsing off the
critical path, since Postgres has the other core.

The writer owns a driver-level cursor on the session's connection (COPY needs one). One job
runs at a time, and the calling thread uses the session only after ``wait``, so the connection
is never used by two threads at once. A job's exception surfaces at the next ``wait`` or
``submit``.

While a writer is open the interpreter hands the GIL over after ``SWITCH_SECONDS`` instead of
5 ms. Each statement the writer sends releases the GIL, and getting it back meant waiting for
the parsing thread's 5 ms slice to end: a chunk's 400 datasets took 1.1 s instead of 0.16 s,
and the parser then waited for the writer about half of the time (BENCHMARKS.md, ingest,
session 5). The interval is restored when the last open writer closes.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from types import TracebackType
from typing import IO, Any, Protocol, cast

from sqlalchemy.orm import Session


class Cursor(Protocol):
    """The part of a psycopg2 cursor the ingest uses."""

    rowcount: int

    def execute(self, query: str, params: Mapping[str, Any] | None = None) -> None: ...

    def fetchall(self) -> list[tuple[Any, ...]]: ...

    def copy_expert(self, sql: str, file: IO[bytes], size: int = 8192) -> None: ...

    def close(self) -> None: ...


SWITCH_SECONDS = 0.0001
"""Measured on 200,000 files: 5 ms (Python's default) 23.6 s, 1 ms 26.2 s, 0.5 ms 19.4 s,
0.2 ms 16.6 s, 0.1 ms 15.5 s."""


class _PromptHandoffs:
    """The interpreter's switch interval is ``SWITCH_SECONDS`` while any writer is open (two
    ingests may run on threads of one process), and what it was before once none is."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open = 0
        self._before = sys.getswitchinterval()

    def enter(self) -> None:
        with self._lock:
            if self._open == 0:
                self._before = sys.getswitchinterval()
                sys.setswitchinterval(SWITCH_SECONDS)
            self._open += 1

    def exit(self) -> None:
        with self._lock:
            self._open -= 1
            if self._open == 0:
                sys.setswitchinterval(self._before)


PROMPT_HANDOFFS = _PromptHandoffs()


class Writer:
    def __init__(self, session: Session) -> None:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        self.cursor = cast(Cursor, dbapi.cursor())
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._job: Future[None] | None = None

    def __enter__(self) -> Writer:
        PROMPT_HANDOFFS.enter()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Wait for a running job even when the caller failed: the transaction can only be
        rolled back once nothing else uses its connection."""
        PROMPT_HANDOFFS.exit()
        self._pool.shutdown(wait=True)
        self.cursor.close()
        if exc_type is None:
            self.wait()

    def submit(self, job: Callable[[], None]) -> None:
        self.wait()
        self._job = self._pool.submit(job)

    def wait(self) -> None:
        job, self._job = self._job, None
        if job is not None:
            job.result()
