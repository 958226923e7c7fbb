"""The declarative base shared by every domain package, and engine helpers.

The naming convention keeps constraint names stable so Alembic migrations can refer to them.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import MetaData, create_engine
from sqlalchemy.engine import URL, Engine, make_url
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import DeclarativeBase

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


def psycopg2_url(url: str) -> URL:
    """The URL with the psycopg2 driver, whatever Postgres driver name it came with."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "postgresql":
        raise ValueError(f"Atrium needs a PostgreSQL URL, not {parsed.get_backend_name()!r}")
    return parsed.set(drivername="postgresql+psycopg2")


SESSION_OPTIONS = "-c lock_timeout=5000 -c statement_timeout=60000 -c TimeZone=UTC"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine with the session settings every Atrium connection needs.

    ``lock_timeout`` bounds lock waits so a contended write fails fast with a retryable error
    instead of hanging a request. Times arrive in UTC whatever the server's default time zone,
    so every document renders them the same way (``Z``).
    """
    return create_engine(
        psycopg2_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"options": SESSION_OPTIONS},
    )


READ_OPTIONS = (
    f"{SESSION_OPTIONS} -c plan_cache_mode=force_generic_plan"
    " -c client_connection_check_interval=1000"
)
KEEPALIVES = {
    "keepalives": 1,
    "keepalives_idle": 30,
    "keepalives_interval": 10,
    "keepalives_count": 3,
}


def read_connect_kwargs(engine: Engine) -> dict[str, Any]:
    """``psycopg2.connect`` arguments for connections to ``engine``'s database that only run
    prepared reads on hot paths (``api.async_postgres``). Prepared statements run with their
    generic plan, so they are never planned again; the server gives up a statement within a
    second of its client going away (a cancelled read closes its connection); TCP keepalives
    notice a server that vanished without closing the connection."""
    _, kwargs = engine.dialect.create_connect_args(engine.url)
    return {**kwargs, **KEEPALIVES, "options": READ_OPTIONS}


LOCK_NOT_AVAILABLE = "55P03"


def is_lock_timeout(error: BaseException) -> bool:
    """Postgres stopped waiting for a lock (``lock_timeout``): the work may simply be retried."""
    return (
        isinstance(error, OperationalError)
        and getattr(error.orig, "pgcode", None) == LOCK_NOT_AVAILABLE
    )
