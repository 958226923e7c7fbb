"""Who is asking: the verified identity of a caller and the roles Postgres gives it."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from functools import cached_property

from catalog.models import RoleName


@dataclass(frozen=True)
class Role:
    """One role assignment as policies see it."""

    role: RoleName
    organization_id: uuid.UUID | None = None
    committee_id: uuid.UUID | None = None


@dataclass(frozen=True)
class Principal:
    issuer: str | None = None
    subject: str | None = None
    user_id: uuid.UUID | None = None
    roles: frozenset[Role] = field(default_factory=frozenset)

    @property
    def is_authenticated(self) -> bool:
        return self.subject is not None

    @cached_property
    def is_admin(self) -> bool:
        return any(r.role is RoleName.ADMIN for r in self.roles)

    @property
    def actor(self) -> str:
        """How audit events name this caller."""
        return f"{self.subject}@{self.issuer}" if self.subject else "anonymous"

    def organizations_with(self, role: RoleName) -> frozenset[uuid.UUID]:
        return self._organizations_by_role.get(role, frozenset())

    @cached_property
    def _organizations_by_role(self) -> dict[RoleName, frozenset[uuid.UUID]]:
        """Computed once: policies ask for every dataset of a page."""
        return {
            role: frozenset(
                r.organization_id for r in self.roles if r.role is role and r.organization_id
            )
            for role in {r.role for r in self.roles}
        }

    def committees(self) -> frozenset[uuid.UUID]:
        return self._committees

    @cached_property
    def _committees(self) -> frozenset[uuid.UUID]:
        return frozenset(
            r.committee_id
            for r in self.roles
            if r.role in (RoleName.COMMITTEE_MEMBER, RoleName.COMMITTEE_CHAIR) and r.committee_id
        )


ANONYMOUS = Principal()
SYSTEM = Principal(issuer="atrium", subject="system", roles=frozenset({Role(RoleName.ADMIN)}))
