"""`auditEvents` and `auditChainHead`: who reads which events, paging, filters, and the seal that
follows every committed mutation."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from catalog.models import Dataset, RoleName
from catalog.principals import SYSTEM
from governance import service as governance_service
from tests.api.graphql import gql, gql_errors
from tests.factories import Factory

EVENTS = """query($f: AuditEventFilter, $first: Int, $after: String) {
  auditEvents(filter: $f, first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id action objectType objectId actor summary seq hash prevHash } }
  }
}"""
HEAD = "{ auditChainHead { seq hash unsealed } }"


@dataclass
class World:
    funded: Dataset  # funded by the auditor's organization, no committee
    governed: Dataset  # governed by the committee, not funded
    other: Dataset  # neither
    revoked_grant: str
    headers: dict[str, dict[str, str]]


@pytest.fixture
def world(factory: Factory, db: Session) -> World:
    steward = factory.organization()
    funder = factory.organization("funder")
    committee = factory.committee(steward)
    funded = factory.dataset(steward, publish=True, funders=[{"funder": funder.slug}])
    governed = factory.dataset(
        steward, publish=True, access_level="controlled", committee=committee.slug
    )
    other = factory.dataset(steward, publish=True)
    grant = factory.grant("gina", governed)
    governance_service.revoke_grant(db, SYSTEM, grant_id=grant.id, reason="audit finding")
    db.flush()
    headers = {
        "anonymous": {},
        "researcher": factory.headers("rita"),
        "steward": factory.headers("sam", (RoleName.STEWARD, steward.slug)),
        "committee_member": factory.headers("mo", (RoleName.COMMITTEE_MEMBER, committee.slug)),
        "committee_chair": factory.headers("carla", (RoleName.COMMITTEE_CHAIR, committee.slug)),
        "funder_auditor": factory.headers("fiona", (RoleName.FUNDER_AUDITOR, funder.slug)),
        "other_funder_auditor": factory.headers(
            "fred", (RoleName.FUNDER_AUDITOR, factory.organization("funder").slug)
        ),
        "admin": factory.headers("ada", (RoleName.ADMIN, None)),
    }
    return World(funded, governed, other, str(grant.id), headers)


def _events(client: TestClient, headers: dict[str, str], **variables: object) -> dict:  # type: ignore[type-arg]
    return gql(client, EVENTS, {"first": 500, **variables}, headers)["auditEvents"]


def _nodes(page: dict) -> list[dict]:  # type: ignore[type-arg]
    return [edge["node"] for edge in page["edges"]]


@pytest.mark.parametrize(
    "role", ["anonymous", "researcher", "steward"], ids=lambda r: f"{r}-refused"
)
def test_others_are_refused(client: TestClient, world: World, role: str) -> None:
    errors = gql_errors(client, EVENTS, {}, world.headers[role])

    assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]


def test_admin_reads_every_event(client: TestClient, world: World, db: Session) -> None:
    page = _events(client, world.headers["admin"])

    total = db.execute(text("SELECT count(*) FROM audit_events")).scalar_one()
    assert page["totalCount"] == total == len(page["edges"])
    assert {"organization", "committee", "dataset", "access_grant"} <= {
        n["objectType"] for n in _nodes(page)
    }


def test_funder_auditor_reads_the_events_of_funded_datasets(
    client: TestClient, world: World
) -> None:
    nodes = _nodes(_events(client, world.headers["funder_auditor"]))

    assert {n["objectId"] for n in nodes} == {world.funded.accession}
    assert {n["action"] for n in nodes} >= {"dataset.created", "dataset.published"}


def test_funder_auditor_of_another_funder_reads_nothing(client: TestClient, world: World) -> None:
    page = _events(client, world.headers["other_funder_auditor"])

    assert page["totalCount"] == 0
    assert page["edges"] == []


@pytest.mark.parametrize("role", ["committee_member", "committee_chair"])
def test_committee_reads_the_events_of_its_datasets_and_their_grants(
    client: TestClient, world: World, role: str
) -> None:
    nodes = _nodes(_events(client, world.headers[role]))

    datasets = {n["objectId"] for n in nodes if n["objectType"] == "dataset"}
    grants = {(n["objectId"], n["action"]) for n in nodes if n["objectType"] == "access_grant"}
    assert datasets == {world.governed.accession}
    assert grants == {
        (world.revoked_grant, "grant.created"),
        (world.revoked_grant, "grant.revoked"),
    }
    assert {n["objectType"] for n in nodes} == {"dataset", "access_grant"}


def test_pages_run_newest_first_without_overlap(client: TestClient, world: World) -> None:
    admin = world.headers["admin"]
    everything = [n["id"] for n in _nodes(_events(client, admin))]
    seen: list[str] = []
    after = None
    while True:
        page = _events(client, admin, first=3, after=after)
        seen += [n["id"] for n in _nodes(page)]
        if not page["pageInfo"]["hasNextPage"]:
            break
        after = page["pageInfo"]["endCursor"]

    assert seen == everything
    assert [int(i) for i in seen] == sorted((int(i) for i in seen), reverse=True)


def test_filters_narrow_the_log(client: TestClient, world: World) -> None:
    admin = world.headers["admin"]
    flt = {"objectType": "dataset", "objectId": world.other.accession, "action": "dataset.created"}

    nodes = _nodes(_events(client, admin, f=flt))
    assert [(n["objectId"], n["action"]) for n in nodes] == [
        (world.other.accession, "dataset.created")
    ]
    assert nodes[0]["actor"] == "system@atrium"
    assert _events(client, admin, f={"actor": "nobody@nowhere"})["totalCount"] == 0
    assert _events(client, admin, f={"since": "2999-01-01T00:00:00Z"})["totalCount"] == 0
    everything = _events(client, admin)["totalCount"]
    assert _events(client, admin, f={"until": "2999-01-01T00:00:00Z"})["totalCount"] == everything


@pytest.mark.parametrize(
    ("variables", "field"),
    [({"first": 0}, "first"), ({"first": 501}, "first"), ({"after": "bm9wZQ=="}, "after")],
)
def test_bad_paging_is_refused(
    client: TestClient, world: World, variables: dict[str, object], field: str
) -> None:
    errors = gql_errors(client, EVENTS, variables, world.headers["admin"])

    assert [e["extensions"]["code"] for e in errors] == ["INVALID"]
    assert field in errors[0]["message"]


def test_a_committed_mutation_is_sealed_and_moves_the_head(
    client: TestClient, world: World
) -> None:
    admin = world.headers["admin"]
    gql(
        client,
        'mutation { organizationCreate(input: {slug: "sealed-org", name: "S",'
        " kind: STEWARD}) { errors { code } } }",
        headers=admin,
    )

    created = _nodes(_events(client, admin, f={"objectId": "sealed-org"}))
    head = gql(client, HEAD, headers=admin)["auditChainHead"]

    assert len(created) == 1
    assert created[0]["seq"] == head["seq"]
    assert created[0]["hash"] == head["hash"]
    assert len(created[0]["prevHash"]) == 64
    assert head["unsealed"] == 0


@pytest.mark.parametrize(
    ("role", "allowed"),
    [
        ("anonymous", False),
        ("researcher", False),
        ("steward", False),
        ("committee_member", False),
        ("committee_chair", False),
        ("funder_auditor", True),
        ("admin", True),
    ],
)
def test_chain_head_authorization(
    client: TestClient, world: World, role: str, allowed: bool
) -> None:
    if allowed:
        head = gql(client, HEAD, headers=world.headers[role])["auditChainHead"]
        assert len(head["hash"]) == 64
    else:
        errors = gql_errors(client, HEAD, headers=world.headers[role])
        assert [e["extensions"]["code"] for e in errors] == ["FORBIDDEN"]
