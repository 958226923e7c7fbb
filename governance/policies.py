"""One named function per guarded governance operation."""

from __future__ import annotations

from catalog.principals import Principal


def can_grant_access(principal: Principal) -> bool:
    """Administrators grant directly; committee decisions will grant through requests."""
    return principal.is_admin


def can_revoke_grant(principal: Principal) -> bool:
    return principal.is_admin
