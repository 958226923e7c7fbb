"""GraphQL benchmark: the nested catalog query (page of 100 datasets with steward, funders,
diseases and their first 10 files) against `atrium serve`, from this separate process.

    python tests/perf/bench_graphql.py --datasets 20000 --files-per-dataset 50
    python tests/perf/bench_graphql.py --skip-load          # reuse the loaded catalog
    python tests/perf/bench_graphql.py --skip-load --no-cache   # execute every request
    python tests/perf/bench_graphql.py --skip-load --signed-in  # a researcher's bearer token
    python tests/perf/bench_graphql.py --skip-load --signed-in --researchers 50 --memo-only

Loads the demo catalog with `atrium demo --no-serve` into --data-dir (embedded Postgres unless
ATRIUM_DATABASE_URL is set), starts `atrium serve`, drives it at --concurrency for --duration
seconds, and prints latency percentiles, throughput and the server's peak RSS. Requests are
anonymous, so after the warm-up the response cache answers them unless --no-cache turns it off
(ATRIUM_GRAPHQL_CACHE_MB=0, and the memo of counts and nodes, ATRIUM_GRAPHQL_MEMO_MB=0); the
server reports which in its `atrium-cache` header. With --signed-in every request carries the
bearer token of one of --researchers researchers (no roles, no grants: one class of access,
whose answers the response cache shares); --memo-only turns the response cache off and leaves
the memo on.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import os
import random
import statistics
import subprocess
import time
from pathlib import Path

import httpx
import orjson
from perf_server import atrium, peak_rss_mb, wait_until_healthy

QUERY = """query($first: Int!, $steward: String, $order: DatasetSortField!) {
  datasets(first: $first, filter: {steward: $steward},
           orderBy: {field: $order, direction: DESC}) {
    totalCount pageInfo { endCursor hasNextPage }
    edges { node {
      accession title accessLevel participantCount fileCount totalBytes
      steward { slug name }
      funders { funder { name } awardNumber }
      diseases { curie label }
      files(first: 10) { totalCount edges { node {
        id name size mimeType checksums { type checksum } accessMethods { type accessId region }
      } } }
    } }
  } }"""
STEWARDS = [
    None,
    "northbridge-genomics",
    "lakeside-cancer-institute",
    "meridian-health-research",
    "cascadia-brain-initiative",
    "harbor-pediatric-biobank",
    "sierra-imaging-consortium",
]
ORDERS = ["UPDATED_AT", "PARTICIPANTS", "TITLE", "ACCESSION"]


def load(args: argparse.Namespace, env: dict[str, str]) -> None:
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
    print(
        f"loaded {args.datasets} datasets x {args.files_per_dataset} files "
        f"in {time.perf_counter() - started:.1f} s"
    )


async def drive(
    args: argparse.Namespace, url: str
) -> tuple[list[float], int, float, collections.Counter[str]]:
    latencies: list[float] = []
    cache: collections.Counter[str] = collections.Counter()
    failures = 0
    deadline = time.perf_counter() + args.duration
    rng, callers = random.Random(7), random.Random(11)

    async def worker(client: httpx.AsyncClient) -> None:
        nonlocal failures
        while time.perf_counter() < deadline:
            variables = {
                "first": args.page,
                "steward": rng.choice(STEWARDS),
                "order": rng.choice(ORDERS),
            }
            started = time.perf_counter()
            response = await client.post(
                url, json={"query": QUERY, "variables": variables}, headers=headers(args, callers)
            )
            elapsed = time.perf_counter() - started
            body = orjson.loads(response.content)
            if response.status_code != 200 or "errors" in body:
                failures += 1
                continue
            latencies.append(elapsed)
            cache[response.headers.get("atrium-cache", "none")] += 1

    limits = httpx.Limits(max_connections=args.concurrency)
    async with httpx.AsyncClient(timeout=60, limits=limits) as client:
        began = time.perf_counter()
        await asyncio.gather(*(worker(client) for _ in range(args.concurrency)))
        wall = time.perf_counter() - began
    return latencies, failures, wall, cache


WRK_SCRIPT = """
local bodies = {%s}
local bearers = {%s}
math.randomseed(7)
request = function()
  local body = bodies[math.random(#bodies)]
  local headers = {["Content-Type"] = "application/json"}
  if #bearers == 1 then headers["Authorization"] = bearers[1] end
  if #bearers > 1 then headers["Authorization"] = bearers[math.random(#bearers)] end
  return wrk.format("POST", "/graphql", headers, body)
end
done = function(summary, latency, requests)
  io.write(string.format("p95 %%.2f ms\\n", latency:percentile(95) / 1000))
end
"""


def run_wrk(args: argparse.Namespace, url: str, seconds: int) -> str:
    """The same requests from wrk (C, two threads), whose own cost is small next to a Python
    client's parsing of ~150 KB answers."""
    bodies = [
        orjson.dumps(
            {"query": QUERY, "variables": {"first": args.page, "steward": s, "order": o}}
        ).decode()
        for s in STEWARDS
        for o in ORDERS
    ]
    script = args.data_dir / "bench-graphql.lua"
    bearers = ", ".join(f'"{h}"' for h in args.bearers)
    script.write_text(WRK_SCRIPT % (", ".join(f"[==[{b}]==]" for b in bodies), bearers))
    command = [
        "wrk",
        "-t2",
        f"-c{args.concurrency}",
        f"-d{seconds}s",
        "--latency",
        "--timeout",
        "60s",
    ]
    result = subprocess.run(
        [*command, "-s", str(script), url], check=True, capture_output=True, text=True
    )
    return result.stdout


def mint(env: dict[str, str], n: int) -> str:
    """The Authorization header of researcher ``n``."""
    subject = "bench-researcher" if n == 0 else f"bench-researcher-{n}"
    minted = subprocess.run(
        atrium("token", "--sub", subject), env=env, check=True, capture_output=True, text=True
    )
    return f"Bearer {minted.stdout.strip()}"


def headers(args: argparse.Namespace, rng: random.Random) -> dict[str, str]:
    """A caller's headers; ``rng`` is the callers' own, so the pages asked are the same sequence
    whatever the number of callers."""
    return {"Authorization": rng.choice(args.bearers)} if args.bearers else {}


def warm_up(args: argparse.Namespace, url: str) -> None:
    """Every variant once, so the measured run starts with whatever the server keeps warm."""
    callers = random.Random(11)
    with httpx.Client(timeout=120) as client:
        for steward in STEWARDS:
            for order in ORDERS:
                variables = {"first": args.page, "steward": steward, "order": order}
                response = client.post(
                    url,
                    json={"query": QUERY, "variables": variables},
                    headers=headers(args, callers),
                )
                response.raise_for_status()
                assert "errors" not in response.json(), response.text


def percentile(values: list[float], q: float) -> float:
    return statistics.quantiles(values, n=1000)[int(q * 10) - 1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--data-dir", type=Path, default=Path("/tmp/atrium-bench"))
    parser.add_argument("--datasets", type=int, default=20_000)
    parser.add_argument("--files-per-dataset", type=int, default=50)
    parser.add_argument("--skip-load", action="store_true")
    parser.add_argument("--workers", type=int, help="`atrium serve --workers N` (default 1)")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--duration", type=float, default=30.0)
    parser.add_argument("--page", type=int, default=100)
    parser.add_argument("--port", type=int, default=8123)
    parser.add_argument(
        "--no-cache", action="store_true", help="GRAPHQL_CACHE_MB=0 and GRAPHQL_MEMO_MB=0"
    )
    parser.add_argument("--signed-in", action="store_true", help="researchers' bearer tokens")
    parser.add_argument("--researchers", type=int, default=1, help="distinct signed-in callers")
    parser.add_argument("--memo-only", action="store_true", help="GRAPHQL_CACHE_MB=0 alone")
    parser.add_argument("--warm-up", type=int, default=30, help="seconds of wrk load discarded")
    parser.add_argument(
        "--load", choices=["httpx", "wrk"], default="httpx", help="the load generator"
    )
    args = parser.parse_args()
    args.data_dir.mkdir(parents=True, exist_ok=True)
    env = {
        **os.environ,
        "ATRIUM_DATA_DIR": str(args.data_dir),
        "ATRIUM_PORT": str(args.port),
        "ATRIUM_LOG_LEVEL": "warning",
    }
    if args.no_cache or args.memo_only:
        env["ATRIUM_GRAPHQL_CACHE_MB"] = "0"
    if args.no_cache:
        env["ATRIUM_GRAPHQL_MEMO_MB"] = "0"
    if not args.skip_load:
        load(args, env)
    args.bearers = [mint(env, n) for n in range(args.researchers)] if args.signed_in else []
    workers = ["--workers", str(args.workers)] if args.workers else []
    server = subprocess.Popen(atrium("serve", *workers), env=env)
    url = f"http://127.0.0.1:{args.port}/graphql"
    try:
        wait_until_healthy(f"http://127.0.0.1:{args.port}")
        warm_up(args, url)
        if args.load == "wrk":
            base = f"http://127.0.0.1:{args.port}"
            run_wrk(args, base, args.warm_up)  # until every server process holds every variant
            print(run_wrk(args, base, int(args.duration)))
            print(f"server peak RSS={peak_rss_mb(server.pid):.0f} MB")
            return
        latencies, failures, wall, cache = asyncio.run(drive(args, url))
        rss = peak_rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    ms = [v * 1000 for v in latencies]
    print(f"requests={len(ms)} failures={failures} concurrency={args.concurrency} page={args.page}")
    print(f"throughput={len(ms) / wall:.1f} req/s")
    print(
        f"p50={percentile(ms, 50):.1f} ms p95={percentile(ms, 95):.1f} ms "
        f"p99={percentile(ms, 99):.1f} ms mean={statistics.fmean(ms):.1f} ms"
    )
    print(f"server peak RSS={rss:.0f} MB; answers by cache state: {dict(cache)}")


if __name__ == "__main__":
    main()
