"""Connecting to Postgres: the configured server, or an embedded one from the ``pgserver``
package in the data directory when no URL is configured. Either way the schema is migrated and
the shipped ontology terms are loaded before anything else uses the engine."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy.engine import Connection, Engine
from sqlalchemy.orm import Session, sessionmaker

from api.async_postgres import AsyncPool, ConnectionLost
from api.settings import Settings
from catalog import migrate
from catalog.db import make_engine, read_connect_kwargs
from catalog.ontology import load_shipped_terms
from catalog.prepared import PreparedQuery

log = logging.getLogger(__name__)


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
    with database_url(settings) as url, migrated_engine(url, pool_size, prepared) as engine:
        yield engine


@contextmanager
def migrated_engine(url: str, pool_size: int, prepared: bool = True) -> Iterator[Engine]:
    """An engine on ``url``, migrated and with the shipped terms unless ``prepared`` is false,
    disposed on exit."""
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
    """Where hot paths run their prepared reads: a pool of asynchronous autocommit connections
    to the database the sessions use (``api.async_postgres``), or, when the sessions are bound
    to one connection (the tests' rolled-back transaction), that connection, so reads see the
    same data."""

    def __init__(self, sessions: sessionmaker[Session], *, pool_size: int) -> None:
        bind = sessions.kw["bind"]
        self._connection = bind if isinstance(bind, Connection) else None
        self._pool = (
            None
            if isinstance(bind, Connection)
            else AsyncPool(read_connect_kwargs(bind), size=pool_size)
        )

    async def rows(
        self, query: PreparedQuery, values: Mapping[str, Any]
    ) -> Sequence[tuple[Any, ...]]:
        """``query``'s rows for ``values``. It must only read: a connection found dead (after a
        Postgres restart, say) is replaced and the read runs again, once."""
        if self._pool is None:
            assert self._connection is not None
            return query.rows(self._connection, values)
        try:
            async with self._pool.connection() as connection:
                return await connection.rows(query, values)
        except ConnectionLost as exc:
            log.warning("a pooled read connection was dead (%s); retrying on a new one", exc)
            self._pool.discard_idle()
        async with self._pool.connection() as connection:
            return await connection.rows(query, values)

    @property
    def open_connections(self) -> int:
        return self._pool.open_connections if self._pool is not None else 0

    def close(self) -> None:
        """Closes the idle connections now and the busy ones as their reads end."""
        if self._pool is not None:
            self._pool.close()
