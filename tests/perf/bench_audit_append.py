"""What chaining costs writers: --writers threads commit transactions of three audit events each
for --seconds, under three strategies, and the script prints transactions/s and latency.

    python tests/perf/bench_audit_append.py --work-dir /tmp/audit-bench

- ``unchained``: insert and commit (the floor: what appending costs without any chain);
- ``seal-after-commit`` (the chosen design): insert, commit, then ``audit.seal_appended``;
- ``lock-before-commit`` (the alternative of docs/adr/0004): insert, then ``seal`` under the
  chain lock as the transaction's last step, so the lock is held through the commit.

The embedded Postgres runs in --work-dir unless ATRIUM_DATABASE_URL is set.
"""

from __future__ import annotations

import argparse
import statistics
import threading
import time
from pathlib import Path

from bench_audit_verify import database
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from catalog import audit
from catalog.audit_chain import seal, verify
from catalog.principals import SYSTEM

STRATEGIES = ("unchained", "seal-after-commit", "lock-before-commit")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--writers", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--work-dir", type=Path, default=Path(".atrium/bench-audit"))
    args = parser.parse_args()
    with database(args.work_dir) as (engine, _url):
        engine.dispose()
        for writers in args.writers:
            for strategy in STRATEGIES:
                run(engine, strategy, writers, args.seconds)
        with Session(engine) as session, session.begin():
            seal(session)
        with engine.connect() as conn:
            result = verify(conn)
        print(f"chain after all runs: {result.events:,} events, intact: {result.intact}")


def run(engine: Engine, strategy: str, writers: int, seconds: float) -> None:
    latencies: list[float] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def write() -> None:
        mine = []
        with Session(engine) as session:
            while time.monotonic() < deadline:
                started = time.perf_counter()
                transaction(session, strategy)
                mine.append(time.perf_counter() - started)
        with lock:
            latencies.extend(mine)

    threads = [threading.Thread(target=write) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with Session(engine) as session, session.begin():  # the next run starts fully sealed
        seal(session)
    ms = sorted(x * 1000 for x in latencies)
    p95 = ms[int(len(ms) * 0.95)]
    print(
        f"{strategy:>19} writers={writers}: {len(ms) / seconds:7.1f} transactions/s,"
        f" p50 {statistics.median(ms):6.2f} ms, p95 {p95:6.2f} ms"
    )


def transaction(session: Session, strategy: str) -> None:
    with session.begin():
        for n in range(3):
            audit.record(
                session,
                SYSTEM,
                "dataset.updated",
                object_type="dataset",
                object_id=f"ATR-DS-{n:06d}",
                summary={"changed": ["title"]},
            )
        if strategy == "lock-before-commit":
            seal(session)
    if strategy == "seal-after-commit":
        audit.seal_appended(session)
    else:
        session.info.pop(audit.APPENDED, None)


if __name__ == "__main__":
    main()
