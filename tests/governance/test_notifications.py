"""The notification outbox and its webhook delivery, against real Postgres and a real HTTP
receiver on 127.0.0.1: signed, retried with backoff, parked when the receiver never recovers,
and never lost when no webhook is configured."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog import service
from catalog.principals import SYSTEM
from governance import notifications
from governance.delivery import WebhookDelivery, verify
from governance.models import Notification, NotificationKind
from governance.service import revoke_grant
from tests.factories import Factory
from tests.governance.jwks_server import closed_port_url
from tests.governance.webhook_server import Receiver, receiver

SECRET = b"whsec-test-only"


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as state:
        yield state


@pytest.fixture
def http() -> Iterator[httpx.Client]:
    with httpx.Client(timeout=5) as client:
        yield client


def delivery(url: str, http: httpx.Client, **options: object) -> WebhookDelivery:
    return WebhookDelivery(url=url, secret=SECRET, client=http, jitter=lambda: 0.5, **options)  # type: ignore[arg-type]


def user_id(db: Session, subject: str) -> uuid.UUID:
    return service.ensure_user(db, issuer="https://atrium.test", subject=subject).id


def notify(db: Session, subject: str = "gina", **payload: object) -> Notification:
    (row,) = notifications.enqueue(
        db, NotificationKind.GRANT_EXPIRING, [user_id(db, subject)], payload or {"n": 1}
    )
    return row


def later(seconds: float = 1) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


def test_enqueue_writes_one_row_per_distinct_recipient_and_sends_nothing(db: Session) -> None:
    gina, rita = user_id(db, "gina"), user_id(db, "rita")

    rows = notifications.enqueue(
        db, NotificationKind.REQUEST_SUBMITTED, [gina, rita, gina], {"request": "R-1"}
    )

    assert [r.recipient_id for r in rows] == [gina, rita]
    stored = db.scalars(select(Notification).where(Notification.id.in_([r.id for r in rows])))
    for row in stored:
        assert (row.kind, row.payload, row.attempts) == (
            NotificationKind.REQUEST_SUBMITTED,
            {"request": "R-1"},
            0,
        )
        assert (row.delivered_at, row.parked_at, row.read_at) == (None, None, None)


def test_delivery_posts_the_notification_signed_with_the_secret(
    db: Session, hook: Receiver, http: httpx.Client
) -> None:
    row = notify(db, dataset="ATR-DS-000001")
    now = later()

    assert delivery(hook.url, http)(db, now) == 1

    (got,) = hook.received
    body = json.loads(got.body)
    assert body == {
        "id": str(row.id),
        "kind": "grant_expiring",
        "created_at": row.created_at.isoformat(),
        "recipient": {
            "id": str(row.recipient_id),
            "issuer": "https://atrium.test",
            "subject": "gina",
        },
        "payload": {"dataset": "ATR-DS-000001"},
    }
    assert got.headers["content-type"] == "application/json"
    assert got.headers["atrium-notification-id"] == str(row.id)
    signature = got.headers["atrium-signature"]
    assert signature.startswith(f"t={int(now.timestamp())},v1=")
    assert verify(SECRET, signature, got.body)
    assert not verify(b"another secret", signature, got.body)
    assert not verify(SECRET, signature, got.body.replace(b"gina", b"gino"))
    db.refresh(row)
    assert (row.attempts, row.delivered_at, row.last_error) == (1, now, None)
    assert delivery(hook.url, http)(db, later(2)) == 0, "a delivered row is not sent again"


def test_a_receiver_failing_twice_then_succeeding_gets_it_on_the_third_attempt(
    db: Session, hook: Receiver, http: httpx.Client
) -> None:
    hook.statuses = [500, 503]
    row = notify(db)
    job = delivery(hook.url, http, backoff_seconds=10)
    first = later()

    assert job(db, first) == 1
    db.refresh(row)
    assert (row.attempts, row.last_error) == (1, "the webhook answered HTTP 500")
    assert row.next_attempt_at == first + timedelta(seconds=7.5)  # 10 s step, equal jitter 0.5
    assert job(db, first + timedelta(seconds=7)) == 0, "not due before its backoff"

    second = row.next_attempt_at
    assert job(db, second) == 1
    db.refresh(row)
    assert (row.attempts, row.last_error) == (2, "the webhook answered HTTP 503")
    assert row.next_attempt_at == second + timedelta(seconds=15)  # the step doubled

    third = row.next_attempt_at
    assert job(db, third) == 1
    db.refresh(row)
    assert (row.attempts, row.delivered_at, row.last_error, row.parked_at) == (3, third, None, None)
    assert [r.headers["atrium-notification-id"] for r in hook.received] == [str(row.id)] * 3


def test_backoff_is_exponential_capped_and_jittered_within_the_step(http: httpx.Client) -> None:
    job = WebhookDelivery(url="http://127.0.0.1:9/", secret=SECRET, client=http, backoff_seconds=30)
    job.max_backoff_seconds = 3600
    for attempts, step in [(1, 30), (2, 60), (3, 120), (8, 3600), (30, 3600)]:
        job.jitter = lambda: 0.0
        assert job.delay(attempts) == timedelta(seconds=step / 2)
        job.jitter = lambda: 0.999
        assert timedelta(seconds=step / 2) < job.delay(attempts) < timedelta(seconds=step)


def test_a_receiver_that_never_recovers_gets_the_row_parked_with_its_error(
    db: Session, hook: Receiver, http: httpx.Client
) -> None:
    hook.statuses = [500] * 10
    row = notify(db)
    job = delivery(hook.url, http, max_attempts=3, backoff_seconds=1)
    when = later()

    for _ in range(3):
        assert job(db, when) == 1
        db.refresh(row)
        when = row.next_attempt_at
    assert row.parked_at is not None
    assert (row.attempts, row.delivered_at) == (3, None)
    assert row.last_error == "the webhook answered HTTP 500"
    assert job(db, later(86_400)) == 0, "a parked row is left for an operator"
    assert len(hook.received) == 3


def test_an_unreachable_webhook_is_an_error_that_names_neither_url_nor_secret(
    db: Session, http: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    row = notify(db)
    url = f"{closed_port_url()}/private-path-token"

    with caplog.at_level(logging.WARNING):
        assert delivery(url, http)(db, later()) == 1

    db.refresh(row)
    assert row.last_error == "ConnectError: the webhook could not be reached"
    assert (row.attempts, row.delivered_at) == (1, None)
    assert "private-path-token" not in caplog.text
    assert SECRET.decode() not in caplog.text
    assert "whsec" not in repr(delivery(url, http))


def test_revoking_a_grant_notifies_its_holder(db: Session, factory: Factory) -> None:
    dataset = factory.dataset(publish=True, access_level="controlled")
    grant = factory.grant("gina", dataset)

    revoke_grant(db, SYSTEM, grant_id=grant.id, reason="left the project")

    (row,) = db.scalars(select(Notification).where(Notification.recipient_id == grant.user_id))
    assert row.kind is NotificationKind.GRANT_REVOKED
    assert row.payload == {
        "grant_id": str(grant.id),
        "dataset": dataset.accession,
        "expires_at": grant.expires_at.isoformat(),
        "reason": "left the project",
    }
