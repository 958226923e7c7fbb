"""Connecting to Postgres: the configured server, or an embedded one from the ``pgserver``
package in the data directory when no URL is configured. Either way the schema is migrated and
the shipped ontology terms are loaded before anything else uses the engine."""

from __future__ import annotations

import asyncio
import logging
import os
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import TypeVar

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from api.settings import Settings
from catalog import migrate
from catalog.db import make_engine, make_read_engine
from catalog.ontology import load_shipped_terms

log = logging.getLogger(__name__)

T = TypeVar("T")


@contextmanager
def embedded_postgres(data_dir: Path) -> Iterator[str]:
    """Start (or join) the embedded Postgres in ``data_dir/postgres`` and stop it on exit.

    pgserver keeps a per-process handle count, so several processes sharing one data directory
    leave the server running until the last one exits.
    """
    os.environ.setdefault("XDG_RUNTIME_DIR", _runtime_dir())
    from pgserver.postgres_server import get_server

    pgdata = (data_dir / "postgres").resolve()
    pgdata.mkdir(parents=True, exist_ok=True)
    server = get_server(pgdata, cleanup_mode="stop")
    try:
        yield server.get_uri()
    finally:
        server.cleanup()


def _runtime_dir() -> str:
    """A private runtime directory for pgserver's lock file (platformdirs insists on 0700)."""
    path = Path("/tmp") / f"atrium-runtime-{os.getuid()}"  # noqa: S108 - private, mode 0700
    path.mkdir(mode=0o700, exist_ok=True)
    path.chmod(0o700)
    return str(path)


@contextmanager
def database_url(settings: Settings) -> Iterator[str]:
    if settings.database_url is not None:
        yield settings.database_url.get_secret_value()
        return
    with embedded_postgres(settings.data_dir) as url:
        yield url


def prepare(engine: Engine) -> None:
    """Migrate to head and load the shipped ontology terms."""
    migrate.upgrade(engine)
    with Session(engine) as session, session.begin():
        load_shipped_terms(session)


@contextmanager
def open_engine(
    settings: Settings, *, pool_size: int = 10, prepared: bool = True
) -> Iterator[Engine]:
    with database_url(settings) as url:
        engine = make_engine(url, pool_size=pool_size)
        try:
            if prepared:
                prepare(engine)
            yield engine
        finally:
            engine.dispose()


def session_factory(engine: Engine) -> sessionmaker[Session]:
    return sessionmaker(engine, expire_on_commit=False)


class ReadConnections:
    """Where hot paths run their read-only work: autocommit connections to the database the
    sessions use (``make_read_engine``), or, when the sessions are bound to one connection
    (the tests' rolled-back transaction), that connection, so reads see the same data.

    It owns one thread per pooled connection, so work never waits on the pool while holding a
    thread, and handing work to it costs less than Starlette's general-purpose thread pool."""

    def __init__(self, sessions: sessionmaker[Session], *, pool_size: int) -> None:
        bind = sessions.kw["bind"]
        self._connection = bind if isinstance(bind, Connection) else None
        self._engine = (
            None
            if isinstance(bind, Connection)
            else make_read_engine(bind.url, pool_size=pool_size)
        )
        self._threads = ThreadPoolExecutor(max_workers=pool_size, thread_name_prefix="atrium-read")

    async def read(self, work: Callable[[Connection], T]) -> T:
        """``work`` on one of the read threads, awaited."""
        return await asyncio.get_running_loop().run_in_executor(self._threads, self.run, work)

    def run(self, work: Callable[[Connection], T]) -> T:
        """``work`` on a connection; it must only read, since a connection found dead (after a
        Postgres restart, say) is replaced and ``work`` runs again once."""
        if self._engine is None:
            assert self._connection is not None
            return work(self._connection)
        try:
            with self._engine.connect() as connection:
                return work(connection)
        except DBAPIError as exc:
            if not exc.connection_invalidated:
                raise
            log.warning("a pooled read connection was dead; retrying on a new one")
        with self._engine.connect() as connection:
            return work(connection)

    def close(self) -> None:
        """Waits for reads under way, so their connections are back in the pool to close."""
        self._threads.shutdown(wait=True, cancel_futures=True)
        if self._engine is not None:
            self._engine.dispose()
