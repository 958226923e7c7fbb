"""The notifications of access-request transitions: who hears of each, and what it says.

Called by the workflow commands inside their transaction, so a notification exists exactly when
its transition committed. A payload names the request, its title, the committee, states and
accessions, which a webhook receiver may show; it never carries tokens, keys or anyone's
identity beyond what the recipient already reads in GraphQL.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from sqlalchemy.orm import Session

from catalog import repository as catalog_repository
from catalog.models import Dataset
from governance import repository as repo
from governance.models import AccessRequest, NotificationKind, RequestReview
from governance.notifications import enqueue


def submitted(
    session: Session,
    request: AccessRequest,
    reviews: Sequence[RequestReview],
    datasets: Sequence[Dataset],
) -> None:
    """``request_submitted`` to every member and chair of each committee in ``reviews``
    (those the submission or resubmission put in front of them)."""
    members = repo.members_of_committees(session, {r.committee_id for r in reviews})
    slugs = _slugs(session, reviews)
    for review in reviews:
        payload = _about(request, review, slugs, datasets)
        payload["algorithm_outcome"] = review.algorithm_outcome
        enqueue(session, NotificationKind.REQUEST_SUBMITTED, members[review.committee_id], payload)


def changes_requested(session: Session, request: AccessRequest, review: RequestReview) -> None:
    payload = _about(request, review, _slugs(session, [review]), _datasets(session, request))
    payload["comment"] = review.changes_comment
    enqueue(session, NotificationKind.CHANGES_REQUESTED, [request.requester_id], payload)


def decided(session: Session, request: AccessRequest, review: RequestReview) -> None:
    """``request_decided`` to the requester, with every committee's decision so far: a request
    spanning committees is decided one review at a time."""
    reviews = repo.reviews_of_requests(session, [request.id])[request.id]
    slugs = _slugs(session, reviews)
    payload = _about(request, review, slugs, _datasets(session, request))
    payload["decisions"] = [
        {"committee": slugs[r.committee_id], "state": r.state.value} for r in reviews
    ]
    enqueue(session, NotificationKind.REQUEST_DECIDED, [request.requester_id], payload)


def _about(
    request: AccessRequest,
    review: RequestReview,
    slugs: dict[uuid.UUID, str],
    datasets: Sequence[Dataset],
) -> dict[str, Any]:
    """What every request notification says, so receivers parse one shape."""
    return {
        "request_id": str(request.id),
        "title": request.project_title,
        "request_state": request.state.value,
        "review_id": str(review.id),
        "committee": slugs[review.committee_id],
        "review_state": review.state.value,
        "datasets": sorted(d.accession for d in datasets if d.committee_id == review.committee_id),
    }


def _slugs(session: Session, reviews: Sequence[RequestReview]) -> dict[uuid.UUID, str]:
    found = catalog_repository.committees_by_ids(session, {r.committee_id for r in reviews})
    return {cid: c.slug for cid, c in found.items()}


def _datasets(session: Session, request: AccessRequest) -> list[Dataset]:
    return [d for _, d in repo.datasets_of_requests(session, [request.id])[request.id]]
