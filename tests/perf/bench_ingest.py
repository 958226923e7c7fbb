"""Ingest benchmark: a JSON Lines file of --files files across --datasets datasets, loaded into a
fresh database by `catalog.ingest.runner.ingest_path`, in this process.

    python tests/perf/bench_ingest.py                       # 1,000,000 files, 20,000 datasets
    python tests/perf/bench_ingest.py --files 100000 --datasets 2000
    python tests/perf/bench_ingest.py --profile ingest.prof # cProfile of the first run

The records are the demo catalog's (`catalog.demo.records`: realistic names, sizes, sha-256 and
md5 checksums, s3 and gs URLs); their organizations and committees are created first through
the services. The embedded Postgres runs in --work-dir unless ATRIUM_DATABASE_URL is set. The
ingest runs twice: the second run must change nothing, and shows what a no-op re-run costs.
Prints files/s, seconds and the peak RSS of this process, and the CPU time per file spent in
this process and in the Postgres backends of the benchmark database (read from /proc, so only for
a server on this machine): on a shared machine wall time follows the other tenants' load, CPU
time much less.
"""

from __future__ import annotations

import argparse
import cProfile
import json
import os
import resource
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

from sqlalchemy import func, select, text
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import Session

from api.database import embedded_postgres, migrated_engine
from api.demo import ensure_organizations
from catalog import demo
from catalog.db import make_engine
from catalog.ingest.runner import ingest_path
from catalog.models import AuditEvent, DrsObject

DATABASE = "atrium_bench_ingest"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--files", type=int, default=1_000_000)
    parser.add_argument("--datasets", type=int, default=20_000)
    parser.add_argument("--work-dir", type=Path, help="default: a temporary directory")
    parser.add_argument("--profile", type=Path, help="write a cProfile of the first run here")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="atrium-bench-") as scratch:
        work_dir = args.work_dir or Path(scratch)
        work_dir.mkdir(parents=True, exist_ok=True)
        path = work_dir / "catalog.jsonl"
        started = time.perf_counter()
        write_records(path, files=args.files, datasets=args.datasets)
        print(
            f"wrote {path.stat().st_size / 1e6:,.0f} MB of JSON Lines in"
            f" {time.perf_counter() - started:.1f} s"
        )
        with fresh_database(work_dir) as engine:
            create_organizations(engine)
            for attempt in ("first run", "second run (no changes)"):
                profile = args.profile if attempt == "first run" else None
                print(f"{attempt}: {timed_ingest(engine, path, profile)}")
            check(engine, args.files)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS of this process: {peak:,.0f} MB (cpus: {os.cpu_count()})")


def timed_ingest(engine: Engine, path: Path, profile_path: Path | None) -> str:
    """Ingest the file; its speed and the CPU time per file, then the ingest's own summary."""
    profile = cProfile.Profile() if profile_path else None
    started, cpu = time.perf_counter(), cpu_seconds(engine)
    if profile:
        profile.enable()
    report = ingest_path(engine, path)
    if profile and profile_path:
        profile.disable()
        profile.dump_stats(profile_path)
    seconds = time.perf_counter() - started
    here, postgres = (now - then for now, then in zip(cpu_seconds(engine), cpu, strict=True))
    return (
        f"{seconds:.1f} s, {report.files / seconds:,.0f} files/s;"
        f" CPU per file: {here / report.files * 1e6:.0f} µs here,"
        f" {postgres / report.files * 1e6:.0f} µs in Postgres"
        f" (load average {os.getloadavg()[0]:.1f})\n{report.summary()}"
    )


def write_records(path: Path, *, files: int, datasets: int) -> None:
    with path.open("w") as out:
        for record in demo.records(datasets=datasets, files_per_dataset=files // datasets, seed=1):
            out.write(json.dumps(record) + "\n")


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
        with migrated_engine(url, pool_size=2) as engine:
            yield engine


def create_organizations(engine: Engine) -> None:
    with Session(engine) as session, session.begin():
        ensure_organizations(session)


def cpu_seconds(engine: Engine) -> tuple[float, float]:
    """CPU seconds used so far by this process and by the Postgres backends connected to the
    benchmark database (0 for backends this machine's /proc does not show)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    with engine.connect() as conn:
        pids = conn.execute(
            text("SELECT pid FROM pg_stat_activity WHERE datname = current_database()")
        ).scalars()
        postgres = sum(process_cpu_seconds(pid) for pid in pids)
    return usage.ru_utime + usage.ru_stime, postgres


def process_cpu_seconds(pid: int) -> float:
    """User and system CPU seconds of a process, from /proc/PID/stat (fields 14 and 15)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return 0.0
    fields = stat.rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def check(engine: Engine, files: int) -> None:
    with Session(engine) as session:
        stored = session.scalar(
            select(func.count()).select_from(DrsObject).where(DrsObject.is_bundle.is_(False))
        )
        events = session.scalar(select(func.count()).select_from(AuditEvent))
    print(f"files stored: {stored:,} (expected {files:,}); audit events: {events:,}")


if __name__ == "__main__":
    main()
