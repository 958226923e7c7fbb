"""Every governance query. Grant activity is always evaluated against the given instant; reads
of requests start from ``readable_requests(principal)``."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import (
    BindParameter,
    ColumnElement,
    DateTime,
    Select,
    and_,
    bindparam,
    exists,
    false,
    func,
    or_,
    select,
)
from sqlalchemy.dialects.postgresql import UUID
from sqlalchemy.orm import Session

from catalog.models import (
    Committee,
    Dataset,
    DatasetFunder,
    DatasetStatus,
    Organization,
    RoleAssignment,
    RoleName,
    User,
)
from catalog.prepared import PreparedQuery
from catalog.principals import Principal
from governance.models import (
    AccessGrant,
    AccessRequest,
    AccessRequestDataset,
    CommitteeRules,
    DatasetTermsOfUse,
    RequestReview,
    RequestState,
    ReviewVote,
)

COMMITTEE_ROLES = (RoleName.COMMITTEE_MEMBER, RoleName.COMMITTEE_CHAIR)


def active(now: datetime | BindParameter[datetime]) -> ColumnElement[bool]:
    """A grant is active from its start until its expiry, unless revoked."""
    return and_(
        AccessGrant.revoked_at.is_(None),
        AccessGrant.starts_at <= now,
        AccessGrant.expires_at > now,
    )


def has_active_grant(
    dataset_id: ColumnElement[uuid.UUID], user_id: ColumnElement[uuid.UUID] | None = None
) -> ColumnElement[bool]:
    """An EXISTS clause, with bind parameter ``now`` (and ``user_id`` unless ``user_id`` is
    given), to embed in the query that loads the objects, so the access decision costs no
    extra round trip."""
    now = bindparam("now", type_=DateTime(timezone=True))
    grantee = user_id if user_id is not None else bindparam("user_id", type_=UUID)
    return exists().where(
        AccessGrant.user_id == grantee,
        AccessGrant.dataset_id == dataset_id,
        active(now),
    )


_HAS_GRANT = select(has_active_grant(bindparam("dataset_id", type_=UUID)))
"""Built once, so SQLAlchemy's compiled-statement cache serves every call."""


def has_grant(session: Session, user_id: uuid.UUID, dataset_id: uuid.UUID, now: datetime) -> bool:
    """One dataset's decision input in one indexed lookup (``ix_access_grants_user_dataset``)."""
    params = {"user_id": user_id, "dataset_id": dataset_id, "now": now}
    return bool(session.execute(_HAS_GRANT, params).scalar())


ACTIVE_GRANTS = PreparedQuery(
    "atrium_active_grants",
    select(AccessGrant.dataset_id).where(
        AccessGrant.user_id == bindparam("user_id", type_=UUID),
        active(bindparam("now", type_=DateTime(timezone=True))),
    ),
)
"""Read by signed-in catalog pages the response cache does not answer (which read the grants
with the caller's class, ``api.graphql.caller_access``), so prepared once per connection."""


def all_granted_dataset_ids(
    session: Session, user_id: uuid.UUID | None, now: datetime
) -> set[uuid.UUID]:
    """Every dataset the user holds an active grant for at ``now``."""
    if user_id is None:
        return set()
    rows = ACTIVE_GRANTS.rows(session.connection(), {"user_id": user_id, "now": now})
    return {row[0] for row in rows}


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


def grants_of_dataset(session: Session, dataset_id: uuid.UUID) -> Sequence[AccessGrant]:
    return grants_of_datasets(session, [dataset_id])


def latest_active_expiry(
    session: Session, user_id: uuid.UUID, dataset_id: uuid.UUID, now: datetime
) -> datetime | None:
    stmt = select(func.max(AccessGrant.expires_at)).where(
        AccessGrant.user_id == user_id, AccessGrant.dataset_id == dataset_id, active(now)
    )
    return session.scalar(stmt)


def active_grants_of_request(
    session: Session, request_id: uuid.UUID, now: datetime
) -> Sequence[AccessGrant]:
    stmt = select(AccessGrant).where(AccessGrant.request_id == request_id, active(now))
    return session.scalars(stmt).all()


def grants_of_requests(
    session: Session, request_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[AccessGrant]]:
    found: dict[uuid.UUID, list[AccessGrant]] = defaultdict(list)
    stmt = (
        select(AccessGrant)
        .where(AccessGrant.request_id.in_(request_ids))
        .order_by(AccessGrant.created_at, AccessGrant.id)
    )
    for grant in session.scalars(stmt):
        assert grant.request_id is not None
        found[grant.request_id].append(grant)
    return found


# Committees


def committee_for_update(session: Session, slug: str) -> Committee | None:
    stmt = select(Committee).where(Committee.slug == slug).with_for_update()
    return session.scalars(stmt).one_or_none()


def rules_of_committees(
    session: Session, committee_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, CommitteeRules]:
    stmt = select(CommitteeRules).where(CommitteeRules.committee_id.in_(list(committee_ids)))
    return {r.committee_id: r for r in session.scalars(stmt)}


def committee_roles_of(
    session: Session, committee_id: uuid.UUID, user_id: uuid.UUID
) -> Sequence[RoleAssignment]:
    stmt = select(RoleAssignment).where(
        RoleAssignment.committee_id == committee_id,
        RoleAssignment.user_id == user_id,
        RoleAssignment.role.in_(COMMITTEE_ROLES),
    )
    return session.scalars(stmt).all()


def member_count(session: Session, committee_id: uuid.UUID, role: RoleName | None = None) -> int:
    """Distinct people holding a committee role (or exactly ``role``)."""
    roles = (role,) if role else COMMITTEE_ROLES
    stmt = select(func.count(func.distinct(RoleAssignment.user_id))).where(
        RoleAssignment.committee_id == committee_id, RoleAssignment.role.in_(roles)
    )
    return session.scalar(stmt) or 0


def members_of_committees(
    session: Session, committee_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, list[uuid.UUID]]:
    """User ids of each committee's members and chairs, each once, in a stable order."""
    stmt = (
        select(RoleAssignment.committee_id, RoleAssignment.user_id)
        .where(
            RoleAssignment.committee_id.in_(list(committee_ids)),
            RoleAssignment.role.in_(COMMITTEE_ROLES),
        )
        .distinct()
        .order_by(RoleAssignment.committee_id, RoleAssignment.user_id)
    )
    found: dict[uuid.UUID, list[uuid.UUID]] = defaultdict(list)
    for committee_id, user_id in session.execute(stmt):
        assert committee_id is not None  # committee roles always name their committee
        found[committee_id].append(user_id)
    return found


def open_votes_of_member(
    session: Session, committee_id: uuid.UUID, user_id: uuid.UUID
) -> Sequence[ReviewVote]:
    """Standing votes of the member on reviews of the committee that are still undecided."""
    stmt = (
        select(ReviewVote)
        .join(RequestReview, RequestReview.id == ReviewVote.review_id)
        .where(
            RequestReview.committee_id == committee_id,
            RequestReview.state == RequestState.UNDER_REVIEW,
            ReviewVote.user_id == user_id,
            ReviewVote.voided_at.is_(None),
        )
    )
    return session.scalars(stmt).all()


# Terms of use


def current_terms(
    session: Session, dataset_ids: Iterable[uuid.UUID]
) -> dict[uuid.UUID, DatasetTermsOfUse]:
    """The latest version of each dataset's terms, for datasets that have any."""
    stmt = (
        select(DatasetTermsOfUse)
        .where(DatasetTermsOfUse.dataset_id.in_(list(dataset_ids)))
        .order_by(DatasetTermsOfUse.version)
    )
    return {t.dataset_id: t for t in session.scalars(stmt)}  # the last version wins


# Requests and reviews


def readable_requests(principal: Principal) -> Select[AccessRequest]:
    """Requests the principal may read: its own; and, once submitted, those covering datasets
    its committees govern, that its organizations steward, or that its funders paid for;
    administrators read all."""
    stmt = select(AccessRequest)
    if principal.is_admin:
        return stmt
    own = (
        AccessRequest.requester_id == principal.user_id
        if principal.user_id is not None
        else false()
    )
    committees = principal.committees()
    stewarded = principal.organizations_with(RoleName.STEWARD)
    funders = principal.organizations_with(RoleName.FUNDER_AUDITOR)
    covered = (
        select(AccessRequestDataset.request_id)
        .join(Dataset, Dataset.id == AccessRequestDataset.dataset_id)
        .where(
            or_(
                Dataset.committee_id.in_(committees) if committees else false(),
                Dataset.steward_id.in_(stewarded) if stewarded else false(),
                Dataset.id.in_(
                    select(DatasetFunder.dataset_id).where(DatasetFunder.funder_id.in_(funders))
                )
                if funders
                else false(),
            )
        )
    )
    others = and_(AccessRequest.state != RequestState.DRAFT, AccessRequest.id.in_(covered))
    return stmt.where(or_(own, others))


def request_by_id(
    session: Session, principal: Principal, request_id: uuid.UUID
) -> AccessRequest | None:
    stmt = readable_requests(principal).where(AccessRequest.id == request_id)
    return session.scalars(stmt).one_or_none()


def page_of_requests(
    session: Session,
    principal: Principal,
    *,
    states: Sequence[RequestState],
    mine: bool,
    first: int,
    after: tuple[datetime, uuid.UUID] | None,
) -> tuple[Sequence[AccessRequest], int]:
    """One page, newest first, and the total count of the filtered requests."""
    stmt = readable_requests(principal)
    if states:
        stmt = stmt.where(AccessRequest.state.in_(states))
    if mine:
        stmt = stmt.where(AccessRequest.requester_id == principal.user_id)
    total = session.scalar(select(func.count()).select_from(stmt.subquery())) or 0
    if after is not None:
        stmt = stmt.where(
            func.row(AccessRequest.created_at, AccessRequest.id) < func.row(after[0], after[1])
        )
    stmt = stmt.order_by(AccessRequest.created_at.desc(), AccessRequest.id.desc()).limit(first + 1)
    return session.scalars(stmt).all(), total


def request_for_update(session: Session, request_id: uuid.UUID) -> AccessRequest | None:
    stmt = select(AccessRequest).where(AccessRequest.id == request_id).with_for_update()
    return session.scalars(stmt).one_or_none()


def review_request_id(session: Session, review_id: uuid.UUID) -> uuid.UUID | None:
    stmt = select(RequestReview.request_id).where(RequestReview.id == review_id)
    return session.scalar(stmt)


def reviews_of_requests(
    session: Session, request_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[RequestReview]]:
    found: dict[uuid.UUID, list[RequestReview]] = defaultdict(list)
    stmt = (
        select(RequestReview)
        .where(RequestReview.request_id.in_(request_ids))
        .order_by(RequestReview.created_at, RequestReview.id)
    )
    for review in session.scalars(stmt):
        found[review.request_id].append(review)
    return found


def datasets_of_requests(
    session: Session, request_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[AccessRequestDataset, Dataset]]]:
    found: dict[uuid.UUID, list[tuple[AccessRequestDataset, Dataset]]] = defaultdict(list)
    stmt = (
        select(AccessRequestDataset, Dataset)
        .join(Dataset, Dataset.id == AccessRequestDataset.dataset_id)
        .where(AccessRequestDataset.request_id.in_(request_ids))
        .order_by(Dataset.accession)
    )
    for link, dataset in session.execute(stmt):
        found[link.request_id].append((link, dataset))
    return found


def votes_of_reviews(
    session: Session, review_ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, list[tuple[ReviewVote, User]]]:
    found: dict[uuid.UUID, list[tuple[ReviewVote, User]]] = defaultdict(list)
    stmt = (
        select(ReviewVote, User)
        .join(User, User.id == ReviewVote.user_id)
        .where(ReviewVote.review_id.in_(review_ids))
        .order_by(ReviewVote.cast_at, ReviewVote.id)
    )
    for vote, user in session.execute(stmt):
        found[vote.review_id].append((vote, user))
    return found


def standing_votes(session: Session, review_id: uuid.UUID) -> Sequence[ReviewVote]:
    stmt = select(ReviewVote).where(
        ReviewVote.review_id == review_id, ReviewVote.voided_at.is_(None)
    )
    return session.scalars(stmt).all()


def users_by_ids(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, User]:
    return {u.id: u for u in session.scalars(select(User).where(User.id.in_(list(ids))))}
