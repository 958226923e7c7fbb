"""The ingest's writer thread: it does every database write of an ingest, in file order, while
the calling thread parses the next lines. On a two-core machine this takes parsing off the
critical path, since Postgres has the other core.

The writer owns a driver-level cursor on the session's connection (COPY needs one). One job
runs at a time, and the calling thread uses the session only after ``wait``, so the connection
is never used by two threads at once. A job's exception surfaces at the next ``wait`` or
``submit``.
"""

from __future__ import annotations

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


class Writer:
    def __init__(self, session: Session) -> None:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        self.cursor = cast(Cursor, dbapi.cursor())
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ingest-writer")
        self._job: Future[None] | None = None

    def __enter__(self) -> Writer:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        """Wait for a running job even when the caller failed: the transaction can only be
        rolled back once nothing else uses its connection."""
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
