"""Visas and passports Atrium issues for its own grants: claims exactly as Passport 1.2 defines
them, never outliving a grant, audited, and accepted by Atrium's own clearinghouse (the
``PassportVerifier`` configured as the app configures it) across key rotation until retirement.
"""

from __future__ import annotations

import asyncio
import base64
import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from api.app import build_passport_verifier
from api.auth.issuer import BuiltinIssuer
from api.settings import Settings
from catalog.errors import Unauthenticated
from catalog.models import AuditEvent, Committee, Dataset
from catalog.principals import ANONYMOUS, SYSTEM, Principal
from catalog.service import principal_for
from governance import service as governance_service
from governance.access import committee_url, dataset_url
from governance.keys import KeyStore
from governance.models import AccessGrant
from governance.passports import PassportRejected, PassportVerifier, VisaGrants
from governance.signing_keys import KeyRing
from governance.visas import VisaIssuer
from tests.factories import Factory

BASE = "https://atrium.test"
DAY = timedelta(days=1)


@pytest.fixture
def issuer(tmp_path: Path) -> BuiltinIssuer:
    """Atrium at an https URL (visa trust needs TLS), with a key ring of its own."""
    return BuiltinIssuer(BASE, "atrium", KeyRing.open(tmp_path / "ring"))


@pytest.fixture
def factory(db: Session, issuer: BuiltinIssuer) -> Factory:
    return Factory(db, issuer=issuer)


@pytest.fixture
def visas(issuer: BuiltinIssuer) -> VisaIssuer:
    return VisaIssuer(issuer.issuer, issuer.jwks_uri, issuer.ring, ttl_seconds=3600)


@pytest.fixture
def clearinghouse(issuer: BuiltinIssuer, tmp_path: Path) -> PassportVerifier:
    settings = Settings(data_dir=tmp_path, public_base_url=BASE, trust_own_passports=True)
    store = KeyStore(local={issuer.jwks_uri: issuer.key_set})
    verifier = build_passport_verifier(settings, store, issuer)
    assert verifier is not None
    return verifier


def controlled(factory: Factory) -> Dataset:
    return factory.dataset(publish=True, access_level="controlled", files=1)


def principal(db: Session, subject: str, issuer: str = BASE) -> Principal:
    return principal_for(db.connection(), issuer=issuer, subject=subject)


def segment(token: str, index: int) -> dict[str, Any]:
    part = token.split(".")[index]
    decoded: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
    return decoded


def check(clearinghouse: PassportVerifier, passport: str) -> VisaGrants:
    return asyncio.run(clearinghouse.controlled_access([passport]))


def test_a_visa_carries_exactly_the_passport_claims(
    db: Session, factory: Factory, visas: VisaIssuer, issuer: BuiltinIssuer
) -> None:
    dataset = controlled(factory)
    grant = factory.grant("gina", dataset)
    now = datetime.now(UTC)

    (visa,) = visas.visas(db, principal(db, "gina"), now=now)

    assert segment(visa.token, 0) == {
        "typ": "vnd.ga4gh.visa+jwt",
        "jku": f"{BASE}/.well-known/jwks.json",
        "alg": "RS256",
        "kid": issuer.kid,
    }
    claims = jwt.decode(visa.token, issuer.key_set()).claims
    committee = db.scalar(select(Committee.slug).where(Committee.id == dataset.committee_id))
    assert committee is not None
    assert claims == {
        "iss": BASE,
        "sub": "gina",
        "iat": int(now.timestamp()),
        "exp": int(now.timestamp()) + 3600,
        "jti": visa.jti,
        "ga4gh_visa_v1": {
            "type": "ControlledAccessGrants",
            "asserted": int(grant.created_at.timestamp()),
            "value": dataset_url(BASE, dataset.accession),
            "source": committee_url(BASE, committee),
            "by": "dac",
        },
    }
    assert visa.grant_id == grant.id


def test_a_visa_never_outlives_its_grant(db: Session, factory: Factory, visas: VisaIssuer) -> None:
    soon = controlled(factory)
    grant = factory.grant("gina", soon, expires_at=datetime.now(UTC) + timedelta(minutes=10))

    (visa,) = visas.visas(db, principal(db, "gina"), now=datetime.now(UTC))

    ends = int(grant.expires_at.timestamp())
    assert visa.expires_at == ends
    assert segment(visa.token, 1)["exp"] == ends


def test_expired_revoked_and_future_grants_give_no_visa(
    db: Session, factory: Factory, visas: VisaIssuer
) -> None:
    now = datetime.now(UTC)
    expired, revoked, future, kept = (controlled(factory) for _ in range(4))
    old = factory.grant("gina", expired)
    db.execute(
        update(AccessGrant)
        .where(AccessGrant.id == old.id)
        .values(starts_at=now - 3 * DAY, expires_at=now - DAY)
    )
    ended = factory.grant("gina", revoked)
    governance_service.revoke_grant(db, SYSTEM, grant_id=ended.id, reason="left the project")
    governance_service.grant_access(
        db,
        SYSTEM,
        issuer=BASE,
        subject="gina",
        accession=future.accession,
        starts_at=now + DAY,
        expires_at=now + 3 * DAY,
    )
    factory.grant("gina", kept)

    issued = visas.visas(db, principal(db, "gina"), now=datetime.now(UTC))

    assert [v.dataset for v in issued] == [dataset_url(BASE, kept.accession)]


def test_each_issued_visa_is_audited(db: Session, factory: Factory, visas: VisaIssuer) -> None:
    first, second = controlled(factory), controlled(factory)
    factory.grant("gina", first)
    factory.grant("gina", second)

    issued = visas.visas(db, principal(db, "gina"), now=datetime.now(UTC))

    events = db.scalars(select(AuditEvent).where(AuditEvent.action == "visa.issued")).all()
    assert sorted((e.actor, e.object_id, e.summary["jti"]) for e in events) == sorted(
        (f"gina@{BASE}", str(v.grant_id), v.jti) for v in issued
    )


def test_anonymous_callers_get_no_passport(db: Session, visas: VisaIssuer) -> None:
    with pytest.raises(Unauthenticated):
        visas.passport(db, ANONYMOUS, now=datetime.now(UTC))


def test_users_of_other_issuers_are_named_by_their_atrium_id(
    db: Session, factory: Factory, visas: VisaIssuer
) -> None:
    dataset = controlled(factory)
    governance_service.grant_access(
        db,
        SYSTEM,
        issuer="https://login.example.org",
        subject="gina",
        accession=dataset.accession,
        expires_at=datetime.now(UTC) + DAY,
    )
    caller = principal(db, "gina", issuer="https://login.example.org")

    passport = visas.passport(db, caller, now=datetime.now(UTC))

    assert passport.subject == str(caller.user_id)
    assert segment(passport.visas[0].token, 1)["sub"] == str(caller.user_id)


def test_atrium_passports_pass_atriums_own_clearinghouse(
    db: Session, factory: Factory, visas: VisaIssuer, clearinghouse: PassportVerifier
) -> None:
    dataset = controlled(factory)
    factory.grant("gina", dataset)

    passport = visas.passport(db, principal(db, "gina"), now=datetime.now(UTC))

    assert segment(passport.token, 0)["typ"] == "vnd.ga4gh.passport+jwt"
    assert segment(passport.token, 1)["ga4gh_passport_v1"] == [v.token for v in passport.visas]
    grants = check(clearinghouse, passport.token)
    assert grants.rejected == ()
    assert grants.dataset_urls == {dataset_url(BASE, dataset.accession)}
    assert grants.grants[dataset_url(BASE, dataset.accession)].by == "dac"


def test_passports_signed_before_a_rotation_verify_until_the_key_is_retired(
    db: Session,
    factory: Factory,
    visas: VisaIssuer,
    clearinghouse: PassportVerifier,
    issuer: BuiltinIssuer,
) -> None:
    dataset = controlled(factory)
    factory.grant("gina", dataset)
    old_kid = issuer.kid
    before = visas.passport(db, principal(db, "gina"), now=datetime.now(UTC))

    issuer.ring.rotate()

    after = visas.passport(db, principal(db, "gina"), now=datetime.now(UTC))
    assert segment(after.token, 0)["kid"] != old_kid
    assert check(clearinghouse, before.token).dataset_urls == {dataset_url(BASE, dataset.accession)}

    issuer.ring.retire(old_kid)

    with pytest.raises(PassportRejected, match="signed by an unknown key"):
        check(clearinghouse, before.token)
    assert check(clearinghouse, after.token).dataset_urls == {dataset_url(BASE, dataset.accession)}


def test_a_visa_signed_by_a_retired_key_is_not_counted(
    db: Session,
    factory: Factory,
    visas: VisaIssuer,
    clearinghouse: PassportVerifier,
    issuer: BuiltinIssuer,
) -> None:
    """A stale visa relayed inside a fresh passport: the passport verifies, the visa does not."""
    dataset = controlled(factory)
    factory.grant("gina", dataset)
    old_kid = issuer.kid
    (stale,) = visas.visas(db, principal(db, "gina"), now=datetime.now(UTC))
    issuer.ring.rotate()
    issuer.ring.retire(old_kid)
    fresh = visas.passport(db, principal(db, "gina"), now=datetime.now(UTC))
    relayed = jwt.encode(
        segment(fresh.token, 0),
        {**segment(fresh.token, 1), "ga4gh_passport_v1": [stale.token]},
        issuer.key,
        algorithms=["RS256"],
    )

    grants = check(clearinghouse, relayed)

    assert grants.dataset_urls == frozenset()
    assert [r.reason for r in grants.rejected] == ["visa is signed by an unknown key"]
