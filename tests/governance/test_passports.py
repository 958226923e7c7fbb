"""Passport and visa test vectors built from the clearinghouse checklist (GA4GH.md §2, AAI 1.2,
Passport 1.2): real signed JWTs, verified against key sets served by a real loopback server that
counts requests, so "never fetched" is observed rather than assumed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import ssl
import uuid
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt
from joserfc.errors import SecurityWarning
from joserfc.jwk import ECKey, RSAKey

from catalog.errors import AtriumError
from governance.access import dataset_url
from governance.keys import KeyStore
from governance.passports import (
    Identity,
    PassportMalformed,
    PassportRejected,
    PassportVerifier,
    RejectedVisa,
    TrustedBroker,
    TrustedVisaIssuer,
    VisaGrants,
)
from tests.governance.jwks_server import DISCOVERY, JwksServer, public_jwk, serve

NOW = 1_750_000_000
ATRIUM = "https://atrium.example.org"
AUDIENCE = ATRIUM
DATASET = dataset_url(ATRIUM, "ATR000001")
SOURCE = "https://dac.example.org/committees/7"
PASSPORT_TYP = "vnd.ga4gh.passport+jwt"
VISA_TYP = "vnd.ga4gh.visa+jwt"
CAG = "ControlledAccessGrants"
TLS = ssl.create_default_context()  # shared: building one per HTTP client costs ~50 ms

Key = ECKey | RSAKey


# --- keys and the world they are published in ---------------------------------------------------


def _ec() -> ECKey:
    key = ECKey.generate_key("P-256", private=True)
    key.ensure_kid()
    return key


def _rsa() -> RSAKey:
    key = RSAKey.generate_key(2048, private=True)
    key.ensure_kid()
    return key


@dataclass(frozen=True)
class Keys:
    broker_ec: ECKey
    broker_rsa: RSAKey
    visa_ec: ECKey
    visa_rsa: RSAKey
    stranger: ECKey
    weak_rsa: RSAKey


@dataclass(frozen=True)
class World:
    """What the trusted configuration names, published on the loopback server."""

    server: JwksServer
    keys: Keys
    broker: str
    visa_issuer: str
    jku: str

    @property
    def broker_jwks(self) -> str:
        return "/broker/jwks.json"

    @property
    def visa_jwks(self) -> str:
        return "/dac/jwks.json"


def _weak_rsa() -> RSAKey:
    """1024-bit, imported from PEM; joserfc warns on any import below 2048 bits."""
    raw = rsa.generate_private_key(public_exponent=65537, key_size=1024)  # noqa: S505 - on purpose
    pem = raw.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with pytest.warns(SecurityWarning):
        return RSAKey.import_key(pem, {"kid": "weak"})


@pytest.fixture(scope="module")
def keys() -> Keys:
    return Keys(_ec(), _rsa(), _ec(), _rsa(), _ec(), _weak_rsa())


@pytest.fixture(scope="module")
def server_module() -> Iterator[JwksServer]:
    with serve() as server:
        yield server


@pytest.fixture
def world(server_module: JwksServer, keys: Keys) -> World:
    server = server_module
    server.reset()
    broker = server.publish_issuer("broker", [keys.broker_ec, keys.broker_rsa])
    visa_issuer = server.publish_issuer("dac", [keys.visa_ec, keys.visa_rsa])
    return World(server, keys, broker, visa_issuer, f"{visa_issuer}/jwks.json")


# --- building tokens ----------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def b64json(value: Any) -> str:
    return b64url(json.dumps(value).encode())


def _apply(base: dict[str, Any], changes: dict[str, Any]) -> dict[str, Any]:
    """``base`` with ``changes``; a change whose value is None removes that member."""
    merged = {**base, **changes}
    return {k: v for k, v in merged.items() if v is not None}


def sign(key: Key, header: dict[str, Any], claims: dict[str, Any]) -> str:
    header = {k: v for k, v in header.items() if v is not None}
    return jwt.encode(header, claims, key, algorithms=[header["alg"]], default_type=None)


def alg_of(key: Key) -> str:
    return "ES256" if isinstance(key, ECKey) else "RS256"


def visa(
    world: World,
    *,
    key: Key | None = None,
    header: dict[str, Any] | None = None,
    claims: dict[str, Any] | None = None,
    **visa_object: Any,
) -> str:
    """A valid Visa Document Token granting DATASET, with the given changes."""
    key = key or world.keys.visa_ec
    base_header = {"typ": VISA_TYP, "alg": alg_of(key), "kid": key.kid, "jku": world.jku}
    base_object = {
        "type": CAG,
        "asserted": NOW - 86_400,
        "value": DATASET,
        "source": SOURCE,
        "by": "dac",
    }
    base_claims = {
        "iss": world.visa_issuer,
        "sub": "visa-subject-7",
        "iat": NOW - 60,
        "exp": NOW + 7200,
        "jti": str(uuid.uuid4()),
        "ga4gh_visa_v1": _apply(base_object, visa_object),
    }
    return sign(key, _apply(base_header, header or {}), _apply(base_claims, claims or {}))


def access_token_visa(world: World, *, iat: int, **claims: Any) -> str:
    """A Visa Access Token: ``openid`` in scope, no ``jku``; keys from discovery."""
    return visa(
        world,
        header={"jku": None, "typ": "at+jwt"},
        claims={"scope": "openid ga4gh_passport_v1", "iat": iat, **claims},
    )


def passport(
    world: World,
    visas: list[str] | Any,
    *,
    key: Key | None = None,
    header: dict[str, Any] | None = None,
    **claims: Any,
) -> str:
    key = key or world.keys.broker_rsa
    base_header = {"typ": PASSPORT_TYP, "alg": alg_of(key), "kid": key.kid}
    base_claims = {
        "iss": world.broker,
        "sub": "alice",
        "iat": NOW - 10,
        "exp": NOW + 3600,
        "jti": str(uuid.uuid4()),
        "ga4gh_passport_v1": visas,
    }
    return sign(key, _apply(base_header, header or {}), _apply(base_claims, claims))


def unsigned(header: dict[str, Any], claims: dict[str, Any]) -> str:
    return f"{b64json(header)}.{b64json(claims)}."


def hs256_with_public_key(key: Key, header: dict[str, Any], claims: dict[str, Any]) -> str:
    """Algorithm confusion: HMAC keyed with the signer's published key."""
    public_pem = key.as_pem(private=False)
    signing_input = f"{b64json({**header, 'alg': 'HS256'})}.{b64json(claims)}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64url(mac)}"


def claims_of(token: str) -> dict[str, Any]:
    payload = token.split(".")[1]
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(payload + "=="))
    return result


def header_of(token: str) -> dict[str, Any]:
    head = token.split(".")[0]
    result: dict[str, Any] = json.loads(base64.urlsafe_b64decode(head + "=="))
    return result


# --- running the verifier -----------------------------------------------------------------------


def verifier_for(
    world: World,
    store: KeyStore,
    *,
    visa_issuers: list[TrustedVisaIssuer] | None = None,
    **options: Any,
) -> PassportVerifier:
    issuers = visa_issuers or [TrustedVisaIssuer(world.visa_issuer, frozenset({SOURCE}), world.jku)]
    return PassportVerifier(
        brokers=[TrustedBroker(world.broker)],
        visa_issuers=issuers,
        key_store=store,
        audiences=[AUDIENCE],
        clock=lambda: NOW,
        **options,
    )


def check(
    world: World,
    passports: Any,
    *,
    subject_hint: Identity | None = None,
    store: KeyStore | None = None,
    **options: Any,
) -> VisaGrants:
    async def run() -> VisaGrants:
        async with httpx.AsyncClient(verify=TLS) as client:
            key_store = store or KeyStore(clock=lambda: NOW, client=client)
            try:
                verifier = verifier_for(world, key_store, **options)
                return await verifier.controlled_access(passports, subject_hint=subject_hint)
            finally:
                await key_store.aclose()

    return asyncio.run(run())


def refused(world: World, passports: Any, **options: Any) -> PassportRejected:
    with pytest.raises(PassportRejected) as caught:
        check(world, passports, **options)
    error = caught.value
    for token in passports if isinstance(passports, list) else []:
        for segment in str(token).split("."):
            if len(segment) >= 8:
                assert segment not in error.message, "the refusal echoes the token"
    return error


def one_rejection(grants: VisaGrants) -> str:
    assert grants.grants == {}
    assert len(grants.rejected) == 1, grants.rejected
    return grants.rejected[0].reason


# --- the happy path -----------------------------------------------------------------------------


def test_valid_passport_with_a_valid_visa_grants_the_dataset(world: World) -> None:
    grants = check(world, [passport(world, [visa(world)])])

    assert grants.dataset_urls == {DATASET}
    assert grants.rejected == ()
    grant = grants.grants[DATASET]
    assert grant.source == SOURCE
    assert grant.by == "dac"
    assert grant.expires_at == NOW + 3600, "the passport expires before the visa"
    assert grant.visa_identity == Identity(world.visa_issuer, "visa-subject-7")
    assert grant.passport == 0


def test_grant_expiry_is_the_earlier_of_visa_and_passport(world: World) -> None:
    token = passport(world, [visa(world, claims={"exp": NOW + 300})], exp=NOW + 3600)

    grants = check(world, [token])

    assert grants.grants[DATASET].expires_at == NOW + 300
    assert grants.allows(DATASET, now=NOW, ttl_seconds=299)
    assert not grants.allows(DATASET, now=NOW, ttl_seconds=300)
    assert not grants.allows(dataset_url(ATRIUM, "ATR000002"), now=NOW)


def test_max_authz_ttl_caps_the_expiry_after_asserted(world: World) -> None:
    token = passport(world, [visa(world, asserted=NOW - 100)])

    grants = check(world, [token], max_authz_ttl_seconds=1000)

    assert grants.grants[DATASET].expires_at == NOW + 900


@pytest.mark.parametrize("broker_alg", ["ES256", "RS256"])
@pytest.mark.parametrize("visa_alg", ["ES256", "RS256"])
def test_es256_and_rs256_are_both_accepted(world: World, broker_alg: str, visa_alg: str) -> None:
    broker_key: Key = world.keys.broker_ec if broker_alg == "ES256" else world.keys.broker_rsa
    visa_key: Key = world.keys.visa_ec if visa_alg == "ES256" else world.keys.visa_rsa

    token = passport(world, [visa(world, key=visa_key)], key=broker_key)

    assert check(world, [token]).dataset_urls == {DATASET}


def test_twenty_valid_visas_grant_twenty_datasets_with_one_fetch_per_key_set(
    world: World,
) -> None:
    datasets = [dataset_url(ATRIUM, f"ATR{n:06d}") for n in range(20)]
    visas = [
        visa(world, value=d, key=world.keys.visa_ec if n % 2 else world.keys.visa_rsa)
        for n, d in enumerate(datasets)
    ]

    grants = check(world, [passport(world, visas)])

    assert grants.dataset_urls == set(datasets)
    assert grants.rejected == ()
    assert world.server.hits == Counter(
        {f"/broker{DISCOVERY}": 1, world.broker_jwks: 1, world.visa_jwks: 1}
    )


def test_a_passport_without_visas_grants_nothing(world: World) -> None:
    grants = check(world, [passport(world, [])])

    assert grants.grants == {}
    assert grants.rejected == ()


def test_no_passports_grant_nothing_and_fetch_nothing(world: World) -> None:
    assert check(world, []).grants == {}
    assert world.server.hits == Counter()


def test_grants_of_several_passports_are_combined(world: World) -> None:
    other = dataset_url(ATRIUM, "ATR000002")
    tokens = [passport(world, [visa(world)]), passport(world, [visa(world, value=other)])]

    grants = check(world, tokens)

    assert grants.dataset_urls == {DATASET, other}
    assert grants.grants[other].passport == 1


def test_repeated_grants_keep_the_latest_expiry(world: World) -> None:
    early = visa(world, claims={"exp": NOW + 100})
    late = visa(world, claims={"exp": NOW + 900})

    grants = check(world, [passport(world, [early, late, early])])

    assert grants.grants[DATASET].expires_at == NOW + 900


def test_visa_subject_may_differ_from_passport_subject(world: World) -> None:
    """AAI 1.2 Passport Format: the passport ``sub`` may differ from its visas' ``sub`` (PPIDs).
    A grant rests on one visa, so no identities are combined (see ADR 0003)."""
    token = passport(world, [visa(world, claims={"sub": "someone-at-the-dac"})], sub="ppid-91")

    grants = check(world, [token])

    assert grants.grants[DATASET].visa_identity.subject == "someone-at-the-dac"


# --- passports that refuse the request ----------------------------------------------------------


def test_expired_passport_is_refused(world: World) -> None:
    error = refused(world, [passport(world, [visa(world)], exp=NOW - 31)])

    assert error.message == "passport has expired"
    assert error.status_code == 401
    assert error.code == "PASSPORT_REJECTED"
    assert error.field == "passports[0]"
    assert isinstance(error, AtriumError)


def test_passport_expired_within_the_leeway_is_accepted(world: World) -> None:
    assert check(world, [passport(world, [visa(world)], exp=NOW - 10)]).dataset_urls == {DATASET}


def test_passport_signed_by_an_untrusted_broker_is_refused_without_fetching(
    world: World,
) -> None:
    rogue = world.server.publish_issuer("rogue", [world.keys.stranger])
    token = passport(world, [visa(world)], key=world.keys.stranger, iss=rogue)

    error = refused(world, [token])

    assert error.message == "passport broker is not trusted"
    assert not any(path.startswith("/rogue") for path in world.server.hits)


def test_passport_naming_a_trusted_broker_but_signed_by_another_key_is_refused(
    world: World,
) -> None:
    kid = world.keys.broker_ec.kid
    forged = passport(world, [visa(world)], key=world.keys.stranger, header={"kid": kid})
    unknown = passport(world, [visa(world)], key=world.keys.stranger)

    assert refused(world, [forged]).message == "passport signature is invalid"
    assert refused(world, [unknown]).message == "passport is signed by an unknown key"


def test_passport_with_a_kid_that_is_not_a_string_is_refused_before_any_fetch(
    world: World,
) -> None:
    good = passport(world, [visa(world)])
    header = {**header_of(good), "kid": 5}
    token = f"{b64json(header)}.{good.split('.', 1)[1]}"

    error = refused(world, [token])

    assert error.message == "passport header 'kid' must be a string"
    assert world.server.hits == Counter()


def test_tampered_passport_is_refused(world: World) -> None:
    head, _payload, signature = passport(world, []).split(".")
    claims = claims_of(passport(world, []))
    forged = f"{head}.{b64json({**claims, 'ga4gh_passport_v1': [visa(world)]})}.{signature}"

    assert refused(world, [forged]).message == "passport signature is invalid"


@pytest.mark.parametrize(
    "typ",
    [None, "JWT", "at+jwt", VISA_TYP, "vnd.ga4gh.passport"],
    ids=["missing", "JWT", "at+jwt", "visa", "truncated"],
)
def test_passport_with_the_wrong_typ_is_refused_before_any_fetch(
    world: World, typ: str | None
) -> None:
    error = refused(world, [passport(world, [visa(world)], header={"typ": typ})])

    assert error.message == "passport typ must be vnd.ga4gh.passport+jwt"
    assert world.server.hits == Counter()


@pytest.mark.parametrize(
    "typ", ["application/vnd.ga4gh.passport+jwt", "VND.GA4GH.Passport+JWT"], ids=["full", "case"]
)
def test_passport_typ_compares_as_a_media_type(world: World, typ: str) -> None:
    """RFC 7515 §4.1.9: case-insensitive, and "application/" may be omitted."""
    token = passport(world, [visa(world)], header={"typ": typ})

    assert check(world, [token]).dataset_urls == {DATASET}


def test_unsigned_passport_is_refused(world: World) -> None:
    header = {"typ": PASSPORT_TYP, "alg": "none"}
    claims = claims_of(passport(world, [visa(world)]))

    assert refused(world, [unsigned(header, claims)]).message == "passport is unsigned"
    with_signature = f"{unsigned(header, claims)}{b64url(b'x' * 32)}"
    assert refused(world, [with_signature]).message == "passport must be signed with RS256 or ES256"


def test_hs256_passport_keyed_with_the_broker_public_key_is_refused(world: World) -> None:
    key = world.keys.broker_rsa
    token = hs256_with_public_key(
        key, {"typ": PASSPORT_TYP, "kid": key.kid}, claims_of(passport(world, [visa(world)]))
    )

    assert refused(world, [token]).message == "passport must be signed with RS256 or ES256"
    assert world.server.hits == Counter()


@pytest.mark.parametrize(
    "visas",
    [None, "a.b.c", {"0": "a.b.c"}, [1, 2], [["a.b.c"]]],
    ids=["missing", "string", "object", "numbers", "nested-list"],
)
def test_passport_claim_that_is_not_a_list_of_strings_is_refused(world: World, visas: Any) -> None:
    error = refused(world, [passport(world, visas)])

    assert error.message == "passport claim 'ga4gh_passport_v1' must be a list of visa strings"


@pytest.mark.parametrize("claim", ["sub", "iat", "exp", "iss"])
def test_passport_missing_a_required_claim_is_refused(world: World, claim: str) -> None:
    error = refused(world, [passport(world, [visa(world)], **{claim: None})])

    expected = "passport broker is not trusted" if claim == "iss" else "is invalid or missing"
    assert expected in error.message


def test_passport_issued_in_the_future_is_refused(world: World) -> None:
    error = refused(world, [passport(world, [visa(world)], iat=NOW + 120)])

    assert error.message == "passport was issued in the future"


def test_passport_not_yet_valid_is_refused(world: World) -> None:
    assert refused(world, [passport(world, [], nbf=NOW + 120)]).message == (
        "passport is not yet valid"
    )


@pytest.mark.parametrize(
    ("aud", "accepted"),
    [(AUDIENCE, True), ([AUDIENCE, "https://x.example"], True), ("https://x.example", False)],
    ids=["ours", "ours-among-others", "another"],
)
def test_passport_audience_when_present_must_include_ours(
    world: World, aud: Any, accepted: bool
) -> None:
    token = passport(world, [visa(world)], aud=aud)

    if accepted:
        assert check(world, [token]).dataset_urls == {DATASET}
    else:
        assert refused(world, [token]).message == "passport is intended for another audience"


@pytest.mark.parametrize(
    ("token", "message"),
    [
        ("eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiJhbGljZSJ9", "passport is not a signed JWT"),
        ("a.b.c.d.e", "passport is not a signed JWT"),
        ("%%%%.^^^^.****", "passport is malformed"),
        (f"{b64json(['RS256'])}.{b64json({})}.c2ln", "passport is malformed"),
        ("x" * 600_000, "passport is too large"),
    ],
    ids=["two-segments", "five-segments", "garbage", "header-not-an-object", "oversized"],
)
def test_passport_that_is_not_a_jwt_is_refused(world: World, token: str, message: str) -> None:
    error = refused(world, [token])

    assert error.message.startswith(message)
    assert error.status_code == 401


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("a.b.c", "passports must be a list of passport JWT strings"),
        ({"passport": "a.b.c"}, "passports must be a list of passport JWT strings"),
        ([42], "a passport must be a non-empty string"),
        ([""], "a passport must be a non-empty string"),
        (["a.b.c"] * 11, "at most 10 passports are accepted"),
    ],
    ids=["string", "object", "number", "empty", "too-many"],
)
def test_a_body_that_is_not_a_list_of_passports_is_malformed(
    world: World, body: Any, message: str
) -> None:
    with pytest.raises(PassportMalformed) as caught:
        check(world, body)

    assert caught.value.message == message
    assert caught.value.status_code == 400
    assert caught.value.code == "PASSPORT_MALFORMED"


def test_one_bad_passport_refuses_the_request(world: World) -> None:
    good = passport(world, [visa(world)])
    expired = passport(world, [visa(world)], exp=NOW - 3600)

    error = refused(world, [good, expired])

    assert error.field == "passports[1]"


def test_passport_with_too_many_visas_is_refused(world: World) -> None:
    error = refused(world, [passport(world, [visa(world)] * 3)], max_visas=2)

    assert error.message == "passport carries more than 2 visas"


def test_passport_broker_keys_unavailable_refuses_the_request(world: World) -> None:
    world.server.publish(world.broker_jwks, {"error": "down"}, status=503)

    error = refused(world, [passport(world, [visa(world)])])

    assert error.message == "passport broker's keys could not be fetched"


def test_subject_hint_from_the_same_issuer_must_match(world: World) -> None:
    token = passport(world, [visa(world)], sub="alice")

    same = check(world, [token], subject_hint=Identity(world.broker, "alice"))
    other_issuer = check(world, [token], subject_hint=Identity("https://idp.example", "bob"))
    with pytest.raises(PassportRejected, match="about another subject"):
        check(world, [token], subject_hint=Identity(world.broker, "bob"))

    assert same.dataset_urls == other_issuer.dataset_urls == {DATASET}


# --- visas that are not counted -----------------------------------------------------------------


def test_visa_from_an_untrusted_issuer_is_not_counted_and_its_keys_not_fetched(
    world: World,
) -> None:
    other = world.server.publish_issuer("other-dac", [world.keys.stranger])
    token = visa(
        world,
        key=world.keys.stranger,
        header={"jku": f"{other}/jwks.json"},
        claims={"iss": other},
    )

    grants = check(world, [passport(world, [token])])

    assert one_rejection(grants) == "visa issuer is not trusted"
    assert grants.rejected == (RejectedVisa(0, 0, "visa issuer is not trusted"),)
    assert not any(path.startswith("/other-dac") for path in world.server.hits)


def test_visa_from_a_trusted_issuer_for_an_untrusted_source_is_not_counted(
    world: World,
) -> None:
    token = visa(world, source="https://another-dac.example.org")

    reason = one_rejection(check(world, [passport(world, [token])]))

    assert reason == "visa source is not trusted for its issuer"


def test_source_is_compared_as_an_exact_string(world: World) -> None:
    token = visa(world, source=SOURCE.upper())

    assert one_rejection(check(world, [passport(world, [token])])) == (
        "visa source is not trusted for its issuer"
    )


@pytest.mark.parametrize("by", [None, "self", "peer", "DAC", "", 7])
def test_visa_without_a_granting_by_is_not_counted(world: World, by: Any) -> None:
    token = visa(world, by=by)

    reason = one_rejection(check(world, [passport(world, [token])]))

    assert reason == "visa 'by' must be dac, so or system for ControlledAccessGrants"


@pytest.mark.parametrize("by", ["dac", "so", "system"])
def test_visa_by_dac_so_or_system_is_counted(world: World, by: str) -> None:
    grants = check(world, [passport(world, [visa(world, by=by)])])

    assert grants.grants[DATASET].by == by


def test_expired_visa_is_not_counted(world: World) -> None:
    token = visa(world, claims={"exp": NOW - 31})

    assert one_rejection(check(world, [passport(world, [token])])) == "visa has expired"


@pytest.mark.parametrize("claim", ["sub", "iat", "exp"])
def test_visa_missing_a_required_claim_is_not_counted(world: World, claim: str) -> None:
    token = visa(world, claims={claim: None})

    reason = one_rejection(check(world, [passport(world, [token])]))

    assert reason == f"visa claim {claim!r} is invalid or missing"


def test_visa_asserted_in_the_future_is_not_counted(world: World) -> None:
    token = visa(world, asserted=NOW + 3600)

    assert one_rejection(check(world, [passport(world, [token])])) == (
        "visa was asserted in the future"
    )


@pytest.mark.parametrize("asserted", [None, "1700000000", 1.7e9, True])
def test_visa_asserted_must_be_integer_seconds(world: World, asserted: Any) -> None:
    token = visa(world, asserted=asserted)

    assert one_rejection(check(world, [passport(world, [token])])) == (
        "visa claim 'asserted' must be integer seconds"
    )


@pytest.mark.parametrize(
    ("name", "value"),
    [("value", None), ("value", 42), ("source", None), ("value", "https://x.org/" + "d" * 250)],
    ids=["value-missing", "value-number", "source-missing", "value-too-long"],
)
def test_visa_value_and_source_must_be_short_strings(world: World, name: str, value: Any) -> None:
    token = visa(world, **{name: value})

    assert one_rejection(check(world, [passport(world, [token])])).startswith(
        f"visa claim {name!r}"
    )


@pytest.mark.parametrize(
    "conditions",
    [
        [[{"type": "AffiliationAndRole", "value": "const:faculty@uni.example.org"}]],
        [[]],
        {"any": "thing"},
        "const:x",
    ],
    ids=["dnf", "empty-clause", "object", "string"],
)
def test_visa_with_conditions_is_not_counted(world: World, conditions: Any) -> None:
    """Passport 1.2: a clearinghouse that does not evaluate conditions MUST reject the visa."""
    token = visa(world, conditions=conditions)

    assert one_rejection(check(world, [passport(world, [token])])) == (
        "visa has conditions, which Atrium does not evaluate"
    )


def test_visa_with_empty_conditions_is_counted(world: World) -> None:
    assert check(world, [passport(world, [visa(world, conditions=[])])]).dataset_urls == {DATASET}


def test_visa_for_another_dataset_grants_that_dataset_only(world: World) -> None:
    other = dataset_url(ATRIUM, "ATR000999")

    grants = check(world, [passport(world, [visa(world, value=other)])])

    assert grants.dataset_urls == {other}
    assert not grants.allows(DATASET, now=NOW)


def test_visa_value_is_matched_case_sensitively(world: World) -> None:
    grants = check(world, [passport(world, [visa(world, value=DATASET.upper())])])

    assert DATASET not in grants.dataset_urls


def test_document_token_with_an_unpinned_jku_is_not_counted_and_never_fetched(
    world: World,
) -> None:
    """The stranger's key set is really served: fetching it would verify the forgery."""
    evil = world.server.publish_keys("/evil/jwks.json", [world.keys.stranger])
    forged = visa(world, key=world.keys.stranger, header={"jku": evil})

    grants = check(world, [passport(world, [forged])])

    assert one_rejection(grants) == "visa jku is not the key set URL trusted for its issuer"
    assert world.server.hits["/evil/jwks.json"] == 0
    assert world.server.hits[world.visa_jwks] == 0


@pytest.mark.parametrize(
    "suffix", ["?x=1", "#frag", "/", "/../jwks.json"], ids=["query", "fragment", "slash", "dots"]
)
def test_jku_must_equal_the_pinned_url_exactly(world: World, suffix: str) -> None:
    token = visa(world, header={"jku": world.jku + suffix})

    reason = one_rejection(check(world, [passport(world, [token])]))

    assert reason == "visa jku is not the key set URL trusted for its issuer"
    assert world.server.hits[world.visa_jwks] == 0


def test_document_tokens_of_an_issuer_without_a_pinned_jku_are_not_counted(
    world: World,
) -> None:
    issuers = [TrustedVisaIssuer(world.visa_issuer, frozenset({SOURCE}))]

    grants = check(world, [passport(world, [visa(world)])], visa_issuers=issuers)

    assert one_rejection(grants) == "visa jku is not the key set URL trusted for its issuer"


def test_fresh_visa_access_token_is_checked_with_discovered_keys(world: World) -> None:
    token = access_token_visa(world, iat=NOW - 3599)

    grants = check(world, [passport(world, [token])])

    assert grants.dataset_urls == {DATASET}
    assert world.server.hits[f"/dac{DISCOVERY}"] == 1


def test_visa_access_token_older_than_an_hour_is_not_counted(world: World) -> None:
    token = access_token_visa(world, iat=NOW - 3601)

    assert one_rejection(check(world, [passport(world, [token])])) == (
        "visa access token is more than 1 hour old (polling is not supported)"
    )


def test_visa_with_neither_jku_nor_openid_scope_is_not_counted(world: World) -> None:
    token = visa(world, header={"jku": None}, claims={"scope": "ga4gh_passport_v1"})

    assert one_rejection(check(world, [passport(world, [token])])) == (
        "visa has neither a jku header nor an openid scope"
    )


def test_document_token_with_openid_scope_is_not_counted(world: World) -> None:
    token = visa(world, claims={"scope": "openid"})

    assert one_rejection(check(world, [passport(world, [token])])) == (
        "visa document token (jku) must not have the openid scope"
    )


def test_tampered_visa_is_not_counted(world: World) -> None:
    head, _payload, signature = visa(world).split(".")
    claims = claims_of(visa(world))
    claims["ga4gh_visa_v1"]["value"] = dataset_url(ATRIUM, "ATR000666")
    forged = f"{head}.{b64json(claims)}.{signature}"

    assert one_rejection(check(world, [passport(world, [forged])])) == "visa signature is invalid"


def test_visa_signed_with_another_key_under_the_issuer_kid_is_not_counted(
    world: World,
) -> None:
    forged = visa(world, key=world.keys.stranger, header={"kid": world.keys.visa_ec.kid})

    assert one_rejection(check(world, [passport(world, [forged])])) == "visa signature is invalid"


def test_unsigned_and_hs256_visas_are_not_counted(world: World) -> None:
    good = visa(world)
    header, claims = header_of(good), claims_of(good)
    tokens = [
        unsigned({**header, "alg": "none"}, claims),
        f"{unsigned({**header, 'alg': 'none'}, claims)}{b64url(b'x' * 32)}",
        hs256_with_public_key(world.keys.visa_ec, header, claims),
    ]

    grants = check(world, [passport(world, tokens)])

    assert grants.grants == {}
    assert [r.reason for r in grants.rejected] == [
        "visa is unsigned",
        "visa must be signed with RS256 or ES256",
        "visa must be signed with RS256 or ES256",
    ]
    assert world.server.hits[world.visa_jwks] == 0


def test_visa_typed_as_a_passport_is_not_counted(world: World) -> None:
    token = visa(world, header={"typ": PASSPORT_TYP})

    assert one_rejection(check(world, [passport(world, [token])])) == (
        "visa is typed as a passport"
    )


def test_visa_signed_by_a_short_rsa_key_is_not_counted(world: World) -> None:
    """The store drops keys under 2048 bits, so the weak key is simply unknown."""
    world.server.publish(
        world.visa_jwks,
        {"keys": [public_jwk(world.keys.visa_ec), {**public_jwk(world.keys.weak_rsa)}]},
    )
    token = visa(world, key=world.keys.weak_rsa)

    assert one_rejection(check(world, [passport(world, [token])])) == (
        "visa is signed by an unknown key"
    )


def test_short_rsa_key_is_refused_even_by_a_store_that_keeps_it(world: World) -> None:
    world.server.publish(world.visa_jwks, {"keys": [public_jwk(world.keys.weak_rsa)]})
    token = visa(world, key=world.keys.weak_rsa)
    lenient = KeyStore(clock=lambda: NOW, min_rsa_bits=0)

    with pytest.warns(SecurityWarning):
        grants = check(world, [passport(world, [token])], store=lenient)

    assert one_rejection(grants) == "visa is signed by an RSA key shorter than 2048 bits"


def test_visa_issuer_keys_unavailable_skips_the_visa_not_the_passport(world: World) -> None:
    world.server.publish(world.visa_jwks, {"error": "down"}, status=503)

    grants = check(world, [passport(world, [visa(world)])])

    assert one_rejection(grants) == "visa issuer's keys could not be fetched"


def test_other_visa_types_are_ignored_without_verification(world: World) -> None:
    affiliation = visa(world, type="AffiliationAndRole", value="faculty@uni.example.org")
    linked = visa(world, type="LinkedIdentities", value="abc,https%3A%2F%2Fidp.example")
    custom_forged = unsigned(
        {"alg": "ES256"}, {"ga4gh_visa_v1": {"type": "https://example.org/visas/custom"}}
    )

    grants = check(world, [passport(world, [affiliation, linked, f"{custom_forged}c2ln"])])

    assert grants.grants == {}
    assert grants.rejected == ()
    assert world.server.hits[world.visa_jwks] == 0


@pytest.mark.parametrize(
    "token",
    ["not-a-jwt", f"{b64json({'alg': 'ES256'})}.{b64json({'iss': 'x'})}.c2ln"],
    ids=["garbage", "no-visa-object"],
)
def test_a_visa_that_is_not_a_visa_is_not_counted(world: World, token: str) -> None:
    grants = check(world, [passport(world, [token, visa(world)])])

    assert grants.dataset_urls == {DATASET}
    assert grants.rejected[0].visa == 0


def test_rejections_say_which_visa_of_which_passport(world: World) -> None:
    tokens = [
        passport(world, [visa(world)]),
        passport(world, [visa(world), visa(world, by="self"), visa(world, claims={"exp": 1})]),
    ]

    grants = check(world, tokens)

    assert [(r.passport, r.visa) for r in grants.rejected] == [(1, 1), (1, 2)]


# --- configuration ------------------------------------------------------------------------------


def test_dataset_url_is_the_value_atrium_expects() -> None:
    assert dataset_url("https://atrium.example.org", "ATR000042") == (
        "https://atrium.example.org/datasets/ATR000042"
    )


@pytest.mark.parametrize(
    "build",
    [
        lambda: TrustedBroker("http://broker.example.org"),
        lambda: TrustedBroker("https://broker.example.org", jwks_uri="ftp://x/jwks"),
        lambda: TrustedVisaIssuer("https://dac.example.org", frozenset(), "http://dac.example.org"),
        lambda: TrustedVisaIssuer("https://dac.example.org", SOURCE),  # type: ignore[arg-type]
    ],
    ids=["http-broker", "ftp-jwks", "http-jku", "sources-string"],
)
def test_insecure_or_malformed_trust_configuration_is_refused(build: Any) -> None:
    with pytest.raises(ValueError, match="must be"):
        build()


def test_an_issuer_configured_twice_is_refused(world: World) -> None:
    with pytest.raises(ValueError, match="configured twice"):
        PassportVerifier(
            brokers=[TrustedBroker(world.broker), TrustedBroker(world.broker)],
            visa_issuers=[],
            key_store=KeyStore(),
        )


# --- replay -------------------------------------------------------------------------------------
# Passports and visas are bearer JWTs with no nonce: Passport 1.2 expects a visa to be relayed
# in many passports until its `exp`, so a `jti` seen twice is not an attack and is not refused.
# A replay Atrium refuses is a token used where its signer did not put it (ADR 0003).


def test_a_visa_replayed_as_a_passport_is_refused(world: World) -> None:
    error = refused(world, [visa(world)])

    assert error.message == "passport typ must be vnd.ga4gh.passport+jwt"


def test_a_visa_replayed_as_a_passport_by_a_broker_that_also_issues_visas_is_refused(
    world: World,
) -> None:
    """Even signed by a trusted broker's key, a token typed as a visa is not a passport."""
    token = visa(world, key=world.keys.broker_rsa, claims={"iss": world.broker})

    assert refused(world, [token]).message == "passport typ must be vnd.ga4gh.passport+jwt"


def test_a_passport_replayed_as_a_visa_is_not_counted(world: World) -> None:
    inner = passport(world, [visa(world)])

    grants = check(world, [passport(world, [inner])])

    assert one_rejection(grants) == "visa has no ga4gh_visa_v1 object with a type"


def test_a_passport_replayed_after_its_expiry_is_refused_even_with_live_visas(
    world: World,
) -> None:
    stale = passport(world, [visa(world, claims={"exp": NOW + 86_400})], exp=NOW - 3600)

    assert refused(world, [stale]).message == "passport has expired"


def test_a_visa_relayed_twice_grants_once(world: World) -> None:
    token = visa(world)

    grants = check(world, [passport(world, [token, token]), passport(world, [token])])

    assert grants.dataset_urls == {DATASET}
    assert grants.rejected == ()


# --- source prefixes ----------------------------------------------------------------------------

COMMITTEES = "https://dac.example.org/committees/"


def prefixed_issuer(world: World) -> list[TrustedVisaIssuer]:
    return [TrustedVisaIssuer(world.visa_issuer, frozenset(), world.jku, frozenset({COMMITTEES}))]


def test_a_source_under_a_trusted_prefix_is_counted(world: World) -> None:
    token = visa(world, source=f"{COMMITTEES}dac-42")

    grants = check(world, [passport(world, [token])], visa_issuers=prefixed_issuer(world))

    assert grants.dataset_urls == {DATASET}


@pytest.mark.parametrize(
    "source", ["https://dac.example.org/committees-evil/x", "https://dac.example.org/committees"]
)
def test_a_source_outside_the_prefix_is_not_counted(world: World, source: str) -> None:
    token = visa(world, source=source)

    grants = check(world, [passport(world, [token])], visa_issuers=prefixed_issuer(world))

    assert one_rejection(grants) == "visa source is not trusted for its issuer"


@pytest.mark.parametrize(
    ("prefix", "message"),
    [
        ("https://dac.example.org/committees", "must end with '/'"),
        ("http://dac.example.org/committees/", "must be an https URL"),
    ],
)
def test_a_source_prefix_must_be_an_https_path_ending_in_a_slash(prefix: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        TrustedVisaIssuer("https://dac.example.org", frozenset(), None, frozenset({prefix}))
