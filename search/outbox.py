"""Draining the search outbox into a backend.

A batch is claimed with ``FOR UPDATE SKIP LOCKED`` so any number of workers share the work;
documents are rebuilt from the committed state at drain time (never from the outbox row), so
the newest state is what gets indexed, and the backend's version check keeps an older copy
from overwriting a newer one. An unreachable backend leaves the batch untouched for the next
try; a document the backend refuses is retried with backoff and parked after MAX_ATTEMPTS."""

from __future__ import annotations

import random
import uuid
from collections import defaultdict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from search.backend import SearchBackend
from search.document import build_documents
from search.models import SearchOutbox

MAX_ATTEMPTS = 8
BATCH_SIZE = 500


@dataclass(frozen=True)
class OutboxStatus:
    pending: int
    parked: int
    lag_seconds: float
    "Age of the oldest pending change; 0 when none is pending."


def drain_batch(
    session: Session,
    backend: SearchBackend,
    *,
    batch_size: int = BATCH_SIZE,
    now: datetime | None = None,
) -> int:
    """Index one batch in the caller's transaction; how many outbox rows it settled. Raises
    ``BackendUnavailable`` (rows untouched) when the index cannot be reached."""
    now = now or datetime.now(UTC)
    claimed = session.execute(
        select(SearchOutbox.id, SearchOutbox.dataset_id, SearchOutbox.attempts)
        .where(SearchOutbox.parked_at.is_(None), SearchOutbox.next_attempt_at <= now)
        .order_by(SearchOutbox.id)
        .limit(batch_size)
        .with_for_update(skip_locked=True)
    ).all()
    if not claimed:
        return 0
    rows_by_dataset: defaultdict[uuid.UUID, list[tuple[int, int]]] = defaultdict(list)
    for row_id, dataset_id, attempts in claimed:
        rows_by_dataset[dataset_id].append((row_id, attempts))
    report = backend.index(session, build_documents(session, rows_by_dataset))
    settled = [
        row_id
        for dataset_id, rows in rows_by_dataset.items()
        if dataset_id not in report.failed
        for row_id, _ in rows
    ]
    session.execute(delete(SearchOutbox).where(SearchOutbox.id.in_(settled)))
    for dataset_id, error in report.failed.items():
        for row_id, attempts in rows_by_dataset[dataset_id]:
            _defer(session, row_id, attempts + 1, error, now)
    return len(settled)


def drain(session: Session, backend: SearchBackend, *, now: datetime | None = None) -> int:
    """Everything due, batch after batch, in the caller's transaction (tests, small catalogs)."""
    total = 0
    while settled := drain_batch(session, backend, now=now):
        total += settled
    return total


def status(session: Session, *, now: datetime | None = None) -> OutboxStatus:
    """Index lag for monitoring: pending changes, parked ones, and the age of the oldest."""
    now = now or datetime.now(UTC)
    pending, parked, oldest = session.execute(
        select(
            func.count().filter(SearchOutbox.parked_at.is_(None)),
            func.count().filter(SearchOutbox.parked_at.is_not(None)),
            func.min(SearchOutbox.enqueued_at).filter(SearchOutbox.parked_at.is_(None)),
        )
    ).one()
    age = max((now - oldest).total_seconds(), 0.0) if oldest is not None else 0.0
    return OutboxStatus(pending=pending, parked=parked, lag_seconds=age)


def retry_parked(session: Session) -> int:
    """Give parked changes another round once an operator has fixed their cause."""
    result = session.execute(
        update(SearchOutbox)
        .where(SearchOutbox.parked_at.is_not(None))
        .values(parked_at=None, attempts=0, next_attempt_at=func.now())
    )
    return int(result.rowcount)  # type: ignore[attr-defined]


def backoff(attempts: int) -> timedelta:
    """Exponential with full jitter, capped at ten minutes."""
    ceiling = min(2.0**attempts, 600.0)
    return timedelta(seconds=random.uniform(ceiling / 2, ceiling))  # noqa: S311 - not crypto


def _defer(session: Session, row_id: int, attempts: int, error: str, now: datetime) -> None:
    session.execute(
        update(SearchOutbox)
        .where(SearchOutbox.id == row_id)
        .values(
            attempts=attempts,
            last_error=error[:2000],
            next_attempt_at=now + backoff(attempts),
            parked_at=now if attempts >= MAX_ATTEMPTS else None,
        )
    )
