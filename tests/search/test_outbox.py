"""The outbox: every write path enqueues in its own transaction, the worker settles changes,
versions only move forward, and the loop survives an unreachable backend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from catalog import service
from catalog.principals import SYSTEM
from catalog.schemas import DatasetUpdate
from search import outbox
from search.backend import BackendUnavailable
from search.document import build_documents
from search.indexing import check, drain_once, reindex, run_indexer
from search.models import SearchDocument, SearchOutbox
from search.postgres import PostgresBackend
from tests.factories import Factory


def pending(db: Session) -> list[str]:
    return list(
        db.scalars(
            text(
                "SELECT d.accession FROM search_outbox o JOIN datasets d ON d.id = o.dataset_id"
                " ORDER BY o.id"
            )
        )
    )


def test_every_dataset_write_enqueues_and_raises_the_row_version(factory, db) -> None:  # type: ignore[no-untyped-def]
    dataset = factory.dataset()
    created_version = dataset.row_version
    assert pending(db).count(dataset.accession) >= 1

    outbox.drain(db, PostgresBackend())
    assert pending(db) == []
    service.update_dataset(
        db, SYSTEM, accession=dataset.accession, data=DatasetUpdate(title="Renamed")
    )
    factory.files(dataset, 2)
    service.publish_dataset(db, SYSTEM, accession=dataset.accession)
    db.execute(text("UPDATE datasets SET keywords = '{raw}' WHERE id = :id"), {"id": dataset.id})

    assert pending(db).count(dataset.accession) == 4
    db.refresh(dataset)
    assert dataset.row_version >= created_version + 4


def test_drain_indexes_the_current_state_and_settles_its_rows(factory, db) -> None:  # type: ignore[no-untyped-def]
    dataset = factory.dataset(title="First title")
    service.update_dataset(
        db, SYSTEM, accession=dataset.accession, data=DatasetUpdate(title="Second title")
    )

    settled = outbox.drain(db, PostgresBackend())

    assert settled >= 2
    stored = db.get(SearchDocument, dataset.id)
    assert stored is not None
    assert stored.title == "Second title"
    db.refresh(dataset)
    assert stored.row_version == dataset.row_version


def test_an_older_document_never_overwrites_a_newer_one(factory, db) -> None:  # type: ignore[no-untyped-def]
    backend = PostgresBackend()
    dataset = factory.dataset(title="Old")
    (old,) = build_documents(db, [dataset.id])
    service.update_dataset(db, SYSTEM, accession=dataset.accession, data=DatasetUpdate(title="New"))
    (new,) = build_documents(db, [dataset.id])

    backend.index(db, [new])
    backend.index(db, [old])

    stored = db.get(SearchDocument, dataset.id, populate_existing=True)
    assert stored is not None
    assert (stored.title, stored.row_version) == ("New", new.version)


def test_status_reports_pending_parked_and_lag(factory, db) -> None:  # type: ignore[no-untyped-def]
    outbox.drain(db, PostgresBackend())
    factory.dataset()
    db.execute(text("UPDATE search_outbox SET enqueued_at = now() - interval '90 seconds'"))
    first = db.scalars(select(SearchOutbox).order_by(SearchOutbox.id)).first()
    assert first is not None
    first.parked_at = datetime.now(UTC)
    first.last_error = "refused"
    db.flush()

    state = outbox.status(db)
    assert state.parked == 1
    assert state.pending == db.scalar(select(func.count()).select_from(SearchOutbox)) - 1
    if state.pending:
        assert state.lag_seconds >= 89
    assert outbox.retry_parked(db) == 1
    assert outbox.status(db).parked == 0


def test_concurrent_workers_never_index_the_same_change_twice(committed_sessions, issuer) -> None:  # type: ignore[no-untyped-def]
    with committed_sessions.begin() as session:
        factory = Factory(session, issuer=issuer)
        steward = factory.organization()
        for _ in range(40):
            factory.dataset(steward)
    backend = PostgresBackend()
    settled: list[int] = []

    def work() -> None:
        while count := drain_once(committed_sessions, backend):
            settled.append(count)

    workers = [threading.Thread(target=work) for _ in range(4)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()

    with committed_sessions() as session:
        assert session.scalar(select(func.count()).select_from(SearchOutbox)) == 0
        assert session.scalar(select(func.count()).select_from(SearchDocument)) == 40
    assert sum(settled) == 40


class Unreachable(PostgresBackend):
    """A backend whose index cannot be reached, as a network failure would leave it."""

    def index(self, session, documents):  # type: ignore[no-untyped-def]
        raise BackendUnavailable("connection refused")


def test_an_unreachable_backend_leaves_every_change_queued(committed_sessions, issuer) -> None:  # type: ignore[no-untyped-def]
    with committed_sessions.begin() as session:
        Factory(session, issuer=issuer).dataset()
        before = session.scalar(select(func.count()).select_from(SearchOutbox))

    with pytest.raises(BackendUnavailable):
        drain_once(committed_sessions, Unreachable())
    stop = threading.Event()
    loop = threading.Thread(
        target=run_indexer,
        args=(committed_sessions, Unreachable(), stop),
        kwargs={"idle_seconds": 0.01},
    )
    loop.start()
    stop.wait(0.2)
    stop.set()
    loop.join(timeout=5)

    assert not loop.is_alive()
    with committed_sessions() as session:
        assert session.scalar(select(func.count()).select_from(SearchOutbox)) == before
        state = outbox.status(session)
    assert state.parked == 0


def test_reindex_and_check(committed_sessions, issuer) -> None:  # type: ignore[no-untyped-def]
    backend = PostgresBackend()
    with committed_sessions.begin() as session:
        factory = Factory(session, issuer=issuer)
        datasets = [factory.dataset(publish=True) for _ in range(5)]
    assert not check(committed_sessions, backend).consistent

    assert reindex(committed_sessions, backend) == 5
    report = check(committed_sessions, backend)
    assert report.consistent
    assert report.checked == 5

    with committed_sessions.begin() as session:
        session.execute(
            text(
                'UPDATE search_documents SET document = document || \'{"title": "x"}\''
                " WHERE dataset_id = :id"
            ),
            {"id": datasets[0].id},
        )
        session.execute(
            text("DELETE FROM search_documents WHERE dataset_id = :id"), {"id": datasets[1].id}
        )
    report = check(committed_sessions, backend)
    assert report.different == [datasets[0].accession]
    assert report.missing == [datasets[1].accession]
