"""A full reindex never interrupts searching: every search made while it runs answers, and
finds the whole catalog, on every backend."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

from search import indexing
from search.query import SearchQuery, Visibility
from tests.factories import Factory

DATASETS = 30


def test_searches_keep_answering_during_a_reindex(
    committed_sessions, issuer, backend, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    with committed_sessions.begin() as session:
        factory = Factory(session, issuer=issuer)
        steward = factory.organization()
        for _ in range(DATASETS):
            factory.dataset(steward, publish=True)
    indexing.reindex(committed_sessions, backend)
    monkeypatch.setattr(indexing, "REINDEX_BATCH", 5)
    totals: list[int] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def search_meanwhile() -> None:
        while not done.is_set():
            try:
                with committed_sessions() as session:
                    result = backend.search(
                        session, SearchQuery(first=1), Visibility(), now=datetime.now(UTC)
                    )
                totals.append(result.total)
            except Exception as error:  # any failure is the finding
                failures.append(error)

    searcher = threading.Thread(target=search_meanwhile)
    searcher.start()
    try:
        for _ in range(3):
            assert indexing.reindex(committed_sessions, backend) == DATASETS
    finally:
        done.set()
        searcher.join(timeout=30)

    assert failures == []
    assert len(totals) > 3
    assert set(totals) == {DATASETS}
