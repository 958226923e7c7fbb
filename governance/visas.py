"""Atrium as a GA4GH Visa Issuer and Passport Broker for its own grants.

Each active grant becomes a ControlledAccessGrants Visa Document Token (Passport 1.2): header
``typ: vnd.ga4gh.visa+jwt``, ``jku`` naming Atrium's JWKS and ``kid`` its active key; ``value``
is the dataset's URL (``governance.access.dataset_url``, the string the clearinghouse side
matches), ``source`` the committee's URL (or the steward's, for a dataset without a committee),
``by: dac``, ``asserted`` when the grant was made. A visa never outlives its grant, and lives at
most ``ttl_seconds``: visas are bearer statements Atrium cannot recall, so a short life bounds
what a revocation leaves valid. A passport (``typ: vnd.ga4gh.passport+jwt``) bundles them.

Every visa issued is audited in the caller's transaction. This module must not read the
environment or know about HTTP; the API layer passes the issuer, the key ring and the clock.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from joserfc import jwt
from sqlalchemy.orm import Session

from catalog import audit, service
from catalog.errors import Unauthenticated
from catalog.principals import Principal
from governance import repository
from governance.access import committee_url, dataset_url, organization_url
from governance.passports import CONTROLLED_ACCESS_GRANTS
from governance.signing_keys import ALGORITHM, KeyRing

VISA_TYP = "vnd.ga4gh.visa+jwt"
PASSPORT_TYP = "vnd.ga4gh.passport+jwt"


@dataclass(frozen=True)
class IssuedVisa:
    token: str
    jti: str
    grant_id: uuid.UUID
    dataset: str
    expires_at: int


@dataclass(frozen=True)
class IssuedPassport:
    token: str
    subject: str
    visas: tuple[IssuedVisa, ...]
    expires_at: int


@dataclass(frozen=True)
class VisaIssuer:
    issuer: str
    """Atrium's ``iss`` (its public URL); also the base of dataset and committee URLs."""
    jwks_uri: str
    ring: KeyRing
    ttl_seconds: int = 3600

    def subject_of(self, session: Session, principal: Principal) -> str:
        """The caller's ``sub`` in Atrium's namespace: the token's own ``sub`` when Atrium's
        issuer signed it (so the passport matches the caller's bearer token), else Atrium's
        opaque user id (another issuer's ``sub`` means nothing under Atrium's ``iss``), which
        is created for a caller Atrium has not met yet."""
        if principal.issuer is None or principal.subject is None:
            raise Unauthenticated("a passport needs an authenticated caller")
        if principal.issuer == self.issuer:
            return principal.subject
        if principal.user_id is not None:
            return str(principal.user_id)
        user = service.ensure_user(session, issuer=principal.issuer, subject=principal.subject)
        return str(user.id)

    def visas(self, session: Session, principal: Principal, *, now: datetime) -> list[IssuedVisa]:
        """One visa per active grant of the caller on a published dataset."""
        subject = self.subject_of(session, principal)
        if principal.user_id is None:
            return []  # a caller Atrium never stored holds no grants
        issued_at = int(now.timestamp())
        found = []
        for source in repository.visa_sources(session, principal.user_id, now):
            grant = source.grant
            expires_at = min(int(grant.expires_at.timestamp()), issued_at + self.ttl_seconds)
            jti = str(uuid.uuid4())
            value = dataset_url(self.issuer, source.accession)
            claims = {
                "iss": self.issuer,
                "sub": subject,
                "iat": issued_at,
                "exp": expires_at,
                "jti": jti,
                "ga4gh_visa_v1": {
                    "type": CONTROLLED_ACCESS_GRANTS,
                    "asserted": int(grant.created_at.timestamp()),
                    "value": value,
                    "source": (
                        committee_url(self.issuer, source.committee_slug)
                        if source.committee_slug
                        else organization_url(self.issuer, source.steward_slug)
                    ),
                    "by": "dac",
                },
            }
            token = self._sign({"typ": VISA_TYP, "jku": self.jwks_uri}, claims)
            found.append(IssuedVisa(token, jti, grant.id, value, expires_at))
            audit.record(
                session,
                principal,
                "visa.issued",
                object_type="access_grant",
                object_id=str(grant.id),
                summary={"jti": jti, "dataset": source.accession, "expires_at": expires_at},
            )
        return found

    def passport(self, session: Session, principal: Principal, *, now: datetime) -> IssuedPassport:
        """A passport of the caller's visas, living ``ttl_seconds``; each visa still ends by
        its own ``exp`` (clearinghouses take the earlier of the two)."""
        visas = self.visas(session, principal, now=now)
        issued_at = int(now.timestamp())
        expires_at = issued_at + self.ttl_seconds
        subject = self.subject_of(session, principal)
        claims = {
            "iss": self.issuer,
            "sub": subject,
            "iat": issued_at,
            "exp": expires_at,
            "jti": str(uuid.uuid4()),
            "ga4gh_passport_v1": [v.token for v in visas],
        }
        token = self._sign({"typ": PASSPORT_TYP}, claims)
        return IssuedPassport(token, subject, tuple(visas), expires_at)

    def _sign(self, header: dict[str, Any], claims: dict[str, Any]) -> str:
        key = self.ring.active_key
        full = {**header, "alg": ALGORITHM, "kid": str(key.kid)}
        return jwt.encode(full, claims, key, algorithms=[ALGORITHM])
