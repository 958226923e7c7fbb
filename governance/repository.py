"""Every governance query. Grant activity is always evaluated against the given instant."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import BindParameter, ColumnElement, DateTime, and_, bindparam, exists, select
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Session

from catalog.models import Committee, Dataset, DatasetStatus, Organization
from governance.models import AccessGrant


def active(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """A grant is active from its start until its expiry, unless revoked."""
    return and_(
        AccessGrant.revoked_at.is_(None),
        AccessGrant.starts_at <= now,
        AccessGrant.expires_at > now,
    )


def has_active_grant(dataset_id: ColumnElement[uuid.UUID]) -> ColumnElement[bool]:
    """An EXISTS clause, with bind parameters ``user_id`` and ``now``, to embed in the query
    that loads the objects, so the access decision costs no extra round trip."""
    now = bindparam("now", type_=DateTime(timezone=True))
    return exists().where(
        AccessGrant.user_id == bindparam("user_id", type_=UUID),
        AccessGrant.dataset_id == dataset_id,
        active(now),
    )


_HAS_GRANT = select(has_active_grant(bindparam("dataset_id", type_=UUID)))
"""Built once, so SQLAlchemy's compiled-statement cache serves every call."""


def has_grant(session: Session, user_id: uuid.UUID, dataset_id: uuid.UUID, now: datetime) -> bool:
    """One dataset's decision input in one indexed lookup (``ix_access_grants_user_dataset``)."""
    params = {"user_id": user_id, "dataset_id": dataset_id, "now": now}
    return bool(session.execute(_HAS_GRANT, params).scalar())


def granted_dataset_ids(
    session: Session, user_id: uuid.UUID | None, dataset_ids: Sequence[uuid.UUID], now: datetime
) -> set[uuid.UUID]:
    if user_id is None or not dataset_ids:
        return set()
    stmt = select(AccessGrant.dataset_id).where(
        AccessGrant.user_id == user_id, AccessGrant.dataset_id.in_(dataset_ids), active(now)
    )
    return set(session.scalars(stmt))


def all_granted_dataset_ids(
    session: Session, user_id: uuid.UUID | None, now: datetime
) -> set[uuid.UUID]:
    """Every dataset the user holds an active grant for at ``now``."""
    if user_id is None:
        return set()
    stmt = select(AccessGrant.dataset_id).where(AccessGrant.user_id == user_id, active(now))
    return set(session.scalars(stmt))


def grant_for_update(session: Session, grant_id: uuid.UUID) -> AccessGrant | None:
    stmt = select(AccessGrant).where(AccessGrant.id == grant_id).with_for_update()
    return session.scalars(stmt).one_or_none()


def grants_of_user(session: Session, user_id: uuid.UUID) -> Sequence[AccessGrant]:
    stmt = (
        select(AccessGrant)
        .where(AccessGrant.user_id == user_id)
        .order_by(AccessGrant.expires_at.desc())
    )
    return session.scalars(stmt).all()


def grants_of_datasets(session: Session, dataset_ids: Sequence[uuid.UUID]) -> Sequence[AccessGrant]:
    stmt = (
        select(AccessGrant)
        .where(AccessGrant.dataset_id.in_(dataset_ids))
        .order_by(AccessGrant.expires_at.desc())
    )
    return session.scalars(stmt).all()


class VisaSource(NamedTuple):
    """An active grant with the names its visa carries."""

    grant: AccessGrant
    accession: str
    committee_slug: str | None
    steward_slug: str


def visa_sources(session: Session, user_id: uuid.UUID, now: datetime) -> list[VisaSource]:
    """The user's grants active at ``now`` on published datasets, by accession."""
    stmt = (
        select(AccessGrant, Dataset.accession, Committee.slug, Organization.slug)
        .join(Dataset, Dataset.id == AccessGrant.dataset_id)
        .join(Organization, Organization.id == Dataset.steward_id)
        .outerjoin(Committee, Committee.id == Dataset.committee_id)
        .where(
            AccessGrant.user_id == user_id,
            active(now),
            Dataset.status == DatasetStatus.PUBLISHED,
        )
        .order_by(Dataset.accession, AccessGrant.expires_at.desc())
    )
    return [VisaSource(*row) for row in session.execute(stmt)]
