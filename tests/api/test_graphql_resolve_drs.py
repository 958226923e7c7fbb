"""`resolveDrs` and `drsUri`: both URI forms, aliases, order kept, and an object only for
callers who could see it through `drsObject`."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from sqlalchemy import Connection
from sqlalchemy.orm import Session, sessionmaker
from starlette.testclient import TestClient

from api.app import create_app
from api.auth.issuer import BuiltinIssuer
from api.settings import Settings
from catalog import service
from catalog.models import RoleName
from catalog.principals import SYSTEM
from catalog.schemas import FileCreate
from tests.api.graphql import counting, gql, gql_errors
from tests.factories import Factory

RESOLVE = """query($uris: [String!]!) { resolveDrs(uris: $uris) {
  uri object { id drsUri name } error { code field message } } }"""


@pytest.fixture
def prefixed(
    settings: Settings, sessions: sessionmaker[Session], issuer: BuiltinIssuer
) -> Iterator[TestClient]:
    """A server whose compact-identifier prefix is `atrium`, a limit of 3 URIs per call."""
    changed = settings.model_copy(
        update={"drs_compact_prefix": "atrium", "drs_max_bulk_request_length": 3}
    )
    with TestClient(create_app(changed, sessions, issuer=issuer)) as client:
        yield client


def aliased_file(factory: Factory, accession: str) -> None:
    service.register_files(
        factory.session,
        SYSTEM,
        accession=accession,
        files=[
            FileCreate.model_validate(
                {
                    "id": "obj-with-alias",
                    "name": "a.vcf.gz",
                    "size": 5,
                    "aliases": ["dg.4503/abc"],
                    "checksums": [{"type": "md5", "checksum": "0" * 32}],
                    "access_methods": [{"type": "https", "url": "https://example.org/a.vcf.gz"}],
                }
            )
        ],
    )


def test_drs_uri_is_the_self_uri_of_drs(client: TestClient, factory: Factory) -> None:
    dataset = factory.dataset(publish=True)
    ids = factory.files(dataset, 2)
    data = gql(
        client,
        "query($a: String!) { dataset(accession: $a) { files(first: 5) { edges { node {"
        " id drsUri } } } } }",
        {"a": dataset.accession},
    )
    nodes = [e["node"] for e in data["dataset"]["files"]["edges"]]
    assert [n["drsUri"] for n in nodes] == [f"drs://testserver/{i}" for i in sorted(ids)]
    drs = client.get(f"/ga4gh/drs/v1/objects/{ids[0]}").json()
    assert drs["self_uri"] == f"drs://testserver/{ids[0]}"


def test_both_forms_and_aliases_resolve_in_the_order_given(
    prefixed: TestClient, factory: Factory
) -> None:
    dataset = factory.dataset(publish=True)
    aliased_file(factory, dataset.accession)
    uris = ["atrium:obj-with-alias", "drs://testserver/dg.4503%2Fabc", "drs://atrium:nope"]
    resolved = gql(prefixed, RESOLVE, {"uris": uris})["resolveDrs"]
    assert [r["uri"] for r in resolved] == uris
    expected = {
        "id": "obj-with-alias",
        "drsUri": "drs://testserver/obj-with-alias",
        "name": "a.vcf.gz",
    }
    assert resolved[0] == {"uri": uris[0], "object": expected, "error": None}
    assert resolved[1]["object"] == expected
    assert resolved[2]["object"] is None
    assert resolved[2]["error"]["code"] == "NOT_FOUND"
    assert resolved[2]["error"]["field"] == "uris[2]"


def test_uris_of_other_servers_are_invalid_per_position(
    prefixed: TestClient, factory: Factory
) -> None:
    uris = ["drs://elsewhere.org/x", "other:x", "x"]
    resolved = gql(prefixed, RESOLVE, {"uris": uris})["resolveDrs"]
    assert [r["error"]["code"] for r in resolved] == ["INVALID"] * 3
    assert [r["error"]["field"] for r in resolved] == ["uris[0]", "uris[1]", "uris[2]"]
    assert "another server" in resolved[0]["error"]["message"]


def test_compact_identifiers_need_a_configured_prefix(client: TestClient, factory: Factory) -> None:
    dataset = factory.dataset(publish=True)
    ids = factory.files(dataset, 1)
    resolved = gql(client, RESOLVE, {"uris": [f"atrium:{ids[0]}", f"drs://testserver/{ids[0]}"]})
    first, second = resolved["resolveDrs"]
    assert first["error"]["code"] == "INVALID"
    assert "no prefix" in first["error"]["message"]
    assert second["object"]["id"] == ids[0]


def test_too_many_or_no_uris_are_refused(prefixed: TestClient) -> None:
    for uris in ([], ["atrium:a"] * 4):
        errors = gql_errors(prefixed, RESOLVE, {"uris": uris})
        assert errors[0]["extensions"] == {"code": "INVALID", "field": "uris"}
        assert "1 to 3" in errors[0]["message"]


@pytest.mark.parametrize("level", ["registered", "controlled"])
def test_objects_are_shown_only_to_callers_who_may_list_them(
    client: TestClient, factory: Factory, level: str
) -> None:
    dataset = factory.dataset(publish=True, access_level=level)
    ids = factory.files(dataset, 1)
    uris = [f"drs://testserver/{ids[0]}"]

    def outcome(headers: dict[str, str] | None) -> str:
        (result,) = gql(client, RESOLVE, {"uris": uris}, headers)["resolveDrs"]
        return "object" if result["object"] else result["error"]["code"]

    assert outcome(None) == "NOT_FOUND"
    assert outcome(factory.headers("rita")) == ("object" if level == "registered" else "NOT_FOUND")
    if level == "controlled":
        factory.grant("gina", dataset)
        assert outcome(factory.headers("gina")) == "object"


def test_drafts_resolve_for_their_stewards_only(client: TestClient, factory: Factory) -> None:
    steward = factory.organization()
    dataset = factory.dataset(steward)
    ids = factory.files(dataset, 1)
    uris = [f"drs://testserver/{ids[0]}"]
    hidden = gql(client, RESOLVE, {"uris": uris})["resolveDrs"][0]
    assert hidden["error"]["code"] == "NOT_FOUND"
    headers = factory.headers("sam", (RoleName.STEWARD, steward.slug))
    shown = gql(client, RESOLVE, {"uris": uris}, headers)["resolveDrs"][0]
    assert shown["object"]["id"] == ids[0]


def test_statements_do_not_grow_with_the_number_of_uris(
    client: TestClient, factory: Factory, connection: Connection
) -> None:
    dataset = factory.dataset(publish=True)
    ids = factory.files(dataset, 30)
    query = """query($uris: [String!]!) { resolveDrs(uris: $uris) { object {
      id drsUri checksums { type } accessMethods { type } dataset { accession } } } }"""
    counts = []
    for size in (3, 30):
        uris = [f"drs://testserver/{i}" for i in ids[:size]]
        with counting(connection) as statements:
            resolved = gql(client, query, {"uris": uris})["resolveDrs"]
        assert [r["object"]["id"] for r in resolved] == ids[:size]
        counts.append(len(statements))
    assert counts[0] == counts[1]


def test_admins_and_the_governing_committee_see_controlled_objects(
    client: TestClient, factory: Factory
) -> None:
    steward = factory.organization()
    committee = factory.committee(steward)
    dataset = factory.dataset(
        steward, publish=True, access_level="controlled", committee=committee.slug
    )
    ids = factory.files(dataset, 1)
    uris = [f"drs://testserver/{ids[0]}"]

    def outcome(headers: dict[str, str]) -> str:
        (result,) = gql(client, RESOLVE, {"uris": uris}, headers)["resolveDrs"]
        return "object" if result["object"] else result["error"]["code"]

    assert outcome(factory.headers("ada", (RoleName.ADMIN, None))) == "object"
    assert outcome(factory.headers("cm", (RoleName.COMMITTEE_MEMBER, committee.slug))) == "object"
    other = factory.committee(factory.organization())
    assert outcome(factory.headers("om", (RoleName.COMMITTEE_MEMBER, other.slug))) == "NOT_FOUND"
