"""From verified token claims to the principal that policies see."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from catalog import service
from catalog.principals import ANONYMOUS, Principal


def principal_from_claims(session: Session, claims: dict[str, Any] | None) -> Principal:
    if not claims:
        return ANONYMOUS
    return service.principal_for(session, issuer=str(claims["iss"]), subject=str(claims["sub"]))
