"""The DUO matcher's first look at a submitted request, stored on each committee's review.

On submission (and resubmission) every open review gets the matcher's verdict on the datasets
its committee governs: the worst outcome over those datasets, and per dataset every check with
its reason, so the committee sees why before it reads a word of the request. The decision later
records whether the committee agreed. It suggests and never decides: no state changes here.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy.orm import Session

from catalog import repository as catalog_repository
from catalog.models import Dataset
from governance.disease_hierarchy import DiseaseHierarchy
from governance.duo_matching import DataUseCondition, DuoMatch, Outcome, match_data_use
from governance.intended_use import IntendedUse, ResearchPurpose
from governance.models import AccessRequest, RequestReview, RequestState


@functools.cache
def shipped_diseases() -> DiseaseHierarchy:
    """Built once per process: the shipped MONDO subset never changes while it runs."""
    return DiseaseHierarchy.shipped()


def intended_use(request: AccessRequest) -> IntendedUse:
    return IntendedUse(
        purposes=frozenset(ResearchPurpose(p) for p in request.purposes),
        diseases=frozenset(request.diseases),
        commercial=request.commercial,
        sensitive=request.sensitive,
    )


def assess(
    session: Session,
    request: AccessRequest,
    reviews: Iterable[RequestReview],
    datasets: Sequence[Dataset],
) -> None:
    """Store the matcher's outcome and result on each of ``reviews``, for the datasets of
    ``datasets`` its committee governs."""
    use = intended_use(request)
    conditions = catalog_repository.data_use_of_datasets(session, [d.id for d in datasets])
    for review in reviews:
        matches = {
            d.accession: match_data_use(
                use,
                [DataUseCondition(u.duo_id, u.qualifier) for u, _ in conditions.get(d.id, [])],
                shipped_diseases(),
            )
            for d in datasets
            if d.committee_id == review.committee_id
        }
        review.algorithm_outcome = _worst(m.outcome for m in matches.values()).value
        review.algorithm_result = {
            accession: _as_json(match) for accession, match in sorted(matches.items())
        }
    session.flush()


def agreed(algorithm_outcome: str | None, decision: RequestState) -> bool | None:
    """Whether the committee decided as the matcher suggested; None when it suggested
    nothing (not run, or it left the case to the committee's judgement)."""
    suggested = {Outcome.APPROVE: RequestState.APPROVED, Outcome.DENY: RequestState.REJECTED}
    if algorithm_outcome not in suggested:
        return None
    return suggested[Outcome(algorithm_outcome)] is decision


def _worst(outcomes: Iterable[Outcome]) -> Outcome:
    """A review without datasets (their committee changed since) has nothing to match."""
    return max(outcomes, key=lambda o: o.severity, default=Outcome.NEEDS_REVIEW)


def _as_json(match: DuoMatch) -> dict[str, Any]:
    return {
        "outcome": match.outcome.value,
        "checks": [
            {"code": c.code, "outcome": c.outcome.value, "reason": c.reason} for c in match.checks
        ],
    }
