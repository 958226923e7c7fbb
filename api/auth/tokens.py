"""Strict verification of bearer JWTs.

A token is accepted only if its ``iss`` is on the allow-list, its ``alg`` is one that issuer
may use (never ``none`` or HMAC), its signature verifies against that issuer's published keys,
and ``aud``, ``exp``, ``nbf`` and ``sub`` pass. Every refusal says which check failed without
echoing the token. External issuers' keys are fetched and cached by ``governance.keys.KeyStore``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet

from catalog.errors import Unauthenticated
from governance.keys import KeyStore, KeysUnavailable

MAX_TOKEN_BYTES = 16_384
REMEMBERED_TOKENS = 10_000
REMEMBER_SECONDS = 60
"""How long a verified token is trusted without checking its signature again: verifying costs
~1 ms, as much as the rest of a DRS lookup. A key retired from a ring or a JWKS stops
verifying new requests within this time (external JWKS are cached longer than this anyway)."""


@dataclass(frozen=True)
class IssuerPolicy:
    issuer: str
    audience: str
    algorithms: tuple[str, ...]
    jwks_uri: str | None = None
    local_keys: KeySet | Callable[[], KeySet] | None = None
    """Keys held in process (the built-in issuer's ring): a set, or a function returning the
    current set so that a rotation is seen without a restart."""


@dataclass
class TokenVerifier:
    policies: dict[str, IssuerPolicy]
    cache_seconds: int = 300
    min_refetch_seconds: int = 30
    leeway: int = 30
    clock: Callable[[], float] = time.time
    _key_store: KeyStore = field(init=False, repr=False)
    _verified: OrderedDict[bytes, tuple[float, dict[str, Any]]] = field(
        init=False, repr=False, default_factory=OrderedDict
    )

    def __post_init__(self) -> None:
        self._key_store = KeyStore(
            cache_seconds=self.cache_seconds,
            min_refetch_seconds=self.min_refetch_seconds,
            clock=self.clock,
            min_rsa_bits=0,  # bearer tokens have always accepted any RSA key size joserfc takes
        )

    @property
    def http(self) -> httpx.AsyncClient:
        """Created on first use: deployments trusting only the built-in issuer never need it."""
        return self._key_store.http

    async def verify(self, token: str) -> dict[str, Any]:
        """The token's claims, or ``Unauthenticated`` saying why not. A token verified in the
        last ``REMEMBER_SECONDS`` is trusted until then or its expiry, whichever is first."""
        if len(token) > MAX_TOKEN_BYTES:
            raise Unauthenticated("token is too large")
        digest = hashlib.sha256(token.encode()).digest()
        remembered = self._verified.get(digest)
        if remembered is not None and self.clock() < remembered[0]:
            self._verified.move_to_end(digest)
            return dict(remembered[1])
        claims = await self._verify(token)
        until = min(self.clock() + REMEMBER_SECONDS, float(claims["exp"]) + self.leeway)
        self._verified[digest] = (until, claims)
        self._verified.move_to_end(digest)
        if len(self._verified) > REMEMBERED_TOKENS:
            self._verified.popitem(last=False)
        return dict(claims)

    async def _verify(self, token: str) -> dict[str, Any]:
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
        """Built-in keys as they are; an external issuer's from the ``KeyStore`` (cached,
        refetched early only for an unknown ``kid`` and then rate-limited)."""
        if callable(policy.local_keys):
            return policy.local_keys()
        if policy.local_keys is not None:
            return policy.local_keys
        try:
            return await self._key_store.keys(policy.issuer, kid=kid, jwks_uri=policy.jwks_uri)
        except KeysUnavailable as exc:
            raise Unauthenticated("the token issuer's keys could not be fetched") from exc

    async def aclose(self) -> None:
        await self._key_store.aclose()


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
