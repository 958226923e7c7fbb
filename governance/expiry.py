"""Worker jobs around grant expiry: a reminder some days before, and an event shortly after.

Both are for people and the record, never for correctness: access stops at ``expires_at``
because every decision compares it with the clock. Each job handles one batch, locking the
grants it picks ``FOR UPDATE SKIP LOCKED`` and stamping them in the same transaction as the
notification it writes, so concurrent workers never announce a grant twice.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, Row, select
from sqlalchemy.orm import Session

from catalog import audit
from catalog.models import Dataset
from catalog.principals import SYSTEM
from governance.models import AccessGrant, NotificationKind
from governance.notifications import enqueue, grant_payload

BATCH = 100


def remind_expiring(session: Session, now: datetime, *, lead: timedelta) -> int:
    """``grant_expiring`` to holders of active grants ending within ``lead``, once each."""
    due = _pick(
        session,
        AccessGrant.expiry_reminded_at.is_(None),
        AccessGrant.starts_at <= now,
        AccessGrant.expires_at > now,
        AccessGrant.expires_at <= now + lead,
    )
    for grant, accession in due:
        grant.expiry_reminded_at = now
        enqueue(
            session,
            NotificationKind.GRANT_EXPIRING,
            [grant.user_id],
            grant_payload(grant, accession),
        )
    return len(due)


def record_expired(session: Session, now: datetime) -> int:
    """An audit event and a ``grant_expired`` notification per grant that ran out (revoked
    grants ended otherwise and were announced then), once each."""
    due = _pick(session, AccessGrant.expiry_recorded_at.is_(None), AccessGrant.expires_at <= now)
    for grant, accession in due:
        grant.expiry_recorded_at = now
        about = grant_payload(grant, accession)
        audit.record(
            session,
            SYSTEM,
            "grant.expired",
            object_type="access_grant",
            object_id=str(grant.id),
            summary=about,
        )
        enqueue(session, NotificationKind.GRANT_EXPIRED, [grant.user_id], about)
    return len(due)


def _pick(session: Session, *conditions: ColumnElement[bool]) -> list[Row[AccessGrant, str]]:
    stmt = (
        select(AccessGrant, Dataset.accession)
        .join(Dataset, Dataset.id == AccessGrant.dataset_id)
        .where(AccessGrant.revoked_at.is_(None), *conditions)
        .order_by(AccessGrant.expires_at)
        .limit(BATCH)
        .with_for_update(of=AccessGrant, skip_locked=True)
    )
    return list(session.execute(stmt).all())
