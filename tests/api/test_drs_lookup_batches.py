"""Lookups of one caller in flight together share one statement; callers never share one; a
lookup alone waits for nothing; a failure or a cancellation touches only what it should."""

from __future__ import annotations

import asyncio
import json
from typing import Any, cast

import pytest
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, sessionmaker
from starlette.applications import Starlette

from api.database import ReadConnections
from api.drs.lookup_batches import LookupBatches
from api.drs.routes import LOOKUP, answered, lookup_values, object_response
from catalog import repository
from catalog.principals import ANONYMOUS, Principal
from tests.api.graphql import counting
from tests.api.test_drs_contract import Catalog, build_catalog
from tests.factories import Factory


@pytest.fixture
def catalog(factory: Factory) -> Catalog:
    catalog = build_catalog(factory)
    factory.grant("holder", catalog.datasets["controlled"])
    factory.headers("researcher")
    return catalog


def claims(factory: Factory, subject: str | None) -> dict[str, Any] | None:
    return None if subject is None else {"iss": factory.issuer.issuer, "sub": subject}


async def answer(app: Starlette, object_id: str, caller: dict[str, Any] | None) -> Any:
    """``GET /objects/{object_id}`` as the fast path answers it: status and body."""
    path = f"/ga4gh/drs/v1/objects/{object_id}"
    work = object_response(app.state.drs, object_id, caller)
    response = await answered(work, "GET", path)
    return response.status_code, json.loads(bytes(response.body))


def lookups_in(statements: list[str]) -> int:
    """How many times the lookup ran (its first run in a connection also prepares it)."""
    return sum(statement.startswith(f"EXECUTE {LOOKUP.name}(") for statement in statements)


def test_lookups_of_one_caller_in_flight_together_share_one_statement(
    app: Starlette, catalog: Catalog, connection: Connection
) -> None:
    async def together() -> list[Any]:
        ids = ["open-a", "open-b", "nope", "ctl-1", "open-a"]
        return await asyncio.gather(*(answer(app, i, None) for i in ids))

    with counting(connection) as statements:
        answers = asyncio.run(together())
    assert lookups_in(statements) == 1
    assert [status for status, _ in answers] == [200, 200, 404, 401, 200]
    assert [body.get("id") for _, body in answers] == ["open-a", "open-b", None, None, "open-a"]
    assert answers[3][1]["msg"] == "'ctl-1' needs a bearer token or a passport"


def test_callers_never_share_a_statement_nor_each_others_grants(
    app: Starlette, factory: Factory, catalog: Catalog, connection: Connection
) -> None:
    callers = [None, "holder", "researcher", "holder"]

    async def together() -> list[Any]:
        return await asyncio.gather(*(answer(app, "ctl-1", claims(factory, c)) for c in callers))

    with counting(connection) as statements:
        answers = asyncio.run(together())
    assert lookups_in(statements) == 3  # the two requests of the holder share one
    assert [status for status, _ in answers] == [401, 200, 403, 200]
    assert answers[1][1]["id"] == answers[3][1]["id"] == "ctl-1"


def test_lookups_one_after_another_run_one_statement_each(
    app: Starlette, catalog: Catalog, connection: Connection
) -> None:
    async def in_turn() -> list[Any]:
        return [await answer(app, i, None) for i in ["open-a", "open-b"]]

    with counting(connection) as statements:
        answers = asyncio.run(in_turn())
    assert lookups_in(statements) == 2
    assert [body["id"] for _, body in answers] == ["open-a", "open-b"]


@pytest.fixture
def batches(sessions: sessionmaker[Session]) -> LookupBatches:
    reads = ReadConnections(sessions, pool_size=2)
    return LookupBatches(reads, LOOKUP, lookup_values, most_keys=2)


def found(keys: list[str], rows: Any) -> set[str]:
    return set(repository.drs_records(keys, rows))


def test_a_batch_takes_no_more_than_most_keys(
    batches: LookupBatches, catalog: Catalog, connection: Connection
) -> None:
    async def together() -> Any:
        asked = [["open-a"], ["open-b"], ["open-c", "reg-1"], ["open-a"]]
        return await asyncio.gather(*(batches.rows(ANONYMOUS, keys) for keys in asked))

    with counting(connection) as statements:
        first, second, third, fourth = asyncio.run(together())
    assert lookups_in(statements) == 3  # open-a + open-b; open-c + reg-1 (no room); open-a
    assert first == second
    assert found(["open-a", "open-b"], first) == {"open-a", "open-b"}
    assert found(["open-c", "reg-1"], third) == {"open-c", "reg-1"}
    assert found(["open-a", "open-b", "open-c"], fourth) == {"open-a"}


def test_a_chunk_read_alone_is_its_own_statement(
    batches: LookupBatches, catalog: Catalog, connection: Connection
) -> None:
    async def together() -> Any:
        return await asyncio.gather(
            batches.alone(ANONYMOUS, ["open-a"]), batches.rows(ANONYMOUS, ["open-b"])
        )

    with counting(connection) as statements:
        alone, batched = asyncio.run(together())
    assert lookups_in(statements) == 2
    assert found(["open-a", "open-b"], alone) == {"open-a"}
    assert found(["open-a", "open-b"], batched) == {"open-b"}


def test_a_failed_statement_fails_its_whole_batch_and_the_next_batch_runs(
    batches: LookupBatches, catalog: Catalog
) -> None:
    async def scenario() -> list[Any]:
        failed = await asyncio.gather(
            batches.rows(ANONYMOUS, ["bad\x00key"]),
            batches.rows(ANONYMOUS, ["open-a"]),
            return_exceptions=True,
        )
        return [*failed, await batches.rows(ANONYMOUS, ["open-a"])]

    first, second, after = asyncio.run(scenario())
    assert isinstance(first, ValueError)
    assert second is first
    assert found(["open-a"], after) == {"open-a"}


def test_a_cancelled_lookup_leaves_its_batch_to_the_others(
    batches: LookupBatches, catalog: Catalog
) -> None:
    holder = Principal(issuer="https://issuer.example.org/", subject="someone")

    async def scenario() -> tuple[bool, set[str]]:
        leaving = asyncio.create_task(batches.rows(holder, ["open-a"]))
        staying = asyncio.create_task(batches.rows(holder, ["open-b"]))
        await asyncio.sleep(0)  # both have joined the batch; it has not run yet
        leaving.cancel()
        rows = await staying
        return leaving.cancelled(), found(["open-a", "open-b"], rows)

    assert asyncio.run(scenario()) == (True, {"open-a", "open-b"})


class SlowReads:
    """Reads that take a moment, as they do on a pooled connection: each statement's keys are
    recorded, and its rows are one ``(key,)`` per key."""

    def __init__(self) -> None:
        self.statements: list[list[str]] = []
        self.cancelled = 0

    async def rows(self, _query: Any, values: Any) -> list[tuple[str]]:
        self.statements.append(list(values["keys"]))
        try:
            await asyncio.sleep(0.05)
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        return [(key,) for key in values["keys"]]


@pytest.fixture
def slow() -> SlowReads:
    return SlowReads()


@pytest.fixture
def slow_batches(slow: SlowReads) -> LookupBatches:
    return LookupBatches(cast(ReadConnections, slow), LOOKUP, lookup_values, most_keys=4)


def test_lookups_arriving_while_a_statement_runs_form_the_next_batch(
    slow: SlowReads, slow_batches: LookupBatches
) -> None:
    async def scenario() -> list[Any]:
        first = asyncio.create_task(slow_batches.rows(ANONYMOUS, ["a"]))
        await asyncio.sleep(0.01)  # its statement is running
        later = [asyncio.create_task(slow_batches.rows(ANONYMOUS, [k])) for k in ("b", "c")]
        return [await first, *[await task for task in later]]

    first, b, c = asyncio.run(scenario())
    assert slow.statements == [["a"], ["b", "c"]]
    assert first == (("a",),)
    assert b == c == (("b",), ("c",))


def test_a_batch_nobody_waits_for_is_cancelled_with_its_statement(
    slow: SlowReads, slow_batches: LookupBatches
) -> None:
    async def scenario() -> Any:
        leaving = [asyncio.create_task(slow_batches.rows(ANONYMOUS, [k])) for k in ("a", "b")]
        await asyncio.sleep(0.01)  # the statement is running
        for task in leaving:
            task.cancel()
        await asyncio.gather(*leaving, return_exceptions=True)
        return await slow_batches.rows(ANONYMOUS, ["c"])

    assert asyncio.run(scenario()) == (("c",),)
    assert slow.cancelled == 1
    assert slow.statements == [["a", "b"], ["c"]]


def test_a_batch_left_by_an_ended_event_loop_does_not_stop_the_next_loop(
    slow: SlowReads, slow_batches: LookupBatches
) -> None:
    async def ends_at_once() -> None:
        lookup = asyncio.create_task(slow_batches.rows(ANONYMOUS, ["a"]))
        await asyncio.sleep(0)  # the lookup has joined a batch whose statement has not started
        assert not lookup.done()

    asyncio.run(ends_at_once())
    assert asyncio.run(slow_batches.rows(ANONYMOUS, ["b"])) == (("b",),)
    assert slow.statements[-1] == ["b"]


def test_a_batched_lookup_larger_than_a_batch_is_refused(slow_batches: LookupBatches) -> None:
    with pytest.raises(ValueError, match="at most 4 keys"):
        asyncio.run(slow_batches.rows(ANONYMOUS, ["a", "b", "c", "d", "e"]))
