"""Which discovery backend settings select: Elasticsearch when a URL is configured, Postgres
full-text search otherwise."""

from __future__ import annotations

from elasticsearch import Elasticsearch

from api.settings import Settings
from search.backend import SearchBackend
from search.elasticsearch import ElasticsearchBackend
from search.postgres import PostgresBackend


def build_search_backend(settings: Settings) -> SearchBackend:
    if settings.elasticsearch_url:
        client = Elasticsearch(settings.elasticsearch_url, request_timeout=10)
        return ElasticsearchBackend(client, alias=settings.elasticsearch_index)
    return PostgresBackend()
