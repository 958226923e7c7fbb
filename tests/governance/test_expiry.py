"""Expiry reminders and expiry events: once per grant, also when workers run concurrently."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from catalog.models import AuditEvent
from catalog.principals import SYSTEM
from governance import expiry
from governance.models import AccessGrant, Notification, NotificationKind
from governance.service import revoke_grant
from tests.factories import Factory

WEEK = timedelta(days=7)


def kinds(db: Session, grant: AccessGrant) -> list[NotificationKind]:
    stmt = select(Notification.kind).where(Notification.payload["grant_id"].astext == str(grant.id))
    return list(db.scalars(stmt))


def grant_ending_in(factory: Factory, delta: timedelta) -> AccessGrant:
    dataset = factory.dataset(publish=True, access_level="controlled")
    grant = factory.grant("gina", dataset)
    now = datetime.now(UTC)
    factory.session.execute(
        update(AccessGrant)
        .where(AccessGrant.id == grant.id)
        .values(starts_at=now - 30 * WEEK, expires_at=now + delta)
    )
    factory.session.refresh(grant)
    return grant


def test_holders_are_reminded_once_within_the_lead_time(db: Session, factory: Factory) -> None:
    soon = grant_ending_in(factory, timedelta(days=3))
    later = grant_ending_in(factory, timedelta(days=30))
    now = datetime.now(UTC)

    assert expiry.remind_expiring(db, now, lead=WEEK) == 1
    assert expiry.remind_expiring(db, now + timedelta(hours=1), lead=WEEK) == 0

    assert kinds(db, soon) == [NotificationKind.GRANT_EXPIRING]
    assert kinds(db, later) == []
    db.refresh(soon)
    assert soon.expiry_reminded_at == now


def test_revoked_grants_get_no_reminder_and_no_expiry_event(db: Session, factory: Factory) -> None:
    grant = grant_ending_in(factory, timedelta(days=3))
    revoke_grant(db, SYSTEM, grant_id=grant.id, reason="left")

    assert expiry.remind_expiring(db, datetime.now(UTC), lead=WEEK) == 0
    assert expiry.record_expired(db, datetime.now(UTC) + 2 * WEEK) == 0
    assert kinds(db, grant) == [NotificationKind.GRANT_REVOKED]


def test_an_expiry_is_recorded_once_as_an_audit_event_and_a_notification(
    db: Session, factory: Factory
) -> None:
    grant = grant_ending_in(factory, timedelta(seconds=-5))
    active = grant_ending_in(factory, timedelta(days=30))
    now = datetime.now(UTC)

    assert expiry.record_expired(db, now) == 1
    assert expiry.record_expired(db, now + timedelta(minutes=1)) == 0

    assert kinds(db, grant) == [NotificationKind.GRANT_EXPIRED]
    assert kinds(db, active) == []
    events = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "grant.expired", AuditEvent.object_id == str(grant.id)
        )
    ).all()
    assert [(e.actor, e.summary["dataset"]) for e in events] == [
        (SYSTEM.actor, kinds_payload(db, grant)["dataset"])
    ]


def kinds_payload(db: Session, grant: AccessGrant) -> dict[str, str]:
    stmt = select(Notification.payload).where(
        Notification.payload["grant_id"].astext == str(grant.id)
    )
    payload: dict[str, str] = db.scalars(stmt).one()
    return payload


def test_concurrent_workers_announce_each_grant_once(
    committed_engine: Engine, issuer: object
) -> None:
    with Session(committed_engine) as setup, setup.begin():
        factory = Factory(setup, issuer=issuer)  # type: ignore[arg-type]
        for _ in range(3):
            grant_ending_in(factory, timedelta(seconds=-5))
    now = datetime.now(UTC)

    with Session(committed_engine) as first, Session(committed_engine) as second:
        with first.begin():
            assert expiry.record_expired(first, now) == 3
            with second.begin():
                assert expiry.record_expired(second, now) == 0, "locked rows are skipped"
        with second.begin():
            assert expiry.record_expired(second, now) == 0, "stamped rows are not picked again"

    with Session(committed_engine) as check:
        total = check.scalars(select(Notification.kind)).all()
        events = check.scalars(
            select(AuditEvent.id).where(AuditEvent.action == "grant.expired")
        ).all()
    assert total == [NotificationKind.GRANT_EXPIRED] * 3
    assert len(events) == 3
