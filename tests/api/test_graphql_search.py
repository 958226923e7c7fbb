"""The `search` query over GraphQL: shape, visibility per role, readable-only, bad input."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from catalog.models import RoleName
from search import outbox
from search.postgres import PostgresBackend
from tests.api.graphql import gql, gql_errors
from tests.factories import Factory
from tests.search.catalog_fixture import FixtureCatalog, build

SEARCH = """
query($q: String, $filters: SearchFilters, $sort: SearchSort, $first: Int, $after: String) {
  search(query: $q, filters: $filters, sort: $sort, first: $first, after: $after) {
    totalCount
    facets { field buckets { value label count } }
    edges { cursor node { score dataset { accession title } highlights { field fragments } } }
    pageInfo { hasNextPage endCursor }
  }
}
"""


@pytest.fixture
def catalog(factory: Factory, db: Session) -> FixtureCatalog:
    built = build(factory, db)
    outbox.drain(db, PostgresBackend())
    return built


def search(client: TestClient, headers: dict[str, str] | None = None, **variables: object):  # type: ignore[no-untyped-def]
    return gql(client, SEARCH, dict(variables), headers)["search"]


def accessions(result: dict) -> list[str]:  # type: ignore[type-arg]
    return [e["node"]["dataset"]["accession"] for e in result["edges"]]


def test_search_answers_hits_highlights_and_labelled_facets(client, catalog) -> None:  # type: ignore[no-untyped-def]
    result = search(client, q="heart attack")

    assert result["totalCount"] == 1
    (edge,) = result["edges"]
    assert edge["node"]["dataset"]["accession"] == catalog.accession("heart")
    assert edge["node"]["score"] > 0
    facets = {f["field"]: f["buckets"] for f in result["facets"]}
    assert facets["DISEASE"] == [
        {"value": "MONDO:0005068", "label": "myocardial infarction", "count": 1}
    ]
    assert facets["STEWARD"][0]["label"] == "Coastal Imaging Consortium"
    assert result["pageInfo"]["hasNextPage"] is False


def test_filters_sort_and_paging(client, catalog) -> None:  # type: ignore[no-untyped-def]
    filters = {"dataType": ["WGS", "EHR"], "species": ["homo sapiens"]}
    first = search(client, filters=filters, sort="TITLE", first=1)
    second = search(
        client, filters=filters, sort="TITLE", first=1, after=first["pageInfo"]["endCursor"]
    )

    assert first["totalCount"] == 2
    assert accessions(first) + accessions(second) == [
        catalog.accession("breast_wgs"),
        catalog.accession("ehr"),
    ]
    assert second["pageInfo"]["hasNextPage"] is False


def test_only_requested_facets(client, catalog) -> None:  # type: ignore[no-untyped-def]
    data = gql(client, "{ search { facets(fields: [SPECIES, PARTICIPANTS]) { field } } }")

    assert [f["field"] for f in data["search"]["facets"]] == ["SPECIES", "PARTICIPANTS"]


def test_readable_only_follows_the_access_rule_per_role(client, catalog, factory) -> None:  # type: ignore[no-untyped-def]
    readable = {"filters": {"readableOnly": True}, "first": 50}
    granted = factory.headers("gina")
    factory.grant("gina", catalog.datasets["ehr"])
    factory.grant(
        "gina",
        catalog.datasets["breast_rna"],
        expires_at=datetime.now(UTC) + timedelta(seconds=1),
    )
    steward = factory.headers("sue", (RoleName.STEWARD, catalog.steward_a.slug))

    anonymous = set(accessions(search(client, **readable)))
    researcher = set(accessions(search(client, factory.headers("rita"), **readable)))
    grantee = set(accessions(search(client, granted, **readable)))
    stewarding = set(accessions(search(client, steward, **readable)))

    a = catalog.accession
    assert anonymous == {a("breast_wgs"), a("mouse")}
    assert researcher == {a("breast_wgs"), a("mouse"), a("heart")}
    assert {a("ehr"), a("breast_rna")} <= grantee
    assert stewarding == {a("breast_wgs"), a("mouse"), a("heart"), a("breast_rna"), a("ehr")}


def test_an_expired_grant_stops_counting_at_once(client, catalog, factory, db) -> None:  # type: ignore[no-untyped-def]
    headers = factory.headers("gabe")
    grant = factory.grant("gabe", catalog.datasets["ehr"])
    readable = {"filters": {"readableOnly": True}, "first": 50}
    assert catalog.accession("ehr") in accessions(search(client, headers, **readable))

    grant.expires_at = datetime.now(UTC) - timedelta(seconds=1)
    grant.starts_at = grant.expires_at - timedelta(days=1)
    db.flush()

    assert catalog.accession("ehr") not in accessions(search(client, headers, **readable))


def test_drafts_only_for_their_stewards(client, catalog, factory) -> None:  # type: ignore[no-untyped-def]
    own = factory.headers("bo", (RoleName.STEWARD, catalog.steward_b.slug))
    other = factory.headers("al", (RoleName.STEWARD, catalog.steward_a.slug))
    draft = catalog.accession("draft")

    assert draft in accessions(search(client, own, q="heart"))
    assert draft not in accessions(search(client, other, q="heart"))
    assert draft not in accessions(search(client, q="heart"))
    assert draft in accessions(search(client, factory.headers("ad", (RoleName.ADMIN, None))))


@pytest.mark.parametrize(
    ("variables", "field"),
    [
        ({"q": "x" * 10_000}, "query"),
        ({"first": -1}, "first"),
        ({"first": 0}, "first"),
        ({"filters": {"participants": ["many"]}}, "filters.participants"),
        ({"after": "garbage"}, "after"),
    ],
)
def test_bad_input_is_a_typed_error_with_its_field(client, catalog, variables, field) -> None:  # type: ignore[no-untyped-def]
    (error,) = gql_errors(client, SEARCH, variables)

    assert error["extensions"] == {"code": "INVALID", "field": field}


def test_a_cursor_of_another_search_is_refused(client, catalog) -> None:  # type: ignore[no-untyped-def]
    page = search(client, q="genomes", first=1)

    (error,) = gql_errors(client, SEARCH, {"q": "heart", "after": page["pageInfo"]["endCursor"]})
    assert "different query" in error["message"]


def test_unknown_facet_fields_and_filters_are_refused_before_running(client, catalog) -> None:  # type: ignore[no-untyped-def]
    facet = gql_errors(client, "{ search { facets(fields: [COLOUR]) { field } } }")
    flt = gql_errors(client, SEARCH, {"filters": {"colour": ["red"]}})

    assert facet[0]["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert "colour" in flt[0]["message"]
    assert flt[0]["extensions"] == {"code": "BAD_USER_INPUT"}


@pytest.mark.parametrize("words", ['"unbalanced', "title:(foo AND", "a AND OR NOT", "\\"])
def test_query_syntax_never_fails(client, catalog, words) -> None:  # type: ignore[no-untyped-def]
    assert search(client, q=words)["totalCount"] >= 0


STATUS = "{ searchIndexStatus { backend pendingChanges parkedChanges lagSeconds } }"


def test_index_status_for_administrators_only(client, factory, db) -> None:  # type: ignore[no-untyped-def]
    factory.dataset(publish=True)
    admin = factory.headers("root", (RoleName.ADMIN, None))

    status = gql(client, STATUS, headers=admin)["searchIndexStatus"]
    unauthenticated = gql_errors(client, STATUS)
    researcher = gql_errors(client, STATUS, headers=factory.headers("rita"))
    steward = factory.organization()
    stewarding = gql_errors(
        client, STATUS, headers=factory.headers("sue", (RoleName.STEWARD, steward.slug))
    )

    assert status["backend"] == "postgres"
    assert status["pendingChanges"] >= 1
    assert status["lagSeconds"] >= 0
    assert unauthenticated[0]["extensions"]["code"] == "UNAUTHENTICATED"
    assert researcher[0]["extensions"]["code"] == "FORBIDDEN"
    assert stewarding[0]["extensions"]["code"] == "FORBIDDEN"
    outbox.drain(db, PostgresBackend())
    assert gql(client, STATUS, headers=admin)["searchIndexStatus"]["pendingChanges"] == 0
