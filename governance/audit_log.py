"""Reading audit events: which events a caller may see, filtered and paged newest first.

Every read starts from ``readable_events``. An event belongs to a dataset when it is about the
dataset itself, names it in its summary (files, bundles, access URLs, new grants), or is about
a grant of it (revocations); events about organizations, committees and users belong to no
dataset, so only administrators see them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, Select, String, case, cast, func, or_, select
from sqlalchemy.orm import Session

from catalog.models import AuditEvent, Dataset, DatasetFunder, RoleName
from catalog.principals import Principal
from governance import policies
from governance.models import AccessGrant


def event_dataset() -> ColumnElement[str | None]:
    """The accession of the dataset an event belongs to, if any."""
    granted = (
        select(Dataset.accession)
        .join(AccessGrant, AccessGrant.dataset_id == Dataset.id)
        .where(cast(AccessGrant.id, String) == AuditEvent.object_id)
        .scalar_subquery()
    )
    return case(
        (AuditEvent.object_type == "dataset", AuditEvent.object_id),
        (AuditEvent.object_type == "access_grant", granted),
        else_=AuditEvent.summary["dataset"].astext,
    )


def readable_events(principal: Principal) -> Select[AuditEvent] | None:
    """The events ``principal`` may read; None when it may read none at all."""
    if not policies.can_read_audit_events(principal):
        return None
    stmt = select(AuditEvent)
    if principal.is_admin:
        return stmt
    funded = select(DatasetFunder.dataset_id).where(
        DatasetFunder.funder_id.in_(principal.organizations_with(RoleName.FUNDER_AUDITOR))
    )
    theirs = select(Dataset.accession).where(
        or_(Dataset.committee_id.in_(principal.committees()), Dataset.id.in_(funded))
    )
    return stmt.where(event_dataset().in_(theirs))


@dataclass(frozen=True)
class AuditFilter:
    object_type: str | None = None
    object_id: str | None = None
    actor: str | None = None
    action: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def filtered_events(stmt: Select[AuditEvent], flt: AuditFilter) -> Select[AuditEvent]:
    """``since`` is inclusive, ``until`` exclusive."""
    exact = {
        AuditEvent.object_type: flt.object_type,
        AuditEvent.object_id: flt.object_id,
        AuditEvent.actor: flt.actor,
        AuditEvent.action: flt.action,
    }
    for column, value in exact.items():
        if value is not None:
            stmt = stmt.where(column == value)
    if flt.since is not None:
        stmt = stmt.where(AuditEvent.occurred_at >= flt.since)
    if flt.until is not None:
        stmt = stmt.where(AuditEvent.occurred_at < flt.until)
    return stmt


def page_of_events(
    session: Session, stmt: Select[AuditEvent], *, before_id: int | None, limit: int
) -> Sequence[AuditEvent]:
    """Newest first (by id), starting after the event ``before_id``."""
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    return session.scalars(stmt.order_by(AuditEvent.id.desc()).limit(limit)).all()


def count_events(session: Session, stmt: Select[AuditEvent]) -> int:
    total: int = session.execute(
        select(func.count()).select_from(stmt.order_by(None).subquery())
    ).scalar_one()
    return total
