"""Each access-request transition writes exactly its notifications, to exactly its recipients,
in the command's own transaction."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.errors import InvalidTransition
from catalog.models import Committee, Dataset, RoleName, User
from catalog.principals import SYSTEM, Principal
from governance import committees, requests, reviews
from governance import repository as repo
from governance.models import (
    AccessRequest,
    DecisionRule,
    Notification,
    NotificationKind,
    RequestReview,
    VoteChoice,
)
from governance.schemas import CommitteeRulesInput
from tests.factories import Factory, request_input

K = NotificationKind


@dataclass
class Setting:
    heart: Committee
    lung: Committee
    heart_data: Dataset
    lung_data: Dataset
    carla: Principal
    mo: Principal
    lena: Principal
    rita: Principal


@pytest.fixture
def setting(factory: Factory) -> Setting:
    steward = factory.organization()
    heart, lung = factory.committee(steward), factory.committee(steward)

    def governed(committee: Committee) -> Dataset:
        return factory.dataset(
            steward,
            publish=True,
            access_level="controlled",
            committee=committee.slug,
            data_use={"permission": "GRU"},
        )

    return Setting(
        heart,
        lung,
        governed(heart),
        governed(lung),
        carla=factory.principal("carla", (RoleName.COMMITTEE_CHAIR, heart.slug)),
        mo=factory.principal("mo", (RoleName.COMMITTEE_MEMBER, heart.slug)),
        lena=factory.principal("lena", (RoleName.COMMITTEE_CHAIR, lung.slug)),
        rita=factory.principal("rita"),
    )


def written(db: Session) -> list[tuple[NotificationKind, str, dict[str, Any]]]:
    """Every notification so far as (kind, recipient's subject, payload); taken rows are
    deleted so each step of a test sees only its own."""
    rows = db.execute(
        select(Notification, User.subject)
        .join(User, User.id == Notification.recipient_id)
        .order_by(Notification.kind, User.subject)
    ).all()
    for n, _ in rows:
        db.delete(n)
    db.flush()
    return [(n.kind, subject, n.payload) for n, subject in rows]


def submitted(db: Session, s: Setting, *datasets: Dataset) -> AccessRequest:
    made = requests.create(db, s.rita, data=request_input(*datasets))
    assert written(db) == [], "a draft notifies no one"
    return requests.submit(db, s.rita, request_id=made.id)


def reviews_by_committee(db: Session, request: AccessRequest) -> dict[str, RequestReview]:
    found = repo.reviews_of_requests(db, [request.id])[request.id]
    slugs = {r.committee_id: c.slug for r in found if (c := db.get(Committee, r.committee_id))}
    return {slugs[r.committee_id]: r for r in found}


def about(
    request: AccessRequest, review: RequestReview, committee: Committee, dataset: Dataset
) -> dict[str, Any]:
    return {
        "request_id": str(request.id),
        "title": request.project_title,
        "request_state": request.state.value,
        "review_id": str(review.id),
        "committee": committee.slug,
        "review_state": review.state.value,
        "datasets": [dataset.accession],
    }


def test_submission_notifies_every_member_and_chair_of_each_committee(
    db: Session, setting: Setting
) -> None:
    s = setting
    request = submitted(db, s, s.heart_data, s.lung_data)
    found = reviews_by_committee(db, request)
    heart = {**about(request, found[s.heart.slug], s.heart, s.heart_data)}
    heart["algorithm_outcome"] = "approve"
    lung = {**about(request, found[s.lung.slug], s.lung, s.lung_data)}
    lung["algorithm_outcome"] = "approve"
    assert heart["request_state"] == heart["review_state"] == "submitted"
    assert written(db) == [
        (K.REQUEST_SUBMITTED, "carla", heart),
        (K.REQUEST_SUBMITTED, "lena", lung),
        (K.REQUEST_SUBMITTED, "mo", heart),
    ]


def test_changes_and_resubmission_notify_the_requester_then_only_that_committee(
    db: Session, setting: Setting
) -> None:
    s = setting
    request = submitted(db, s, s.heart_data, s.lung_data)
    review = reviews_by_committee(db, request)[s.heart.slug]
    written(db)
    reviews.start(db, s.mo, review_id=review.id)
    assert written(db) == [], "starting a review notifies no one"
    reviews.request_changes(db, s.mo, review_id=review.id, comment="Name your IRB.")
    changes = {**about(request, review, s.heart, s.heart_data), "comment": "Name your IRB."}
    assert changes["request_state"] == "changes_requested"
    assert written(db) == [(K.CHANGES_REQUESTED, "rita", changes)]

    requests.resubmit(db, s.rita, request_id=request.id)
    again = {**about(request, review, s.heart, s.heart_data), "algorithm_outcome": "approve"}
    assert again["review_state"] == "resubmitted"
    assert written(db) == [
        (K.REQUEST_SUBMITTED, "carla", again),
        (K.REQUEST_SUBMITTED, "mo", again),
    ], "the lung committee, still on its first round, is not told again"


def test_each_decision_notifies_the_requester_with_every_committees_state(
    db: Session, setting: Setting
) -> None:
    s = setting
    request = submitted(db, s, s.heart_data, s.lung_data)
    found = reviews_by_committee(db, request)
    heart, lung = found[s.heart.slug], found[s.lung.slug]
    reviews.start(db, s.carla, review_id=heart.id)
    reviews.start(db, s.lena, review_id=lung.id)
    written(db)

    reviews.decide(db, s.carla, review_id=heart.id, approve=True)
    (first,) = written(db)
    assert first[:2] == (K.REQUEST_DECIDED, "rita")
    decisions = first[2].pop("decisions")
    assert first[2] == about(request, heart, s.heart, s.heart_data)
    assert first[2]["request_state"] == "under_review", "the lung committee has not decided"
    assert sorted((d["committee"], d["state"]) for d in decisions) == sorted(
        [(s.heart.slug, "approved"), (s.lung.slug, "under_review")]
    )

    reviews.decide(db, s.lena, review_id=lung.id, approve=False)
    (only,) = written(db)
    assert only[:2] == (K.REQUEST_DECIDED, "rita")
    assert (only[2]["committee"], only[2]["review_state"], only[2]["request_state"]) == (
        s.lung.slug,
        "rejected",
        "approved",
    )
    assert sorted((d["committee"], d["state"]) for d in only[2]["decisions"]) == sorted(
        [(s.heart.slug, "approved"), (s.lung.slug, "rejected")]
    )


def test_a_decision_by_votes_notifies_the_requester_once(db: Session, setting: Setting) -> None:
    s = setting
    data = CommitteeRulesInput(
        decision_rule=DecisionRule.VOTES, required_votes=2, sla_days=10, max_grant_days=365
    )
    committees.configure(db, SYSTEM, committee=s.heart.slug, data=data)
    request = submitted(db, s, s.heart_data)
    review = reviews_by_committee(db, request)[s.heart.slug]
    reviews.start(db, s.mo, review_id=review.id)
    written(db)
    reviews.vote(db, s.mo, review_id=review.id, choice=VoteChoice.APPROVE)
    assert written(db) == [], "a vote that settles nothing notifies no one"
    reviews.vote(db, s.carla, review_id=review.id, choice=VoteChoice.APPROVE)
    (only,) = written(db)
    assert only[:2] == (K.REQUEST_DECIDED, "rita")
    assert only[2]["review_state"] == only[2]["request_state"] == "approved"
    assert only[2]["decisions"] == [{"committee": s.heart.slug, "state": "approved"}]


def test_refused_and_silent_commands_write_nothing(db: Session, setting: Setting) -> None:
    s = setting
    request = submitted(db, s, s.heart_data)
    review = reviews_by_committee(db, request)[s.heart.slug]
    written(db)
    with pytest.raises(InvalidTransition):
        reviews.decide(db, s.carla, review_id=review.id, approve=True)  # not started
    with pytest.raises(InvalidTransition):
        requests.resubmit(db, s.rita, request_id=request.id)  # no changes were asked
    requests.withdraw(db, s.rita, request_id=request.id)
    assert written(db) == []


def test_a_committee_without_members_gets_no_rows(db: Session, factory: Factory) -> None:
    steward = factory.organization()
    empty = factory.committee(steward)
    dataset = factory.dataset(
        steward, publish=True, access_level="controlled", committee=empty.slug
    )
    rita = factory.principal("rita")
    made = requests.create(db, rita, data=request_input(dataset))
    requests.submit(db, rita, request_id=made.id)
    assert written(db) == []
