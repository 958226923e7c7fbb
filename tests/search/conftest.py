"""Backends under test: every contract test runs against each one. Elasticsearch runs for real
(the node ``deploy/elasticsearch`` starts); each test gets its own alias and indices."""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest
from elasticsearch import Elasticsearch
from sqlalchemy.orm import Session

from search.backend import SearchBackend
from search.elasticsearch import ElasticsearchBackend
from search.postgres import PostgresBackend
from tests.factories import Factory
from tests.search.catalog_fixture import FixtureCatalog, build


@pytest.fixture(params=["postgres", "elasticsearch"])
def backend(request: pytest.FixtureRequest) -> Iterator[SearchBackend]:
    if request.param == "postgres":
        yield PostgresBackend()
        return
    client = Elasticsearch(request.getfixturevalue("elasticsearch_url"), request_timeout=30)
    alias = f"atrium-test-{uuid.uuid4().hex[:12]}"
    yield ElasticsearchBackend(client, alias=alias)
    client.indices.delete(index=f"{alias}-*", allow_no_indices=True)
    client.close()


@pytest.fixture
def catalog(factory: Factory, db: Session) -> FixtureCatalog:
    return build(factory, db)
