"""The DRS read path: prepared statements once per connection; a pool of asynchronous
autocommit connections with generic plans that retries once when a connection turns out to be
dead, bounds its connections, and stops a cancelled read on the server."""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg2.errors
import psycopg2.extensions
import pytest
from sqlalchemy import (
    Float,
    Uuid,
    bindparam,
    column,
    func,
    literal_column,
    select,
    table,
    text,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, sessionmaker

from api.auth.issuer import BuiltinIssuer
from api.database import ReadConnections
from api.drs.routes import LOOKUP
from catalog import repository, service
from catalog.db import make_engine
from catalog.models import Organization
from catalog.prepared import PREPARED, PreparedQuery
from catalog.principals import SYSTEM
from catalog.schemas import BundleCreate
from tests.factories import Factory

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


BACKEND_PID = PreparedQuery("test_backend_pid", select(func.pg_backend_pid()))
SETTINGS = ("plan_cache_mode", "lock_timeout", "statement_timeout", "TimeZone")
SESSION = PreparedQuery(
    "test_session_settings",
    select(
        func.now(),
        *(literal_column(f"current_setting('{name}')") for name in SETTINGS),
    ),
)
SLEEP = PreparedQuery("test_sleep", select(func.pg_sleep(bindparam("seconds", type_=Float))))
NO_SUCH_TABLE = PreparedQuery("test_no_such_table", select(column("x")).select_from(table("nope")))


def read(reads: ReadConnections, query: PreparedQuery, **values: Any) -> list[tuple[Any, ...]]:
    return list(asyncio.run(reads.rows(query, values)))


def test_pooled_reads_autocommit_with_generic_plans(reads: ReadConnections) -> None:
    """Two statements, two transactions (``now()`` moves): nothing is held between reads."""
    [(first, *settings)] = read(reads, SESSION)
    [(second, *_)] = read(reads, SESSION)
    assert first != second
    assert settings == ["force_generic_plan", "5s", "1min", "UTC"]
    assert first.utcoffset() == timedelta(0)


def test_pooled_rows_equal_the_sync_rows_types_included(
    reads: ReadConnections, committed_sessions: sessionmaker[Session], issuer: BuiltinIssuer
) -> None:
    """UUIDs, timestamps, enums as text, JSON and arrays decoded: the DRS lookup of files and
    of a bundle reads the same on both."""
    with committed_sessions.begin() as session:
        factory = Factory(session, issuer=issuer)
        dataset = factory.dataset(access_level="controlled")
        ids = factory.files(dataset, 3)
        members = [{"name": f"m{i}", "object_id": object_id} for i, object_id in enumerate(ids)]
        bundle = BundleCreate.model_validate(
            {"id": "parity-bundle", "name": "parity", "members": members}
        )
        service.create_bundle(session, SYSTEM, accession=dataset.accession, data=bundle)
        service.publish_dataset(session, SYSTEM, accession=dataset.accession)
        factory.grant("carol", dataset)
        user_id = service.principal_for(
            session.connection(), issuer=issuer.issuer, subject="carol"
        ).user_id
    keys = [*ids, "parity-bundle", "unknown"]
    values = {"keys": keys, "issuer": issuer.issuer, "subject": "carol", "now": datetime.now(UTC)}
    pooled = read(reads, LOOKUP, **values)
    with committed_sessions() as session:
        expected = LOOKUP.rows(session.connection(), values)
    assert len(pooled) == 4
    assert sorted(pooled) == sorted(tuple(row) for row in expected)
    assert {type(row[1]) for row in pooled} == {uuid.UUID}
    assert all(row[-3] is True for row in pooled)  # the grant, before the caller's id and roles
    assert repository.caller_roles(pooled) == (user_id, [])
    assert repository.caller_roles(list(expected)) == (user_id, [])
    records = repository.drs_records(keys, pooled)
    assert [m[1] for m in records["parity-bundle"].members] == ids
    assert records[ids[0]].access_methods[0][1] == "s3"


UUIDS = PreparedQuery(
    "test_uuids",
    select(
        literal_column("NULL::uuid"),
        literal_column("'7fb9cefe-b269-444e-8ee1-b75acd2e4bc5'::uuid"),
        literal_column("ARRAY['7fb9cefe-b269-444e-8ee1-b75acd2e4bc5'::uuid, NULL]"),
    ),
)


def test_pooled_uuids_are_parsed_once_and_arrays_of_them_too(reads: ReadConnections) -> None:
    [(null, first, array)] = read(reads, UUIDS)
    [(_, again, _)] = read(reads, UUIDS)
    expected = uuid.UUID("7fb9cefe-b269-444e-8ee1-b75acd2e4bc5")
    assert null is None
    assert first == expected
    assert again is first  # the same object: parsed once per pool
    assert array == [expected, None]


ECHO_UUID = PreparedQuery("test_echo_uuid", select(bindparam("id", type_=Uuid)))


def test_pooled_reads_take_uuid_parameters_before_any_sqlalchemy_connection(
    committed_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg2 adapts ``uuid.UUID`` only once told to, which SQLAlchemy does on its first
    connection: a server worker's first read may come before that."""
    monkeypatch.delitem(psycopg2.extensions.adapters, (uuid.UUID, psycopg2.extensions.ISQLQuote))
    reads = ReadConnections(committed_sessions, pool_size=1)
    try:
        wanted = uuid.uuid4()
        assert read(reads, ECHO_UUID, id=wanted) == [(wanted,)]
    finally:
        reads.close()


def test_a_dead_pooled_connection_is_replaced_and_the_read_runs_again(
    reads: ReadConnections, committed_sessions: sessionmaker[Session], caplog
) -> None:  # type: ignore[no-untyped-def]
    [(first,)] = read(reads, BACKEND_PID)
    with committed_sessions() as session:
        session.execute(text("SELECT pg_terminate_backend(:pid)"), {"pid": first})
    [(second,)] = read(reads, BACKEND_PID)
    assert second != first
    assert "was dead" in caplog.text


def test_errors_other_than_a_dead_connection_are_not_retried(
    reads: ReadConnections, caplog
) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(psycopg2.errors.UndefinedTable, match="nope"):
        read(reads, NO_SUCH_TABLE)
    assert "was dead" not in caplog.text
    [(pid,)] = read(reads, BACKEND_PID)
    assert pid > 0


def test_readers_beyond_the_pool_size_wait_their_turn(committed_sessions) -> None:  # type: ignore[no-untyped-def]
    reads = ReadConnections(committed_sessions, pool_size=1)

    async def many() -> list[Any]:
        return await asyncio.gather(*(reads.rows(SLEEP, {"seconds": 0.01}) for _ in range(5)))

    try:
        assert asyncio.run(many()) == [[("",)]] * 5
        assert reads.open_connections == 1
    finally:
        reads.close()


def test_a_cancelled_read_is_stopped_on_the_server_and_its_connection_dropped(
    reads: ReadConnections, committed_sessions: sessionmaker[Session]
) -> None:
    async def cancel_a_long_read() -> None:
        task = asyncio.create_task(reads.rows(SLEEP, {"seconds": 30}))
        await asyncio.sleep(0.2)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    started = time.monotonic()
    asyncio.run(cancel_a_long_read())
    assert time.monotonic() - started < 5
    assert reads.open_connections == 0
    assert wait_until_no_backend_sleeps(committed_sessions, seconds=10)
    assert read(reads, SLEEP, seconds=0) == [("",)]


def wait_until_no_backend_sleeps(sessions: sessionmaker[Session], *, seconds: float) -> bool:
    """The server notices a closed client within ``client_connection_check_interval``."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        with sessions() as session:
            sleeping = session.scalar(
                text(
                    "SELECT count(*) FROM pg_stat_activity"
                    " WHERE query LIKE 'EXECUTE test_sleep%' AND state = 'active'"
                )
            )
        if sleeping == 0:
            return True
        time.sleep(0.2)
    return False


def test_waiting_readers_are_served_first_come_first_served(
    committed_sessions: sessionmaker[Session],
) -> None:
    reads = ReadConnections(committed_sessions, pool_size=1)
    served: list[int] = []

    async def reader(n: int) -> None:
        await reads.rows(SLEEP, {"seconds": 0.05})
        served.append(n)

    async def arrivals() -> None:
        tasks = []
        for n in range(4):
            tasks.append(asyncio.create_task(reader(n)))
            await asyncio.sleep(0.01)
        await asyncio.gather(*tasks)

    try:
        asyncio.run(arrivals())
    finally:
        reads.close()
    assert served == [0, 1, 2, 3]


def test_a_reader_cancelled_while_waiting_leaves_the_pool_whole(
    committed_sessions: sessionmaker[Session],
) -> None:
    """Cancelled while queued, or after a connection was handed to it but before it ran: either
    way the connection goes on to the next reader."""
    reads = ReadConnections(committed_sessions, pool_size=1)
    assert reads._pool is not None
    pool = reads._pool

    async def scenario() -> list[str]:
        async with pool.connection():
            queued = asyncio.create_task(reads.rows(BACKEND_PID, {}))
            handed = asyncio.create_task(reads.rows(BACKEND_PID, {}))
            last = asyncio.create_task(reads.rows(BACKEND_PID, {}))
            await asyncio.sleep(0.05)
            queued.cancel()
            await asyncio.sleep(0.05)
        handed.cancel()  # the release just handed it the connection; it has not run yet
        outcomes = await asyncio.gather(queued, handed, last, return_exceptions=True)
        return [type(o).__name__ if isinstance(o, BaseException) else "rows" for o in outcomes]

    try:
        assert asyncio.run(scenario()) == ["CancelledError", "CancelledError", "rows"]
        assert reads.open_connections == 1
        assert read(reads, BACKEND_PID)[0][0] > 0
    finally:
        reads.close()


def test_closing_the_pool_refuses_reads_and_releases_waiting_readers(
    committed_sessions: sessionmaker[Session],
) -> None:
    reads = ReadConnections(committed_sessions, pool_size=1)

    async def scenario() -> list[str]:
        holder = asyncio.create_task(reads.rows(SLEEP, {"seconds": 1.0}))
        await asyncio.sleep(0.02)
        waiting = [asyncio.create_task(reads.rows(BACKEND_PID, {})) for _ in range(3)]
        await asyncio.sleep(0.02)
        reads.close()
        outcomes = await asyncio.gather(holder, *waiting, return_exceptions=True)
        return [str(o) if isinstance(o, BaseException) else "rows" for o in outcomes]

    assert asyncio.run(scenario()) == ["rows"] + ["the read pool is closed"] * 3
    assert reads.open_connections == 0
    with pytest.raises(RuntimeError, match="closed"):
        read(reads, BACKEND_PID)


def test_a_failed_connection_attempt_frees_its_slot(
    committed_sessions: sessionmaker[Session], monkeypatch: pytest.MonkeyPatch
) -> None:
    reads = ReadConnections(committed_sessions, pool_size=1)
    assert reads._pool is not None
    good = reads._pool._connect_kwargs
    monkeypatch.setattr(reads._pool, "_connect_kwargs", {**good, "dbname": "no_such_database"})
    try:
        with pytest.raises(psycopg2.OperationalError, match="no_such_database"):
            read(reads, BACKEND_PID)
        assert reads.open_connections == 0
        monkeypatch.setattr(reads._pool, "_connect_kwargs", good)
        assert read(reads, BACKEND_PID)[0][0] > 0
    finally:
        reads.close()


PROBE = PreparedQuery("test_stale_plan_probe", select(column("x")).select_from(table("probe")))


def change_probe_type(engine: Engine) -> None:
    """What a migration applied under running servers does: a result column changes type (on
    a connection of its own, so the engine's pool holds only the servers' connections)."""
    migration = make_engine(engine.url.render_as_string(hide_password=False), pool_size=1)
    try:
        with migration.begin() as conn:
            conn.execute(text("ALTER TABLE probe ALTER COLUMN x TYPE text"))
    finally:
        migration.dispose()


@pytest.fixture
def probe(committed_engine: Engine) -> Engine:
    with committed_engine.begin() as conn:
        conn.execute(text("CREATE TABLE probe (x varchar(10)); INSERT INTO probe VALUES ('a')"))
    return committed_engine


def test_a_pooled_statement_is_prepared_again_when_its_result_type_changed(
    probe: Engine, committed_sessions: sessionmaker[Session]
) -> None:
    reads = ReadConnections(committed_sessions, pool_size=1)  # one connection: prepared once
    try:
        assert read(reads, PROBE) == [("a",)]
        change_probe_type(probe)
        assert read(reads, PROBE) == [("a",)]
    finally:
        reads.close()


def test_a_session_connection_whose_statement_went_stale_is_replaced(probe: Engine) -> None:
    """Its transaction is lost with the failed statement; the next connection prepares it
    afresh instead of failing on every request."""
    with probe.connect() as conn:
        assert PROBE.rows(conn, {}) == [("a",)]
        conn.commit()  # as a request ends; its prepared statement stays
        stale = conn.connection.dbapi_connection
        change_probe_type(probe)
        with pytest.raises(DBAPIError, match="cached plan must not change result type"):
            PROBE.rows(conn, {})
        assert conn.invalidated
    with probe.connect() as conn:
        assert PROBE.rows(conn, {}) == [("a",)]
        assert conn.connection.dbapi_connection is not stale
