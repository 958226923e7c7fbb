"""A full reindex never interrupts searching: every search made while it runs answers, and
finds the whole catalog, on every backend."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session, sessionmaker

from api.database import prepare
from catalog.db import make_engine
from search import indexing
from search.query import SearchQuery, Visibility
from tests.factories import Factory

DATASETS = 30


@pytest.fixture
def committed(committed_database_url: str) -> Iterator[sessionmaker[Session]]:
    engine = make_engine(committed_database_url, pool_size=6)
    prepare(engine)
    yield sessionmaker(engine, expire_on_commit=False)
    engine.dispose()


def test_searches_keep_answering_during_a_reindex(committed, issuer, backend, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    with committed.begin() as session:
        factory = Factory(session, issuer=issuer)
        steward = factory.organization()
        for _ in range(DATASETS):
            factory.dataset(steward, publish=True)
    indexing.reindex(committed, backend)
    monkeypatch.setattr(indexing, "REINDEX_BATCH", 5)
    totals: list[int] = []
    failures: list[BaseException] = []
    done = threading.Event()

    def search_meanwhile() -> None:
        while not done.is_set():
            try:
                with committed() as session:
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
            assert indexing.reindex(committed, backend) == DATASETS
    finally:
        done.set()
        searcher.join(timeout=30)

    assert failures == []
    assert len(totals) > 3
    assert set(totals) == {DATASETS}
