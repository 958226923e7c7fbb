"""From verified token claims to the principal that policies see."""

from __future__ import annotations

from typing import Any

from sqlalchemy.engine import Connection

from api.database import ReadConnections
from catalog import repository, service
from catalog.principals import ANONYMOUS, Principal


def principal_from_claims(connection: Connection, claims: dict[str, Any] | None) -> Principal:
    if not claims:
        return ANONYMOUS
    return service.principal_for(connection, issuer=str(claims["iss"]), subject=str(claims["sub"]))


async def read_principal(reads: ReadConnections, claims: dict[str, Any] | None) -> Principal:
    """``principal_from_claims`` on the read connections, for the hot paths."""
    if not claims:
        return ANONYMOUS
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    rows = await reads.rows(repository.USER_ROLES, {"issuer": issuer, "subject": subject})
    return service.principal_with_roles(issuer, subject, repository.roles_from_rows(rows))
