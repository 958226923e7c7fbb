"""Strict verification of bearer JWTs.

A token is accepted only if its ``iss`` is on the allow-list, its ``alg`` is one that issuer
may use (never ``none`` or HMAC), its signature verifies against that issuer's published keys,
and ``aud``, ``exp``, ``nbf`` and ``sub`` pass. Every refusal says which check failed without
echoing the token.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from authlib.oidc.discovery import OpenIDProviderMetadata
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet

from catalog.errors import Unauthenticated

MAX_TOKEN_BYTES = 16_384


@dataclass(frozen=True)
class IssuerPolicy:
    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    jwks_uri: str | None = None
    local_keys: KeySet | None = None


@dataclass
class _CachedKeys:
    keys: KeySet
    fetched_at: float


@dataclass
class TokenVerifier:
    policies: dict[str, IssuerPolicy]
    cache_seconds: int = 300
    min_refetch_seconds: int = 30
    leeway: int = 30
    clock: Callable[[], float] = time.time
    _http: httpx.AsyncClient | None = None
    _cache: dict[str, _CachedKeys] = field(default_factory=dict)
    _locks: dict[str, asyncio.Lock] = field(default_factory=dict)

    @property
    def http(self) -> httpx.AsyncClient:
        """Created on first use: deployments trusting only the built-in issuer never need it."""
        if self._http is None:
            self._http = httpx.AsyncClient(timeout=5.0)
        return self._http

    async def verify(self, token: str) -> dict[str, Any]:
        header, unverified = _peek(token)
        issuer = unverified.get("iss")
        policy = self.policies.get(issuer) if isinstance(issuer, str) else None
        if policy is None:
            raise Unauthenticated("token issuer is not trusted")
        alg = header.get("alg")
        if alg not in policy.algorithms:
            raise Unauthenticated(f"token algorithm {alg!r} is not allowed for this issuer")
        keys = await self._keys(policy, header.get("kid"))
        try:
            verified = jwt.decode(token, keys, algorithms=list(policy.algorithms))
        except (jose_errors.BadSignatureError, jose_errors.DecodeError, ValueError) as exc:
            raise Unauthenticated("token signature is invalid") from exc
        except jose_errors.JoseError as exc:
            raise Unauthenticated(f"token cannot be verified: {exc.error}") from exc
        registry = jwt.JWTClaimsRegistry(
            now=int(self.clock()),
            leeway=self.leeway,
            iss={"essential": True, "value": policy.issuer},
            aud={"essential": True, "value": policy.audience},
            sub={"essential": True},
            exp={"essential": True},
        )
        try:
            registry.validate(verified.claims)
        except jose_errors.ExpiredTokenError as exc:
            raise Unauthenticated("token has expired") from exc
        except jose_errors.InvalidClaimError as exc:
            if exc.claim == "nbf":
                raise Unauthenticated("token is not yet valid") from exc
            raise Unauthenticated(f"token claim {exc.claim!r} is invalid or missing") from exc
        except jose_errors.ClaimError as exc:
            raise Unauthenticated(f"token claim {exc.claim!r} is invalid or missing") from exc
        if not isinstance(verified.claims.get("sub"), str) or not verified.claims["sub"]:
            raise Unauthenticated("token subject is missing")
        return verified.claims

    async def _keys(self, policy: IssuerPolicy, kid: Any) -> KeySet:
        """The issuer's keys, fetched at most once per ``cache_seconds``, and again early only
        for an unknown ``kid`` (key rotation) and then at most once per
        ``min_refetch_seconds``: unsigned garbage naming a trusted issuer must not be able to
        make us hammer that issuer."""
        if policy.local_keys is not None:
            return policy.local_keys
        cached = self._cache.get(policy.issuer)
        if cached is not None and self._usable(cached, kid):
            return cached.keys
        lock = self._locks.setdefault(policy.issuer, asyncio.Lock())
        async with lock:
            cached = self._cache.get(policy.issuer)  # a concurrent request may have fetched
            if cached is not None and self._usable(cached, kid):
                return cached.keys
            keys = await self._fetch(policy)
            self._cache[policy.issuer] = _CachedKeys(keys, self.clock())
            return keys

    def _usable(self, cached: _CachedKeys, kid: Any) -> bool:
        age = self.clock() - cached.fetched_at
        if age >= self.cache_seconds:
            return False
        return _has_kid(cached.keys, kid) or age < self.min_refetch_seconds

    async def _fetch(self, policy: IssuerPolicy) -> KeySet:
        try:
            jwks_uri = policy.jwks_uri or await self._discover_jwks_uri(policy.issuer)
            response = await self.http.get(jwks_uri)
            response.raise_for_status()
            document = response.json()
            if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
                raise ValueError("the JWKS document is not a JWK set")
            return KeySet.import_key_set(document)
        except (httpx.HTTPError, ValueError, jose_errors.JoseError) as exc:
            raise Unauthenticated("the token issuer's keys could not be fetched") from exc

    async def _discover_jwks_uri(self, issuer: str) -> str:
        response = await self.http.get(f"{issuer.rstrip('/')}/.well-known/openid-configuration")
        response.raise_for_status()
        document = response.json()
        if not isinstance(document, dict) or not all(
            isinstance(document.get(k), str) for k in ("issuer", "jwks_uri")
        ):
            raise ValueError("the discovery document lacks issuer and jwks_uri strings")
        metadata = OpenIDProviderMetadata(document)
        metadata.validate_issuer()
        metadata.validate_jwks_uri()
        if metadata["issuer"] != issuer:
            raise ValueError("discovery document names a different issuer")
        return str(metadata["jwks_uri"])

    async def aclose(self) -> None:
        if self._http is not None:
            await self._http.aclose()


def _has_kid(keys: KeySet, kid: Any) -> bool:
    return kid is None or any(k.kid == kid for k in keys.keys)


def _peek(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and claims before verification, only to choose the issuer policy and keys."""
    if len(token) > MAX_TOKEN_BYTES:
        raise Unauthenticated("token is too large")
    parts = token.split(".")
    if len(parts) != 3:
        raise Unauthenticated("token is not a signed JWT (expected header.payload.signature)")
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
    except (ValueError, binascii.Error) as exc:
        raise Unauthenticated("token is malformed") from exc
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise Unauthenticated("token is malformed")
    if not parts[2]:
        raise Unauthenticated("token is unsigned")
    return header, claims


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
