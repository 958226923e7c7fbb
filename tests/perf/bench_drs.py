"""DRS benchmark: `GET /objects/{id}` for random ids under wrk, and bulk resolution of 1,000 ids,
against `atrium serve` on a catalog of --datasets x --files-per-dataset files.

    python tests/perf/bench_drs.py --datasets 20000 --files-per-dataset 50
    python tests/perf/bench_drs.py --skip-load

Needs `wrk` (Debian package). Loads the demo catalog into --data-dir (embedded Postgres unless
ATRIUM_DATABASE_URL is set), grants a benchmark user access to controlled datasets, starts the
server, and prints wrk's latency distribution for open objects (anonymous) and controlled
objects (bearer token), bulk p50/p95, and the server's peak RSS.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import subprocess
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
from perf_server import atrium, peak_rss_mb, wait_until_healthy
from sqlalchemy import select
from sqlalchemy.orm import Session

from api.database import open_engine
from api.identity import mint_token
from api.settings import Settings
from catalog.models import AccessLevel, Dataset, DatasetStatus, DrsObject
from catalog.principals import SYSTEM
from governance import service as governance

LUA = """
local ids = {}
for line in io.lines("%s") do ids[#ids + 1] = line end
math.randomseed(7)
request = function()
  return wrk.format("GET", "/ga4gh/drs/v1/objects/" .. ids[math.random(#ids)], %s)
end
"""


def sample_ids(settings: Settings, level: AccessLevel, count: int) -> list[str]:
    with open_engine(settings) as engine, Session(engine) as session:
        stmt = (
            select(DrsObject.id)
            .join(Dataset, Dataset.id == DrsObject.dataset_id)
            .where(
                Dataset.access_level == level,
                Dataset.status == DatasetStatus.PUBLISHED,
                DrsObject.is_bundle.is_(False),
            )
            .order_by(DrsObject.id)
        )
        ids = list(session.scalars(stmt))
    return random.Random(1).sample(ids, min(count, len(ids)))


def grant_controlled(settings: Settings, subject: str) -> None:
    """A grant of every published controlled dataset to the benchmark user."""
    with open_engine(settings) as engine, Session(engine) as session, session.begin():
        accessions = session.scalars(
            select(Dataset.accession).where(
                Dataset.access_level == AccessLevel.CONTROLLED,
                Dataset.status == DatasetStatus.PUBLISHED,
            )
        ).all()
        for accession in accessions:
            governance.grant_access(
                session,
                SYSTEM,
                issuer=settings.issuer_url,
                subject=subject,
                accession=accession,
                expires_at=datetime.now(UTC) + timedelta(days=1),
            )


def run_wrk(url: str, ids: list[str], token: str | None, args: argparse.Namespace) -> str:
    ids_file = args.data_dir / "bench-ids.txt"
    ids_file.write_text("\n".join(ids) + "\n")
    headers = f'{{["Authorization"] = "Bearer {token}"}}' if token else "nil"
    script = args.data_dir / "bench.lua"
    script.write_text(LUA % (ids_file, headers))
    result = subprocess.run(
        [
            "wrk",
            "-t2",
            f"-c{args.concurrency}",
            f"-d{args.duration}s",
            "--latency",
            "-s",
            str(script),
            url,
        ],
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout


def bulk(url: str, ids: list[str], token: str | None, rounds: int) -> list[float]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    rng = random.Random(3)
    timings = []
    with httpx.Client(timeout=60) as client:
        for _ in range(rounds):
            batch = rng.sample(ids, 1000)
            started = time.perf_counter()
            response = client.post(url, json={"bulk_object_ids": batch}, headers=headers)
            timings.append((time.perf_counter() - started) * 1000)
            body = response.json()
            assert response.status_code == 200, body
            assert body["summary"]["resolved"] == 1000, body["summary"]
    return timings


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/atrium-bench"))
    parser.add_argument("--datasets", type=int, default=20_000)
    parser.add_argument("--files-per-dataset", type=int, default=50)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--workers", type=int, help="`atrium serve --workers N` (default 1)")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--duration", type=int, default=30)
    parser.add_argument("--port", type=int, default=8124)
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "ATRIUM_DATA_DIR": str(args.data_dir),
        "ATRIUM_PORT": str(args.port),
        "ATRIUM_LOG_LEVEL": "warning",
    }
    os.environ.update(env)
    settings = Settings()
    if not args.skip_load:
        started = time.perf_counter()
        subprocess.run(
            atrium(
                "demo",
                "--no-serve",
                "--datasets",
                str(args.datasets),
                "--files-per-dataset",
                str(args.files_per_dataset),
            ),
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
        )
        print(f"loaded in {time.perf_counter() - started:.0f} s")
        grant_controlled(settings, "bench")
    open_ids = sample_ids(settings, AccessLevel.OPEN, 100_000)
    controlled_ids = sample_ids(settings, AccessLevel.CONTROLLED, 100_000)
    token = mint_token(settings, subject="bench", ttl_seconds=3600)
    workers = ["--workers", str(args.workers)] if args.workers else []
    server = subprocess.Popen(atrium("serve", *workers), env=env)
    base = f"http://127.0.0.1:{args.port}"
    try:
        wait_until_healthy(base)
        objects = f"{base}/ga4gh/drs/v1/objects"
        print(f"open objects: {len(open_ids)} ids, anonymous")
        print(run_wrk(base, open_ids, None, args))
        print(f"controlled objects: {len(controlled_ids)} ids, bearer token with grants")
        print(run_wrk(base, controlled_ids, token, args))
        timings = bulk(objects, open_ids, None, rounds=50)
        quantiles = statistics.quantiles(timings, n=100)
        print(
            f"bulk 1000 ids: p50={quantiles[49]:.1f} ms p95={quantiles[94]:.1f} ms "
            f"max={max(timings):.1f} ms"
        )
        print(f"server peak RSS={peak_rss_mb(server.pid):.0f} MB")
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    main()
