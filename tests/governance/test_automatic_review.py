"""The DUO matcher wired into the workflow: what submission stores on each review, when it is
matched again, and how the decision records the committee's agreement."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from catalog.models import AuditEvent, Committee, Dataset, Organization, RoleName
from catalog.principals import SYSTEM, Principal
from governance import automatic_review, committees, requests, reviews
from governance import repository as repo
from governance.duo_matching import Outcome
from governance.models import AccessRequest, DecisionRule, RequestReview, RequestState, VoteChoice
from governance.schemas import CommitteeRulesInput
from tests.factories import Factory, request_input

BREAST_CANCER = "MONDO:0007254"
DIABETES = "MONDO:0005015"
DENIAL = (
    "DS-MONDO:0007254 requires disease-specific research on breast cancer or a subtype; "
    "request is for MONDO:0005015 (diabetes mellitus)"
)
DS_BREAST_CANCER = {"permission": "DS", "diseases": [BREAST_CANCER]}
GRU = {"permission": "GRU"}
GRU_IRB = {"permission": "GRU", "modifiers": ["IRB"]}


@dataclass
class Dac:
    steward: Organization
    committee: Committee
    chair: Principal
    member: Principal
    researcher: Principal


@pytest.fixture
def dac(factory: Factory) -> Dac:
    steward = factory.organization()
    committee = factory.committee(steward)
    return Dac(
        steward,
        committee,
        chair=factory.principal("carla", (RoleName.COMMITTEE_CHAIR, committee.slug)),
        member=factory.principal("mo", (RoleName.COMMITTEE_MEMBER, committee.slug)),
        researcher=factory.principal("rita"),
    )


def governed(factory: Factory, dac: Dac, data_use: dict[str, Any] | None) -> Dataset:
    return factory.dataset(
        dac.steward,
        publish=True,
        access_level="controlled",
        committee=dac.committee.slug,
        data_use=data_use,
    )


def submit(db: Session, dac: Dac, *datasets: Dataset, **fields: Any) -> AccessRequest:
    fields = {"purposes": ["DS"], "diseases": [DIABETES], **fields}
    made = requests.create(db, dac.researcher, data=request_input(*datasets, **fields))
    return requests.submit(db, dac.researcher, request_id=made.id)


def review_of(db: Session, request: AccessRequest) -> RequestReview:
    (review,) = repo.reviews_of_requests(db, [request.id])[request.id]
    return review


def test_a_disease_outside_the_consent_is_denied_with_its_reason(
    db: Session, factory: Factory, dac: Dac
) -> None:
    dataset = governed(factory, dac, DS_BREAST_CANCER)
    review = review_of(db, submit(db, dac, dataset))
    assert review.algorithm_outcome == "deny"
    assert review.algorithm_result == {
        dataset.accession: {
            "outcome": "deny",
            "checks": [{"code": f"DS-{BREAST_CANCER}", "outcome": "deny", "reason": DENIAL}],
        }
    }


@pytest.mark.parametrize(
    ("data_use", "outcome", "codes"),
    [
        (GRU, "approve", ["GRU"]),
        (GRU_IRB, "needs_review", ["GRU", "IRB"]),
        (None, "needs_review", ["permission"]),
    ],
)
def test_submission_stores_the_outcome_and_every_check(
    db: Session,
    factory: Factory,
    dac: Dac,
    data_use: dict[str, Any] | None,
    outcome: str,
    codes: list[str],
) -> None:
    dataset = governed(factory, dac, data_use)
    review = review_of(db, submit(db, dac, dataset))
    assert review.algorithm_outcome == outcome
    assert review.algorithm_result is not None
    result = review.algorithm_result[dataset.accession]
    assert result["outcome"] == outcome
    assert [c["code"] for c in result["checks"]] == codes
    assert all(c["reason"] for c in result["checks"]), "every check says why"
    assert review.committee_agreed_with_algorithm is None, "nothing decided yet"


def test_each_review_is_matched_on_its_own_committees_datasets_and_takes_the_worst(
    db: Session, factory: Factory, dac: Dac
) -> None:
    gru, irb = governed(factory, dac, GRU), governed(factory, dac, GRU_IRB)
    other = factory.committee(dac.steward)
    breast = factory.dataset(
        dac.steward,
        publish=True,
        access_level="controlled",
        committee=other.slug,
        data_use=DS_BREAST_CANCER,
    )
    request = submit(db, dac, gru, irb, breast)
    found = {r.committee_id: r for r in repo.reviews_of_requests(db, [request.id])[request.id]}
    mine, theirs = found[dac.committee.id], found[other.id]
    assert mine.algorithm_outcome == "needs_review"
    assert mine.algorithm_result is not None
    assert {a: r["outcome"] for a, r in mine.algorithm_result.items()} == {
        gru.accession: "approve",
        irb.accession: "needs_review",
    }
    assert theirs.algorithm_outcome == "deny"
    assert list(theirs.algorithm_result or {}) == [breast.accession]
    (event,) = db.scalars(
        select(AuditEvent).where(
            AuditEvent.action == "request.submitted", AuditEvent.object_id == str(request.id)
        )
    )
    assert event.summary["algorithm"] == {str(mine.id): "needs_review", str(theirs.id): "deny"}


def test_a_resubmission_is_matched_again(db: Session, factory: Factory, dac: Dac) -> None:
    dataset = governed(factory, dac, DS_BREAST_CANCER)
    request = submit(db, dac, dataset)
    review = review_of(db, request)
    reviews.start(db, dac.member, review_id=review.id)
    reviews.request_changes(db, dac.member, review_id=review.id, comment="Which disease?")
    fixed = request_input(dataset, purposes=["DS"], diseases=["MONDO:0004953"])
    requests.update(db, dac.researcher, request_id=request.id, data=fixed)
    requests.resubmit(db, dac.researcher, request_id=request.id)
    assert review.algorithm_outcome == "approve"
    assert review.algorithm_result is not None
    (check,) = review.algorithm_result[dataset.accession]["checks"]
    assert check["reason"].endswith(
        "MONDO:0004953 (invasive ductal breast carcinoma) is a subtype of breast cancer"
    )


def test_a_renewal_is_matched_when_submitted(db: Session, factory: Factory, dac: Dac) -> None:
    dataset = governed(factory, dac, GRU)
    request = submit(db, dac, dataset)
    review = review_of(db, request)
    reviews.start(db, dac.chair, review_id=review.id)
    reviews.decide(db, dac.chair, review_id=review.id, approve=True)
    renewal = requests.renew(db, dac.researcher, request_id=request.id)
    renewed = review_of(db, requests.submit(db, dac.researcher, request_id=renewal.id))
    assert renewed.algorithm_outcome == "approve"
    assert list(renewed.algorithm_result or {}) == [dataset.accession]


@pytest.mark.parametrize(
    ("data_use", "approve", "agreed"),
    [
        (DS_BREAST_CANCER, False, True),
        (DS_BREAST_CANCER, True, False),
        (GRU, True, True),
        (GRU, False, False),
        (GRU_IRB, True, None),
        (GRU_IRB, False, None),
    ],
)
def test_the_chairs_decision_records_agreement(
    db: Session,
    factory: Factory,
    dac: Dac,
    data_use: dict[str, Any],
    approve: bool,
    agreed: bool | None,
) -> None:
    review = review_of(db, submit(db, dac, governed(factory, dac, data_use)))
    reviews.start(db, dac.chair, review_id=review.id)
    reviews.decide(db, dac.chair, review_id=review.id, approve=approve)
    assert review.committee_agreed_with_algorithm is agreed
    (event,) = db.scalars(
        select(AuditEvent).where(
            AuditEvent.object_id == str(review.id),
            AuditEvent.action.in_(["review.approved", "review.rejected"]),
        )
    )
    assert event.summary["agreed_with_algorithm"] is agreed


def test_a_decision_by_votes_records_agreement(db: Session, factory: Factory, dac: Dac) -> None:
    data = CommitteeRulesInput(
        decision_rule=DecisionRule.VOTES, required_votes=1, sla_days=10, max_grant_days=365
    )
    committees.configure(db, SYSTEM, committee=dac.committee.slug, data=data)
    review = review_of(db, submit(db, dac, governed(factory, dac, DS_BREAST_CANCER)))
    reviews.start(db, dac.member, review_id=review.id)
    reviews.vote(db, dac.member, review_id=review.id, choice=VoteChoice.APPROVE)
    assert review.state is RequestState.APPROVED
    assert review.committee_agreed_with_algorithm is False, "approved what the matcher denied"


@pytest.mark.parametrize(
    ("outcome", "decision", "agreed"),
    [
        (None, RequestState.APPROVED, None),
        ("needs_review", RequestState.REJECTED, None),
        ("approve", RequestState.APPROVED, True),
        ("deny", RequestState.REJECTED, True),
        ("deny", RequestState.APPROVED, False),
        ("reject", RequestState.REJECTED, None),
    ],
)
def test_agreement_reads_the_matchers_outcomes(
    outcome: str | None, decision: RequestState, agreed: bool | None
) -> None:
    assert automatic_review.agreed(outcome, decision) is agreed
    assert {o.value for o in Outcome} == {"approve", "needs_review", "deny"}


def test_the_disease_hierarchy_is_built_once() -> None:
    assert automatic_review.shipped_diseases() is automatic_review.shipped_diseases()
    assert automatic_review.shipped_diseases().is_subclass("MONDO:0004953", BREAST_CANCER)
