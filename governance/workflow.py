"""The access-request state machine, in one table.

Every command that changes a request or a review looks up its ``Step`` here: the states it may
start from, the state it leads to, who may perform it and the audit action it records. An
invalid transition raises ``InvalidTransition`` naming the current and the allowed states; no
command silently does nothing.

Requests and reviews share the states of ``RequestState``. A request is a draft until it is
submitted; submission creates one review per committee that governs one of its datasets. From
then on each review moves on its own and the request's state is derived from its reviews by
``request_state`` (withdrawal is the one request-level state written directly). This module is
pure: it holds no queries, so the rules can be read and tested on their own.
"""

from __future__ import annotations

import enum
from collections.abc import Collection
from dataclasses import dataclass

from catalog.errors import InvalidTransition
from governance.models import RequestState

S = RequestState
OPEN_REVIEW = frozenset({S.SUBMITTED, S.UNDER_REVIEW, S.CHANGES_REQUESTED, S.RESUBMITTED})
DECIDED = frozenset({S.APPROVED, S.REJECTED})


class Actor(enum.StrEnum):
    """Who performs a step: the request's author, any member (or chair) of the reviewing
    committee, or its chair; ``votes`` marks a decision reached by counting votes."""

    REQUESTER = "requester"
    COMMITTEE = "committee"
    CHAIR = "chair"
    VOTES = "votes"


@dataclass(frozen=True)
class Step:
    command: str
    sources: frozenset[RequestState]
    target: RequestState | None
    actor: Actor
    audit: str


def _step(
    command: str,
    sources: Collection[RequestState],
    target: RequestState | None,
    actor: Actor,
    audit: str,
) -> Step:
    return Step(command, frozenset(sources), target, actor, audit)


# Steps on the request row.
REQUEST_STEPS = {
    s.command: s
    for s in (
        _step("update", {S.DRAFT, S.CHANGES_REQUESTED}, None, Actor.REQUESTER, "request.updated"),
        _step("submit", {S.DRAFT}, S.SUBMITTED, Actor.REQUESTER, "request.submitted"),
        _step("resubmit", {S.CHANGES_REQUESTED}, None, Actor.REQUESTER, "request.resubmitted"),
        _step(
            "withdraw", {S.DRAFT} | OPEN_REVIEW, S.WITHDRAWN, Actor.REQUESTER, "request.withdrawn"
        ),
        _step("renew", {S.APPROVED}, None, Actor.REQUESTER, "request.renewed"),
    )
}

# Steps on one committee's review.
REVIEW_STEPS = {
    s.command: s
    for s in (
        _step(
            "start", {S.SUBMITTED, S.RESUBMITTED}, S.UNDER_REVIEW, Actor.COMMITTEE, "review.started"
        ),
        _step(
            "request_changes",
            {S.UNDER_REVIEW},
            S.CHANGES_REQUESTED,
            Actor.COMMITTEE,
            "review.changes_requested",
        ),
        _step(
            "resubmit", {S.CHANGES_REQUESTED}, S.RESUBMITTED, Actor.REQUESTER, "review.resubmitted"
        ),
        _step("withdraw", OPEN_REVIEW, S.WITHDRAWN, Actor.REQUESTER, "review.withdrawn"),
        _step("vote", {S.UNDER_REVIEW}, None, Actor.COMMITTEE, "review.voted"),
        _step("approve", {S.UNDER_REVIEW}, S.APPROVED, Actor.CHAIR, "review.approved"),
        _step("reject", {S.UNDER_REVIEW}, S.REJECTED, Actor.CHAIR, "review.rejected"),
        _step("approve_by_votes", {S.UNDER_REVIEW}, S.APPROVED, Actor.VOTES, "review.approved"),
        _step("reject_by_votes", {S.UNDER_REVIEW}, S.REJECTED, Actor.VOTES, "review.rejected"),
    )
}


def check(steps: dict[str, Step], command: str, current: RequestState, what: str) -> Step:
    """The step of ``command`` if it may start from ``current``; else InvalidTransition."""
    step = steps[command]
    if current not in step.sources:
        allowed = ", ".join(sorted(s.value for s in step.sources))
        raise InvalidTransition(
            f"cannot {command.replace('_', ' ')}: the {what} is {current.value}"
            f" (allowed from: {allowed})"
        )
    return step


def request_state(reviews: Collection[RequestState]) -> RequestState:
    """A submitted request's state from its reviews' states: decided once every review is
    decided (approved if any committee approved its datasets), else the state of the review
    that most needs someone's attention."""
    if not reviews:
        raise ValueError("a submitted request has at least one review")
    if all(r in DECIDED for r in reviews):
        return S.APPROVED if S.APPROVED in reviews else S.REJECTED
    for waiting in (S.CHANGES_REQUESTED, S.UNDER_REVIEW, S.RESUBMITTED):
        if waiting in reviews:
            return waiting
    return S.SUBMITTED


def votes_needed(rule_votes: int | None, members: int) -> int:
    """Approving votes that decide: the configured count, or a majority of the members."""
    return rule_votes if rule_votes is not None else members // 2 + 1


def tally(approvals: int, rejections: int, *, needed: int, members: int) -> str | None:
    """The command a vote count leads to: approval once enough members approve, rejection
    once too few members are left who could still approve; None while undecided."""
    if approvals >= needed:
        return "approve_by_votes"
    if members - rejections < needed:
        return "reject_by_votes"
    return None
