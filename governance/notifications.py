"""The notification outbox: writing a notification in the caller's transaction, and the
recipient's reads of it.

``enqueue`` is the one way to notify: call it inside the transaction of the change being
reported, so a notification exists exactly when its change committed. Delivery to the webhook
is ``governance.delivery``'s job; a notification is readable here whether or not it was ever
delivered. Queries for notifications live in this module (not ``repository``) because nothing
else reads this table except delivery.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Select, func, select, update
from sqlalchemy.orm import Session

from governance.models import AccessGrant, Notification, NotificationKind


def enqueue(
    session: Session,
    kind: NotificationKind,
    recipients: Iterable[uuid.UUID],
    payload: Mapping[str, Any],
) -> list[Notification]:
    """One notification of ``kind`` per distinct recipient (a user id), each with a copy of
    ``payload`` (JSON values only). Nothing is sent here; the caller owns the transaction."""
    rows = [
        Notification(id=uuid.uuid4(), kind=kind, recipient_id=user_id, payload=dict(payload))
        for user_id in dict.fromkeys(recipients)
    ]
    session.add_all(rows)
    session.flush()
    return rows


def of_recipient(user_id: uuid.UUID, *, unread_only: bool = False) -> Select[Notification]:
    stmt = select(Notification).where(Notification.recipient_id == user_id)
    if unread_only:
        stmt = stmt.where(Notification.read_at.is_(None))
    return stmt


def page(
    session: Session,
    stmt: Select[Notification],
    *,
    after: tuple[datetime, uuid.UUID] | None,
    limit: int,
) -> Sequence[Notification]:
    """Newest first; ``after`` is the (created_at, id) of the last row of the previous page."""
    if after is not None:
        created_at, last_id = after
        stmt = stmt.where(
            (Notification.created_at < created_at)
            | ((Notification.created_at == created_at) & (Notification.id < last_id))
        )
    ordered = stmt.order_by(Notification.created_at.desc(), Notification.id.desc()).limit(limit)
    return session.scalars(ordered).all()


def count(session: Session, stmt: Select[Notification]) -> int:
    return session.scalar(select(func.count()).select_from(stmt.subquery())) or 0


def mark_read(
    session: Session, user_id: uuid.UUID, ids: Sequence[uuid.UUID], *, now: datetime
) -> Sequence[Notification]:
    """Mark the recipient's own notifications among ``ids`` read (already read ones keep their
    first ``read_at``); ids of other people's notifications are not touched. The recipient's
    notifications among ``ids``."""
    session.execute(
        update(Notification)
        .where(
            Notification.id.in_(ids),
            Notification.recipient_id == user_id,
            Notification.read_at.is_(None),
        )
        .values(read_at=now)
        .execution_options(synchronize_session=False)
    )
    stmt = of_recipient(user_id).where(Notification.id.in_(ids))
    return session.scalars(stmt.execution_options(populate_existing=True)).all()


def grant_payload(grant: AccessGrant, accession: str) -> dict[str, Any]:
    """What every grant notification says, so receivers parse one shape."""
    return {
        "grant_id": str(grant.id),
        "dataset": accession,
        "expires_at": grant.expires_at.isoformat(),
    }
