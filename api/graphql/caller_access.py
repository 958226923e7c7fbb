"""What a signed-in caller's catalog answers depend on besides the catalog: its roles, and
the datasets it holds active grants for at the request's time.

Policies read nothing else of a caller (not its name or id), so two researchers without roles
or grants, or two stewards of one organization with no other role or grant, get the same
answer to any catalog query: the response cache shares answers between callers of one class
of access (``key``). The class is read before the answer is computed and the answer is
computed with exactly what was read (``Context.granted``), so a grant or role that changes in
between cannot put one class's answer under another's key. A catalog field that read anything
else of its caller (its id, its requests, its visas) would have to join the class or leave
``CACHEABLE_ROOT_FIELDS`` (docs/adr/0009-signed-in-answers-per-class-of-access.md).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson

from api.database import ReadConnections
from catalog import repository, service
from catalog.principals import Principal
from governance.repository import ACTIVE_GRANTS


@dataclass(frozen=True)
class CallerAccess:
    principal: Principal
    granted: frozenset[uuid.UUID]
    now: datetime

    def key(self) -> bytes:
        """The class of access, in a canonical form: roles and grants sorted."""
        roles = sorted(
            (r.role.value, str(r.organization_id or ""), str(r.committee_id or ""))
            for r in self.principal.roles
        )
        return orjson.dumps([roles, sorted(str(i) for i in self.granted)])


async def caller_access(
    reads: ReadConnections, claims: dict[str, Any], now: datetime
) -> CallerAccess:
    """The caller of verified ``claims``, with its roles and its grants active at ``now``."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    rows = await reads.rows(repository.USER_ROLES, {"issuer": issuer, "subject": subject})
    principal = service.principal_with_roles(issuer, subject, repository.roles_of(rows))
    granted: frozenset[uuid.UUID] = frozenset()
    if principal.user_id is not None:
        held = await reads.rows(ACTIVE_GRANTS, {"user_id": principal.user_id, "now": now})
        granted = frozenset(row[0] for row in held)
    return CallerAccess(principal, granted, now)
