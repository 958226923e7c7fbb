"""Governance tables: committee rules, dataset terms of use, access requests and their
per-committee reviews and votes, and access grants.

Access grants are rows with a start and an expiry; whether one is active is decided against the
clock at request time, never by a job that flips a flag. States, durations and one-vote-per-member
are enforced by the database as well as by the commands in ``governance.workflow``. The expiry
columns the worker sets record that a reminder or an expiry event was sent, nothing more.
Notifications are an outbox: rows written in the transaction of the change they report,
delivered later by ``atrium worker``.
"""

from __future__ import annotations

import enum
import uuid
from datetime import datetime
from typing import Any

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    Enum,
    ForeignKey,
    Index,
    Integer,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB, UUID
from sqlalchemy.orm import Mapped, mapped_column

from catalog.db import Base
from governance.intended_use import ResearchPurpose


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(cls, name=name, values_callable=lambda e: [m.value for m in e])


def _now() -> Any:
    return mapped_column(DateTime(timezone=True), server_default=func.now(), nullable=False)


class DecisionRule(enum.StrEnum):
    """How a committee reaches a decision: its chair decides, ``required_votes`` approving
    votes approve, or a majority of its members does."""

    CHAIR = "chair"
    VOTES = "votes"
    MAJORITY = "majority"


class RequestState(enum.StrEnum):
    """States of a request, and of each committee's review of it (a review is never a draft)."""

    DRAFT = "draft"
    SUBMITTED = "submitted"
    UNDER_REVIEW = "under_review"
    CHANGES_REQUESTED = "changes_requested"
    RESUBMITTED = "resubmitted"
    APPROVED = "approved"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class VoteChoice(enum.StrEnum):
    APPROVE = "approve"
    REJECT = "reject"


PURPOSE_CODES = tuple(p.value for p in ResearchPurpose)


class CommitteeRules(Base):
    """A committee's decision rule, review deadline and longest grant. A committee without a
    row uses ``governance.committees.DEFAULT_RULES``."""

    __tablename__ = "committee_rules"
    __table_args__ = (
        CheckConstraint(
            "(decision_rule = 'votes') = (required_votes IS NOT NULL)", name="votes_need_count"
        ),
        CheckConstraint("required_votes > 0", name="required_votes_positive"),
        CheckConstraint("sla_days > 0", name="sla_days_positive"),
        CheckConstraint("max_grant_days > 0", name="max_grant_days_positive"),
    )

    committee_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("committees.id", ondelete="CASCADE"), primary_key=True
    )
    decision_rule: Mapped[DecisionRule] = mapped_column(_enum(DecisionRule, "decision_rule"))
    required_votes: Mapped[int | None] = mapped_column(Integer)
    sla_days: Mapped[int] = mapped_column(Integer)
    max_grant_days: Mapped[int] = mapped_column(Integer)
    updated_at: Mapped[datetime] = _now()


class DatasetTermsOfUse(Base):
    """One version of a dataset's terms of use; a request records the version it accepted."""

    __tablename__ = "dataset_terms_of_use"
    __table_args__ = (
        CheckConstraint("version > 0", name="version_positive"),
        CheckConstraint("length(text) > 0", name="text_not_empty"),
    )

    dataset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True
    )
    version: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    published_by: Mapped[str] = mapped_column(Text)
    published_at: Mapped[datetime] = _now()


class AccessRequest(Base):
    """A researcher's request for controlled datasets. Its ``state`` is written by the commands
    of ``governance.workflow`` only: draft and withdrawn directly, the others derived from its
    reviews (one per committee) after each review transition."""

    __tablename__ = "access_requests"
    __table_args__ = (
        CheckConstraint("duration_days > 0", name="duration_positive"),
        CheckConstraint("length(project_title) BETWEEN 1 AND 500", name="title_length"),
        CheckConstraint(
            "purposes <@ ARRAY[" + ", ".join(f"'{c}'" for c in PURPOSE_CODES) + "]::text[]"
            " AND cardinality(purposes) > 0",
            name="purposes_known",
        ),
        CheckConstraint(
            "('DS' = ANY(purposes)) = (cardinality(diseases) > 0)", name="diseases_iff_ds"
        ),
        CheckConstraint(
            "state IN ('draft', 'withdrawn') OR submitted_at IS NOT NULL",
            name="submitted_has_time",
        ),
        CheckConstraint(
            "(state IN ('approved', 'rejected')) = (decided_at IS NOT NULL)",
            name="decided_has_time",
        ),
        Index("ix_access_requests_requester_created", "requester_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    requester_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    state: Mapped[RequestState] = mapped_column(
        _enum(RequestState, "request_state"), server_default="draft"
    )
    project_title: Mapped[str] = mapped_column(Text)
    lay_summary: Mapped[str] = mapped_column(Text)
    research_use: Mapped[str] = mapped_column(Text)
    purposes: Mapped[list[str]] = mapped_column(ARRAY(Text))
    diseases: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    commercial: Mapped[bool] = mapped_column(server_default="false")
    sensitive: Mapped[bool] = mapped_column(server_default="false")
    duration_days: Mapped[int] = mapped_column(Integer)
    collaborators: Mapped[list[str]] = mapped_column(ARRAY(Text), server_default=text("'{}'"))
    institution: Mapped[str] = mapped_column(Text)
    renewal_of_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("access_requests.id"), index=True
    )
    created_at: Mapped[datetime] = _now()
    updated_at: Mapped[datetime] = _now()
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))


class AccessRequestDataset(Base):
    """A dataset a request covers, and the version of its terms of use the requester accepted
    (null when the dataset has no terms)."""

    __tablename__ = "access_request_datasets"
    __table_args__ = (CheckConstraint("accepted_terms_version > 0", name="terms_version_positive"),)

    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE"), primary_key=True
    )
    dataset_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    accepted_terms_version: Mapped[int | None] = mapped_column(Integer)


class RequestReview(Base):
    """One committee's review of the datasets it governs within a request: a request covering
    datasets of several committees has one review per committee, each decided on its own."""

    __tablename__ = "request_reviews"
    __table_args__ = (
        UniqueConstraint("request_id", "committee_id"),
        CheckConstraint("state <> 'draft'", name="never_draft"),
        CheckConstraint(
            "(state IN ('approved', 'rejected')) = (decided_at IS NOT NULL)",
            name="decided_has_time",
        ),
    )

    id: Mapped[uuid.UUID] = mapped_column(UUID, primary_key=True, default=uuid.uuid4)
    request_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("access_requests.id", ondelete="CASCADE")
    )
    committee_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("committees.id"), index=True)
    state: Mapped[RequestState] = mapped_column(_enum(RequestState, "request_state"))
    due_at: Mapped[datetime] = mapped_column(
        DateTime(timezone=True), comment="Submission (or resubmission) plus the committee's SLA."
    )
    changes_comment: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    decided_by: Mapped[str | None] = mapped_column(Text)
    decision_comment: Mapped[str | None] = mapped_column(Text)
    algorithm_outcome: Mapped[str | None] = mapped_column(
        Text, comment="The automatic DUO matcher's outcome, once it is wired in."
    )
    algorithm_result: Mapped[dict[str, Any] | None] = mapped_column(JSONB)
    committee_agreed_with_algorithm: Mapped[bool | None] = mapped_column()
    created_at: Mapped[datetime] = _now()


class ReviewVote(Base):
    """A member's vote on a review. Voided votes stay as history; a member has at most one
    standing (unvoided) vote per review."""

    __tablename__ = "review_votes"
    __table_args__ = (
        CheckConstraint("(voided_at IS NULL) = (voided_reason IS NULL)", name="void_has_reason"),
        Index(
            "uq_review_votes_standing",
            "review_id",
            "user_id",
            unique=True,
            postgresql_where=text("voided_at IS NULL"),
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, autoincrement=True)
    review_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("request_reviews.id", ondelete="CASCADE"), index=True
    )
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    choice: Mapped[VoteChoice] = mapped_column(_enum(VoteChoice, "vote_choice"))
    comment: Mapped[str | None] = mapped_column(Text)
    cast_at: Mapped[datetime] = _now()
    voided_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    voided_reason: Mapped[str | None] = mapped_column(Text)


class AccessGrant(Base):
    """Permission for one user to read one controlled dataset's bytes, for a time."""

    __tablename__ = "access_grants"
    __table_args__ = (
        CheckConstraint("expires_at > starts_at", name="expires_after_start"),
        CheckConstraint(
            "(revoked_at IS NULL) = (revoked_reason IS NULL)", name="revocation_has_reason"
        ),
        Index("ix_access_grants_user_dataset", "user_id", "dataset_id", "expires_at"),
        # A caller's active grants, read by every signed-in catalog request, by an index-only
        # scan whatever the plan: a generic plan for a table whose grants mostly belong to one
        # user scanned all of them (migration 0013).
        Index(
            "ix_access_grants_active_by_user",
            "user_id",
            "expires_at",
            postgresql_include=["starts_at", "dataset_id"],
            postgresql_where=text("revoked_at IS NULL"),
        ),
        UniqueConstraint("request_id", "user_id", "dataset_id"),
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
    request_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("access_requests.id"),
        comment="The approved request that issued the grant; null for direct grants.",
    )
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
