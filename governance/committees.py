"""Committee commands: decision rules, membership, and the dataset terms their requests accept.

Membership is the committee roles of ``role_assignments`` (member, chair), so every policy that
already reads a principal's roles sees it. Membership changes lock the committee row first, so
"a committee never loses its last chair" and "N approving votes stay reachable" hold under
concurrent changes.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from catalog import audit, service
from catalog import repository as catalog_repository
from catalog.errors import Conflict, Forbidden, NotFound
from catalog.models import Committee, RoleAssignment, RoleName
from catalog.principals import Principal
from governance import policies
from governance import repository as repo
from governance.locks import bounded_lock_wait
from governance.models import CommitteeRules, DatasetTermsOfUse, DecisionRule
from governance.schemas import COMMITTEE_ROLES, CommitteeRulesInput, MemberInput


@dataclass(frozen=True)
class Rules:
    """A committee's effective rules: its configured row, or the defaults."""

    decision_rule: DecisionRule
    required_votes: int | None
    sla_days: int
    max_grant_days: int


DEFAULT_RULES = Rules(DecisionRule.CHAIR, None, sla_days=30, max_grant_days=365)


def effective_rules(session: Session, committee_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Rules]:
    wanted = set(committee_ids)
    rows = repo.rules_of_committees(session, wanted)
    return {
        cid: (
            Rules(r.decision_rule, r.required_votes, r.sla_days, r.max_grant_days)
            if (r := rows.get(cid))
            else DEFAULT_RULES
        )
        for cid in wanted
    }


def configure(
    session: Session, principal: Principal, *, committee: str, data: CommitteeRulesInput
) -> Committee:
    found = _committee_for_command(session, principal, committee)
    if data.required_votes is not None:
        members = repo.member_count(session, found.id)
        if data.required_votes > members:
            raise Conflict(
                f"{data.required_votes} votes can never be reached by {members} members",
                field="input.required_votes",
            )
    row = session.get(CommitteeRules, found.id) or CommitteeRules(committee_id=found.id)
    row.decision_rule = data.decision_rule
    row.required_votes = data.required_votes
    row.sla_days = data.sla_days
    row.max_grant_days = data.max_grant_days
    row.updated_at = func.now()
    session.add(row)
    session.flush()
    audit.record(
        session,
        principal,
        "committee.configured",
        object_type="committee",
        object_id=found.slug,
        summary=data.model_dump(mode="json"),
    )
    return found


def add_member(
    session: Session, principal: Principal, *, member: MemberInput, role: RoleName
) -> Committee:
    """Make someone a member or the chair; a member made chair (or back) changes role."""
    if role not in COMMITTEE_ROLES:
        raise Conflict("committee roles are member and chair", field="role")
    found = _committee_for_command(session, principal, member.committee)
    user = service.ensure_user(session, issuer=member.issuer, subject=member.subject)
    held = {a.role for a in repo.committee_roles_of(session, found.id, user.id)}
    if role in held:
        raise Conflict(f"{member.subject} already holds {role.value}", field="subject")
    if RoleName.COMMITTEE_CHAIR in held:
        _keep_a_chair(session, found)
    session.execute(
        delete(RoleAssignment).where(
            RoleAssignment.committee_id == found.id,
            RoleAssignment.user_id == user.id,
            RoleAssignment.role.in_(COMMITTEE_ROLES),
        )
    )
    session.add(RoleAssignment(user_id=user.id, role=role, committee_id=found.id))
    session.flush()
    audit.record(
        session,
        principal,
        "committee.member_added",
        object_type="committee",
        object_id=found.slug,
        summary={
            "member": f"{member.subject}@{member.issuer}",
            "role": role.value,
            "previous": sorted(r.value for r in held),
        },
    )
    return found


def remove_member(
    session: Session,
    principal: Principal,
    *,
    member: MemberInput,
    void_open_votes: bool,
    now: datetime | None = None,
) -> Committee:
    """Remove someone from the committee. Their votes on undecided reviews are voided, but
    only when the caller says so: a removal never changes a tally unannounced."""
    now = now or datetime.now(UTC)
    found = _committee_for_command(session, principal, member.committee)
    user = catalog_repository.user_by_identity(session, member.issuer, member.subject)
    held = {a.role for a in repo.committee_roles_of(session, found.id, user.id)} if user else set()
    if user is None or not held:
        raise NotFound(f"{member.subject} is not on {found.slug}", field="subject")
    if RoleName.COMMITTEE_CHAIR in held:
        _keep_a_chair(session, found)
    rules = effective_rules(session, [found.id])[found.id]
    remaining = repo.member_count(session, found.id) - 1
    if rules.required_votes is not None and rules.required_votes > remaining:
        raise Conflict(
            f"{found.slug} decides by {rules.required_votes} votes; {remaining} members could"
            " not reach them (lower the count first)",
            field="subject",
        )
    votes = repo.open_votes_of_member(session, found.id, user.id)
    if votes and not void_open_votes:
        raise Conflict(
            f"{member.subject} has {len(votes)} vote(s) on undecided reviews; confirm with"
            " voidOpenVotes to void them",
            field="void_open_votes",
        )
    for vote in votes:
        vote.voided_at = now
        vote.voided_reason = "member removed from the committee"
    session.execute(
        delete(RoleAssignment).where(
            RoleAssignment.committee_id == found.id,
            RoleAssignment.user_id == user.id,
            RoleAssignment.role.in_(COMMITTEE_ROLES),
        )
    )
    session.flush()
    audit.record(
        session,
        principal,
        "committee.member_removed",
        object_type="committee",
        object_id=found.slug,
        summary={
            "member": f"{member.subject}@{member.issuer}",
            "roles": sorted(r.value for r in held),
            "voided_votes": [str(v.review_id) for v in votes],
        },
    )
    return found


def publish_terms(
    session: Session, principal: Principal, *, accession: str, text: str
) -> DatasetTermsOfUse:
    """A new version of a dataset's terms of use; requests must accept the latest version."""
    dataset = catalog_repository.dataset_for_update(session, accession)
    if dataset is None or not catalog_repository.dataset_by_id(session, principal, dataset.id):
        raise NotFound(f"no dataset {accession}", field="accession")
    if not policies.can_publish_terms(principal, dataset):
        raise Forbidden(f"you do not steward {accession}")
    text = text.strip()
    if not text:
        raise Conflict("terms of use need text", field="text")
    latest = session.scalar(
        select(func.max(DatasetTermsOfUse.version)).where(
            DatasetTermsOfUse.dataset_id == dataset.id
        )
    )
    terms = DatasetTermsOfUse(
        dataset_id=dataset.id, version=(latest or 0) + 1, text=text, published_by=principal.actor
    )
    session.add(terms)
    session.flush()
    audit.record(
        session,
        principal,
        "dataset.terms_published",
        object_type="dataset",
        object_id=accession,
        summary={"version": terms.version},
    )
    return terms


def _committee_for_command(session: Session, principal: Principal, slug: str) -> Committee:
    with bounded_lock_wait(session):
        found = repo.committee_for_update(session, slug)
    if found is None:
        raise NotFound(f"no committee {slug!r}", field="committee")
    if not policies.can_manage_committee(principal, found):
        raise Forbidden(f"you do not steward the organization of {slug!r}")
    return found


def _keep_a_chair(session: Session, committee: Committee) -> None:
    if repo.member_count(session, committee.id, RoleName.COMMITTEE_CHAIR) <= 1:
        raise Conflict(f"{committee.slug} would lose its last chair", field="subject")
