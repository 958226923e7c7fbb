"""Audit chain benchmark: --events events written unsealed with one SQL statement per 100,000,
sealed by `catalog.audit_chain.seal` (timed), then verified by `atrium audit verify --no-seal`
in a child process, the real command path, whose throughput and peak RSS are reported.

    python tests/perf/bench_audit_verify.py --work-dir /tmp/audit-bench   # 1,000,000 events

The embedded Postgres runs in --work-dir unless ATRIUM_DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from perf_server import atrium
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from api.database import embedded_postgres, prepare
from catalog.audit_chain import seal
from catalog.db import make_engine

DATABASE = "atrium_bench_audit"
CHUNK = 100_000
INSERT = text(
    "INSERT INTO audit_events (actor, action, object_type, object_id, summary)"
    " SELECT 'user' || (g % 1000) || '@https://issuer.example',"
    " (ARRAY['dataset.updated', 'drs.access_url_issued', 'grant.created'])[1 + g % 3],"
    " 'dataset', 'ATR-DS-' || lpad((g % 20000)::text, 6, '0'),"
    " jsonb_build_object('changed', jsonb_build_array('title', 'keywords'), 'n', g,"
    " 'title', 'Cohort ' || g || ' — Zürich', 'via', 'bench')"
    " FROM generate_series(:start, :stop) AS g"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--work-dir", type=Path, default=Path(".atrium/bench-audit"))
    args = parser.parse_args()
    with database(args.work_dir) as (engine, url):
        started = time.perf_counter()
        for start in range(1, args.events + 1, CHUNK):
            with engine.begin() as conn:
                conn.execute(INSERT, {"start": start, "stop": min(start + CHUNK - 1, args.events)})
        print(f"insert: {args.events:,} events in {time.perf_counter() - started:.1f} s")
        started = time.perf_counter()
        with Session(engine) as session, session.begin():
            sealed = seal(session)
        seconds = time.perf_counter() - started
        print(f"seal: {sealed:,} events in {seconds:.1f} s ({sealed / seconds:,.0f} events/s)")
        engine.dispose()
        started = time.perf_counter()
        env = {**os.environ, "ATRIUM_DATABASE_URL": url}
        done = subprocess.run(
            atrium("audit", "verify", "--no-seal"), env=env, capture_output=True, text=True
        )
        wall = time.perf_counter() - started
        peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        print(done.stdout.strip())
        print(f"verify command: exit {done.returncode}, {wall:.1f} s wall, peak RSS {peak:.0f} MB")


@contextmanager
def database(work_dir: Path) -> Iterator[tuple[Engine, str]]:
    configured = os.environ.get("ATRIUM_DATABASE_URL")
    with nullcontext(configured) if configured else embedded_postgres(work_dir) as server_url:
        admin = make_engine(server_url, pool_size=1)
        with admin.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{DATABASE}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{DATABASE}"'))
        admin.dispose()
        url = make_url(server_url).set(database=DATABASE).render_as_string(hide_password=False)
        engine = make_engine(url, pool_size=2)
        prepare(engine)
        yield engine, url


if __name__ == "__main__":
    main()
