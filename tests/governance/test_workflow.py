"""The state machine table and the vote count, without a database."""

from __future__ import annotations

import pytest

from catalog.errors import InvalidTransition
from governance.models import RequestState
from governance.workflow import (
    REQUEST_STEPS,
    REVIEW_STEPS,
    check,
    request_state,
    tally,
    votes_needed,
)

S = RequestState


def test_every_step_names_its_audit_action_and_a_known_target() -> None:
    for steps in (REQUEST_STEPS, REVIEW_STEPS):
        for name, step in steps.items():
            assert step.command == name
            assert step.audit.count(".") == 1
            assert step.sources, name
            assert step.target not in step.sources, f"{name} must change the state or keep it"


def test_no_step_leaves_a_final_state() -> None:
    finals = {S.REJECTED, S.WITHDRAWN}
    for steps in (REQUEST_STEPS, REVIEW_STEPS):
        for step in steps.values():
            assert not step.sources & finals, step.command
    assert {c for c, s in REQUEST_STEPS.items() if S.APPROVED in s.sources} == {"renew"}


def test_an_invalid_transition_names_the_current_and_allowed_states() -> None:
    with pytest.raises(InvalidTransition) as refused:
        check(REVIEW_STEPS, "vote", S.SUBMITTED, "review")
    assert refused.value.message == (
        "cannot vote: the review is submitted (allowed from: under_review)"
    )
    assert check(REVIEW_STEPS, "vote", S.UNDER_REVIEW, "review").target is None


@pytest.mark.parametrize(
    ("reviews", "expected"),
    [
        ([S.SUBMITTED], S.SUBMITTED),
        ([S.SUBMITTED, S.UNDER_REVIEW], S.UNDER_REVIEW),
        ([S.UNDER_REVIEW, S.CHANGES_REQUESTED], S.CHANGES_REQUESTED),
        ([S.APPROVED, S.RESUBMITTED], S.RESUBMITTED),
        ([S.APPROVED, S.UNDER_REVIEW], S.UNDER_REVIEW),
        ([S.APPROVED, S.REJECTED], S.APPROVED),
        ([S.REJECTED, S.REJECTED], S.REJECTED),
        ([S.APPROVED], S.APPROVED),
    ],
)
def test_request_state_follows_its_reviews(
    reviews: list[RequestState], expected: RequestState
) -> None:
    assert request_state(reviews) is expected


def test_a_request_without_reviews_has_no_derived_state() -> None:
    with pytest.raises(ValueError, match="at least one review"):
        request_state([])


@pytest.mark.parametrize(
    ("approvals", "rejections", "needed", "members", "outcome"),
    [
        (1, 0, 2, 3, None),
        (2, 0, 2, 3, "approve_by_votes"),
        (0, 1, 2, 3, None),
        (0, 2, 2, 3, "reject_by_votes"),
        (1, 1, 2, 3, None),
        (2, 2, 3, 4, "reject_by_votes"),  # majority of 4 is 3; two rejections leave only 2
        (3, 1, 3, 4, "approve_by_votes"),
    ],
)
def test_tally(approvals: int, rejections: int, needed: int, members: int, outcome: str) -> None:
    assert tally(approvals, rejections, needed=needed, members=members) == outcome


def test_majority_and_fixed_counts() -> None:
    assert votes_needed(None, 4) == 3
    assert votes_needed(None, 5) == 3
    assert votes_needed(2, 5) == 2
