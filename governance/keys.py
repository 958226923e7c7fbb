"""Fetching and caching the public keys (JWKS) of token issuers.

One ``KeyStore`` serves bearer-token verification and passport and visa verification. It finds
an issuer's key set at an explicit ``jwks_uri`` or through the issuer's OIDC discovery document,
keeps it for ``cache_seconds``, and refetches early only for an unknown ``kid`` (key rotation),
at most once per ``min_refetch_seconds``. Concurrent requests for one key set share one fetch.
Every network or shape failure becomes ``KeysUnavailable``.

It must not decide trust: callers choose which issuer and which URL to ask for, and only after
they have checked that both are trusted (a visa's ``jku`` is never fetched unless pinned). It
never follows redirects, so a pinned URL cannot send it somewhere else.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import errors as jose_errors
from joserfc.jwk import KeySet

from catalog.errors import AtriumError

DISCOVERY_PATH = "/.well-known/openid-configuration"
MAX_DOCUMENT_BYTES = 1_048_576
MIN_RSA_BITS = 2048


class KeysUnavailable(AtriumError):
    """An issuer's keys could not be fetched or were not a usable key set. The message names
    the failed step; callers decide whether that refuses a request (401) or skips a visa."""

    status_code = 503
    code = "KEYS_UNAVAILABLE"


@dataclass
class _CachedKeys:
    keys: KeySet
    fetched_at: float


@dataclass
class KeyStore:
    cache_seconds: float = 300
    min_refetch_seconds: float = 30
    timeout_seconds: float = 5.0
    max_document_bytes: int = MAX_DOCUMENT_BYTES
    min_rsa_bits: int = MIN_RSA_BITS
    """RSA keys shorter than this are dropped from fetched sets (AAI 1.2 asks for 2048)."""
    clock: Callable[[], float] = time.time
    client: httpx.AsyncClient | None = None
    """An HTTP client to use instead of one created on first use; the store never closes it."""
    local: dict[str, Callable[[], KeySet]] = field(default_factory=dict)
    """Key sets this process holds, by the JWKS URL that publishes them (Atrium's own key
    ring): returned as they are now, never fetched, so a rotation shows at once."""
    _own_client: httpx.AsyncClient | None = field(default=None, init=False, repr=False)
    _cache: dict[tuple[str, str | None], _CachedKeys] = field(
        default_factory=dict, init=False, repr=False
    )
    _locks: dict[tuple[str, str | None], asyncio.Lock] = field(
        default_factory=dict, init=False, repr=False
    )

    @property
    def http(self) -> httpx.AsyncClient:
        """Created on first use: deployments trusting only local keys never need it."""
        if self.client is not None:
            return self.client
        if self._own_client is None:
            self._own_client = httpx.AsyncClient(
                timeout=self.timeout_seconds, follow_redirects=False
            )
        return self._own_client

    async def keys(self, issuer: str, *, kid: object = None, jwks_uri: str | None = None) -> KeySet:
        """The key set of ``issuer``, read from ``jwks_uri`` or, when it is None, from the
        ``jwks_uri`` of the issuer's discovery document.

        A cached set is reused for ``cache_seconds``; a ``kid`` it lacks triggers a refetch, but
        at most once per ``min_refetch_seconds``, so unsigned garbage naming a trusted issuer
        cannot make us hammer that issuer. Raises ``KeysUnavailable``.
        """
        if jwks_uri is not None and jwks_uri in self.local:
            return self.local[jwks_uri]()
        slot = (issuer, jwks_uri)
        cached = self._cache.get(slot)
        if cached is not None and self._usable(cached, kid):
            return cached.keys
        lock = self._locks.setdefault(slot, asyncio.Lock())
        async with lock:
            cached = self._cache.get(slot)  # a concurrent request may have fetched
            if cached is not None and self._usable(cached, kid):
                return cached.keys
            keys = await self._fetch(issuer, jwks_uri)
            self._cache[slot] = _CachedKeys(keys, self.clock())
            return keys

    def _usable(self, cached: _CachedKeys, kid: object) -> bool:
        age = self.clock() - cached.fetched_at
        if age >= self.cache_seconds:
            return False
        return has_kid(cached.keys, kid) or age < self.min_refetch_seconds

    async def _fetch(self, issuer: str, jwks_uri: str | None) -> KeySet:
        uri = jwks_uri or await self._discover_jwks_uri(issuer)
        return parse_key_set(await self._get_json(uri, "JWKS"), min_rsa_bits=self.min_rsa_bits)

    async def _discover_jwks_uri(self, issuer: str) -> str:
        document = await self._get_json(f"{issuer.rstrip('/')}{DISCOVERY_PATH}", "discovery")
        if not isinstance(document, dict) or not all(
            isinstance(document.get(k), str) for k in ("issuer", "jwks_uri")
        ):
            raise KeysUnavailable("the discovery document lacks issuer and jwks_uri strings")
        metadata = OpenIDProviderMetadata(document)
        try:
            metadata.validate_issuer()
            metadata.validate_jwks_uri()
        except ValueError as exc:
            raise KeysUnavailable(f"the discovery document is invalid: {exc}") from exc
        if metadata["issuer"] != issuer:
            raise KeysUnavailable("the discovery document names a different issuer")
        return str(metadata["jwks_uri"])

    async def _get_json(self, url: str, what: str) -> Any:
        """The JSON body at ``url``, read up to ``max_document_bytes``."""
        try:
            async with self.http.stream("GET", url) as response:
                if not response.is_success:
                    raise KeysUnavailable(f"the {what} URL answered HTTP {response.status_code}")
                body = bytearray()
                async for chunk in response.aiter_bytes():
                    body += chunk
                    if len(body) > self.max_document_bytes:
                        raise KeysUnavailable(f"the {what} document is too large")
        except httpx.HTTPError as exc:
            raise KeysUnavailable(f"the {what} URL could not be reached") from exc
        try:
            return json.loads(bytes(body))
        except ValueError as exc:
            raise KeysUnavailable(f"the {what} document is not JSON") from exc

    async def aclose(self) -> None:
        if self._own_client is not None:
            await self._own_client.aclose()
            self._own_client = None


def parse_key_set(document: object, *, min_rsa_bits: int = MIN_RSA_BITS) -> KeySet:
    """A JWK set from a JSON document, refusing anything that is not ``{"keys": [{kty…}…]}``.

    Keys of a type joserfc does not know are skipped (RFC 7517 §5), and so are RSA keys
    shorter than ``min_rsa_bits``; a set left with no key is refused."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise KeysUnavailable("the JWKS document is not a JWK set")
    for entry in document["keys"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("kty"), str):
            raise KeysUnavailable("the JWKS document holds an entry that is not a JWK")
        if "kid" in entry and not isinstance(entry["kid"], str):
            raise KeysUnavailable("the JWKS document holds a key whose kid is not a string")
    strong = [e for e in document["keys"] if _rsa_bits(e) >= min_rsa_bits]
    try:
        return KeySet.import_key_set({"keys": strong})
    except (jose_errors.JoseError, ValueError, KeyError, TypeError) as exc:
        raise KeysUnavailable("the JWKS document holds no usable key") from exc


def _rsa_bits(entry: dict[str, Any]) -> float:
    """The modulus size of an RSA JWK; infinity for other keys and for a modulus that does not
    decode (importing it then fails with a proper error)."""
    modulus = entry.get("n")
    if entry["kty"] != "RSA" or not isinstance(modulus, str):
        return math.inf
    try:
        raw = base64.urlsafe_b64decode(modulus + "=" * (-len(modulus) % 4))
    except (ValueError, binascii.Error):
        return math.inf
    return int.from_bytes(raw, "big").bit_length()


def has_kid(keys: KeySet, kid: object) -> bool:
    return kid is None or any(k.kid == kid for k in keys.keys)
