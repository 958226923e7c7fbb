"""Decisions under real concurrency: threads with their own connections and transactions on a
committed database, aligned by a barrier. Two deciders produce exactly one decision and one set
of grants; a request locked by someone else makes a command fail fast with BUSY."""

from __future__ import annotations

import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from catalog import service
from catalog.errors import AtriumError, Busy, InvalidTransition
from catalog.models import AuditEvent, RoleName
from catalog.principals import SYSTEM, Principal
from catalog.schemas import CommitteeCreate, DatasetCreate, OrganizationCreate
from governance import committees, requests, reviews
from governance import repository as repo
from governance.models import AccessGrant, DecisionRule, RequestReview, VoteChoice
from governance.schemas import CommitteeRulesInput
from tests.factories import request_input

ISSUER = "https://issuer.test"
THREAD_SECONDS = 20


@dataclass(frozen=True)
class Review:
    request_id: uuid.UUID
    review_id: uuid.UUID


@pytest.fixture
def engine(committed_engine: Engine) -> Engine:
    """These tests commit: the committed database, not the rolled-back one."""
    return committed_engine


def principal(
    session: Session, subject: str, role: RoleName | None, scope: str | None
) -> Principal:
    service.ensure_user(session, issuer=ISSUER, subject=subject)
    if role is not None:
        service.assign_role(session, SYSTEM, issuer=ISSUER, subject=subject, role=role, scope=scope)
    return service.principal_for(session.connection(), issuer=ISSUER, subject=subject)


def review_under_way(engine: Engine, rule: DecisionRule, votes: int | None = None) -> Review:
    """A committed request under review by a committee with chairs ``c1``, ``c2`` and members
    ``m1``, ``m2``."""
    with Session(engine) as session, session.begin():
        org = service.create_organization(
            session, SYSTEM, data=OrganizationCreate(slug="steward-x", name="X", kind="steward")
        )
        dac = service.create_committee(
            session, SYSTEM, data=CommitteeCreate(organization=org.slug, slug="dac-x", name="D")
        )
        dataset = service.create_dataset(
            session,
            SYSTEM,
            data=DatasetCreate.model_validate(
                {
                    "title": "T",
                    "access_level": "controlled",
                    "steward": org.slug,
                    "committee": "dac-x",
                }
            ),
        )
        service.publish_dataset(session, SYSTEM, accession=dataset.accession)
        for subject in ("c1", "c2"):
            principal(session, subject, RoleName.COMMITTEE_CHAIR, dac.slug)
        for subject in ("m1", "m2"):
            principal(session, subject, RoleName.COMMITTEE_MEMBER, dac.slug)
        committees.configure(
            session,
            SYSTEM,
            committee=dac.slug,
            data=CommitteeRulesInput(
                decision_rule=rule, required_votes=votes, sla_days=10, max_grant_days=30
            ),
        )
        researcher = principal(session, "rita", None, None)
        request = requests.create(
            session, researcher, data=request_input(dataset, duration_days=30)
        )
        requests.submit(session, researcher, request_id=request.id)
        (review,) = repo.reviews_of_requests(session, [request.id])[request.id]
        reviews.start(session, signed_in(session, "c1"), review_id=review.id)
        return Review(request.id, review.id)


def signed_in(session: Session, subject: str) -> Principal:
    """The principal of a committed user, as a request would load it."""
    return service.principal_for(session.connection(), issuer=ISSUER, subject=subject)


def race(engine: Engine, actions: list[Callable[[Session], object]]) -> list[object]:
    """Run each action in its own thread and transaction, released together by a barrier;
    each result is the action's return value or the domain error it raised."""
    barrier = threading.Barrier(len(actions))
    results: list[object] = [None] * len(actions)

    def run(i: int) -> None:
        with Session(engine) as session:
            try:
                with session.begin():
                    barrier.wait(timeout=THREAD_SECONDS)
                    results[i] = actions[i](session)
            except AtriumError as exc:
                results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(actions))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=THREAD_SECONDS)
        assert not t.is_alive(), "a decider hung"
    return results


def outcome(engine: Engine, review: Review) -> tuple[str, int, int]:
    with Session(engine) as session:
        state = session.get_one(RequestReview, review.review_id).state.value
        grants = session.scalar(
            select(func.count()).where(AccessGrant.request_id == review.request_id)
        )
        decisions = session.scalar(
            select(func.count()).where(
                AuditEvent.object_id == str(review.review_id),
                AuditEvent.action.in_(["review.approved", "review.rejected"]),
            )
        )
        return state, grants or 0, decisions or 0


def test_two_chairs_deciding_at_once_make_one_decision(engine: Engine) -> None:
    review = review_under_way(engine, DecisionRule.CHAIR)

    def decide(subject: str, approve: bool) -> Callable[[Session], object]:
        return lambda s: reviews.decide(
            s, signed_in(s, subject), review_id=review.review_id, approve=approve
        )

    results = race(engine, [decide("c1", True), decide("c2", False)])

    errors = [r for r in results if isinstance(r, AtriumError)]
    assert len(errors) == 1, results
    assert isinstance(errors[0], InvalidTransition)
    state, grants, decisions = outcome(engine, review)
    assert decisions == 1
    assert grants == (1 if state == "approved" else 0)
    assert f"review is {state}" in errors[0].message


def test_two_last_votes_at_once_approve_once(engine: Engine) -> None:
    review = review_under_way(engine, DecisionRule.VOTES, votes=2)
    with Session(engine) as session, session.begin():
        reviews.vote(
            session,
            signed_in(session, "m1"),
            review_id=review.review_id,
            choice=VoteChoice.APPROVE,
        )

    def approve(subject: str) -> Callable[[Session], object]:
        return lambda s: reviews.vote(
            s, signed_in(s, subject), review_id=review.review_id, choice=VoteChoice.APPROVE
        )

    results = race(engine, [approve("m2"), approve("c1"), approve("c2")])

    errors = [r for r in results if isinstance(r, AtriumError)]
    assert len(errors) == 2, results
    assert all(isinstance(e, InvalidTransition) for e in errors)
    assert outcome(engine, review) == ("approved", 1, 1)


def test_a_locked_request_answers_busy_instead_of_hanging(engine: Engine) -> None:
    review = review_under_way(engine, DecisionRule.CHAIR)
    with engine.connect() as holder:
        holder.begin()
        holder.execute(
            text("SELECT 1 FROM access_requests WHERE id = :id FOR UPDATE"),
            {"id": review.request_id},
        )
        with Session(engine) as session, session.begin():
            started = time.monotonic()
            with pytest.raises(Busy) as refused:
                reviews.decide(
                    session, signed_in(session, "c1"), review_id=review.review_id, approve=True
                )
            waited = time.monotonic() - started
        holder.rollback()
    assert refused.value.code == "BUSY"
    assert 1.5 < waited < 4, f"the wait is bounded by the 2 s lock timeout, not {waited:.1f} s"
    assert outcome(engine, review) == ("under_review", 0, 0)
