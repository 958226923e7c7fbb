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
from sqlalchemy import DateTime, Text, and_, bindparam, func, select

from api.database import ReadConnections
from catalog import service
from catalog.models import CatalogGeneration, RoleAssignment, User
from catalog.prepared import PreparedQuery
from catalog.principals import Principal
from governance.models import AccessGrant
from governance.repository import active

NOW = bindparam("now", type_=DateTime(timezone=True))
GRANTED = (
    select(func.array_agg(AccessGrant.dataset_id))
    .where(AccessGrant.user_id == User.id, active(NOW))
    .correlate(User)
    .scalar_subquery()
)
GENERATION_AND_CLASS = PreparedQuery(
    "atrium_generation_and_class",
    select(
        CatalogGeneration.generation,
        User.id,
        RoleAssignment.role,
        RoleAssignment.organization_id,
        RoleAssignment.committee_id,
        GRANTED,
    )
    .select_from(CatalogGeneration)
    .outerjoin(
        User,
        and_(
            User.issuer == bindparam("issuer", type_=Text),
            User.subject == bindparam("subject", type_=Text),
        ),
    )
    .outerjoin(RoleAssignment, RoleAssignment.user_id == User.id),
)
"""The catalog generation and a caller's class, in one statement (one snapshot, one round
trip): a row per role assignment (one with nulls for none), each with the user's grants active
at ``now`` (null for none), and no user id for an identity never seen."""


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


async def generation_and_caller_access(
    reads: ReadConnections, claims: dict[str, Any], now: datetime
) -> tuple[int, CallerAccess]:
    """The catalog generation, and the caller of verified ``claims`` with its roles and its
    grants active at ``now``."""
    issuer, subject = str(claims["iss"]), str(claims["sub"])
    rows = await reads.rows(
        GENERATION_AND_CLASS, {"issuer": issuer, "subject": subject, "now": now}
    )
    generation, user_id, *_, granted = rows[0]
    roles = [(role, org, committee) for _, _, role, org, committee, _ in rows if role is not None]
    principal = service.principal_with_roles(
        issuer, subject, (user_id, roles) if user_id is not None else None
    )
    return int(generation), CallerAccess(principal, frozenset(granted or ()), now)
