"""The built-in OIDC issuer of the embedded default: an RSA key kept in the data directory,
published as a JWKS, and used to mint tokens for local users (``atrium token``)."""

from __future__ import annotations

import time
import uuid
from pathlib import Path
from typing import Any

from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

KEY_FILE = "issuer-rs256.pem"


class BuiltinIssuer:
    def __init__(self, issuer: str, audience: str, key: RSAKey) -> None:
        self.issuer = issuer
        self.audience = audience
        self.key = key
        self.kid = str(key.kid)

    @classmethod
    def from_data_dir(cls, data_dir: Path, *, issuer: str, audience: str) -> BuiltinIssuer:
        """Load the signing key, creating it (mode 0600) on first start."""
        path = data_dir / "keys" / KEY_FILE
        if path.exists():
            key = RSAKey.import_key(path.read_bytes())
        else:
            path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            key = RSAKey.generate_key(2048, private=True)
            path.touch(mode=0o600)
            path.write_bytes(key.as_pem(private=True))
        key.ensure_kid()
        return cls(issuer, audience, key)

    def public_jwks(self) -> dict[str, Any]:
        public = self.key.as_dict(private=False)
        return {"keys": [{**public, "use": "sig", "alg": "RS256", "kid": self.kid}]}

    def key_set(self) -> KeySet:
        return KeySet([self.key])

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
        header = {"alg": "RS256", "typ": "JWT", "kid": self.kid}
        return jwt.encode(header, claims, self.key, algorithms=["RS256"])

    def discovery_document(self) -> dict[str, Any]:
        return {
            "issuer": self.issuer,
            "jwks_uri": f"{self.issuer}/.well-known/jwks.json",
            "response_types_supported": ["id_token"],
            "subject_types_supported": ["public"],
            "id_token_signing_alg_values_supported": ["RS256"],
            "claims_supported": ["iss", "sub", "aud", "exp", "iat", "nbf", "jti", "name"],
        }
