"""Access decision benchmark: may this user read this controlled dataset's bytes, decided
in-process the way DRS decides it — the caller's active grant looked up in Postgres
(``governance.repository.has_grant``), then ``governance.access.read_bytes`` — each
decision in its own transaction on a pooled connection.

    python tests/perf/bench_access_decision.py                    # 10,000 decisions
    python tests/perf/bench_access_decision.py --decisions 50000 --grants 100000

A fresh database on the embedded Postgres (in --work-dir, unless ATRIUM_DATABASE_URL is set)
holds --grants grants spread over as many users, so the index is not trivially small; the
measured user holds one active grant of the measured dataset. Target: p99 < 2 ms.
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from api.database import embedded_postgres, prepare
from catalog import service
from catalog.db import make_engine
from catalog.models import AccessLevel, Dataset, User
from catalog.principals import SYSTEM, Principal
from catalog.schemas import CommitteeCreate, DatasetCreate, OrganizationCreate
from governance import repository
from governance.access import DatasetAccessFacts, dataset_url, read_bytes
from governance.models import AccessGrant

DATABASE = "atrium_bench_access"
ISSUER = "https://atrium.example.org"


@contextmanager
def fresh_database(work_dir: Path) -> Iterator[Engine]:
    configured = os.environ.get("ATRIUM_DATABASE_URL")
    with nullcontext(configured) if configured else embedded_postgres(work_dir) as server_url:
        admin = make_engine(server_url, pool_size=1)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
        admin.dispose()
        url = make_url(server_url).set(database=DATABASE).render_as_string(hide_password=False)
        engine = make_engine(url, pool_size=2)
        try:
            prepare(engine)
            yield engine
        finally:
            engine.dispose()


def seed(engine: Engine, grants: int) -> tuple[Principal, DatasetAccessFacts]:
    """A controlled dataset, ``grants`` grants of it to other users, and the measured user's."""
    now = datetime.now(UTC)
    with Session(engine) as session, session.begin():
        org = service.create_organization(
            session, SYSTEM, data=OrganizationCreate(slug="bench-org", name="B", kind="steward")
        )
        session.flush()
        service.create_committee(
            session,
            SYSTEM,
            data=CommitteeCreate(organization=org.slug, slug="bench-dac", name="DAC"),
        )
        created = service.create_dataset(
            session,
            SYSTEM,
            data=DatasetCreate.model_validate(
                {
                    "title": "Benchmark",
                    "access_level": "controlled",
                    "steward": org.slug,
                    "committee": "bench-dac",
                }
            ),
        )
        dataset = service.publish_dataset(session, SYSTEM, accession=created.accession)
        users = [{"id": uuid.uuid4(), "issuer": ISSUER, "subject": f"u{n}"} for n in range(grants)]
        session.execute(insert(User), users)
        session.execute(
            insert(AccessGrant),
            [
                {
                    "id": uuid.uuid4(),
                    "user_id": u["id"],
                    "dataset_id": dataset.id,
                    "starts_at": now - timedelta(days=1),
                    "expires_at": now + timedelta(days=30),
                    "granted_by": "bench",
                }
                for u in users
            ],
        )
        holder = users[grants // 2]
        facts = facts_of(dataset)
    with Session(engine) as session:
        session.execute(text("ANALYZE"))
    principal = Principal(issuer=ISSUER, subject=str(holder["subject"]), user_id=holder["id"])  # type: ignore[arg-type]
    return principal, facts


def facts_of(dataset: Dataset) -> DatasetAccessFacts:
    return DatasetAccessFacts(
        id=dataset.id,
        url=dataset_url(ISSUER, dataset.accession),
        access_level=AccessLevel(dataset.access_level),
        status=dataset.status,
        steward_id=dataset.steward_id,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


def measure(
    engine: Engine,
    principal: Principal,
    facts: DatasetAccessFacts,
    n: int,
    *,
    own_transaction: bool,
) -> list[float]:
    """``own_transaction``: each decision also pays BEGIN and ROLLBACK (two more round trips);
    otherwise decisions run inside one open transaction, as inside a request's."""
    assert principal.user_id is not None
    timings = []
    with Session(engine) as session:
        for _ in range(n):
            started = time.perf_counter()
            now = datetime.now(UTC)
            granted = repository.has_grant(session, principal.user_id, facts.id, now)
            decision = read_bytes(principal, facts, has_active_grant=granted)
            if own_transaction:
                session.rollback()
            timings.append((time.perf_counter() - started) * 1000)
            assert decision.allowed
    return timings


def report(label: str, timings: list[float]) -> None:
    print(
        f"{label}: p50={percentile(timings, 50):.3f} ms p99={percentile(timings, 99):.3f} ms "
        f"mean={statistics.fmean(timings):.3f} ms max={max(timings):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--decisions", type=int, default=10_000)
    parser.add_argument("--grants", type=int, default=10_000)
    parser.add_argument("--warmup", type=int, default=500)
    parser.add_argument("--work-dir", type=Path, help="default: a temporary directory")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atrium-bench-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        with fresh_database(work_dir) as engine:
            principal, facts = seed(engine, args.grants)
            measure(engine, principal, facts, args.warmup, own_transaction=False)
            inside = measure(engine, principal, facts, args.decisions, own_transaction=False)
            own = measure(engine, principal, facts, args.decisions, own_transaction=True)
    print(
        f"access decision with a grant in Postgres: {args.decisions} decisions per line after "
        f"{args.warmup} warm-up, {args.grants} grants in the table"
    )
    report("inside a request's transaction", inside)
    report("each in its own transaction  ", own)


if __name__ == "__main__":
    main()
