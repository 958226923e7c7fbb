"""Passport verification benchmark: one passport of 20 ControlledAccessGrants visas, verified
in-process by ``PassportVerifier`` with the broker's and the visa issuer's key sets already
cached, so the numbers are parsing, signature checks and claim rules only.

    python tests/perf/bench_passports.py                        # 2,000 iterations, mixed algs
    python tests/perf/bench_passports.py --visa-alg ES256 --iterations 5000

Key sets are served by an in-process ``httpx.MockTransport`` that counts requests: they are
fetched during warm-up only, which the script asserts. Target: p99 < 10 ms.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import time
import uuid
from collections import Counter
from typing import Any

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey, RSAKey

from governance.access import dataset_url as make_dataset_url
from governance.keys import KeyStore
from governance.passports import PassportVerifier, TrustedBroker, TrustedVisaIssuer

BROKER = "https://broker.example.org"
VISA_ISSUER = "https://dac.example.org"
JKU = f"{VISA_ISSUER}/jwks.json"
SOURCE = "https://dac.example.org/committees/7"
ATRIUM = "https://atrium.example.org"

Key = ECKey | RSAKey


def alg_of(key: Key) -> str:
    return "ES256" if isinstance(key, ECKey) else "RS256"


def jwk(key: Key) -> dict[str, Any]:
    return {**key.as_dict(private=False), "use": "sig", "alg": alg_of(key), "kid": key.kid}


def build(visa_alg: str, visas: int, now: int) -> tuple[str, dict[str, bytes]]:
    """A signed passport and the documents its verification fetches, by URL."""
    broker_key = RSAKey.generate_key(2048, private=True)
    ec, rs = ECKey.generate_key("P-256", private=True), RSAKey.generate_key(2048, private=True)
    for generated in (broker_key, ec, rs):
        generated.ensure_kid()
    tokens = []
    for n in range(visas):
        key: Key = ec if visa_alg == "ES256" or (visa_alg == "mixed" and n % 2) else rs
        header = {"typ": "vnd.ga4gh.visa+jwt", "alg": alg_of(key), "kid": key.kid, "jku": JKU}
        claims = {
            "iss": VISA_ISSUER,
            "sub": "visa-subject",
            "iat": now - 60,
            "exp": now + 86_400,
            "jti": str(uuid.uuid4()),
            "ga4gh_visa_v1": {
                "type": "ControlledAccessGrants",
                "asserted": now - 86_400,
                "value": make_dataset_url(ATRIUM, f"ATR{n:06d}"),
                "source": SOURCE,
                "by": "dac",
            },
        }
        tokens.append(jwt.encode(header, claims, key, algorithms=[alg_of(key)]))
    passport_claims = {
        "iss": BROKER,
        "sub": "alice",
        "iat": now - 10,
        "exp": now + 3600,
        "jti": str(uuid.uuid4()),
        "ga4gh_passport_v1": tokens,
    }
    passport_header = {"typ": "vnd.ga4gh.passport+jwt", "alg": "RS256", "kid": broker_key.kid}
    passport = jwt.encode(passport_header, passport_claims, broker_key, algorithms=["RS256"])
    documents = {
        f"{BROKER}/jwks.json": json.dumps({"keys": [jwk(broker_key)]}).encode(),
        JKU: json.dumps({"keys": [jwk(ec), jwk(rs)]}).encode(),
    }
    return passport, documents


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))]


async def measure(args: argparse.Namespace) -> None:
    now = int(time.time())
    passport, documents = build(args.visa_alg, args.visas, now)
    hits: Counter[str] = Counter()

    def serve(request: httpx.Request) -> httpx.Response:
        hits[str(request.url)] += 1
        return httpx.Response(200, content=documents[str(request.url)])

    async with httpx.AsyncClient(transport=httpx.MockTransport(serve)) as client:
        store = KeyStore(client=client, cache_seconds=3600)
        verifier = PassportVerifier(
            brokers=[TrustedBroker(BROKER, jwks_uri=f"{BROKER}/jwks.json")],
            visa_issuers=[TrustedVisaIssuer(VISA_ISSUER, frozenset({SOURCE}), JKU)],
            key_store=store,
            audiences=[ATRIUM],
        )
        for _ in range(args.warmup):
            grants = await verifier.controlled_access([passport])
        assert len(grants.dataset_urls) == args.visas, grants.rejected
        fetched = Counter(hits)
        timings: list[float] = []
        for _ in range(args.iterations):
            started = time.perf_counter()
            await verifier.controlled_access([passport])
            timings.append((time.perf_counter() - started) * 1000)
        assert hits == fetched, "key sets were fetched again after warm-up"

    print(
        f"passport of {args.visas} visas ({args.visa_alg}, broker RS256), "
        f"{args.iterations} iterations after {args.warmup} warm-up, keys cached "
        f"({sum(fetched.values())} fetches, all during warm-up)"
    )
    print(
        f"p50={percentile(timings, 50):.2f} ms p99={percentile(timings, 99):.2f} ms "
        f"mean={statistics.fmean(timings):.2f} ms max={max(timings):.2f} ms"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=2000)
    parser.add_argument("--warmup", type=int, default=50)
    parser.add_argument("--visas", type=int, default=20)
    parser.add_argument("--visa-alg", choices=["ES256", "RS256", "mixed"], default="mixed")
    asyncio.run(measure(parser.parse_args()))


if __name__ == "__main__":
    main()
