"""Dataset nodes are reused by any caller with the same access to them, pages and counts by
the same caller, until a committed catalog change (``api.graphql.catalog_memo``)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
from sqlalchemy import Engine, event
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from api.drs.uris import DrsNaming
from api.graphql.catalog_memo import ENTRY_OVERHEAD, CatalogMemo
from api.graphql.context import Context
from catalog import service
from catalog.models import RoleName
from catalog.principals import ANONYMOUS, SYSTEM
from catalog.schemas import DatasetUpdate
from tests.api.graphql import gql
from tests.factories import Factory

PAGE = """{ datasets(first: 10) { totalCount edges { node {
  accession title canReadFiles files(first: 5) { totalCount edges { node {
    id accessMethods { url } } } } } } } }"""


@pytest.fixture
def client(committed_client: Callable[..., TestClient]) -> Iterator[TestClient]:
    with committed_client(graphql_memo_mb=1) as test_client:
        yield test_client


@pytest.fixture
def factory(committed_factory: Factory) -> Factory:
    return committed_factory


@pytest.fixture
def statements(committed_engine: Engine) -> Iterator[list[str]]:
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        seen.append(statement)

    event.listen(committed_engine, "before_cursor_execute", record)
    yield seen
    event.remove(committed_engine, "before_cursor_execute", record)


def _built(statements: list[str]) -> tuple[int, int, int]:
    """Statements that built nodes, counted datasets, and read a page of them."""
    nodes = sum("json_build_object" in s for s in statements)
    counts = sum(s.startswith("SELECT count(*)") for s in statements)
    pages = sum(
        s.startswith("SELECT datasets.id, datasets.accession") and "LIMIT" in s for s in statements
    )
    return nodes, counts, pages


def test_a_signed_in_page_reuses_nodes_and_counts_until_the_catalog_changes(
    client: TestClient, factory: Factory, statements: list[str]
) -> None:
    steward = factory.organization()
    datasets = [factory.dataset(steward, publish=True, files=2) for _ in range(3)]
    researcher = factory.headers("rita")
    factory.session.commit()
    statements.clear()

    first = gql(client, PAGE, headers=researcher)
    assert _built(statements) == (1, 1, 1)
    statements.clear()
    assert gql(client, PAGE, headers=researcher) == first
    assert _built(statements) == (0, 0, 0)
    assert gql(client, PAGE, headers=factory.headers("other-researcher")) == first
    assert _built(statements) == (0, 1, 1)  # the page and count are each caller's own

    service.update_dataset(
        factory.session, SYSTEM, accession=datasets[0].accession, data=DatasetUpdate(title="New")
    )
    factory.dataset(steward, publish=True)
    factory.session.commit()
    statements.clear()
    changed = gql(client, PAGE, headers=researcher)
    assert _built(statements) == (1, 1, 1)
    assert changed["datasets"]["totalCount"] == 4
    titles = [e["node"]["title"] for e in changed["datasets"]["edges"]]
    assert "New" in titles


def test_callers_with_other_access_get_their_own_nodes(
    client: TestClient, factory: Factory
) -> None:
    steward = factory.organization()
    factory.dataset(steward, publish=True, files=1, access_level="controlled")
    researcher = factory.headers("rita")
    stewarding = factory.headers("sam", (RoleName.STEWARD, steward.slug))
    factory.session.commit()

    hidden = gql(client, PAGE, headers=researcher)["datasets"]["edges"][0]["node"]
    shown = gql(client, PAGE, headers=stewarding)["datasets"]["edges"][0]["node"]
    assert hidden["canReadFiles"] is False
    assert hidden["files"]["edges"] == []
    assert shown["canReadFiles"] is True
    assert shown["files"]["edges"][0]["node"]["accessMethods"][0]["url"].startswith("s3://")
    again = gql(client, PAGE, headers=researcher)["datasets"]["edges"][0]["node"]
    assert again == hidden


def test_a_newer_generation_empties_the_memo_and_an_older_one_is_ignored() -> None:
    memo = CatalogMemo(10_000)
    memo.put(5, "a", "one", 3)
    assert memo.get(5, "a") == "one"
    assert memo.get(4, "a") is None
    memo.put(4, "b", "old", 3)
    assert memo.get(4, "b") is None
    assert len(memo) == 1
    memo.put(6, "c", "new", 3)
    assert memo.get(6, "a") is None
    assert memo.get(6, "c") == "new"
    assert len(memo) == 1
    assert memo.size == 3 + ENTRY_OVERHEAD


def test_the_least_recently_used_leave_first_and_oversized_values_are_not_kept() -> None:
    memo = CatalogMemo(3 * (100 + ENTRY_OVERHEAD))
    for key in "abc":
        memo.put(1, key, key, 100)
    assert memo.get(1, "a") == "a"
    memo.put(1, "d", "d", 100)
    assert memo.get(1, "b") is None
    assert [memo.get(1, k) for k in "acd"] == ["a", "c", "d"]
    memo.put(1, "huge", "x", 10_000)
    assert memo.get(1, "huge") is None
    memo.put(1, "a", "again", 100)
    assert memo.get(1, "a") == "again"
    assert memo.get_many(1, ["d", "b", "a"]) == {"d": "d", "a": "again"}
    assert memo.get_many(2, ["a"]) == {}
    assert memo.size == 3 * (100 + ENTRY_OVERHEAD)


def test_a_part_computed_across_a_catalog_commit_is_not_kept(
    committed_sessions: sessionmaker[Session], factory: Factory
) -> None:
    """Each statement reads the latest commit: a part whose computation a catalog commit
    overtook may mix two generations, so it is dropped."""
    with committed_sessions() as session:
        context = Context(
            session=session,
            principal=ANONYMOUS,
            base_url="http://testserver",
            search=cast(Any, None),
            drs=DrsNaming("testserver", None),
            max_drs_uris=10,
            memo=CatalogMemo(10_000),
        )
        seen = context.generation()
        context.keep({"before": "kept"}, len)
        factory.dataset(publish=True)
        factory.session.commit()
        context.keep({"across": "dropped"}, len)
        assert context.memo is not None
        assert context.memo.get(seen, "before") == "kept"
        assert context.memo.get(seen, "across") is None
        assert context.remembered("computed", lambda: "again", 10) == "again"
        assert context.memo.get(seen, "computed") is None
