"""The outbox survives Elasticsearch outages and refusals: writes succeed while the node is
down, nothing is lost, and once it returns the indexer brings the index level with Postgres."""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from elasticsearch import Elasticsearch
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session, sessionmaker

from catalog import service
from catalog.principals import SYSTEM
from catalog.schemas import DatasetUpdate
from deploy.elasticsearch_node import Node
from search import outbox
from search.backend import BackendUnavailable
from search.elasticsearch import ElasticsearchBackend
from search.indexing import check, drain_once, start_indexer
from search.models import SearchOutbox
from tests.factories import Factory

CACHE = Path(__file__).resolve().parents[2] / ".atrium" / "elasticsearch"


@pytest.fixture
def node() -> Iterator[Node]:
    """A private node: stopping the shared one would fail other tests running meanwhile."""
    with tempfile.TemporaryDirectory(prefix="atrium-es-outage-") as directory:
        private = Node(Path(directory) / "node", port=0, cache=CACHE)
        private.start()
        yield private
        private.stop()


def drain_all(sessions: sessionmaker[Session], backend: ElasticsearchBackend) -> int:
    total = 0
    while settled := drain_once(sessions, backend):
        total += settled
    return total


def pending(sessions: sessionmaker[Session]) -> int:
    with sessions() as session:
        return int(session.scalar(select(func.count()).select_from(SearchOutbox)) or 0)


def test_the_index_catches_up_after_an_outage(committed_sessions, issuer, node) -> None:  # type: ignore[no-untyped-def]
    url = node.url()
    assert url is not None
    client = Elasticsearch(url, request_timeout=5, max_retries=0)
    backend = ElasticsearchBackend(client, alias="outage")
    with committed_sessions.begin() as session:
        backend.ensure_ready(session)
        factory = Factory(session, issuer=issuer)
        steward = factory.organization()
        before = [factory.dataset(steward, publish=True).accession for _ in range(10)]
    assert drain_all(committed_sessions, backend) >= 10

    node.stop()
    with committed_sessions.begin() as session:
        factory = Factory(session, issuer=issuer)
        for _ in range(5):
            factory.dataset(steward, publish=True)
        for accession in before[:3]:
            service.update_dataset(
                session, SYSTEM, accession=accession, data=DatasetUpdate(title="Renamed offline")
            )
    queued = pending(committed_sessions)
    with pytest.raises(BackendUnavailable):
        drain_once(committed_sessions, backend)
    assert pending(committed_sessions) == queued > 0

    node.start()
    halt = start_indexer(committed_sessions, backend)
    try:
        deadline = time.monotonic() + 180
        while pending(committed_sessions) and time.monotonic() < deadline:
            time.sleep(0.2)
    finally:
        halt()
    backend.refresh()

    assert pending(committed_sessions) == 0
    report = check(committed_sessions, backend)
    assert report.checked == 15
    assert report.consistent, report
    client.close()


def test_a_document_the_index_refuses_is_retried_then_parked(  # type: ignore[no-untyped-def]
    committed_sessions, issuer, elasticsearch_url
) -> None:
    """A keyword longer than Lucene's 32,766-byte term limit: Elasticsearch refuses that one
    document (the others of the batch are indexed); the change is retried with backoff and
    parked with the error after the last try, never blocking the outbox."""
    client = Elasticsearch(elasticsearch_url, request_timeout=30)
    backend = ElasticsearchBackend(client, alias=f"poison-{uuid.uuid4().hex[:8]}")
    try:
        with committed_sessions.begin() as session:
            backend.ensure_ready(session)
            factory = Factory(session, issuer=issuer)
            steward = factory.organization()
            good = factory.dataset(steward, publish=True)
            bad = factory.dataset(steward, publish=True)
        drain_all(committed_sessions, backend)
        with committed_sessions.begin() as session:
            session.execute(
                text("UPDATE datasets SET data_types = ARRAY[repeat('x', 40000)] WHERE id = :id"),
                {"id": bad.id},
            )
        later = datetime.now(UTC)
        for attempt in range(1, outbox.MAX_ATTEMPTS + 1):
            later += timedelta(hours=1)
            with committed_sessions.begin() as session:
                outbox.drain_batch(session, backend, now=later)
            with committed_sessions() as session:
                row = session.scalars(
                    select(SearchOutbox).where(SearchOutbox.dataset_id == bad.id)
                ).one()
                assert row.attempts == attempt
                assert "failed to parse field [data_types]" in (row.last_error or "")
                assert (row.parked_at is not None) is (attempt == outbox.MAX_ATTEMPTS)
        backend.refresh()
        with committed_sessions() as session:
            indexed = {e.dataset_id for e in backend.entries(session)}
            assert outbox.status(session).parked == 1
        assert good.id in indexed
        assert check(committed_sessions, backend).stale == [bad.accession]
    finally:
        client.indices.delete(index=f"{backend.alias}-*", allow_no_indices=True)
        client.close()
