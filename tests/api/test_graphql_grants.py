"""Grants through GraphQL: created by admins, honoured the moment they start, refused the moment
they expire or are revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from starlette.testclient import TestClient

from catalog.models import AuditEvent, RoleName
from governance.models import AccessGrant
from tests.api.graphql import gql
from tests.factories import Factory

CAN = (
    "query($a: String) { dataset(accession: $a) { canDownload canReadFiles files { totalCount } } }"
)
CREATE = """mutation($s: String!, $a: String!, $e: DateTime!, $b: DateTime) {
  accessGrantCreate(subject: $s, accession: $a, expiresAt: $e, startsAt: $b) {
    grant { id active expiresAt dataset { accession } } errors { field message code } } }"""
REVOKE = """mutation($g: UUID!, $r: String!) { accessGrantRevoke(id: $g, reason: $r) {
  grant { active revokedReason } errors { field message code } } }"""


def test_grant_lifecycle(client: TestClient, factory: Factory) -> None:
    dataset = factory.dataset(publish=True, access_level="controlled", files=2)
    admin = factory.headers("ada", (RoleName.ADMIN, None))
    gina = factory.headers("gina")
    assert gql(client, CAN, {"a": dataset.accession}, gina)["dataset"] == {
        "canDownload": False,
        "canReadFiles": False,
        "files": {"totalCount": 0},
    }
    expires = (datetime.now(UTC) + timedelta(days=7)).isoformat()
    created = gql(client, CREATE, {"s": "gina", "a": dataset.accession, "e": expires}, admin)
    grant = created["accessGrantCreate"]["grant"]
    assert created["accessGrantCreate"]["errors"] == []
    assert grant["active"] is True
    assert gql(client, CAN, {"a": dataset.accession}, gina)["dataset"] == {
        "canDownload": True,
        "canReadFiles": True,
        "files": {"totalCount": 2},
    }
    mine = gql(client, "{ me { grants { dataset { accession } active } } }", headers=gina)
    assert mine["me"]["grants"] == [{"dataset": {"accession": dataset.accession}, "active": True}]
    revoked = gql(client, REVOKE, {"g": grant["id"], "r": "left the project"}, admin)
    assert revoked["accessGrantRevoke"]["grant"] == {
        "active": False,
        "revokedReason": "left the project",
    }
    assert gql(client, CAN, {"a": dataset.accession}, gina)["dataset"]["canDownload"] is False
    again = gql(client, REVOKE, {"g": grant["id"], "r": "twice"}, admin)
    assert again["accessGrantRevoke"]["errors"][0]["code"] == "INVALID_TRANSITION"
    actions = factory.session.scalars(
        select(AuditEvent.action).where(AuditEvent.object_id == grant["id"])
    ).all()
    assert actions == ["grant.created", "grant.revoked"]


def test_expiry_is_checked_against_the_clock(client: TestClient, factory: Factory) -> None:
    dataset = factory.dataset(publish=True, access_level="controlled")
    grant = factory.grant("gina", dataset)
    gina = factory.headers("gina")
    assert gql(client, CAN, {"a": dataset.accession}, gina)["dataset"]["canDownload"] is True
    factory.session.execute(
        update(AccessGrant)
        .where(AccessGrant.id == grant.id)
        .values(
            starts_at=datetime.now(UTC) - timedelta(days=2),
            expires_at=datetime.now(UTC) - timedelta(seconds=1),
        )
    )
    factory.session.flush()
    assert gql(client, CAN, {"a": dataset.accession}, gina)["dataset"]["canDownload"] is False
    expired = gql(
        client,
        REVOKE,
        {"g": str(grant.id), "r": "late"},
        factory.headers("ada", (RoleName.ADMIN, None)),
    )
    assert expired["accessGrantRevoke"]["errors"][0]["message"] == "the grant has already expired"


def test_future_grant_is_not_active_yet(client: TestClient, factory: Factory) -> None:
    dataset = factory.dataset(publish=True, access_level="controlled")
    admin = factory.headers("ada", (RoleName.ADMIN, None))
    start = datetime.now(UTC) + timedelta(days=1)
    created = gql(
        client,
        CREATE,
        {
            "s": "gina",
            "a": dataset.accession,
            "b": start.isoformat(),
            "e": (start + timedelta(days=1)).isoformat(),
        },
        admin,
    )["accessGrantCreate"]
    assert created["grant"]["active"] is False
    gina = factory.headers("gina")
    assert gql(client, CAN, {"a": dataset.accession}, gina)["dataset"]["canDownload"] is False


def test_grant_input_errors(client: TestClient, factory: Factory) -> None:
    admin = factory.headers("ada", (RoleName.ADMIN, None))
    open_ds = factory.dataset(publish=True)
    controlled = factory.dataset(publish=True, access_level="controlled")
    past = (datetime.now(UTC) - timedelta(days=1)).isoformat()
    future = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    cases = [
        ({"s": "g", "a": open_ds.accession, "e": future}, "accession", "INVALID"),
        ({"s": "g", "a": "ATR-DS-999999", "e": future}, "accession", "NOT_FOUND"),
        ({"s": "g", "a": controlled.accession, "e": past}, "expiresAt", "INVALID"),
        ({"s": "g", "a": controlled.accession, "e": future, "b": future}, "expiresAt", "INVALID"),
    ]
    for variables, field, code in cases:
        errors = gql(client, CREATE, variables, admin)["accessGrantCreate"]["errors"]
        assert [(e["field"], e["code"]) for e in errors] == [(field, code)], variables
    revoke_unknown = gql(
        client, REVOKE, {"g": "00000000-0000-0000-0000-000000000000", "r": "x"}, admin
    )["accessGrantRevoke"]["errors"]
    assert revoke_unknown[0]["code"] == "NOT_FOUND"
    blank = gql(client, REVOKE, {"g": "00000000-0000-0000-0000-000000000000", "r": " "}, admin)[
        "accessGrantRevoke"
    ]["errors"]
    assert blank[0]["field"] == "reason"
