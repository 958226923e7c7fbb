"""Committee commands on a review: start, request changes, vote, decide; and the grants an
approval issues.

Every command locks the review's request row first (bounded wait), then re-reads the review, so
two members deciding at the same moment are serialised: the first decides and issues grants,
the second finds the review decided and gets ``InvalidTransition``. Each command is the one
place where a notification of its transition belongs.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from sqlalchemy.orm import Session

from catalog import audit
from catalog.errors import Conflict, Forbidden, Invalid, NotFound
from catalog.models import Dataset
from catalog.principals import Principal
from governance import automatic_review, policies, request_notifications
from governance import repository as repo
from governance.committees import effective_rules
from governance.locks import bounded_lock_wait
from governance.models import (
    AccessGrant,
    AccessRequest,
    DecisionRule,
    RequestReview,
    RequestState,
    ReviewVote,
    VoteChoice,
)
from governance.workflow import (
    REVIEW_STEPS,
    Actor,
    Step,
    check,
    request_state,
    tally,
    votes_needed,
)


def start(
    session: Session, principal: Principal, *, review_id: uuid.UUID, now: datetime | None = None
) -> RequestReview:
    request, review, step = _for_command(session, principal, review_id, "start")
    _move(session, request, review, step, now or datetime.now(UTC))
    _audit(session, principal, step.audit, review, {})
    return review


def request_changes(
    session: Session,
    principal: Principal,
    *,
    review_id: uuid.UUID,
    comment: str,
    now: datetime | None = None,
) -> RequestReview:
    """Send the request back to its author. Standing votes are voided: they judged the
    version that is now being changed."""
    now = now or datetime.now(UTC)
    comment = comment.strip()
    if not comment:
        raise Invalid("say which changes are needed", field="comment")
    request, review, step = _for_command(session, principal, review_id, "request_changes")
    voided = _void_votes(session, review, now, "changes requested")
    review.changes_comment = comment
    _move(session, request, review, step, now)
    request_notifications.changes_requested(session, request, review)
    _audit(session, principal, step.audit, review, {"comment": comment, "voided_votes": voided})
    return review


def vote(
    session: Session,
    principal: Principal,
    *,
    review_id: uuid.UUID,
    choice: VoteChoice,
    comment: str | None = None,
    now: datetime | None = None,
) -> RequestReview:
    """Record a member's vote; under a votes or majority rule, the vote that settles the
    count decides the review at once."""
    now = now or datetime.now(UTC)
    request, review, step = _for_command(session, principal, review_id, "vote")
    assert principal.user_id is not None  # committee members are known users
    standing = repo.standing_votes(session, review.id)
    if any(v.user_id == principal.user_id for v in standing):
        raise Conflict("you have already voted on this review", field="choice")
    cast = ReviewVote(
        review_id=review.id, user_id=principal.user_id, choice=choice, comment=comment or None
    )
    session.add(cast)
    session.flush()
    _audit(session, principal, step.audit, review, {"choice": choice.value})
    rules = effective_rules(session, [review.committee_id])[review.committee_id]
    if rules.decision_rule is DecisionRule.CHAIR:
        return review
    members = repo.member_count(session, review.committee_id)
    choices = [v.choice for v in [*standing, cast]]
    outcome = tally(
        choices.count(VoteChoice.APPROVE),
        choices.count(VoteChoice.REJECT),
        needed=votes_needed(rules.required_votes, members),
        members=members,
    )
    if outcome is not None:
        _decide(session, principal, request, review, REVIEW_STEPS[outcome], None, now)
    return review


def decide(
    session: Session,
    principal: Principal,
    *,
    review_id: uuid.UUID,
    approve: bool,
    comment: str | None = None,
    now: datetime | None = None,
) -> RequestReview:
    """The chair's decision, for committees whose rule is that the chair decides."""
    now = now or datetime.now(UTC)
    request, review, step = _for_command(
        session, principal, review_id, "approve" if approve else "reject"
    )
    rules = effective_rules(session, [review.committee_id])[review.committee_id]
    if rules.decision_rule is not DecisionRule.CHAIR:
        raise Conflict(
            f"this committee decides by {rules.decision_rule.value}: cast a vote instead",
            field="decision",
        )
    _decide(session, principal, request, review, step, comment, now)
    return review


def _for_command(
    session: Session, principal: Principal, review_id: uuid.UUID, command: str
) -> tuple[AccessRequest, RequestReview, Step]:
    """The request (locked) and the review for ``command``, after the actor and state checks."""
    request_id = repo.review_request_id(session, review_id)
    if request_id is None:
        raise NotFound(f"no review {review_id}", field="id")
    with bounded_lock_wait(session):
        request = repo.request_for_update(session, request_id)
    assert request is not None  # a review's request is never deleted while it exists
    review = session.get_one(RequestReview, review_id, populate_existing=True)
    step = REVIEW_STEPS[command]
    allowed = (
        policies.chairs(principal, review.committee_id)
        if step.actor is Actor.CHAIR
        else policies.sits_on(principal, review.committee_id)
    )
    if not allowed:
        who = "its chair" if step.actor is Actor.CHAIR else "its members"
        raise Forbidden(f"only {who} may {command.replace('_', ' ')} this committee's review")
    return request, review, check(REVIEW_STEPS, command, review.state, "review")


def _move(
    session: Session, request: AccessRequest, review: RequestReview, step: Step, now: datetime
) -> None:
    assert step.target is not None
    review.state = step.target
    reviews = repo.reviews_of_requests(session, [request.id])[request.id]
    request.state = request_state([r.state for r in reviews])
    request.updated_at = now
    if request.state in (RequestState.APPROVED, RequestState.REJECTED):
        request.decided_at = now
    session.flush()


def _decide(
    session: Session,
    principal: Principal,
    request: AccessRequest,
    review: RequestReview,
    step: Step,
    comment: str | None,
    now: datetime,
) -> None:
    assert step.target is not None
    review.decided_at = now
    review.decided_by = principal.actor if step.actor is Actor.CHAIR else "votes"
    review.decision_comment = comment or None
    review.committee_agreed_with_algorithm = automatic_review.agreed(
        review.algorithm_outcome, step.target
    )
    _move(session, request, review, step, now)
    grants = _issue_grants(session, principal, request, review, now)
    request_notifications.decided(session, request, review)
    _audit(
        session,
        principal,
        step.audit,
        review,
        {
            "by": review.decided_by,
            "grants": [str(g.id) for g in grants],
            "agreed_with_algorithm": review.committee_agreed_with_algorithm,
        },
    )


def _issue_grants(
    session: Session,
    principal: Principal,
    request: AccessRequest,
    review: RequestReview,
    now: datetime,
) -> list[AccessGrant]:
    """One grant per (requester, dataset) the committee governs in the request, lasting the
    requested duration capped by the committee's maximum. A grant that renews access starts
    when the current one ends, so renewals extend access without overlapping grants."""
    if review.state is not RequestState.APPROVED:
        return []
    rules = effective_rules(session, [review.committee_id])[review.committee_id]
    days = min(request.duration_days, rules.max_grant_days)
    datasets: list[Dataset] = [
        d
        for _, d in repo.datasets_of_requests(session, [request.id])[request.id]
        if d.committee_id == review.committee_id
    ]
    issued = []
    for dataset in datasets:
        current = repo.latest_active_expiry(session, request.requester_id, dataset.id, now)
        starts_at = max(now, current) if current else now
        grant = AccessGrant(
            user_id=request.requester_id,
            dataset_id=dataset.id,
            starts_at=starts_at,
            expires_at=starts_at + timedelta(days=days),
            granted_by=principal.actor,
            request_id=request.id,
        )
        session.add(grant)
        issued.append(grant)
    session.flush()
    for grant, dataset in zip(issued, datasets, strict=True):
        audit.record(
            session,
            principal,
            "grant.created",
            object_type="access_grant",
            object_id=str(grant.id),
            summary={
                "dataset": dataset.accession,
                "request": str(request.id),
                "starts_at": grant.starts_at.isoformat(),
                "expires_at": grant.expires_at.isoformat(),
            },
        )
    return issued


def _void_votes(session: Session, review: RequestReview, now: datetime, reason: str) -> int:
    standing = repo.standing_votes(session, review.id)
    for v in standing:
        v.voided_at = now
        v.voided_reason = reason
    session.flush()
    return len(standing)


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    review: RequestReview,
    summary: dict[str, object],
) -> None:
    audit.record(
        session,
        principal,
        action,
        object_type="request_review",
        object_id=str(review.id),
        summary={"request": str(review.request_id), "state": review.state.value, **summary},
    )
