"""Governance tables. Access grants are rows with a start and an expiry; whether one is active
is decided against the clock at request time, never by a job that flips a flag (the expiry
columns the worker sets record that a reminder or an expiry event was sent, nothing more).
Notifications are an outbox: rows written in the transaction of the change they report,
delivered later by ``atrium worker``."""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, DateTime, Enum, ForeignKey, Index, Integer, Text, func, text
from sqlalchemy.dialects.postgresql import JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from catalog.db import Base


class AccessGrant(Base):
    """Permission for one user to read one controlled dataset's bytes, for a time."""

    __tablename__ = "access_grants"
    __table_args__ = (
        CheckConstraint("expires_at > starts_at", name="expires_after_start"),
        CheckConstraint(
            "(revoked_at IS NULL) = (revoked_reason IS NULL)", name="revocation_has_reason"
        ),
        Index("ix_access_grants_user_dataset", "user_id", "dataset_id", "expires_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    dataset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), index=True
    )
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    granted_by: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    revoked_reason: Mapped[str | None] = mapped_column(Text)
    expiry_reminded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the holder was told the grant expires soon (once per grant)."""
    expiry_recorded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    """When the worker recorded the expiry as an event (once per grant)."""


class NotificationKind(enum.StrEnum):
    REQUEST_SUBMITTED = "request_submitted"
    CHANGES_REQUESTED = "changes_requested"
    REQUEST_DECIDED = "request_decided"
    GRANT_EXPIRING = "grant_expiring"
    GRANT_EXPIRED = "grant_expired"
    GRANT_REVOKED = "grant_revoked"


class Notification(Base):
    """One message to one user. Readable in GraphQL at once; pushed to the webhook with
    retries until delivered, or parked with its last error after too many attempts."""

    __tablename__ = "notifications"
    __table_args__ = (
        CheckConstraint("attempts >= 0", name="attempts_non_negative"),
        Index("ix_notifications_recipient_created", "recipient_id", "created_at"),
        Index(
            "ix_notifications_due",
            "next_attempt_at",
            postgresql_where=text("delivered_at IS NULL AND parked_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    kind: Mapped[NotificationKind] = mapped_column(
        Enum(
            NotificationKind,
            name="notification_kind",
            values_callable=lambda e: [m.value for m in e],
        )
    )
    recipient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSONB)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    attempts: Mapped[int] = mapped_column(Integer, server_default="0")
    next_attempt_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), server_default=func.now()
    )
    delivered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    last_error: Mapped[str | None] = mapped_column(Text)
    parked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    read_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
