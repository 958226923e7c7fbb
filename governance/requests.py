"""Requester commands on access requests: create, update, submit, resubmit, withdraw, renew.

Each command locks the request row (bounded wait), checks its step in ``governance.workflow``,
writes, appends its audit event and flushes; the caller owns the transaction. Each is also the
one place where a notification of its transition belongs.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete
from sqlalchemy.orm import Session

from catalog import audit
from catalog import repository as catalog_repository
from catalog.errors import Forbidden, Invalid, InvalidTransition, NotFound
from catalog.models import AccessLevel, Dataset, DatasetStatus
from catalog.principals import Principal
from governance import automatic_review, policies, request_notifications
from governance import repository as repo
from governance.committees import effective_rules
from governance.locks import bounded_lock_wait
from governance.models import AccessRequest, AccessRequestDataset, RequestReview, RequestState
from governance.schemas import AccessRequestInput
from governance.workflow import (
    DECIDED,
    OPEN_REVIEW,
    REQUEST_STEPS,
    REVIEW_STEPS,
    Step,
    check,
    request_state,
)


def create(session: Session, principal: Principal, *, data: AccessRequestInput) -> AccessRequest:
    if not policies.can_request_access(principal) or principal.user_id is None:
        raise Forbidden("sign in with a researcher account to request access")
    datasets = _requestable(session, principal, data)
    request = AccessRequest(requester_id=principal.user_id, state=RequestState.DRAFT)
    _assign(request, data)
    session.add(request)
    session.flush()
    _link_datasets(session, request, data, datasets)
    _audit(session, principal, "request.created", request, {"datasets": sorted(datasets)})
    return request


def update(
    session: Session, principal: Principal, *, request_id: uuid.UUID, data: AccessRequestInput
) -> AccessRequest:
    """Replace what the request states: a draft freely, a request sent back for changes
    without changing its datasets (their committees are already reviewing it)."""
    request, step = _for_command(session, principal, request_id, "update")
    current = {d.accession for _, d in repo.datasets_of_requests(session, [request.id])[request.id]}
    wanted = {d.accession for d in data.datasets}
    if request.state is not RequestState.DRAFT and wanted != current:
        raise Invalid("datasets can change only while the request is a draft", field="datasets")
    datasets = _requestable(session, principal, data)
    _assign(request, data)
    request.updated_at = datetime.now(UTC)
    session.execute(
        delete(AccessRequestDataset).where(AccessRequestDataset.request_id == request.id)
    )
    _link_datasets(session, request, data, datasets)
    _audit(session, principal, step.audit, request, {"datasets": sorted(datasets)})
    return request


def submit(
    session: Session, principal: Principal, *, request_id: uuid.UUID, now: datetime | None = None
) -> AccessRequest:
    """Send a draft to review: one review per committee governing its datasets, each due
    after its committee's SLA and matched by the DUO matcher for its committee to see."""
    now = now or datetime.now(UTC)
    request, step = _for_command(session, principal, request_id, "submit")
    links = repo.datasets_of_requests(session, [request.id])[request.id]
    _check_still_requestable(session, request, links)
    committees = {d.committee_id for _, d in links if d.committee_id is not None}
    rules = effective_rules(session, committees)
    reviews = [
        RequestReview(
            request_id=request.id,
            committee_id=committee_id,
            state=RequestState.SUBMITTED,
            due_at=now + timedelta(days=rules[committee_id].sla_days),
        )
        for committee_id in sorted(committees)
    ]
    session.add_all(reviews)
    assert step.target is not None
    request.state = step.target
    request.submitted_at = now
    request.updated_at = now
    session.flush()
    datasets = [d for _, d in links]
    automatic_review.assess(session, request, reviews, datasets)
    request_notifications.submitted(session, request, reviews, datasets)
    summary = {"committees": len(committees), "algorithm": _outcomes(reviews)}
    _audit(session, principal, step.audit, request, summary)
    return request


def resubmit(
    session: Session, principal: Principal, *, request_id: uuid.UUID, now: datetime | None = None
) -> AccessRequest:
    """Answer the committees that asked for changes; their reviews start over, due again.
    The request may have changed, so every undecided review is matched again."""
    now = now or datetime.now(UTC)
    request, step = _for_command(session, principal, request_id, "resubmit")
    links = repo.datasets_of_requests(session, [request.id])[request.id]
    _check_still_requestable(session, request, links)
    reviews = repo.reviews_of_requests(session, [request.id])[request.id]
    rules = effective_rules(session, {r.committee_id for r in reviews})
    review_step = REVIEW_STEPS["resubmit"]
    restarted = [r for r in reviews if r.state in review_step.sources]
    for review in restarted:
        assert review_step.target is not None
        review.state = review_step.target
        review.due_at = now + timedelta(days=rules[review.committee_id].sla_days)
    request.state = request_state([r.state for r in reviews])
    request.updated_at = now
    session.flush()
    datasets = [d for _, d in links]
    undecided = [r for r in reviews if r.state in OPEN_REVIEW]
    automatic_review.assess(session, request, undecided, datasets)
    request_notifications.submitted(session, request, restarted, datasets)
    _audit(session, principal, step.audit, request, {"algorithm": _outcomes(undecided)})
    return request


def withdraw(
    session: Session, principal: Principal, *, request_id: uuid.UUID, now: datetime | None = None
) -> AccessRequest:
    """The requester ends the request before any committee has decided on it."""
    now = now or datetime.now(UTC)
    request, step = _for_command(session, principal, request_id, "withdraw")
    reviews = repo.reviews_of_requests(session, [request.id])[request.id]
    if any(r.state in DECIDED for r in reviews):
        raise InvalidTransition("cannot withdraw: a committee has already decided on it")
    for review in reviews:
        check(REVIEW_STEPS, "withdraw", review.state, "review")
        review.state = RequestState.WITHDRAWN
    assert step.target is not None
    request.state = step.target
    request.updated_at = now
    session.flush()
    _audit(session, principal, step.audit, request, {})
    return request


def renew(
    session: Session, principal: Principal, *, request_id: uuid.UUID, now: datetime | None = None
) -> AccessRequest:
    """A new draft copying an approved request, linked to it, for the datasets it was granted;
    it goes through review like any request, and its grants continue the current ones."""
    now = now or datetime.now(UTC)
    old, step = _for_command(session, principal, request_id, "renew")
    granted = repo.active_grants_of_request(session, old.id, now)
    if not granted:
        raise InvalidTransition("cannot renew: its grants have expired or were revoked")
    granted_ids = {g.dataset_id for g in granted}
    links = [
        (link, d)
        for link, d in repo.datasets_of_requests(session, [old.id])[old.id]
        if d.id in granted_ids
    ]
    new = AccessRequest(
        requester_id=old.requester_id,
        state=RequestState.DRAFT,
        project_title=old.project_title,
        lay_summary=old.lay_summary,
        research_use=old.research_use,
        purposes=list(old.purposes),
        diseases=list(old.diseases),
        commercial=old.commercial,
        sensitive=old.sensitive,
        duration_days=old.duration_days,
        collaborators=list(old.collaborators),
        institution=old.institution,
        renewal_of_id=old.id,
    )
    session.add(new)
    session.flush()
    for link, dataset in links:
        session.add(
            AccessRequestDataset(
                request_id=new.id,
                dataset_id=dataset.id,
                accepted_terms_version=link.accepted_terms_version,
            )
        )
    session.flush()
    _audit(session, principal, step.audit, old, {"renewal": str(new.id)})
    _audit(session, principal, "request.created", new, {"renewal_of": str(old.id)})
    return new


def _for_command(
    session: Session, principal: Principal, request_id: uuid.UUID, command: str
) -> tuple[AccessRequest, Step]:
    """The request locked for ``command``: it must exist, belong to the caller and be in a
    state the command may start from."""
    with bounded_lock_wait(session):
        request = repo.request_for_update(session, request_id)
    if request is None:
        raise NotFound(f"no access request {request_id}", field="id")
    if request.requester_id != principal.user_id or not policies.can_request_access(principal):
        raise Forbidden(f"only the requester may {command} an access request")
    return request, check(REQUEST_STEPS, command, request.state, "request")


def _assign(request: AccessRequest, data: AccessRequestInput) -> None:
    use = data.intended_use
    request.project_title = data.project_title
    request.lay_summary = data.lay_summary
    request.research_use = data.research_use
    request.purposes = sorted(p.value for p in use.purposes)
    request.diseases = sorted(use.diseases)
    request.commercial = use.commercial
    request.sensitive = use.sensitive
    request.duration_days = data.duration_days
    request.collaborators = list(data.collaborators)
    request.institution = data.institution


def _link_datasets(
    session: Session,
    request: AccessRequest,
    data: AccessRequestInput,
    datasets: dict[str, Dataset],
) -> None:
    for item in data.datasets:
        session.add(
            AccessRequestDataset(
                request_id=request.id,
                dataset_id=datasets[item.accession].id,
                accepted_terms_version=item.accepted_terms_version,
            )
        )
    session.flush()


def _requestable(
    session: Session, principal: Principal, data: AccessRequestInput
) -> dict[str, Dataset]:
    """The requested datasets by accession, each published, controlled, governed by a
    committee, within its committee's longest grant, with the accepted terms current."""
    found: dict[str, Dataset] = {}
    for i, item in enumerate(data.datasets):
        field = f"input.datasets[{i}].accession"
        dataset = catalog_repository.dataset_by_accession(session, principal, item.accession)
        if dataset is None:
            raise NotFound(f"no dataset {item.accession}", field=field)
        _check_dataset(dataset, field)
        found[item.accession] = dataset
    _check_terms(
        session,
        {found[d.accession].id: (d.accepted_terms_version, i) for i, d in enumerate(data.datasets)},
        require=False,
    )
    _check_duration(session, data.duration_days, found.values())
    missing = set(data.diseases) - set(catalog_repository.terms_by_curies(session, data.diseases))
    if missing:
        raise Invalid(f"unknown MONDO terms: {', '.join(sorted(missing))}", field="input.diseases")
    return found


def _check_still_requestable(
    session: Session,
    request: AccessRequest,
    links: list[tuple[AccessRequestDataset, Dataset]],
) -> None:
    """Submission re-checks what may have changed since the draft: datasets retired, terms
    revised, a committee's longest grant shortened."""
    for i, (_, dataset) in enumerate(links):
        _check_dataset(dataset, f"datasets[{i}].accession")
    _check_terms(
        session,
        {d.id: (link.accepted_terms_version, i) for i, (link, d) in enumerate(links)},
        require=True,
    )
    _check_duration(session, request.duration_days, [d for _, d in links])


def _check_dataset(dataset: Dataset, field: str) -> None:
    if dataset.access_level is not AccessLevel.CONTROLLED:
        raise Invalid(
            f"{dataset.accession} is {dataset.access_level.value}: no request is needed",
            field=field,
        )
    if dataset.status is not DatasetStatus.PUBLISHED:
        raise Invalid(f"{dataset.accession} is {dataset.status.value}", field=field)
    if dataset.committee_id is None:
        raise Invalid(f"no committee governs {dataset.accession}", field=field)


def _check_terms(
    session: Session, accepted: dict[uuid.UUID, tuple[int | None, int]], *, require: bool
) -> None:
    """Accepted versions must be the current ones; at submission, every dataset with terms
    must have them accepted."""
    current = repo.current_terms(session, accepted)
    for dataset_id, (version, i) in accepted.items():
        field = f"input.datasets[{i}].accepted_terms_version"
        terms = current.get(dataset_id)
        latest = terms.version if terms else None
        if version is None and (latest is None or not require):
            continue
        if version != latest:
            wanted = f"version {latest}" if latest else "no terms (leave it empty)"
            raise Invalid(f"the dataset's current terms of use are {wanted}", field=field)


def _check_duration(session: Session, days: int, datasets: Iterable[Dataset]) -> None:
    committees: defaultdict[uuid.UUID, list[str]] = defaultdict(list)
    for d in datasets:
        if d.committee_id is not None:
            committees[d.committee_id].append(d.accession)
    rules = effective_rules(session, committees)
    for committee_id, accessions in committees.items():
        longest = rules[committee_id].max_grant_days
        if days > longest:
            raise Invalid(
                f"{days} days exceeds the {longest}-day maximum for {', '.join(accessions)}",
                field="input.duration_days",
            )


def _outcomes(reviews: Iterable[RequestReview]) -> dict[str, str | None]:
    return {str(r.id): r.algorithm_outcome for r in reviews}


def _audit(
    session: Session,
    principal: Principal,
    action: str,
    request: AccessRequest,
    summary: dict[str, object],
) -> None:
    audit.record(
        session,
        principal,
        action,
        object_type="access_request",
        object_id=str(request.id),
        summary={"state": request.state.value, **summary},
    )
