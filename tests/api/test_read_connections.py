"""The DRS read path: prepared statements once per connection, autocommit connections with
generic plans, and one retry when a pooled connection turns out to be dead."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from sqlalchemy import bindparam, select, text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker

from api.database import ReadConnections
from catalog.models import Organization
from catalog.prepared import PREPARED, PreparedQuery

ORGANIZATION_BY_SLUG = PreparedQuery(
    "test_organization_by_slug",
    select(Organization.name).where(Organization.slug == bindparam("slug")),
)


def prepared_names(connection: Connection) -> set[str]:
    rows = connection.exec_driver_sql("SELECT name FROM pg_prepared_statements")
    return {name for (name,) in rows}


def test_a_query_is_prepared_once_per_connection_and_survives_a_rollback(
    connection, factory
) -> None:  # type: ignore[no-untyped-def]
    org = factory.organization()
    savepoint = connection.begin_nested()
    assert ORGANIZATION_BY_SLUG.rows(connection, {"slug": org.slug}) == [(org.name,)]
    savepoint.rollback()
    assert "test_organization_by_slug" in prepared_names(connection)
    assert "test_organization_by_slug" in connection.connection.info[PREPARED]
    assert ORGANIZATION_BY_SLUG.rows(connection, {"slug": org.slug}) == [(org.name,)]
    assert ORGANIZATION_BY_SLUG.rows(connection, {"slug": "no-such-org"}) == []


def test_parameters_are_bound_never_spliced(connection, factory) -> None:  # type: ignore[no-untyped-def]
    factory.organization()
    hostile = "x'); DROP TABLE organizations; --"
    assert ORGANIZATION_BY_SLUG.rows(connection, {"slug": hostile}) == []
    assert connection.scalar(text("SELECT count(*) FROM organizations")) >= 1


def test_names_must_be_plain_identifiers() -> None:
    with pytest.raises(ValueError, match="identifier"):
        PreparedQuery("drop table; x", select(Organization.name))


@pytest.fixture
def reads(committed_sessions: sessionmaker[Session]) -> Iterator[ReadConnections]:
    reads = ReadConnections(committed_sessions, pool_size=2)
    yield reads
    reads.close()


def backend_pid(connection: Connection) -> int:
    return int(connection.exec_driver_sql("SELECT pg_backend_pid()").scalar_one())


def test_read_connections_autocommit_with_generic_plans(reads: ReadConnections) -> None:
    def settings(connection: Connection) -> tuple[bool, bool, str, str]:
        started = [connection.exec_driver_sql("SELECT now()").scalar_one() for _ in range(2)]
        plans = connection.exec_driver_sql("SHOW plan_cache_mode").scalar_one()
        lock_timeout = connection.exec_driver_sql("SHOW lock_timeout").scalar_one()
        autocommit = connection.connection.dbapi_connection.autocommit  # type: ignore[union-attr]
        return autocommit, started[0] != started[1], plans, lock_timeout

    expected = (True, True, "force_generic_plan", "5s")
    assert reads.run(settings) == expected
    assert asyncio.run(reads.read(settings)) == expected


def test_a_dead_pooled_connection_is_replaced_and_the_read_runs_again(
    reads: ReadConnections, committed_sessions: sessionmaker[Session]
) -> None:
    first = reads.run(backend_pid)
    with committed_sessions() as session:
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    attempts: list[int] = []

    def read(connection: Connection) -> int:
        attempts.append(1)
        return backend_pid(connection)

    second = reads.run(read)
    assert second != first
    assert len(attempts) == 2


def test_errors_other_than_a_dead_connection_are_not_retried(reads: ReadConnections) -> None:
    attempts: list[int] = []

    def broken(connection: Connection) -> None:
        attempts.append(1)
        connection.exec_driver_sql("SELECT * FROM no_such_table")

    with pytest.raises(Exception, match="no_such_table"):
        reads.run(broken)
    assert len(attempts) == 1
