"""Notifications in GraphQL: each caller reads and marks only their own, whatever their role;
rows are readable whether or not a webhook ever received them."""

from __future__ import annotations

import base64
import json
import uuid

import pytest
from sqlalchemy.orm import Session
from starlette.testclient import TestClient

from catalog import service
from catalog.models import RoleName
from catalog.principals import SYSTEM
from governance import notifications
from governance.models import NotificationKind
from governance.service import revoke_grant
from tests.api.graphql import gql, gql_errors
from tests.factories import Factory

LIST = """query($f: Int, $a: String, $u: Boolean) {
  notifications(first: $f, after: $a, unreadOnly: $u) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id kind payload readAt deliveredAt } } } }"""
MARK = """mutation($i: [UUID!]!) { notificationMarkRead(ids: $i) {
  notifications { id readAt } errors { field code } } }"""
ROLES = {
    "researcher": (),
    "steward": ((RoleName.STEWARD, "org"),),
    "committee_member": ((RoleName.COMMITTEE_MEMBER, "dac"),),
    "committee_chair": ((RoleName.COMMITTEE_CHAIR, "dac"),),
    "funder_auditor": ((RoleName.FUNDER_AUDITOR, "funder"),),
    "admin": ((RoleName.ADMIN, None),),
}


def notify(db: Session, factory: Factory, subject: str, count: int = 1) -> list[str]:
    user = service.ensure_user(db, issuer=factory.issuer.issuer, subject=subject)
    return [
        str(row.id)
        for n in range(count)
        for row in notifications.enqueue(
            db, NotificationKind.REQUEST_DECIDED, [user.id], {"request": f"R-{n}"}
        )
    ]


@pytest.fixture
def scopes(factory: Factory) -> dict[str, dict[str, str]]:
    steward = factory.organization()
    committee = factory.committee(steward)
    funder = factory.organization("funder")
    slugs = {"org": steward.slug, "dac": committee.slug, "funder": funder.slug}
    return {
        role: factory.headers(role, *((r, slugs[s] if s else None) for r, s in roles))
        for role, roles in ROLES.items()
    }


@pytest.mark.parametrize("role", sorted(ROLES))
def test_every_role_reads_only_its_own_notifications(
    client: TestClient, db: Session, factory: Factory, scopes: dict[str, dict[str, str]], role: str
) -> None:
    mine = notify(db, factory, role, 2)
    notify(db, factory, "somebody-else", 3)

    page = gql(client, LIST, {}, scopes[role])["notifications"]

    assert page["totalCount"] == 2
    assert sorted(e["node"]["id"] for e in page["edges"]) == sorted(mine)


def test_anonymous_callers_are_told_to_authenticate(client: TestClient) -> None:
    (error,) = gql_errors(client, LIST)

    assert error["extensions"]["code"] == "UNAUTHENTICATED"


def test_pages_run_newest_first_and_unread_only_filters(
    client: TestClient, db: Session, factory: Factory
) -> None:
    ids = notify(db, factory, "gina", 3)
    headers = factory.headers("gina")
    first = gql(client, LIST, {"f": 2}, headers)["notifications"]
    rest = gql(client, LIST, {"f": 2, "a": first["pageInfo"]["endCursor"]}, headers)
    seen = [e["node"]["id"] for e in first["edges"] + rest["notifications"]["edges"]]

    assert first["pageInfo"]["hasNextPage"] is True
    assert rest["notifications"]["pageInfo"]["hasNextPage"] is False
    assert sorted(seen) == sorted(ids)
    assert len(set(seen)) == 3

    marked = gql(client, MARK, {"i": [ids[0]]}, headers)["notificationMarkRead"]
    assert marked["errors"] == []
    assert [n["id"] for n in marked["notifications"]] == [ids[0]]
    assert marked["notifications"][0]["readAt"] is not None
    unread = gql(client, LIST, {"u": True}, headers)["notifications"]
    assert unread["totalCount"] == 2
    assert ids[0] not in [e["node"]["id"] for e in unread["edges"]]


def test_marking_someone_elses_notification_changes_nothing(
    client: TestClient, db: Session, factory: Factory
) -> None:
    (theirs,) = notify(db, factory, "rita")
    gina = factory.headers("gina")

    marked = gql(client, MARK, {"i": [theirs, str(uuid.uuid4())]}, gina)["notificationMarkRead"]

    assert marked == {"notifications": [], "errors": []}
    rita = gql(client, LIST, {"u": True}, factory.headers("rita"))["notifications"]
    assert [e["node"]["id"] for e in rita["edges"]] == [theirs]


def test_a_bad_cursor_or_page_size_is_refused(client: TestClient, factory: Factory) -> None:
    headers = factory.headers("gina")
    (bad_cursor,) = gql_errors(client, LIST, {"a": "bm90LWEtY3Vyc29y"}, headers)
    (bad_size,) = gql_errors(client, LIST, {"f": 0}, headers)

    assert bad_cursor["extensions"] == {"code": "INVALID", "field": "after"}
    assert bad_size["extensions"] == {"code": "INVALID", "field": "first"}


@pytest.mark.parametrize(
    "payload", [["notifications", "2026-01-01T00:00:00", 5], ["notifications", 1, "x"]]
)
def test_a_forged_cursor_is_refused_not_failed(
    client: TestClient, factory: Factory, payload: list[object]
) -> None:
    forged = base64.urlsafe_b64encode(json.dumps(payload).encode()).decode()

    (error,) = gql_errors(client, LIST, {"a": forged}, factory.headers("gina"))

    assert error["extensions"] == {"code": "INVALID", "field": "after"}


def test_a_revocation_is_readable_without_any_webhook(
    client: TestClient, db: Session, factory: Factory
) -> None:
    grant = factory.grant("gina", factory.dataset(publish=True, access_level="controlled"))
    revoke_grant(db, SYSTEM, grant_id=grant.id, reason="audit finding")

    (edge,) = gql(client, LIST, {}, factory.headers("gina"))["notifications"]["edges"]

    assert edge["node"]["kind"] == "GRANT_REVOKED"
    assert edge["node"]["deliveredAt"] is None
    assert '"reason": "audit finding"' in edge["node"]["payload"]
