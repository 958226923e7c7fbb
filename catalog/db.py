"""The declarative base shared by every domain package, and engine helpers.

The naming convention keeps constraint names stable so Alembic migrations can refer to them.
"""

from __future__ import annotations

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


SESSION_OPTIONS = "-c lock_timeout=5000 -c statement_timeout=60000"


def make_engine(url: str, *, pool_size: int = 10) -> Engine:
    """An engine with the session settings every Atrium connection needs.

    ``lock_timeout`` bounds lock waits so a contended write fails fast with a retryable error
    instead of hanging a request.
    """
    return create_engine(
        psycopg2_url(url),
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"options": SESSION_OPTIONS},
    )


def make_read_engine(url: URL, *, pool_size: int) -> Engine:
    """Autocommit connections for idempotent reads on hot paths (DRS resolution).

    Each saves three round trips per request: no BEGIN and COMMIT, and no pre-ping; whoever
    reads through it retries once on a fresh connection instead (``api.database``). Prepared
    statements run with their generic plan, so they are never planned again. The pool has no
    overflow: connections opened and closed under load cost more than waiting for one.
    """
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=0,
        isolation_level="AUTOCOMMIT",
        connect_args={"options": f"{SESSION_OPTIONS} -c plan_cache_mode=force_generic_plan"},
    )


LOCK_NOT_AVAILABLE = "55P03"


def is_lock_timeout(error: BaseException) -> bool:
    """Postgres stopped waiting for a lock (``lock_timeout``): the work may simply be retried."""
    return (
        isinstance(error, OperationalError)
        and getattr(error.orig, "pgcode", None) == LOCK_NOT_AVAILABLE
    )
