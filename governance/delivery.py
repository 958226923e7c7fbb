"""Pushing notifications to the configured webhook: at least once, signed, with backoff.

Each call drains one batch of due notifications, locked ``FOR UPDATE SKIP LOCKED`` so any number
of workers share the outbox without sending a row twice at once. A failed attempt is retried
after ``backoff_seconds * 2**(attempts-1)`` (capped), with jitter so that a recovering receiver
is not hit by every worker at the same instant; after ``max_attempts`` the row is parked with
its last error and left for an operator.

Signature (``Atrium-Signature`` header, like Stripe's): ``t=<unix seconds>,v1=<hex>`` where
``v1`` is HMAC-SHA256 keyed with the webhook secret over ``"<t>." + raw body``. Receivers
recompute it, compare in constant time, and refuse stale ``t`` to stop replays. The body's
``id`` (also in ``Atrium-Notification-Id``) lets them drop the duplicates at-least-once delivery
may produce. The secret is never logged, and errors recorded never include the URL.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import User
from governance.models import Notification

log = logging.getLogger(__name__)

SIGNATURE_HEADER = "Atrium-Signature"
ID_HEADER = "Atrium-Notification-Id"
MAX_ERROR = 500


def sign(secret: bytes, timestamp: int, body: bytes) -> str:
    """The ``Atrium-Signature`` header value for ``body`` sent at ``timestamp``."""
    mac = hmac.new(secret, f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()
    return f"t={timestamp},v1={mac}"


def verify(secret: bytes, header: str, body: bytes) -> bool:
    """What a receiver does (used by tests and documented in the README)."""
    parts = dict(p.split("=", 1) for p in header.split(",") if "=" in p)
    try:
        timestamp = int(parts["t"])
    except (KeyError, ValueError):
        return False
    return hmac.compare_digest(sign(secret, timestamp, body), header)


@dataclass
class WebhookDelivery:
    url: str
    secret: bytes = field(repr=False)
    client: httpx.Client
    max_attempts: int = 8
    backoff_seconds: float = 30
    max_backoff_seconds: float = 6 * 3600
    batch_size: int = 20
    jitter: Callable[[], float] = random.random
    """A number in [0, 1): how far into the upper half of the delay a retry lands."""

    def __call__(self, session: Session, now: datetime) -> int:
        """Attempt every due notification of one batch; how many were attempted."""
        stmt = (
            select(Notification, User.issuer, User.subject)
            .join(User, User.id == Notification.recipient_id)
            .where(
                Notification.delivered_at.is_(None),
                Notification.parked_at.is_(None),
                Notification.next_attempt_at <= now,
            )
            .order_by(Notification.next_attempt_at)
            .limit(self.batch_size)
            .with_for_update(of=Notification, skip_locked=True)
        )
        rows = session.execute(stmt).all()
        for notification, issuer, subject in rows:
            self._attempt(notification, {"issuer": issuer, "subject": subject}, now)
        session.flush()
        return len(rows)

    def _attempt(
        self, notification: Notification, recipient: dict[str, str], now: datetime
    ) -> None:
        notification.attempts += 1
        error = self._post(notification, recipient, now)
        if error is None:
            notification.delivered_at = now
            notification.last_error = None
            return
        notification.last_error = error[:MAX_ERROR]
        log.warning(
            "notification %s: delivery attempt %d failed: %s",
            notification.id,
            notification.attempts,
            notification.last_error,
        )
        if notification.attempts >= self.max_attempts:
            notification.parked_at = now
            return
        notification.next_attempt_at = now + self.delay(notification.attempts)

    def delay(self, attempts: int) -> timedelta:
        """Exponential, capped, with "equal jitter": between half and all of the step."""
        step = min(self.max_backoff_seconds, self.backoff_seconds * 2 ** (attempts - 1))
        return timedelta(seconds=step / 2 + self.jitter() * step / 2)

    def _post(
        self, notification: Notification, recipient: dict[str, str], now: datetime
    ) -> str | None:
        body = json.dumps(body_of(notification, recipient), separators=(",", ":")).encode()
        headers = {
            "content-type": "application/json",
            SIGNATURE_HEADER: sign(self.secret, int(now.timestamp()), body),
            ID_HEADER: str(notification.id),
        }
        try:
            response = self.client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            return f"{type(exc).__name__}: the webhook could not be reached"
        if response.is_success:
            return None
        return f"the webhook answered HTTP {response.status_code}"


def body_of(notification: Notification, recipient: dict[str, str]) -> dict[str, Any]:
    return {
        "id": str(notification.id),
        "kind": notification.kind.value,
        "created_at": notification.created_at.isoformat(),
        "recipient": {"id": str(notification.recipient_id), **recipient},
        "payload": notification.payload,
    }
