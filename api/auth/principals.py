"""From verified token claims to the principal that policies see."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from catalog import service
from catalog.principals import ANONYMOUS, Principal


def principal_from_claims(connection: Connection, claims: dict[str, Any] | None) -> Principal:
    if not claims:
        return ANONYMOUS
    return service.principal_for(connection, issuer=str(claims["iss"]), subject=str(claims["sub"]))
