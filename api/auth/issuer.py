"""The built-in OIDC issuer of the embedded default: Atrium's key ring in the data directory
(``governance.signing_keys``), published as a JWKS, and used to mint tokens for local users
(``atrium token``)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from governance.signing_keys import ALGORITHM, KeyRing

RING_DIR = "ring"
JWKS_PATH = "/.well-known/jwks.json"


class BuiltinIssuer:
    def __init__(self, issuer: str, audience: str, ring: KeyRing) -> None:
        self.issuer = issuer
        self.audience = audience
        self.ring = ring

    @classmethod
    def from_data_dir(cls, data_dir: Path, *, issuer: str, audience: str) -> BuiltinIssuer:
        """Open the key ring, creating it with one key (mode 0600) on first start."""
        return cls(issuer, audience, KeyRing.open(key_ring_dir(data_dir)))

    @property
    def key(self) -> RSAKey:
        """The active signing key."""
        return self.ring.active_key

    @property
    def kid(self) -> str:
        return str(self.key.kid)

    @property
    def jwks_uri(self) -> str:
        return f"{self.issuer}{JWKS_PATH}"

    def public_jwks(self) -> dict[str, Any]:
        return self.ring.public_jwks()

    def key_set(self) -> KeySet:
        """Every published key: tokens signed before a rotation verify until retirement."""
        return self.ring.verification_keys()

    def mint(
        self,
        subject: str,
        *,
        ttl_seconds: int = 3600,
        name: str | None = None,
        now: int | None = None,
    ) -> str:
        issued = int(time.time()) if now is None else now
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": subject,
            "aud": self.audience,
            "iat": issued,
            "nbf": issued,
            "exp": issued + ttl_seconds,
            "jti": str(uuid.uuid4()),
        }
        if name:
            claims["name"] = name
        key = self.key
        header = {"alg": ALGORITHM, "typ": "JWT", "kid": str(key.kid)}
        return jwt.encode(header, claims, key, algorithms=[ALGORITHM])

    def discovery_document(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": self.jwks_uri,
            "userinfo_endpoint": f"{self.issuer}/userinfo",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": [ALGORITHM],
            "scopes_supported": ["openid", "ga4gh_passport_v1"],
            "claims_supported": [
                "iss",
                "sub",
                "aud",
                "exp",
                "iat",
                "nbf",
                "jti",
                "name",
                "ga4gh_passport_v1",
            ],
        }


def key_ring_dir(data_dir: Path) -> Path:
    return data_dir / "keys" / RING_DIR
