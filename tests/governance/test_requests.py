"""The access-request workflow through its commands, against real Postgres: every transition,
the split across committees, the decision rules, grants, and the refusals."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from catalog.errors import Conflict, Forbidden, Invalid, InvalidTransition, NotFound
from catalog.models import AuditEvent, Committee, Dataset, Organization, RoleName
from catalog.principals import SYSTEM, Principal
from governance import committees, requests, reviews
from governance import repository as repo
from governance import service as grants_service
from governance.models import (
    AccessGrant,
    AccessRequest,
    AccessRequestDataset,
    DecisionRule,
    RequestReview,
    RequestState,
    ReviewVote,
    VoteChoice,
)
from governance.schemas import CommitteeRulesInput, MemberInput
from tests.factories import Factory, request_input

S = RequestState


@dataclass
class Dac:
    steward: Organization
    committee: Committee
    dataset: Dataset
    chair: Principal
    member: Principal
    researcher: Principal


@pytest.fixture
def dac(factory: Factory) -> Dac:
    steward = factory.organization()
    committee = factory.committee(steward)
    dataset = factory.dataset(
        steward, publish=True, access_level="controlled", committee=committee.slug
    )
    return Dac(
        steward,
        committee,
        dataset,
        chair=factory.principal("carla", (RoleName.COMMITTEE_CHAIR, committee.slug)),
        member=factory.principal("mo", (RoleName.COMMITTEE_MEMBER, committee.slug)),
        researcher=factory.principal("rita"),
    )


def configure(
    db: Session, dac: Dac, rule: DecisionRule, votes: int | None = None, **kw: int
) -> None:
    data = CommitteeRulesInput(
        decision_rule=rule,
        required_votes=votes,
        sla_days=kw.get("sla_days", 14),
        max_grant_days=kw.get("max_grant_days", 365),
    )
    committees.configure(db, SYSTEM, committee=dac.committee.slug, data=data)


def submitted(db: Session, dac: Dac, *datasets: Dataset, **fields: object) -> AccessRequest:
    request = requests.create(
        db, dac.researcher, data=request_input(*(datasets or (dac.dataset,)), **fields)
    )
    return requests.submit(db, dac.researcher, request_id=request.id)


def only_review(db: Session, request: AccessRequest) -> RequestReview:
    (review,) = repo.reviews_of_requests(db, [request.id])[request.id]
    return review


def actions(db: Session, object_id: object) -> list[str]:
    stmt = select(AuditEvent.action).where(AuditEvent.object_id == str(object_id))
    return list(db.scalars(stmt.order_by(AuditEvent.id)))


def test_a_request_travels_the_whole_chair_workflow(db: Session, dac: Dac) -> None:
    configure(db, dac, DecisionRule.CHAIR, sla_days=10, max_grant_days=90)
    draft = requests.create(
        db,
        dac.researcher,
        data=request_input(
            dac.dataset, purposes=["DS"], diseases=["MONDO:0004992"], duration_days=60
        ),
    )
    assert draft.state is S.DRAFT
    assert (draft.purposes, draft.diseases) == (["DS"], ["MONDO:0004992"])
    request = requests.submit(db, dac.researcher, request_id=draft.id)
    review = only_review(db, request)
    assert (request.state, review.state) == (S.SUBMITTED, S.SUBMITTED)
    assert review.due_at - request.submitted_at == timedelta(days=10)  # type: ignore[operator]

    reviews.start(db, dac.member, review_id=review.id)
    assert request.state is S.UNDER_REVIEW
    reviews.vote(db, dac.member, review_id=review.id, choice=VoteChoice.APPROVE)
    reviews.request_changes(db, dac.member, review_id=review.id, comment="Name your IRB.")
    assert (request.state, review.changes_comment) == (S.CHANGES_REQUESTED, "Name your IRB.")
    assert repo.standing_votes(db, review.id) == [], "votes on the old version are voided"

    requests.update(
        db,
        dac.researcher,
        request_id=request.id,
        data=request_input(dac.dataset, research_use="IRB 2024-17 approved.", duration_days=90),
    )
    requests.resubmit(db, dac.researcher, request_id=request.id)
    assert (request.state, review.state) == (S.RESUBMITTED, S.RESUBMITTED)
    configure(db, dac, DecisionRule.CHAIR, max_grant_days=45)  # lowered while under review
    reviews.start(db, dac.chair, review_id=review.id)
    reviews.decide(db, dac.chair, review_id=review.id, approve=True, comment="Fine.")

    assert (request.state, review.state) == (S.APPROVED, S.APPROVED)
    assert request.decided_at is not None
    assert review.decided_by == dac.chair.actor
    assert review.committee_agreed_with_algorithm is None
    (grant,) = db.scalars(select(AccessGrant).where(AccessGrant.request_id == request.id))
    assert grant.user_id == dac.researcher.user_id
    assert grant.dataset_id == dac.dataset.id
    assert grant.expires_at - grant.starts_at == timedelta(days=45), "capped at the maximum"
    assert actions(db, request.id) == [
        "request.created",
        "request.submitted",
        "request.updated",
        "request.resubmitted",
    ]
    assert actions(db, review.id) == [
        "review.started",
        "review.voted",
        "review.changes_requested",
        "review.started",
        "review.approved",
    ]
    assert actions(db, grant.id) == ["grant.created"]


def test_a_request_over_two_committees_is_split_and_each_decides_its_own(
    db: Session, factory: Factory, dac: Dac
) -> None:
    other_committee = factory.committee(dac.steward)
    other = factory.dataset(
        dac.steward, publish=True, access_level="controlled", committee=other_committee.slug
    )
    other_chair = factory.principal("olga", (RoleName.COMMITTEE_CHAIR, other_committee.slug))
    request = submitted(db, dac, dac.dataset, other)
    by_committee = {
        r.committee_id: r for r in repo.reviews_of_requests(db, [request.id])[request.id]
    }
    assert set(by_committee) == {dac.committee.id, other_committee.id}
    mine, theirs = by_committee[dac.committee.id], by_committee[other_committee.id]

    with pytest.raises(Forbidden):
        reviews.start(db, dac.chair, review_id=theirs.id)
    reviews.start(db, dac.chair, review_id=mine.id)
    with pytest.raises(Forbidden):
        reviews.decide(db, other_chair, review_id=mine.id, approve=True)
    reviews.decide(db, dac.chair, review_id=mine.id, approve=True)
    assert request.state is S.SUBMITTED, "the other committee has not started"
    reviews.start(db, other_chair, review_id=theirs.id)
    reviews.decide(db, other_chair, review_id=theirs.id, approve=False, comment="No IRB.")

    assert request.state is S.APPROVED, "approved for the datasets one committee approved"
    granted = db.scalars(select(AccessGrant.dataset_id).where(AccessGrant.request_id == request.id))
    assert list(granted) == [dac.dataset.id]


def test_n_approving_votes_decide_without_the_chair(
    db: Session, factory: Factory, dac: Dac
) -> None:
    third = factory.principal("tess", (RoleName.COMMITTEE_MEMBER, dac.committee.slug))
    configure(db, dac, DecisionRule.VOTES, votes=2)
    request = submitted(db, dac)
    review = only_review(db, request)
    reviews.start(db, dac.member, review_id=review.id)
    with pytest.raises(Conflict, match="decides by votes"):
        reviews.decide(db, dac.chair, review_id=review.id, approve=True)
    reviews.vote(db, dac.member, review_id=review.id, choice=VoteChoice.APPROVE)
    with pytest.raises(Conflict, match="already voted"):
        reviews.vote(db, dac.member, review_id=review.id, choice=VoteChoice.REJECT)
    assert review.state is S.UNDER_REVIEW
    reviews.vote(db, third, review_id=review.id, choice=VoteChoice.APPROVE)
    assert (review.state, review.decided_by, request.state) == (S.APPROVED, "votes", S.APPROVED)
    with pytest.raises(InvalidTransition, match="the review is approved"):
        reviews.vote(db, dac.chair, review_id=review.id, choice=VoteChoice.REJECT)
    assert db.scalar(select(AccessGrant.id).where(AccessGrant.request_id == request.id))


def test_a_majority_rejects_once_approval_is_out_of_reach(
    db: Session, factory: Factory, dac: Dac
) -> None:
    fourth = factory.principal("finn", (RoleName.COMMITTEE_MEMBER, dac.committee.slug))
    configure(db, dac, DecisionRule.MAJORITY)
    request = submitted(db, dac)
    review = only_review(db, request)
    reviews.start(db, dac.member, review_id=review.id)
    reviews.vote(db, dac.member, review_id=review.id, choice=VoteChoice.REJECT)
    assert review.state is S.UNDER_REVIEW, "2 of 3 members could still approve"
    reviews.vote(db, fourth, review_id=review.id, choice=VoteChoice.REJECT)
    assert (review.state, request.state) == (S.REJECTED, S.REJECTED)
    assert request.decided_at is not None
    assert not db.scalar(select(AccessGrant.id).where(AccessGrant.request_id == request.id))


def test_who_may_act(db: Session, factory: Factory, dac: Dac) -> None:
    request = submitted(db, dac)
    review = only_review(db, request)
    with pytest.raises(Forbidden):
        reviews.start(db, dac.researcher, review_id=review.id)
    reviews.start(db, dac.member, review_id=review.id)
    with pytest.raises(Forbidden):
        reviews.vote(db, dac.researcher, review_id=review.id, choice=VoteChoice.APPROVE)
    with pytest.raises(Forbidden, match="only its chair"):
        reviews.decide(db, dac.member, review_id=review.id, approve=True)
    admin = factory.principal("ada", (RoleName.ADMIN, None))
    with pytest.raises(Forbidden):
        reviews.decide(db, admin, review_id=review.id, approve=True)
    with pytest.raises(Forbidden, match="only the requester"):
        requests.withdraw(db, dac.member, request_id=request.id)
    with pytest.raises(NotFound):
        reviews.start(db, dac.member, review_id=request.id)


def test_withdrawal_before_and_after_a_decision(db: Session, dac: Dac) -> None:
    draft = requests.create(db, dac.researcher, data=request_input(dac.dataset))
    requests.withdraw(db, dac.researcher, request_id=draft.id)
    assert (draft.state, draft.submitted_at) == (S.WITHDRAWN, None)
    request = submitted(db, dac)
    review = only_review(db, request)
    reviews.start(db, dac.chair, review_id=review.id)
    requests.withdraw(db, dac.researcher, request_id=request.id)
    assert (request.state, review.state) == (S.WITHDRAWN, S.WITHDRAWN)
    with pytest.raises(InvalidTransition, match="request is withdrawn"):
        requests.withdraw(db, dac.researcher, request_id=request.id)
    with pytest.raises(InvalidTransition, match="review is withdrawn"):
        reviews.decide(db, dac.chair, review_id=review.id, approve=True)

    decided = submitted(db, dac)
    review = only_review(db, decided)
    reviews.start(db, dac.chair, review_id=review.id)
    reviews.decide(db, dac.chair, review_id=review.id, approve=False)
    with pytest.raises(InvalidTransition, match="request is rejected"):
        requests.withdraw(db, dac.researcher, request_id=decided.id)


def test_invalid_transitions_are_errors_not_no_ops(db: Session, dac: Dac) -> None:
    draft = requests.create(db, dac.researcher, data=request_input(dac.dataset))
    with pytest.raises(InvalidTransition, match="request is draft"):
        requests.resubmit(db, dac.researcher, request_id=draft.id)
    with pytest.raises(InvalidTransition, match="request is draft"):
        requests.renew(db, dac.researcher, request_id=draft.id)
    requests.submit(db, dac.researcher, request_id=draft.id)
    with pytest.raises(InvalidTransition, match=r"allowed from: draft\)"):
        requests.submit(db, dac.researcher, request_id=draft.id)
    review = only_review(db, draft)
    with pytest.raises(InvalidTransition, match="review is submitted"):
        reviews.request_changes(db, dac.chair, review_id=review.id, comment="x")
    with pytest.raises(InvalidTransition):
        requests.update(db, dac.researcher, request_id=draft.id, data=request_input(dac.dataset))


@pytest.mark.parametrize(
    ("make", "error", "field"),
    [
        (lambda f, d: f.dataset(publish=True, access_level="open"), Invalid, "datasets[0]"),
        (lambda f, d: f.dataset(publish=True, access_level="registered"), Invalid, "datasets[0]"),
        (lambda f, d: f.dataset(access_level="controlled"), NotFound, "datasets[0]"),
    ],
    ids=["open", "registered", "unpublished"],
)
def test_only_published_controlled_datasets_can_be_requested(
    db: Session, factory: Factory, dac: Dac, make: object, error: type, field: str
) -> None:
    dataset = make(factory, dac)  # type: ignore[operator]
    with pytest.raises(error) as refused:
        requests.create(db, dac.researcher, data=request_input(dataset))
    assert refused.value.field == f"input.{field}.accession"


def test_unknown_datasets_terms_and_durations_are_refused(db: Session, dac: Dac) -> None:
    unknown = request_input(dac.dataset)
    unknown = unknown.model_copy(
        update={"datasets": [unknown.datasets[0].model_copy(update={"accession": "ATR-DS-999999"})]}
    )
    with pytest.raises(NotFound, match="ATR-DS-999999"):
        requests.create(db, dac.researcher, data=unknown)
    configure(db, dac, DecisionRule.CHAIR, max_grant_days=30)
    with pytest.raises(Invalid, match="31 days exceeds the 30-day maximum") as refused:
        requests.create(db, dac.researcher, data=request_input(dac.dataset, duration_days=31))
    assert refused.value.field == "input.duration_days"
    with pytest.raises(Invalid, match="unknown MONDO"):
        requests.create(
            db,
            dac.researcher,
            data=request_input(
                dac.dataset, purposes=["DS"], diseases=["MONDO:9999999"], duration_days=30
            ),
        )


def test_the_maximum_is_checked_again_at_submission(db: Session, dac: Dac) -> None:
    draft = requests.create(db, dac.researcher, data=request_input(dac.dataset, duration_days=90))
    configure(db, dac, DecisionRule.CHAIR, max_grant_days=60)
    with pytest.raises(Invalid, match="90 days exceeds the 60-day maximum"):
        requests.submit(db, dac.researcher, request_id=draft.id)
    assert draft.state is S.DRAFT


@pytest.mark.parametrize(
    "fields",
    [
        {"purposes": ["DS"]},
        {"purposes": ["HMB"], "diseases": ["MONDO:0004992"]},
        {"purposes": []},
        {"purposes": ["XYZ"]},
        {"duration_days": 0},
        {"datasets": []},
        {"project_title": "  "},
    ],
)
def test_malformed_requests_fail_validation(dac: Dac, fields: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        request_input(dac.dataset, **fields)


def test_terms_of_use_are_versioned_and_the_accepted_version_recorded(
    db: Session, factory: Factory, dac: Dac
) -> None:
    steward = factory.principal("sam", (RoleName.STEWARD, dac.steward.slug))
    first = committees.publish_terms(db, steward, accession=dac.dataset.accession, text="Cite us.")
    second = committees.publish_terms(
        db, steward, accession=dac.dataset.accession, text="Cite us; no re-identification."
    )
    assert (first.version, second.version) == (1, 2)
    with pytest.raises(Forbidden):
        committees.publish_terms(db, dac.chair, accession=dac.dataset.accession, text="x")

    draft = requests.create(db, dac.researcher, data=request_input(dac.dataset))
    with pytest.raises(Invalid, match="current terms of use are version 2") as refused:
        requests.submit(db, dac.researcher, request_id=draft.id)
    assert refused.value.field == "input.datasets[0].accepted_terms_version"
    old = [{"accession": dac.dataset.accession, "accepted_terms_version": 1}]
    with pytest.raises(Invalid, match="version 2"):
        requests.create(db, dac.researcher, data=request_input(datasets=old))
    current = [{"accession": dac.dataset.accession, "accepted_terms_version": 2}]
    requests.update(db, dac.researcher, request_id=draft.id, data=request_input(datasets=current))
    requests.submit(db, dac.researcher, request_id=draft.id)
    link = db.scalars(
        select(AccessRequestDataset).where(AccessRequestDataset.request_id == draft.id)
    ).one()
    assert link.accepted_terms_version == 2


def test_datasets_change_only_in_a_draft(db: Session, factory: Factory, dac: Dac) -> None:
    request = submitted(db, dac)
    review = only_review(db, request)
    reviews.start(db, dac.chair, review_id=review.id)
    reviews.request_changes(db, dac.chair, review_id=review.id, comment="Shorter, please.")
    more = factory.dataset(
        dac.steward, publish=True, access_level="controlled", committee=dac.committee.slug
    )
    with pytest.raises(Invalid, match="only while the request is a draft"):
        requests.update(
            db, dac.researcher, request_id=request.id, data=request_input(dac.dataset, more)
        )


def test_renewal_goes_through_review_and_extends_the_grant(db: Session, dac: Dac) -> None:
    configure(db, dac, DecisionRule.CHAIR, max_grant_days=100)
    request = submitted(db, dac, duration_days=100)
    review = only_review(db, request)
    reviews.start(db, dac.chair, review_id=review.id)
    reviews.decide(db, dac.chair, review_id=review.id, approve=True)
    (first,) = repo.active_grants_of_request(db, request.id, datetime.now(UTC))

    renewal = requests.renew(db, dac.researcher, request_id=request.id)
    assert (renewal.state, renewal.renewal_of_id) == (S.DRAFT, request.id)
    requests.submit(db, dac.researcher, request_id=renewal.id)
    renewal_review = only_review(db, renewal)
    reviews.start(db, dac.chair, review_id=renewal_review.id)
    reviews.decide(db, dac.chair, review_id=renewal_review.id, approve=True)
    (second,) = db.scalars(select(AccessGrant).where(AccessGrant.request_id == renewal.id))
    assert second.starts_at == first.expires_at, "the renewal continues the current grant"
    assert second.expires_at == first.expires_at + timedelta(days=100)
    assert "request.renewed" in actions(db, request.id)


def test_an_expired_approval_cannot_be_renewed(db: Session, dac: Dac) -> None:
    request = submitted(db, dac)
    review = only_review(db, request)
    reviews.start(db, dac.chair, review_id=review.id)
    reviews.decide(db, dac.chair, review_id=review.id, approve=True)
    past = datetime.now(UTC) - timedelta(seconds=1)
    db.execute(
        update(AccessGrant)
        .where(AccessGrant.request_id == request.id)
        .values(starts_at=past - timedelta(days=1), expires_at=past)
    )
    with pytest.raises(InvalidTransition, match="expired or were revoked"):
        requests.renew(db, dac.researcher, request_id=request.id)


def test_the_committee_revokes_its_grants_but_not_others(
    db: Session, factory: Factory, dac: Dac
) -> None:
    grant = factory.grant("gina", dac.dataset)
    stranger_committee = factory.committee(dac.steward)
    stranger = factory.principal("sven", (RoleName.COMMITTEE_CHAIR, stranger_committee.slug))
    with pytest.raises(Forbidden):
        grants_service.revoke_grant(db, stranger, grant_id=grant.id, reason="no")
    with pytest.raises(Forbidden):
        grants_service.revoke_grant(db, dac.researcher, grant_id=grant.id, reason="no")
    grants_service.revoke_grant(db, dac.member, grant_id=grant.id, reason="Broke the terms.")
    assert grant.revoked_reason == "Broke the terms."

    expired = factory.grant("gus", dac.dataset)
    db.execute(
        update(AccessGrant)
        .where(AccessGrant.id == expired.id)
        .values(
            starts_at=datetime.now(UTC) - timedelta(days=2),
            expires_at=datetime.now(UTC) - timedelta(days=1),
        )
    )
    with pytest.raises(InvalidTransition, match="already expired"):
        grants_service.revoke_grant(db, dac.chair, grant_id=expired.id, reason="late")


def test_auditors_and_anonymous_callers_cannot_request(
    db: Session, factory: Factory, dac: Dac
) -> None:
    funder = factory.organization("funder")
    auditor = factory.principal("fiona", (RoleName.FUNDER_AUDITOR, funder.slug))
    for who in (auditor, Principal()):
        with pytest.raises(Forbidden):
            requests.create(db, who, data=request_input(dac.dataset))


def member(dac: Dac, subject: str, issuer: str) -> MemberInput:
    return MemberInput(committee=dac.committee.slug, subject=subject, issuer=issuer)


def test_a_committee_never_loses_its_last_chair(db: Session, factory: Factory, dac: Dac) -> None:
    issuer = factory.issuer.issuer
    with pytest.raises(Conflict, match="last chair"):
        committees.remove_member(
            db, SYSTEM, member=member(dac, "carla", issuer), void_open_votes=False
        )
    with pytest.raises(Conflict, match="last chair"):
        committees.add_member(
            db, SYSTEM, member=member(dac, "carla", issuer), role=RoleName.COMMITTEE_MEMBER
        )
    committees.add_member(
        db, SYSTEM, member=member(dac, "mo", issuer), role=RoleName.COMMITTEE_CHAIR
    )
    committees.remove_member(db, SYSTEM, member=member(dac, "carla", issuer), void_open_votes=False)
    assert repo.member_count(db, dac.committee.id, RoleName.COMMITTEE_CHAIR) == 1
    assert repo.member_count(db, dac.committee.id) == 1
    assert actions(db, dac.committee.slug)[-2:] == [
        "committee.member_added",
        "committee.member_removed",
    ]
    with pytest.raises(NotFound):
        committees.remove_member(
            db, SYSTEM, member=member(dac, "carla", issuer), void_open_votes=False
        )


def test_removing_a_member_with_open_votes_voids_them_only_when_told(
    db: Session, factory: Factory, dac: Dac
) -> None:
    issuer = factory.issuer.issuer
    request = submitted(db, dac)
    review = only_review(db, request)
    reviews.start(db, dac.chair, review_id=review.id)
    reviews.vote(db, dac.member, review_id=review.id, choice=VoteChoice.APPROVE)
    with pytest.raises(Conflict, match="1 vote") as refused:
        committees.remove_member(
            db, SYSTEM, member=member(dac, "mo", issuer), void_open_votes=False
        )
    assert refused.value.field == "void_open_votes"
    committees.remove_member(db, SYSTEM, member=member(dac, "mo", issuer), void_open_votes=True)
    (vote,) = db.scalars(select(ReviewVote).where(ReviewVote.review_id == review.id))
    assert vote.voided_reason == "member removed from the committee"
    assert repo.standing_votes(db, review.id) == []


def test_committee_rules_are_managed_by_the_organization(
    db: Session, factory: Factory, dac: Dac
) -> None:
    steward = factory.principal("sam", (RoleName.STEWARD, dac.steward.slug))
    outsider = factory.principal("otto", (RoleName.STEWARD, factory.organization().slug))
    rules = CommitteeRulesInput(
        decision_rule=DecisionRule.VOTES, required_votes=2, sla_days=7, max_grant_days=30
    )
    for refused in (outsider, dac.chair, dac.researcher):
        with pytest.raises(Forbidden):
            committees.configure(db, refused, committee=dac.committee.slug, data=rules)
    committees.configure(db, steward, committee=dac.committee.slug, data=rules)
    assert committees.effective_rules(db, [dac.committee.id])[dac.committee.id] == (
        committees.Rules(DecisionRule.VOTES, 2, 7, 30)
    )
    too_many = rules.model_copy(update={"required_votes": 3})
    with pytest.raises(Conflict, match="3 votes can never be reached by 2 members"):
        committees.configure(db, steward, committee=dac.committee.slug, data=too_many)
    with pytest.raises(Conflict, match="could not reach"):
        committees.remove_member(
            db,
            steward,
            member=member(dac, "mo", factory.issuer.issuer),
            void_open_votes=True,
        )
    with pytest.raises(ValidationError):
        CommitteeRulesInput(decision_rule=DecisionRule.VOTES, sla_days=7, max_grant_days=30)
    assert actions(db, dac.committee.slug)[-1] == "committee.configured"


def test_the_database_refuses_a_second_standing_vote(db: Session, dac: Dac) -> None:
    request = submitted(db, dac)
    review = only_review(db, request)
    assert dac.member.user_id is not None
    db.add(ReviewVote(review_id=review.id, user_id=dac.member.user_id, choice=VoteChoice.APPROVE))
    db.flush()
    db.add(ReviewVote(review_id=review.id, user_id=dac.member.user_id, choice=VoteChoice.REJECT))
    with pytest.raises(Exception, match="uq_review_votes_standing"):
        db.flush()
