"""KeyStore against a real loopback server: what it fetches, when it refetches, how many
requests concurrent callers cause, and which documents it refuses."""

from __future__ import annotations

import asyncio
import base64
import ssl
from collections import Counter
from collections.abc import Awaitable, Callable, Iterator
from typing import Any, TypeVar

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc.jwk import ECKey, KeySet, RSAKey

from governance.keys import KeyStore, KeysUnavailable, parse_key_set
from tests.governance.jwks_server import DISCOVERY, JwksServer, closed_port_url, public_jwk, serve

T = TypeVar("T")
TLS = ssl.create_default_context()  # shared: building one per HTTP client costs ~50 ms
JWKS = "/idp/jwks.json"
IDP_DISCOVERY = f"/idp{DISCOVERY}"


def ec_key() -> ECKey:
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    return key


def new_store(**options: Any) -> KeyStore:
    return KeyStore(client=httpx.AsyncClient(verify=TLS), **options)


def run(store: KeyStore, work: Callable[[KeyStore], Awaitable[T]]) -> T:
    async def main() -> T:
        try:
            return await work(store)
        finally:
            await store.aclose()
            if store.client is not None:
                await store.client.aclose()

    return asyncio.run(main())


class Clock:
    def __init__(self, now: float = 1_750_000_000) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture(scope="module")
def server_module() -> Iterator[JwksServer]:
    with serve() as server:
        yield server


@pytest.fixture
def server(server_module: JwksServer) -> JwksServer:
    server_module.reset()
    return server_module


@pytest.fixture(scope="module")
def key() -> ECKey:
    return ec_key()


@pytest.fixture
def issuer(server: JwksServer, key: ECKey) -> str:
    return server.publish_issuer("idp", [key])


def test_explicit_jwks_uri_is_fetched_once_and_cached(
    server: JwksServer, issuer: str, key: ECKey
) -> None:
    async def work(store: KeyStore) -> list[KeySet]:
        return [await store.keys(issuer, kid=key.kid, jwks_uri=server.url(JWKS)) for _ in "abc"]

    sets = run(new_store(), work)

    assert [k.kid for k in sets[0].keys] == [key.kid]
    assert server.hits == Counter({JWKS: 1})


def test_discovery_finds_the_jwks_uri_when_none_is_given(
    server: JwksServer, issuer: str, key: ECKey
) -> None:
    keys = run(new_store(), lambda store: store.keys(issuer, kid=key.kid))

    assert [k.kid for k in keys.keys] == [key.kid]
    assert server.hits == Counter({IDP_DISCOVERY: 1, JWKS: 1})


def test_each_url_of_one_issuer_has_its_own_cache_entry(
    server: JwksServer, issuer: str, key: ECKey
) -> None:
    other = ec_key()
    pinned = server.publish_keys("/idp/visa-keys.json", [other])

    async def work(store: KeyStore) -> tuple[KeySet, KeySet]:
        return await store.keys(issuer), await store.keys(issuer, jwks_uri=pinned)

    by_discovery, by_pin = run(new_store(), work)

    assert [k.kid for k in by_discovery.keys] == [key.kid]
    assert [k.kid for k in by_pin.keys] == [other.kid]


def test_keys_are_refetched_once_the_cache_expires(server: JwksServer, issuer: str) -> None:
    clock = Clock()
    fetches: list[int] = []

    async def work(store: KeyStore) -> None:
        for advance in (0, 299, 2, 1):
            clock.now += advance
            await store.keys(issuer)
            fetches.append(server.hits[JWKS])

    run(new_store(cache_seconds=300, clock=clock), work)

    assert fetches == [1, 1, 2, 2]


def test_unknown_kids_refetch_at_most_once_per_min_refetch_seconds(
    server: JwksServer, issuer: str, key: ECKey
) -> None:
    clock = Clock()

    async def work(store: KeyStore) -> None:
        await store.keys(issuer, kid=key.kid)
        for n in range(20):
            await store.keys(issuer, kid=f"forged-{n}")
        assert server.hits[JWKS] == 1
        clock.now += 31
        await store.keys(issuer, kid="forged-after-the-pause")
        assert server.hits[JWKS] == 2

    run(new_store(min_refetch_seconds=30, clock=clock), work)


def test_a_rotated_key_is_found_by_one_refetch(server: JwksServer, issuer: str, key: ECKey) -> None:
    clock = Clock()
    rotated = ec_key()

    async def work(store: KeyStore) -> KeySet:
        await store.keys(issuer, kid=key.kid)
        server.publish_keys(JWKS, [key, rotated])
        clock.now += 31
        return await store.keys(issuer, kid=rotated.kid)

    keys = run(new_store(min_refetch_seconds=30, clock=clock), work)

    assert {k.kid for k in keys.keys} == {key.kid, rotated.kid}
    assert server.hits[JWKS] == 2


def test_concurrent_callers_share_one_fetch(server: JwksServer, key: ECKey) -> None:
    """The key set answers slowly, so without the per-issuer lock each caller would fetch."""
    server.publish("/slow/jwks.json", {"keys": [public_jwk(key)]}, delay=0.2)
    issuer = server.url("/slow")

    async def work(store: KeyStore) -> list[KeySet]:
        calls = [store.keys(issuer, jwks_uri=server.url("/slow/jwks.json")) for _ in range(20)]
        return list(await asyncio.gather(*calls))

    sets = run(new_store(), work)

    assert len({id(s) for s in sets}) == 1
    assert server.hits == Counter({"/slow/jwks.json": 1})


def test_cached_keys_outlive_an_outage(server: JwksServer, issuer: str) -> None:
    async def work(store: KeyStore) -> None:
        await store.keys(issuer)
        server.publish(JWKS, {"error": "down"}, status=503)
        await store.keys(issuer)

    run(new_store(), work)

    assert server.hits[JWKS] == 1


def test_a_failed_fetch_is_not_cached(server: JwksServer, issuer: str, key: ECKey) -> None:
    server.publish(JWKS, {"error": "down"}, status=503)

    async def work(store: KeyStore) -> KeySet:
        with pytest.raises(KeysUnavailable, match="HTTP 503"):
            await store.keys(issuer)
        server.publish_keys(JWKS, [key])
        return await store.keys(issuer)

    assert [k.kid for k in run(new_store(), work).keys] == [key.kid]


def _oversized() -> bytes:
    return b'{"keys": [], "pad": "' + b"x" * 2_000_000 + b'"}'


@pytest.mark.parametrize(
    ("path", "body", "status", "message"),
    [
        (JWKS, b"{}", 200, "the JWKS document is not a JWK set"),
        (JWKS, b"[]", 200, "the JWKS document is not a JWK set"),
        (JWKS, b'{"keys": "abc"}', 200, "the JWKS document is not a JWK set"),
        (JWKS, b'{"keys": [1]}', 200, "an entry that is not a JWK"),
        (JWKS, b'{"keys": [{"n": "AQAB"}]}', 200, "an entry that is not a JWK"),
        (JWKS, b'{"keys": [{"kty": 7}]}', 200, "an entry that is not a JWK"),
        (JWKS, b'{"keys": [{"kty": "EC", "kid": 5}]}', 200, "kid is not a string"),
        (JWKS, b'{"keys": []}', 200, "holds no usable key"),
        (JWKS, b'{"keys": [{"kty": "RSA"}]}', 200, "holds no usable key"),
        (JWKS, b'{"keys": [{"kty": "PQ-9000", "x": "y"}]}', 200, "holds no usable key"),
        (JWKS, b"<html>keys</html>", 200, "the JWKS document is not JSON"),
        (JWKS, b"\xff\xfe\x00", 200, "the JWKS document is not JSON"),
        (JWKS, b'{"error": "gone"}', 404, "the JWKS URL answered HTTP 404"),
        (JWKS, _oversized(), 200, "the JWKS document is too large"),
        (IDP_DISCOVERY, b"[1, 2]", 200, "lacks issuer and jwks_uri strings"),
        (IDP_DISCOVERY, b'{"issuer": 42, "jwks_uri": "x"}', 200, "lacks issuer and jwks_uri"),
        (IDP_DISCOVERY, b"not json", 200, "the discovery document is not JSON"),
        (IDP_DISCOVERY, b"{}", 500, "the discovery URL answered HTTP 500"),
    ],
    ids=[
        "jwks-empty-object",
        "jwks-array",
        "jwks-keys-not-a-list",
        "jwks-entry-not-an-object",
        "jwks-entry-without-kty",
        "jwks-kty-not-a-string",
        "jwks-kid-not-a-string",
        "jwks-no-keys",
        "jwks-rsa-without-modulus",
        "jwks-only-unknown-key-types",
        "jwks-html",
        "jwks-not-utf8",
        "jwks-404",
        "jwks-oversized",
        "discovery-array",
        "discovery-issuer-number",
        "discovery-not-json",
        "discovery-500",
    ],
)
def test_documents_of_the_wrong_shape_are_refused(
    server: JwksServer, issuer: str, path: str, body: bytes, status: int, message: str
) -> None:
    server.publish_raw(path, body, status=status)

    with pytest.raises(KeysUnavailable, match=message) as caught:
        run(new_store(), lambda store: store.keys(issuer))

    assert caught.value.status_code == 503
    assert caught.value.code == "KEYS_UNAVAILABLE"


def test_discovery_naming_another_issuer_is_refused_before_any_key_fetch(
    server: JwksServer, issuer: str
) -> None:
    server.publish(IDP_DISCOVERY, {"issuer": server.url("/other"), "jwks_uri": server.url(JWKS)})

    with pytest.raises(KeysUnavailable, match="names a different issuer"):
        run(new_store(), lambda store: store.keys(issuer))

    assert server.hits == Counter({IDP_DISCOVERY: 1})


def test_discovery_with_an_insecure_jwks_uri_is_refused(server: JwksServer, issuer: str) -> None:
    server.publish(IDP_DISCOVERY, {"issuer": issuer, "jwks_uri": "http://keys.example.org/j"})

    with pytest.raises(KeysUnavailable, match="the discovery document is invalid"):
        run(new_store(), lambda store: store.keys(issuer))


def test_redirects_are_not_followed(server: JwksServer, issuer: str) -> None:
    """A pinned URL must not be able to send the store anywhere else."""
    target = server.publish_keys("/elsewhere/jwks.json", [ec_key()])
    server.publish_raw(JWKS, b"", status=302, headers={"location": target})

    with pytest.raises(KeysUnavailable, match="HTTP 302"):
        run(new_store(), lambda store: store.keys(issuer, jwks_uri=server.url(JWKS)))

    assert server.hits == Counter({JWKS: 1})


def test_an_issuer_that_is_down_is_unavailable_not_a_crash() -> None:
    down = closed_port_url()

    with pytest.raises(KeysUnavailable, match="could not be reached"):
        run(KeyStore(), lambda store: store.keys(down))  # the store's own client, this once


def _rsa_jwk(bits: int) -> dict[str, Any]:
    """A public RSA JWK of any size, built without joserfc (which warns below 2048 bits)."""
    numbers = rsa.generate_private_key(65537, bits).public_key().public_numbers()

    def b64(n: int) -> str:
        raw = n.to_bytes((n.bit_length() + 7) // 8, "big")
        return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()

    return {"kty": "RSA", "n": b64(numbers.n), "e": b64(numbers.e), "kid": f"rsa-{bits}"}


def test_rsa_keys_shorter_than_2048_bits_are_dropped() -> None:
    strong = RSAKey.generate_key(2048, private=True)
    strong_jwk = {**strong.as_dict(private=False), "kid": "strong"}

    keys = parse_key_set({"keys": [_rsa_jwk(1024), strong_jwk]})

    assert [k.kid for k in keys.keys] == ["strong"]
    with pytest.raises(KeysUnavailable, match="holds no usable key"):
        parse_key_set({"keys": [_rsa_jwk(1024)]})


def test_an_injected_client_is_used_and_left_open(
    server: JwksServer, issuer: str, key: ECKey
) -> None:
    async def work() -> httpx.AsyncClient:
        async with httpx.AsyncClient() as client:
            store = KeyStore(client=client)
            await store.keys(issuer, jwks_uri=server.url(JWKS))
            await store.aclose()
            assert not client.is_closed
            return client

    assert asyncio.run(work()).is_closed
    assert server.hits == Counter({JWKS: 1})
