"""Catalog answers are served from the cache until a committed catalog change, anonymous ones
to everyone and signed-in ones to callers of the same class of access; everything else is
executed every time."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import pytest
from graphql import GraphQLObjectType, get_named_type, parse
from sqlalchemy import text
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from api.database import ReadConnections
from api.graphql import endpoint
from api.graphql.caller_access import CallerAccess, generation_and_caller_access
from api.graphql.endpoint import CACHE_HEADER
from api.graphql.response_cache import (
    ENTRY_OVERHEAD,
    SAME_FOR_EVERYONE,
    CacheKey,
    ResponseCache,
    cache_key,
)
from api.graphql.schema import schema
from catalog import service
from catalog.models import Dataset, RoleName
from catalog.principals import SYSTEM
from catalog.schemas import DatasetUpdate
from governance import service as governance_service
from tests.factories import Factory

PAGE = """query($first: Int!) { datasets(first: $first) { totalCount edges { node {
  accession title files(first: 5) { edges { node { id drsUri } } } } } } }"""


@pytest.fixture
def client(committed_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with committed_client(graphql_cache_mb=1) as test_client:
        yield test_client


@pytest.fixture
def factory(committed_factory: Factory) -> Factory:
    return committed_factory


def ask(
    client: TestClient, query: str, variables: dict[str, Any], headers: dict[str, str] | None = None
) -> tuple[str | None, dict[str, Any]]:
    response = client.post(
        "/graphql", json={"query": query, "variables": variables}, headers=headers or {}
    )
    assert response.status_code == 200, response.text
    return response.headers.get(CACHE_HEADER), response.json()


def test_an_anonymous_page_is_served_again_until_the_catalog_changes(
    client: TestClient, factory: Factory
) -> None:
    dataset = factory.dataset(publish=True)
    factory.files(dataset, 2)
    factory.session.commit()
    first = ask(client, PAGE, {"first": 10})
    second = ask(client, PAGE, {"first": 10})
    assert first[0] == "miss"
    assert second == ("hit", first[1])
    assert ask(client, PAGE, {"first": 11})[0] == "miss"

    service.update_dataset(
        factory.session, SYSTEM, accession=dataset.accession, data=DatasetUpdate(title="Renamed")
    )
    factory.session.commit()
    state, body = ask(client, PAGE, {"first": 10})
    assert state == "miss"
    titles = [e["node"]["title"] for e in body["data"]["datasets"]["edges"]]
    assert "Renamed" in titles
    assert ask(client, PAGE, {"first": 10}) == ("hit", body)


def test_an_uncommitted_change_neither_shows_nor_invalidates(
    client: TestClient, factory: Factory
) -> None:
    dataset = factory.dataset(publish=True)
    factory.session.commit()
    _, body = ask(client, PAGE, {"first": 10})
    service.update_dataset(
        factory.session, SYSTEM, accession=dataset.accession, data=DatasetUpdate(title="Not yet")
    )
    factory.session.flush()
    assert ask(client, PAGE, {"first": 10}) == ("hit", body)
    factory.session.rollback()
    assert ask(client, PAGE, {"first": 10}) == ("hit", body)


ACCESS = """query { datasets(first: 10, orderBy: {field: ACCESSION}) { totalCount edges { node {
  accession accessLevel status canReadFiles canDownload
  files(first: 5) { totalCount edges { node { id accessMethods { url } } } } } } } }"""

CALLERS: dict[str, tuple[tuple[RoleName, str | None], ...]] = {
    "researcher": (),
    "another researcher": (),
    "steward": ((RoleName.STEWARD, "steward-a"),),
    "another steward of it": ((RoleName.STEWARD, "steward-a"),),
    "other steward": ((RoleName.STEWARD, "steward-b"),),
    "committee member": ((RoleName.COMMITTEE_MEMBER, "dac-a"),),
    "committee chair": ((RoleName.COMMITTEE_CHAIR, "dac-a"),),
    "funder auditor": ((RoleName.FUNDER_AUDITOR, "funder-a"),),
    "admin": ((RoleName.ADMIN, None),),
    "grant holder": (),
}


@pytest.fixture
def access_catalog(factory: Factory) -> dict[str, Any]:
    """Open, registered, controlled and draft datasets, and a bearer token per caller."""
    steward = factory.organization(slug="steward-a")
    factory.organization(slug="steward-b")
    factory.organization("funder", slug="funder-a")
    dac = factory.committee(steward)
    factory.session.execute(
        text("UPDATE committees SET slug = 'dac-a' WHERE id = :id"), {"id": dac.id}
    )
    controlled = factory.dataset(
        steward, publish=True, files=2, access_level="controlled", committee="dac-a"
    )
    factory.dataset(steward, publish=True, files=2, access_level="registered")
    factory.dataset(steward, publish=True, files=1)
    factory.dataset(steward, files=1, access_level="controlled", committee="dac-a")
    factory.grant("grant-holder", controlled)
    headers = {name: factory.headers(name.replace(" ", "-"), *r) for name, r in CALLERS.items()}
    factory.session.commit()
    return {"controlled": controlled, "headers": headers}


def test_signed_in_answers_are_kept_per_class_of_access_and_equal_executed_ones(
    committed_client: Callable[..., TestClient], access_catalog: dict[str, Any]
) -> None:
    """With the memo on too, as servers run by default."""
    headers = access_catalog["headers"]
    with committed_client(graphql_cache_mb=0) as uncached:
        expected = {name: ask(uncached, ACCESS, {}, h)[1] for name, h in headers.items()}
        expected["anonymous"] = ask(uncached, ACCESS, {})[1]
    headers["anonymous"] = {}
    with committed_client(graphql_cache_mb=1, graphql_memo_mb=1) as client:
        states = {name: ask(client, ACCESS, {}, h)[0] for name, h in headers.items()}
        for name, h in headers.items():
            assert ask(client, ACCESS, {}, h) == ("hit", expected[name]), name
    # Callers alike in roles and grants share one answer; every other class computes its own.
    assert states == {
        "researcher": "miss",
        "another researcher": "hit",
        "steward": "miss",
        "another steward of it": "hit",
        "other steward": "miss",
        "committee member": "miss",
        "committee chair": "miss",
        "funder auditor": "miss",
        "admin": "miss",
        "grant holder": "miss",
        "anonymous": "miss",
    }
    answers = {name: orjson.dumps(body) for name, body in expected.items()}
    assert answers["researcher"] != answers["anonymous"]  # the registered dataset's files
    assert answers["grant holder"] != answers["researcher"]  # the controlled dataset's files
    assert answers["steward"] != answers["other steward"]  # the draft, the storage URLs
    assert answers["committee member"] not in (answers["researcher"], answers["steward"])


def test_a_grant_or_role_given_or_withdrawn_shows_at_the_next_request(
    client: TestClient, factory: Factory, access_catalog: dict[str, Any]
) -> None:
    """Grants and roles are not catalog tables: the generation does not move, the class of
    access does."""
    rita = access_catalog["headers"]["researcher"]
    controlled = access_catalog["controlled"].accession

    def download(headers: dict[str, str]) -> tuple[str | None, bool]:
        state, body = ask(client, ACCESS, {}, headers)
        (node,) = [
            e["node"]
            for e in body["data"]["datasets"]["edges"]
            if e["node"]["accession"] == controlled
        ]
        return state, node["canDownload"]

    assert download(rita) == ("miss", False)
    grant = factory.grant("researcher", access_catalog["controlled"])
    factory.session.commit()
    assert download(rita) == ("miss", True)
    assert download(access_catalog["headers"]["another researcher"]) == ("hit", False)
    governance_service.revoke_grant(factory.session, SYSTEM, grant_id=grant.id, reason="ended")
    factory.session.commit()
    assert download(rita) == ("hit", False)  # the class of researchers without grants again
    member = ask(client, ACCESS, {}, access_catalog["headers"]["committee member"])
    factory.token("researcher", (RoleName.COMMITTEE_MEMBER, "dac-a"))
    factory.session.commit()
    assert ask(client, ACCESS, {}, rita) == ("hit", member[1])


def give_grant(factory: Factory, dataset: Dataset, access: CallerAccess) -> None:
    governance_service.grant_access(
        factory.session,
        SYSTEM,
        issuer=factory.issuer.issuer,
        subject="researcher",
        accession=dataset.accession,
        starts_at=access.now - timedelta(hours=1),
        expires_at=access.now + timedelta(days=1),
    )


def give_membership(factory: Factory, _dataset: Dataset, _access: CallerAccess) -> None:
    factory.token("researcher", (RoleName.COMMITTEE_MEMBER, "dac-a"))


@pytest.mark.parametrize(
    ("change", "rights"), [(give_grant, (True, True)), (give_membership, (True, False))]
)
def test_an_answer_is_computed_with_the_class_it_is_kept_under(
    client: TestClient,
    factory: Factory,
    access_catalog: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    change: Callable[[Factory, Dataset, CallerAccess], None],
    rights: tuple[bool, bool],
) -> None:
    """A grant or role given between reading the caller's class and computing its answer must
    not put the new rights' answer under the class of researchers without them."""
    read_class = endpoint.generation_and_caller_access

    async def then_changed(*args: Any) -> tuple[int, CallerAccess]:
        generation, access = await read_class(*args)
        change(factory, access_catalog["controlled"], access)
        factory.session.commit()
        return generation, access

    def controlled(body: dict[str, Any]) -> tuple[bool, bool]:
        node = body["data"]["datasets"]["edges"][0]["node"]
        return node["canReadFiles"], node["canDownload"]

    monkeypatch.setattr(endpoint, "generation_and_caller_access", then_changed)
    rita = access_catalog["headers"]["researcher"]
    state, body = ask(client, ACCESS, {}, rita)
    monkeypatch.undo()
    assert state == "miss"
    assert controlled(body) == (False, False)
    assert ask(client, ACCESS, {}, access_catalog["headers"]["another researcher"]) == (
        "hit",
        body,
    )
    state, changed = ask(client, ACCESS, {}, rita)
    assert state == "miss"
    assert controlled(changed) == rights


@pytest.mark.parametrize("signed_in", [False, True])
def test_a_failed_cache_read_is_a_masked_graphql_error(
    client: TestClient,
    access_catalog: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    signed_in: bool,
) -> None:
    """The generation and the class of access are read before any resolver runs: their
    failure is answered as a resolver's would be, in GraphQL's shape, revealing nothing."""

    async def explode(*_args: Any) -> Any:
        raise RuntimeError("secret connection string postgres://u:p@host")

    if signed_in:
        monkeypatch.setattr(endpoint, "generation_and_caller_access", explode)
    else:
        monkeypatch.setattr(ReadConnections, "rows", explode)
    headers = access_catalog["headers"]["researcher"] if signed_in else {}
    response = client.post("/graphql", json={"query": ACCESS}, headers=headers)
    assert response.status_code == 500
    assert response.json() == {
        "errors": [
            {"message": "Internal server error", "extensions": {"code": "INTERNAL_SERVER_ERROR"}}
        ]
    }
    assert "GraphQL request failed" in caplog.text


def test_the_class_of_access_is_read_at_the_request_time(
    committed_sessions: sessionmaker[Session], factory: Factory, access_catalog: dict[str, Any]
) -> None:
    """A grant counts between its start and its end, so the same caller is in another class
    outside them: the key is read with the request's own time, and the answer computed then.
    Every role and every grant is read, with the generation, in one statement."""
    roles = ((RoleName.COMMITTEE_MEMBER, "dac-a"), (RoleName.STEWARD, "steward-b"))
    factory.token("researcher", *roles)
    held = factory.dataset(publish=True, access_level="controlled", committee="dac-a")
    factory.grant("researcher", held)  # for the next 30 days
    starts = datetime.now(UTC) + timedelta(days=1)
    governance_service.grant_access(
        factory.session,
        SYSTEM,
        issuer=factory.issuer.issuer,
        subject="researcher",
        accession=access_catalog["controlled"].accession,
        starts_at=starts,
        expires_at=starts + timedelta(days=1),
    )
    factory.session.commit()
    claims = {"iss": factory.issuer.issuer, "sub": "researcher"}

    async def read() -> list[tuple[int, CallerAccess]]:
        reads = ReadConnections(committed_sessions, pool_size=1)
        try:
            return [
                await generation_and_caller_access(reads, claims, at)
                for at in (starts - timedelta(seconds=1), starts, starts + timedelta(days=2))
            ] + [await generation_and_caller_access(reads, {**claims, "sub": "nobody"}, starts)]
        finally:
            reads.close()

    (generation, before), (_, during), (_, after), (_, unknown) = asyncio.run(read())
    current = text("SELECT generation FROM catalog_generation")
    assert generation == factory.session.scalar(current)
    assert during.granted == {access_catalog["controlled"].id, held.id}
    assert before.granted == after.granted == {held.id}
    assert before.key() == after.key() != during.key()
    assert {r.role for r in during.principal.roles} == {
        RoleName.COMMITTEE_MEMBER,
        RoleName.STEWARD,
    }
    assert unknown.principal.user_id is None
    assert unknown.principal.is_authenticated
    assert unknown.principal.roles == frozenset()
    assert unknown.granted == frozenset()


def test_answers_the_same_for_everyone_are_kept_once_as_the_anonymous_answer(
    client: TestClient,
    committed_client: Callable[..., TestClient],
    access_catalog: dict[str, Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Computed as the anonymous caller's even when an admin asks first, and without reading
    anyone's class of access."""
    query = "{ organizations { slug kind } committees { slug rules { slaDays } } }"
    with committed_client(graphql_cache_mb=0) as uncached:
        anonymous = ask(uncached, query, {})[1]

    async def unread(*_args: Any) -> Any:
        raise AssertionError("a class of access was read")

    monkeypatch.setattr(endpoint, "generation_and_caller_access", unread)
    headers = access_catalog["headers"]
    assert ask(client, query, {}, headers["admin"]) == ("miss", anonymous)
    for caller in [{}, *headers.values()]:
        assert ask(client, query, {}, caller) == ("hit", anonymous)


def test_roots_kept_for_everyone_reach_no_type_that_could_depend_on_the_caller() -> None:
    """A field added under them that reaches datasets, files, users or requests must make its
    root leave ``SAME_FOR_EVERYONE`` (or this list grow, after thought)."""
    query = schema.graphql_schema.query_type
    assert query is not None
    reached: set[str] = set()
    pending = [
        get_named_type(query.fields[name].type)
        for name in SAME_FOR_EVERYONE
        if not name.startswith("__")
    ]
    while pending:
        found = pending.pop()
        if isinstance(found, GraphQLObjectType) and found.name not in reached:
            reached.add(found.name)
            pending.extend(get_named_type(f.type) for f in found.fields.values())
    assert reached == {"Organization", "Committee", "CommitteeRules"}


def test_answers_with_errors_are_not_kept(client: TestClient) -> None:
    for _ in range(2):
        state, body = ask(client, PAGE, {"first": 0})
        assert state == "miss"
        assert body["errors"][0]["extensions"]["code"] == "INVALID"


def test_other_operations_are_executed_every_time(client: TestClient) -> None:
    for query in (
        "{ me { authenticated } }",
        "{ datasets(first: 1) { totalCount } me { subject } }",
    ):
        for _ in range(2):
            assert ask(client, query, {})[0] is None


@pytest.mark.parametrize(
    ("document", "operation", "expected"),
    [
        ("{ datasets(first: 1) { totalCount } }", None, "per class"),
        ("query Q { organizations { slug } committees { slug } }", "Q", "everyone"),
        ('{ ...F } fragment F on Query { dataset(accession: "A") { title } }', None, "per class"),
        ('{ ... on Query { drsObject(id: "x") { id } } }', None, "per class"),
        ("{ __schema { types { name } } }", None, "everyone"),
        ("{ organizations { slug } datasets(first: 1) { totalCount } }", None, "per class"),
        ("{ ...F } fragment F on Query { me { subject } }", None, None),
        ('{ search(query: "x") { totalCount } }', None, None),
        ("{ datasets(first: 1) { totalCount } myGrants { id } }", None, None),
        ("mutation { organizationCreate(input: {}) { errors { code } } }", None, None),
        ("query A { datasets(first: 1) { totalCount } } query B { me { subject } }", "B", None),
        (
            "query A { datasets(first: 1) { totalCount } } query B { me { subject } }",
            "A",
            "per class",
        ),
        ("query A { datasets(first: 1) { totalCount } } query B { me { subject } }", None, None),
    ],
)
def test_which_operations_are_cacheable_and_for_whom(
    document: str, operation: str | None, expected: str | None
) -> None:
    key = cache_key(parse(document), document, operation, {})
    assert (None if key is None else "everyone" if key.same_for_everyone else "per class") == (
        expected
    )


def test_keys_count_declared_variables_only_and_not_their_order() -> None:
    text = "query Q($a: Int, $b: Int) { datasets(first: $a) { totalCount } }"
    other = "query R($a: Int, $b: Int) { datasets(first: $a) { totalCount } }"

    def key(query: str, name: str | None, variables: dict[str, Any]) -> CacheKey | None:
        return cache_key(parse(query), query, name, variables)

    base = key(text, None, {"a": 1, "b": 2})
    assert base is not None
    assert base == key(text, None, {"b": 2, "a": 1})
    assert base == key(text, None, {"a": 1, "b": 2, "undeclared": 3})
    assert base != key(text, "Q", {"a": 1, "b": 2})
    assert base != key(text, None, {"a": 2, "b": 2})
    assert base != key(other, None, {"a": 1, "b": 2})
    assert key(text, None, {"a": 10**30}) is not None
    assert key(text, None, {"a": float("nan")}) is None


def test_huge_or_nan_variables_are_refused_as_input_not_a_crash(client: TestClient) -> None:
    for raw in ('{"first": 100000000000000000000}', '{"first": NaN}'):
        response = client.post(
            "/graphql",
            content='{"query": "query($first: Int!) { datasets(first: $first) { totalCount } }",'
            f' "variables": {raw}}}',
            headers={"content-type": "application/json"},
        )
        assert response.status_code == 200, response.text
        assert response.json()["errors"][0]["extensions"]["code"] == "BAD_USER_INPUT"


def test_least_recently_used_answers_leave_first_and_stale_ones_are_dropped() -> None:
    one = 1 + 4 + ENTRY_OVERHEAD  # key, body and the entry's own cost
    cache = ResponseCache(max_bytes=2 * one + 1)
    cache.put(b"a", 1, b"aaaa")
    cache.put(b"b", 1, b"bbbb")
    assert cache.get(b"a", 1) == b"aaaa"
    cache.put(b"c", 1, b"cccc")
    assert (cache.get(b"a", 1), cache.get(b"b", 1), cache.get(b"c", 1)) == (b"aaaa", None, b"cccc")
    assert cache.size == 2 * one
    assert cache.get(b"a", 2) is None
    assert (len(cache), cache.size) == (1, one)
    cache.put(b"huge", 2, b"x" * (2 * one))
    assert cache.get(b"huge", 2) is None


def test_an_answer_of_a_newer_generation_is_not_replaced_by_an_older_one() -> None:
    cache = ResponseCache(max_bytes=10_000)
    cache.put(b"k", 5, b"new")
    assert cache.get(b"k", 4) is None  # a request that read the generation earlier
    cache.put(b"k", 4, b"old")
    assert cache.get(b"k", 5) == b"new"


def concurrently(
    cache: ResponseCache, compute: Callable[[], Awaitable[tuple[bytes, bool]]], times: int
) -> list[tuple[bytes, str] | BaseException]:
    """``times`` requests for one answer at once, as they end (an exception as a value)."""

    async def run() -> list[tuple[bytes, str] | BaseException]:
        tasks = (cache.answer(b"k", 1, compute) for _ in range(times))
        return list(await asyncio.gather(*tasks, return_exceptions=True))

    return asyncio.run(run())


def test_concurrent_misses_of_one_answer_compute_it_once() -> None:
    cache = ResponseCache(max_bytes=1000)
    calls: list[int] = []

    async def compute() -> tuple[bytes, bool]:
        calls.append(1)
        await asyncio.sleep(0.05)
        return b"answer", True

    outcomes = concurrently(cache, compute, 5)
    assert len(calls) == 1
    assert sorted(o[1] for o in outcomes if isinstance(o, tuple)) == ["coalesced"] * 4 + ["miss"]
    assert {o[0] for o in outcomes if isinstance(o, tuple)} == {b"answer"}
    assert asyncio.run(cache.answer(b"k", 1, compute)) == (b"answer", "hit")
    assert asyncio.run(cache.answer(b"k", 2, compute)) == (b"answer", "miss")
    assert len(calls) == 2


def test_an_answer_not_to_keep_is_shared_but_not_stored() -> None:
    cache = ResponseCache(max_bytes=1000)

    async def compute() -> tuple[bytes, bool]:
        await asyncio.sleep(0.01)
        return b"errors", False

    outcomes = concurrently(cache, compute, 2)
    assert sorted(o for o in outcomes if isinstance(o, tuple)) == [
        (b"errors", "coalesced"),
        (b"errors", "miss"),
    ]
    assert cache.get(b"k", 1) is None


def test_when_the_first_computation_fails_the_others_coalesce_again() -> None:
    cache = ResponseCache(max_bytes=1000)
    calls: list[int] = []

    async def compute() -> tuple[bytes, bool]:
        calls.append(1)
        await asyncio.sleep(0.01)
        if len(calls) == 1:
            raise RuntimeError("database went away")
        return b"answer", True

    outcomes = concurrently(cache, compute, 3)
    assert [type(o) for o in outcomes].count(RuntimeError) == 1
    answered = sorted(o for o in outcomes if isinstance(o, tuple))
    assert answered == [(b"answer", "coalesced"), (b"answer", "miss")]
    assert len(calls) == 2
