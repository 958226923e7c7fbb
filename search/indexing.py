"""Keeping the index in step: the drain loop the worker (and the embedded server) runs, full
reindexing, and the comparison of Postgres with the index."""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import insert, select
from sqlalchemy.orm import Session, sessionmaker

from catalog.models import Dataset
from search import outbox
from search.backend import BackendUnavailable, SearchBackend
from search.document import DatasetDocument, build_documents
from search.models import SearchOutbox

log = logging.getLogger(__name__)

REINDEX_BATCH = 1000


def drain_once(sessions: sessionmaker[Session], backend: SearchBackend) -> int:
    """One batch in its own transaction; how many changes it settled (0 when idle). Raises
    BackendUnavailable with the batch left for later."""
    with sessions() as session, session.begin():
        return outbox.drain_batch(session, backend)


def run_indexer(
    sessions: sessionmaker[Session],
    backend: SearchBackend,
    stop: threading.Event,
    *,
    idle_seconds: float = 0.25,
    max_backoff_seconds: float = 30.0,
) -> None:
    """Drain until ``stop`` is set: at once while there is work, every ``idle_seconds`` when
    there is none, and with growing pauses while the backend is unreachable."""
    pause = idle_seconds
    while not stop.is_set():
        try:
            settled = drain_once(sessions, backend)
        except BackendUnavailable as error:
            log.warning("search index unreachable; retrying in %.1f s: %s", pause, error)
            stop.wait(pause)
            pause = min(pause * 2, max_backoff_seconds)
            continue
        except Exception:
            # A bug or a database hiccup must not end indexing for the life of the server.
            log.exception("indexing failed; retrying in %.1f s", pause)
            stop.wait(pause)
            pause = min(pause * 2, max_backoff_seconds)
            continue
        pause = idle_seconds
        if not settled:
            stop.wait(idle_seconds)


def start_indexer(sessions: sessionmaker[Session], backend: SearchBackend) -> Callable[[], None]:
    """Run the indexer on a daemon thread; returns the function that stops it."""
    stop = threading.Event()
    thread = threading.Thread(
        target=run_indexer, args=(sessions, backend, stop), name="atrium-indexer", daemon=True
    )
    thread.start()

    def halt() -> None:
        stop.set()
        thread.join(timeout=10)

    return halt


def reindex(
    sessions: sessionmaker[Session],
    backend: SearchBackend,
    *,
    progress: Callable[[int, int], None] = lambda done, total: None,
) -> int:
    """Rebuild the whole index from Postgres while searches keep answering from the old one,
    then re-enqueue any dataset that changed during the rebuild, so nothing is lost."""
    indexed: dict[uuid.UUID, int] = {}
    with sessions() as session, session.begin():
        backend.ensure_ready(session)
        ids = list(session.scalars(select(Dataset.id).order_by(Dataset.id)))

        def batches() -> Iterator[Sequence[DatasetDocument]]:
            for start in range(0, len(ids), REINDEX_BATCH):
                batch = build_documents(session, ids[start : start + REINDEX_BATCH])
                indexed.update((d.id, d.version) for d in batch)
                progress(min(start + REINDEX_BATCH, len(ids)), len(ids))
                yield batch

        count = backend.rebuild(session, batches())
    backend.refresh()
    with sessions() as session, session.begin():
        current = session.execute(select(Dataset.id, Dataset.row_version)).all()
        stale = [i for i, version in current if indexed.get(i, -1) < version]
        if stale:
            session.execute(insert(SearchOutbox), [{"dataset_id": i} for i in stale])
    return count


@dataclass
class CheckReport:
    """Differences between Postgres and the index; empty lists mean they agree."""

    checked: int = 0
    missing: list[str] = field(default_factory=list)
    stale: list[str] = field(default_factory=list)
    different: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)

    @property
    def consistent(self) -> bool:
        return not (self.missing or self.stale or self.different or self.extra)


def check(sessions: sessionmaker[Session], backend: SearchBackend) -> CheckReport:
    """Compare every dataset's current document with what the index holds."""
    report = CheckReport()
    with sessions() as session, session.begin():
        entries = {e.dataset_id: e for e in backend.entries(session)}
        ids = list(session.scalars(select(Dataset.id)))
        for start in range(0, len(ids), REINDEX_BATCH):
            for document in build_documents(session, ids[start : start + REINDEX_BATCH]):
                report.checked += 1
                entry = entries.pop(document.id, None)
                if entry is None:
                    report.missing.append(document.accession)
                elif entry.version < document.version:
                    report.stale.append(document.accession)
                elif dict(entry.body) != document.body():
                    report.different.append(document.accession)
        report.extra = sorted(str(i) for i in entries)
    return report
