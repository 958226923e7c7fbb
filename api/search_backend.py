"""Which discovery backend settings select: Elasticsearch when a URL is configured, Postgres
full-text search otherwise."""

from __future__ import annotations

from api.settings import Settings
from search.backend import SearchBackend
from search.postgres import PostgresBackend


def build_search_backend(settings: Settings) -> SearchBackend:
    return PostgresBackend()
