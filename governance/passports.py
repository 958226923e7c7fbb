"""Atrium as a GA4GH Passport Clearinghouse: which datasets do the caller's passports grant?

``PassportVerifier.controlled_access`` verifies passports (AAI 1.2 "Passport Format") and their
``ControlledAccessGrants`` visas (Passport 1.2) against configured trust — brokers, visa issuers,
each issuer's pinned ``jku`` and allowed ``source`` values — and returns the granted dataset URLs
with their expiry. The decisions, and what is deliberately not implemented, are recorded in
docs/adr/0003-passport-clearinghouse.md.

A passport that fails any check refuses the whole request (Passport 1.2, General Requirements
8.1); a visa that fails is only not counted, and its reason is returned for logs. This module
must not fetch anything a configuration did not name first (a visa's ``jku`` is compared with
the pinned URL before any request), must not evaluate ``conditions`` or ``LinkedIdentities``,
and must not read the environment or the database. Refusal reasons are fixed phrases and never
echo token content.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any, NamedTuple, TypeVar
from urllib.parse import urlsplit

from joserfc import errors as jose_errors
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey
from joserfc.jws import JWSRegistry

from catalog.errors import AtriumError
from governance.keys import KeyStore, KeysUnavailable

PASSPORT_MEDIA_TYPE = "application/vnd.ga4gh.passport+jwt"
SIGNING_ALGORITHMS = frozenset({"RS256", "ES256"})
MIN_RSA_BITS = 2048
CONTROLLED_ACCESS_GRANTS = "ControlledAccessGrants"
GRANTING_AUTHORITIES = frozenset({"dac", "so", "system"})
"""``by`` values accepted on a ControlledAccessGrants visa; ``self``, ``peer`` and a missing
``by`` ("unknown", which must fail any policy that expects a value) are refused."""
VISA_ACCESS_TOKEN_MAX_AGE = 3600
MAX_URL_CLAIM = 255
MAX_VISA_BYTES = 16_384


class PassportRejected(AtriumError):
    """A passport failed a check, so the request carrying it is refused (Passport 1.2, General
    Requirements 8.1).

    ``field`` names the offending entry (``passports[2]``); the message is a fixed phrase."""

    status_code = 401
    code = "PASSPORT_REJECTED"

    def __init__(self, reason: str, *, index: int | None = None) -> None:
        super().__init__(reason, field="passports" if index is None else f"passports[{index}]")
        self.reason = reason
        self.index = index


class PassportMalformed(PassportRejected):
    """The request body does not hold a list of passport strings at all."""

    status_code = 400
    code = "PASSPORT_MALFORMED"


@dataclass(frozen=True)
class Identity:
    """An ``{iss, sub}`` pair: who a token is about, in its issuer's namespace."""

    issuer: str
    subject: str


@dataclass(frozen=True)
class TrustedBroker:
    """A Broker whose passports Atrium accepts. ``jwks_uri`` pins its key set; without it the
    key set is found through the broker's OIDC discovery document."""

    issuer: str
    jwks_uri: str | None = None

    def __post_init__(self) -> None:
        _require_secure_url(self.issuer, "broker issuer")
        if self.jwks_uri is not None:
            _require_secure_url(self.jwks_uri, "broker jwks_uri")


@dataclass(frozen=True)
class TrustedVisaIssuer:
    """A Visa Issuer whose ControlledAccessGrants Atrium honours, for the listed ``source``
    organisations only: exact, case-sensitive strings in ``sources``, or URLs starting with
    one of ``source_prefixes`` (each ending in "/", e.g. every committee of one Atrium).

    ``jku`` is the only JWKS URL accepted in its Visa Document Tokens' headers; without it, its
    document tokens are refused. Its Visa Access Tokens use keys from OIDC discovery."""

    issuer: str
    sources: frozenset[str]
    jku: str | None = None
    source_prefixes: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        _require_secure_url(self.issuer, "visa issuer")
        if self.jku is not None:
            _require_secure_url(self.jku, "visa issuer jku")
        if isinstance(self.sources, str) or not all(isinstance(s, str) for s in self.sources):
            raise ValueError("sources must be a set of source URL strings")
        object.__setattr__(self, "sources", frozenset(self.sources))
        if isinstance(self.source_prefixes, str):
            raise ValueError("source_prefixes must be a set of URL prefixes")
        for prefix in self.source_prefixes:
            _require_secure_url(prefix, "source prefix")
            if not prefix.endswith("/"):
                raise ValueError("a source prefix must end with '/'")
        object.__setattr__(self, "source_prefixes", frozenset(self.source_prefixes))

    def speaks_for(self, source: str) -> bool:
        return source in self.sources or any(source.startswith(p) for p in self.source_prefixes)


@dataclass(frozen=True)
class Grant:
    """Access to one dataset, resting on exactly one ControlledAccessGrants visa."""

    dataset: str
    expires_at: int
    """min(visa ``exp``, passport ``exp``[, ``asserted`` + max_authz_ttl]) in epoch seconds."""
    source: str
    by: str
    asserted: int
    visa_identity: Identity
    passport: int


class RejectedVisa(NamedTuple):
    """Why the ``visa``-th visa of the ``passport``-th passport was not counted."""

    passport: int
    visa: int
    reason: str


@dataclass(frozen=True)
class VisaGrants:
    grants: Mapping[str, Grant]
    """By dataset URL (the visa ``value``); the latest-expiring grant when visas repeat."""
    rejected: tuple[RejectedVisa, ...] = ()
    """ControlledAccessGrants visas that were not counted, with why. Other visa types are
    ignored without a record: the request does not need them."""

    @property
    def dataset_urls(self) -> frozenset[str]:
        return frozenset(self.grants)

    def allows(self, dataset: str, *, now: float, ttl_seconds: float = 0) -> bool:
        """Passport 1.2 "Visa Expiry" option B: ``now + ttl < expiry`` for the grant."""
        grant = self.grants.get(dataset)
        return grant is not None and now + ttl_seconds < grant.expires_at


_Trusted = TypeVar("_Trusted", TrustedBroker, TrustedVisaIssuer)


class _Refusal(Exception):
    """A check failed; ``reason`` reads after "passport " or "visa "."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Jws:
    token: str
    header: dict[str, Any]
    claims: dict[str, Any]
    """Unverified: used only to choose keys and to skip visas, never to grant."""


@dataclass(frozen=True)
class _Passport:
    index: int
    identity: Identity
    expires_at: int
    visas: tuple[str, ...]


@dataclass(frozen=True)
class _Candidate:
    """A ControlledAccessGrants visa that passed the checks made before any key fetch."""

    index: int
    jws: _Jws
    alg: str
    issuer: TrustedVisaIssuer
    jwks_uri: str | None
    access_token: bool

    @property
    def slot(self) -> tuple[str, str | None, str | None]:
        """Which key set, and which key in it: one fetch serves every visa in a slot."""
        return self.issuer.issuer, self.jwks_uri, self.jws.header.get("kid")


class PassportVerifier:
    """Verifies passports for one deployment's trust configuration; safe to share between
    concurrent requests (state lives in the ``KeyStore``)."""

    def __init__(
        self,
        *,
        brokers: Iterable[TrustedBroker],
        visa_issuers: Iterable[TrustedVisaIssuer],
        key_store: KeyStore,
        audiences: Iterable[str] = (),
        leeway_seconds: int = 30,
        max_authz_ttl_seconds: int | None = None,
        max_passports: int = 10,
        max_visas: int = 200,
        max_passport_bytes: int = 512_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """``audiences``: the values (e.g. Atrium's public URL) a passport's optional ``aud``
        must include; a passport naming only other audiences is refused (RFC 7519 §4.1.3).
        ``max_authz_ttl_seconds``: Passport 1.2 expiry option A's cap after ``asserted``."""
        self._brokers = _by_issuer(brokers, "broker")
        self._visa_issuers = _by_issuer(visa_issuers, "visa issuer")
        self._key_store = key_store
        self._audiences = frozenset(audiences)
        self._leeway = leeway_seconds
        self._max_authz_ttl = max_authz_ttl_seconds
        self._max_passports = max_passports
        self._max_visas = max_visas
        self._max_passport_bytes = max_passport_bytes
        self._clock = clock
        self._registries = {
            alg: _jws_registry(alg, max_passport_bytes) for alg in SIGNING_ALGORITHMS
        }

    async def controlled_access(
        self, passports: Sequence[str], *, subject_hint: Identity | None = None
    ) -> VisaGrants:
        """The datasets granted by valid ControlledAccessGrants visas in ``passports``.

        Raises ``PassportMalformed`` when ``passports`` is not a short list of strings and
        ``PassportRejected`` when any passport fails a check. ``subject_hint`` is the caller's
        authenticated identity, if any: a passport from that same issuer must be about that
        same subject (identifiers from different issuers are not comparable, so it is not
        used for other passports).
        """
        if isinstance(passports, (str, bytes)) or not isinstance(passports, Sequence):
            raise PassportMalformed("passports must be a list of passport JWT strings")
        if len(passports) > self._max_passports:
            raise PassportMalformed(f"at most {self._max_passports} passports are accepted")
        for index, token in enumerate(passports):
            if not isinstance(token, str) or not token:
                raise PassportMalformed("a passport must be a non-empty string", index=index)
        now = int(self._clock())
        verified = [
            await self._passport(index, token, now, subject_hint)
            for index, token in enumerate(passports)
        ]
        grants: dict[str, Grant] = {}
        rejected: list[RejectedVisa] = []
        for passport in verified:
            for grant in await self._grants(passport, now, rejected):
                best = grants.get(grant.dataset)
                if best is None or grant.expires_at > best.expires_at:
                    grants[grant.dataset] = grant
        return VisaGrants(MappingProxyType(grants), tuple(rejected))

    # --- passports ------------------------------------------------------------------------------

    async def _passport(
        self, index: int, token: str, now: int, subject_hint: Identity | None
    ) -> _Passport:
        try:
            return await self._check_passport(index, token, now, subject_hint)
        except _Refusal as refusal:
            raise PassportRejected(f"passport {refusal.reason}", index=index) from None

    async def _check_passport(
        self, index: int, token: str, now: int, subject_hint: Identity | None
    ) -> _Passport:
        jws = _peek(token, self._max_passport_bytes)
        typ = jws.header.get("typ")
        if not isinstance(typ, str) or _media_type(typ) != PASSPORT_MEDIA_TYPE:
            raise _Refusal("typ must be vnd.ga4gh.passport+jwt")
        alg = _algorithm(jws.header)
        issuer = jws.claims.get("iss")
        broker = self._brokers.get(issuer) if isinstance(issuer, str) else None
        if broker is None:
            raise _Refusal("broker is not trusted")
        try:
            keys = await self._key_store.keys(
                broker.issuer, kid=jws.header.get("kid"), jwks_uri=broker.jwks_uri
            )
        except KeysUnavailable:
            raise _Refusal("broker's keys could not be fetched") from None
        claims = self._verify(jws, keys, alg)
        self._check_claims(claims, broker.issuer, now)
        audience = claims.get("aud")
        if audience is not None:
            named = {audience} if isinstance(audience, str) else set(audience)
            if self._audiences.isdisjoint(named):
                raise _Refusal("is intended for another audience")
        visas = claims.get("ga4gh_passport_v1")
        if not isinstance(visas, list) or not all(isinstance(v, str) for v in visas):
            raise _Refusal("claim 'ga4gh_passport_v1' must be a list of visa strings")
        if len(visas) > self._max_visas:
            raise _Refusal(f"carries more than {self._max_visas} visas")
        identity = Identity(broker.issuer, claims["sub"])
        if (
            subject_hint is not None
            and subject_hint.issuer == identity.issuer
            and subject_hint.subject != identity.subject
        ):
            raise _Refusal("is about another subject than the caller's token")
        return _Passport(index, identity, int(claims["exp"]), tuple(visas))

    # --- visas ----------------------------------------------------------------------------------

    async def _grants(
        self, passport: _Passport, now: int, rejected: list[RejectedVisa]
    ) -> list[Grant]:
        candidates: list[_Candidate] = []
        for index, token in enumerate(passport.visas):
            try:
                candidate = self._screen(index, token)
            except _Refusal as refusal:
                rejected.append(RejectedVisa(passport.index, index, f"visa {refusal.reason}"))
                continue
            if candidate is not None:
                candidates.append(candidate)
        # One fetch per key set, all at once: a slow issuer delays the request once, not per visa.
        slots = list(dict.fromkeys(c.slot for c in candidates))
        fetched = await asyncio.gather(*(self._visa_keys(*slot) for slot in slots))
        keys = dict(zip(slots, fetched, strict=True))
        grants: list[Grant] = []
        for candidate in candidates:
            try:
                grants.append(self._grant(candidate, keys[candidate.slot], passport, now))
            except _Refusal as refusal:
                reason = f"visa {refusal.reason}"
                rejected.append(RejectedVisa(passport.index, candidate.index, reason))
        return grants

    def _screen(self, index: int, token: str) -> _Candidate | None:
        """Checks that need no keys, so that untrusted or unneeded visas cause no fetch.

        Only ControlledAccessGrants visas are needed; others are ignored unverified (Passport
        1.2, General Requirements 8.2). A Visa Document Token names its key set in ``jku``,
        which must equal the URL pinned for its ``iss`` (AAI 1.2: checked before calling it).
        A Visa Access Token (``openid`` in ``scope``) is checked against keys from the
        issuer's OIDC discovery document.
        """
        jws = _peek(token, MAX_VISA_BYTES)
        visa = jws.claims.get("ga4gh_visa_v1")
        if not isinstance(visa, dict) or not isinstance(visa.get("type"), str):
            raise _Refusal("has no ga4gh_visa_v1 object with a type")
        if visa["type"] != CONTROLLED_ACCESS_GRANTS:
            return None
        typ = jws.header.get("typ")
        if isinstance(typ, str) and _media_type(typ) == PASSPORT_MEDIA_TYPE:
            raise _Refusal("is typed as a passport")
        alg = _algorithm(jws.header)
        issuer_name = jws.claims.get("iss")
        issuer = self._visa_issuers.get(issuer_name) if isinstance(issuer_name, str) else None
        if issuer is None:
            raise _Refusal("issuer is not trusted")
        scope = jws.claims.get("scope")
        if scope is not None and not isinstance(scope, str):
            raise _Refusal("claim 'scope' must be a string")
        openid = scope is not None and "openid" in scope.split()
        jku = jws.header.get("jku")
        if jku is not None:
            if openid:
                raise _Refusal("document token (jku) must not have the openid scope")
            if issuer.jku is None or jku != issuer.jku:
                raise _Refusal("jku is not the key set URL trusted for its issuer")
            return _Candidate(index, jws, alg, issuer, issuer.jku, access_token=False)
        if openid:
            return _Candidate(index, jws, alg, issuer, None, access_token=True)
        raise _Refusal("has neither a jku header nor an openid scope")

    async def _visa_keys(
        self, issuer: str, jwks_uri: str | None, kid: str | None
    ) -> KeySet | KeysUnavailable:
        try:
            return await self._key_store.keys(issuer, kid=kid, jwks_uri=jwks_uri)
        except KeysUnavailable as exc:
            return exc

    def _grant(
        self,
        candidate: _Candidate,
        keys: KeySet | KeysUnavailable,
        passport: _Passport,
        now: int,
    ) -> Grant:
        """Every rule that decides a grant, on verified claims only.

        Visa Access Tokens are invalid more than 1 hour after ``iat`` unless Access Token
        Polling of the issuer confirms them (AAI 1.2). Atrium does not poll ``/userinfo``,
        so such visas are simply not counted once an hour old.
        """
        if isinstance(keys, KeysUnavailable):
            raise _Refusal("issuer's keys could not be fetched")
        claims = self._verify(candidate.jws, keys, candidate.alg)
        self._check_claims(claims, candidate.issuer.issuer, now)
        if candidate.access_token and now - claims["iat"] > VISA_ACCESS_TOKEN_MAX_AGE:
            raise _Refusal("access token is more than 1 hour old (polling is not supported)")
        visa = claims.get("ga4gh_visa_v1")
        if not isinstance(visa, dict):
            raise _Refusal("has no ga4gh_visa_v1 object with a type")
        asserted = visa.get("asserted")
        if isinstance(asserted, bool) or not isinstance(asserted, int):
            raise _Refusal("claim 'asserted' must be integer seconds")
        if asserted > now + self._leeway:
            raise _Refusal("was asserted in the future")
        value = _url_claim(visa, "value")
        source = _url_claim(visa, "source")
        if not candidate.issuer.speaks_for(source):
            raise _Refusal("source is not trusted for its issuer")
        by = visa.get("by")
        if not isinstance(by, str) or by not in GRANTING_AUTHORITIES:
            raise _Refusal("'by' must be dac, so or system for ControlledAccessGrants")
        if visa.get("conditions", []) != []:
            raise _Refusal("has conditions, which Atrium does not evaluate")
        expiries = [int(claims["exp"]), passport.expires_at]
        if self._max_authz_ttl is not None:
            expiries.append(asserted + self._max_authz_ttl)
        return Grant(
            dataset=value,
            expires_at=min(expiries),
            source=source,
            by=by,
            asserted=asserted,
            visa_identity=Identity(candidate.issuer.issuer, claims["sub"]),
            passport=passport.index,
        )

    # --- shared checks --------------------------------------------------------------------------

    def _verify(self, jws: _Jws, keys: KeySet, alg: str) -> dict[str, Any]:
        kid = jws.header.get("kid")  # a string or None: checked by _algorithm
        try:
            key = keys.get_by_kid(kid, {"alg": alg, "use": "sig"})
        except jose_errors.InvalidKeyIdError:
            raise _Refusal("is signed by an unknown key") from None
        if isinstance(key, RSAKey) and key.raw_value.key_size < MIN_RSA_BITS:
            raise _Refusal("is signed by an RSA key shorter than 2048 bits")
        try:
            token = jwt.decode(jws.token, key, algorithms=[alg], registry=self._registries[alg])
        except (jose_errors.BadSignatureError, jose_errors.DecodeError, ValueError):
            raise _Refusal("signature is invalid") from None
        except jose_errors.JoseError as exc:
            raise _Refusal(f"cannot be verified: {exc.error}") from None
        return token.claims

    def _check_claims(self, claims: dict[str, Any], issuer: str, now: int) -> None:
        registry = jwt.JWTClaimsRegistry(
            now=now,
            leeway=self._leeway,
            iss={"essential": True, "value": issuer},
            sub={"essential": True},
            iat={"essential": True},
            exp={"essential": True},
        )
        try:
            registry.validate(claims)
        except jose_errors.ExpiredTokenError:
            raise _Refusal("has expired") from None
        except jose_errors.InvalidClaimError as exc:
            if exc.claim == "nbf":
                raise _Refusal("is not yet valid") from None
            iat = claims.get("iat")
            if exc.claim == "iat" and isinstance(iat, int | float) and not isinstance(iat, bool):
                raise _Refusal("was issued in the future") from None
            raise _Refusal(f"claim {exc.claim!r} is invalid or missing") from None
        except jose_errors.ClaimError as exc:
            raise _Refusal(f"claim {exc.claim!r} is invalid or missing") from None


def _peek(token: str, max_bytes: int) -> _Jws:
    """Header and claims before verification, only to choose trust and keys."""
    if len(token) > max_bytes:
        raise _Refusal("is too large")
    parts = token.split(".")
    if len(parts) != 3:
        raise _Refusal("is not a signed JWT (expected header.payload.signature)")
    try:
        header = json.loads(_b64decode(parts[0]))
        claims = json.loads(_b64decode(parts[1]))
    except (ValueError, binascii.Error):
        raise _Refusal("is malformed") from None
    if not isinstance(header, dict) or not isinstance(claims, dict):
        raise _Refusal("is malformed")
    if not parts[2]:
        raise _Refusal("is unsigned")
    return _Jws(token, header, claims)


def _algorithm(header: dict[str, Any]) -> str:
    """The ``alg``, once it and the ``kid`` have shapes worth fetching keys for."""
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in SIGNING_ALGORITHMS:
        raise _Refusal("must be signed with RS256 or ES256")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise _Refusal("header 'kid' must be a string")
    return alg


def _url_claim(visa: dict[str, Any], name: str) -> str:
    value = visa.get(name)
    if not isinstance(value, str) or not value:
        raise _Refusal(f"claim {name!r} must be a non-empty string")
    if len(value) > MAX_URL_CLAIM:
        raise _Refusal(f"claim {name!r} is longer than {MAX_URL_CLAIM} characters")
    return value


def _media_type(typ: str) -> str:
    """RFC 7515 §4.1.9: media types compare case-insensitively, and a ``typ`` without "/"
    means "application/" + ``typ``."""
    lowered = typ.lower()
    return lowered if "/" in lowered else f"application/{lowered}"


def _b64decode(segment: str) -> bytes:
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


def _jws_registry(alg: str, max_bytes: int) -> JWSRegistry:
    """One algorithm only; unknown header names are ignored (``crit`` is still honoured)."""
    registry = JWSRegistry(algorithms=[alg], strict_check_header=False)
    registry.max_payload_length = max_bytes
    return registry


def _by_issuer(entries: Iterable[_Trusted], what: str) -> dict[str, _Trusted]:
    by_issuer: dict[str, _Trusted] = {}
    for entry in entries:
        if entry.issuer in by_issuer:
            raise ValueError(f"{what} {entry.issuer} is configured twice")
        by_issuer[entry.issuer] = entry
    return by_issuer


def _require_secure_url(url: str, what: str) -> None:
    """TLS is mandatory in AAI; plain http is allowed only on loopback, for tests."""
    parts = urlsplit(url)
    loopback = parts.hostname in {"127.0.0.1", "::1", "localhost"}
    if not parts.hostname or not (parts.scheme == "https" or (parts.scheme == "http" and loopback)):
        raise ValueError(f"{what} must be an https URL")
