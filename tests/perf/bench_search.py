"""Search benchmark: a demo catalog of --datasets datasets, indexed by each backend, then
searched with three facet filters and every facet returned, at concurrency 8.

    python tests/perf/bench_search.py                     # 100,000 datasets
    ATRIUM_ELASTICSEARCH_URL=http://127.0.0.1:9200 python tests/perf/bench_search.py

Measures, for Postgres full-text search and (when ATRIUM_ELASTICSEARCH_URL is set)
Elasticsearch: full reindex throughput (documents/s); search latency p50/p95/p99 at
concurrency 8; freshness, the time from a committed catalog write to the dataset being
searchable with the indexer running, p50/p95 over --writes writes.
"""

from __future__ import annotations

import argparse
import logging
import os
import random
import statistics
import tempfile
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

from elasticsearch import Elasticsearch
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from catalog import service
from catalog.db import make_engine
from catalog.ingest.runner import ingest_path
from catalog.models import Dataset, DatasetStatus
from catalog.principals import SYSTEM
from catalog.schemas import DatasetUpdate
from search import service as search_service
from search.backend import SearchBackend
from search.elasticsearch import ElasticsearchBackend
from search.facets import Facet
from search.indexing import reindex, start_indexer
from search.models import SearchOutbox
from search.postgres import PostgresBackend
from search.query import SearchQuery, Visibility
from tests.perf.bench_ingest import create_organizations, fresh_database, write_records

WORDS = [None, "cancer", "cohort", "genomes", "heart", "sequencing", "tumour", "disease"]


def main() -> None:
    logging.basicConfig(level=logging.WARNING)
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--datasets", type=int, default=100_000)
    parser.add_argument("--queries", type=int, default=800)
    parser.add_argument("--concurrency", type=int, default=8)
    parser.add_argument("--writes", type=int, default=50)
    parser.add_argument("--work-dir", type=Path, help="default: a temporary directory")
    parser.add_argument(
        "--backend", choices=["postgres", "elasticsearch"], action="append", help="default: both"
    )
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atrium-bench-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        work_dir.mkdir(parents=True, exist_ok=True)
        path = work_dir / "catalog.jsonl"
        write_records(path, files=args.datasets, datasets=args.datasets)
        with fresh_database(work_dir) as engine:
            create_organizations(engine)
            started = time.perf_counter()
            ingest_path(engine, path)
            print(f"ingested {args.datasets:,} datasets in {time.perf_counter() - started:.0f} s")
            pooled = make_engine(
                engine.url.render_as_string(hide_password=False), pool_size=args.concurrency + 2
            )
            sessions = sessionmaker(pooled, expire_on_commit=False)
            with sessions.begin() as session:
                session.query(SearchOutbox).delete()
            for backend in backends(args.backend or ["postgres", "elasticsearch"]):
                measure(sessions, backend, args)


def backends(names: list[str]) -> list[SearchBackend]:
    found: list[SearchBackend] = [PostgresBackend()] if "postgres" in names else []
    url = os.environ.get("ATRIUM_ELASTICSEARCH_URL")
    if url and "elasticsearch" in names:
        client = Elasticsearch(url, request_timeout=60)
        found.append(ElasticsearchBackend(client, alias=f"bench-{uuid.uuid4().hex[:8]}"))
    return found


def measure(
    sessions: sessionmaker[Session],
    backend: SearchBackend,
    args: argparse.Namespace,
) -> None:
    print(f"--- {backend.name}")
    started = time.perf_counter()
    count = reindex(sessions, backend)
    seconds = time.perf_counter() - started
    print(f"reindex: {count:,} documents in {seconds:.1f} s = {count / seconds:,.0f} documents/s")
    latencies = run_queries(sessions, backend, args.queries, args.concurrency)
    print(
        f"search, 3 facet filters + all facets, c={args.concurrency}, {args.queries} queries:"
        f" p50 {pct(latencies, 50):.1f} ms, p95 {pct(latencies, 95):.1f} ms,"
        f" p99 {pct(latencies, 99):.1f} ms"
    )
    delays = freshness(sessions, backend, args.writes)
    print(
        f"freshness over {args.writes} writes: p50 {pct(delays, 50):.0f} ms,"
        f" p95 {pct(delays, 95):.0f} ms, max {max(delays):.0f} ms"
    )


def query(rng: random.Random) -> SearchQuery:
    return SearchQuery(
        text=rng.choice(WORDS),
        filters={
            Facet.DATA_TYPE: frozenset(rng.sample(["WGS", "WES", "RNA-seq", "scRNA-seq"], 2)),
            Facet.ACCESS_LEVEL: frozenset({rng.choice(["open", "registered", "controlled"])}),
            Facet.SPECIES: frozenset({"Homo sapiens"}),
        },
        first=20,
    )


def run_queries(
    sessions: sessionmaker[Session], backend: SearchBackend, total: int, concurrency: int
) -> list[float]:
    rng = random.Random(7)
    queries = [query(rng) for _ in range(total)]
    now = datetime.now(UTC)

    def one(q: SearchQuery) -> float:
        with sessions() as session:
            started = time.perf_counter()
            search_service.search(session, backend, q, Visibility(), now=now)
            return (time.perf_counter() - started) * 1000

    for q in queries[:concurrency]:
        one(q)
    with ThreadPoolExecutor(concurrency) as pool:
        return list(pool.map(one, queries))


def freshness(sessions: sessionmaker[Session], backend: SearchBackend, writes: int) -> list[float]:
    with sessions() as session:
        accessions = list(
            session.scalars(
                select(Dataset.accession)
                .where(Dataset.status == DatasetStatus.PUBLISHED)
                .limit(writes)
            )
        )
    halt = start_indexer(sessions, backend)
    delays = []
    try:
        for accession in accessions:
            token = f"fresh{uuid.uuid4().hex[:10]}"
            with sessions.begin() as session:
                service.update_dataset(
                    session, SYSTEM, accession=accession, data=DatasetUpdate(keywords=[token])
                )
            committed = time.perf_counter()
            delays.append(wait_until_found(sessions, backend, token, committed))
    finally:
        halt()
    return delays


def wait_until_found(
    sessions: sessionmaker[Session], backend: SearchBackend, token: str, since: float
) -> float:
    probe = SearchQuery(text=token, first=1)
    deadline = since + 30
    while time.perf_counter() < deadline:
        with sessions() as session:
            if backend.search(session, probe, Visibility(), now=datetime.now(UTC)).total:
                return (time.perf_counter() - since) * 1000
        time.sleep(0.01)
    raise RuntimeError(f"{token} never became searchable")


def pct(values: list[float], p: int) -> float:
    return (
        statistics.quantiles(values, n=100, method="inclusive")[p - 1] if p < 100 else max(values)
    )


if __name__ == "__main__":
    main()
