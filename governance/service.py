"""Governance commands. Like catalog services they check a policy, write, audit and flush;
the caller owns the transaction."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from catalog import audit, repository, service
from catalog.errors import Forbidden, Invalid, InvalidTransition, NotFound
from catalog.models import AccessLevel, Dataset
from catalog.principals import Principal
from governance import notifications, policies
from governance import repository as grants
from governance.models import AccessGrant, NotificationKind


def grant_access(
    session: Session,
    principal: Principal,
    *,
    issuer: str,
    subject: str,
    accession: str,
    expires_at: datetime,
    starts_at: datetime | None = None,
    now: datetime | None = None,
) -> AccessGrant:
    if not policies.can_grant_access(principal):
        raise Forbidden("only administrators grant access directly")
    now = now or datetime.now(UTC)
    starts_at = starts_at or now
    if expires_at <= starts_at:
        raise Invalid("a grant must expire after it starts", field="expires_at")
    if expires_at <= now:
        raise Invalid("a grant must expire in the future", field="expires_at")
    dataset = repository.dataset_for_update(session, accession)
    if dataset is None:
        raise NotFound(f"no dataset {accession}", field="accession")
    if dataset.access_level is not AccessLevel.CONTROLLED:
        raise Invalid(
            f"{accession} is {dataset.access_level.value}; grants apply to controlled datasets",
            field="accession",
        )
    user = service.ensure_user(session, issuer=issuer, subject=subject)
    grant = AccessGrant(
        user_id=user.id,
        dataset_id=dataset.id,
        starts_at=starts_at,
        expires_at=expires_at,
        granted_by=principal.actor,
    )
    session.add(grant)
    session.flush()
    audit.record(
        session,
        principal,
        "grant.created",
        object_type="access_grant",
        object_id=str(grant.id),
        summary={
            "dataset": accession,
            "subject": f"{subject}@{issuer}",
            "starts_at": starts_at.isoformat(),
            "expires_at": expires_at.isoformat(),
        },
    )
    return grant


def revoke_grant(
    session: Session,
    principal: Principal,
    *,
    grant_id: uuid.UUID,
    reason: str,
    now: datetime | None = None,
) -> AccessGrant:
    """Administrators and the dataset's committee end a grant early; access stops at once."""
    if not principal.is_authenticated:
        raise Forbidden("sign in to revoke grants")
    reason = reason.strip()
    if not reason:
        raise Invalid("a revocation needs a reason", field="reason")
    now = now or datetime.now(UTC)
    grant = grants.grant_for_update(session, grant_id)
    if grant is None:
        raise NotFound(f"no grant {grant_id}", field="grant_id")
    dataset = session.get_one(Dataset, grant.dataset_id)
    if not policies.can_revoke_grant(principal, dataset):
        raise Forbidden("only administrators and the dataset's committee revoke its grants")
    if grant.revoked_at is not None:
        raise InvalidTransition("the grant is already revoked")
    if grant.expires_at <= now:
        raise InvalidTransition("the grant has already expired")
    grant.revoked_at = now
    grant.revoked_reason = reason
    session.flush()
    audit.record(
        session,
        principal,
        "grant.revoked",
        object_type="access_grant",
        object_id=str(grant.id),
        summary={"reason": reason, "dataset": dataset.accession},
    )
    notifications.enqueue(
        session,
        NotificationKind.GRANT_REVOKED,
        [grant.user_id],
        {**notifications.grant_payload(grant, dataset.accession), "reason": reason},
    )
    return grant
