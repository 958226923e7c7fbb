"""One named function per guarded governance operation."""

from __future__ import annotations

from catalog.models import RoleName
from catalog.principals import Principal


def can_grant_access(principal: Principal) -> bool:
    """Administrators grant directly; committee decisions will grant through requests."""
    return principal.is_admin


def can_revoke_grant(principal: Principal) -> bool:
    return principal.is_admin


def can_read_audit_events(principal: Principal) -> bool:
    """Administrators read every event; funder auditors and committee members read those of
    their datasets (``governance.audit_log.readable_events``); everyone else none."""
    return (
        principal.is_admin
        or bool(principal.organizations_with(RoleName.FUNDER_AUDITOR))
        or bool(principal.committees())
    )


def can_read_audit_chain_head(principal: Principal) -> bool:
    """Those who report on integrity: administrators and funder auditors."""
    return principal.is_admin or bool(principal.organizations_with(RoleName.FUNDER_AUDITOR))
