"""One named function per guarded governance operation. Each returns a bool and never raises,
so the command decides how a refusal is reported."""

from __future__ import annotations

import uuid

from catalog import policies as catalog_policies
from catalog.models import Committee, Dataset, RoleName
from catalog.principals import Principal


def can_grant_access(principal: Principal) -> bool:
    """Administrators grant directly; committees grant by approving requests."""
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


def can_revoke_grant(principal: Principal, dataset: Dataset) -> bool:
    """Administrators, and the committee that governs the dataset."""
    return principal.is_admin or sits_on(principal, dataset.committee_id)


def can_manage_committee(principal: Principal, committee: Committee) -> bool:
    """Stewards of the committee's organization (and administrators) set its rules and
    membership; committee members do not appoint each other."""
    return catalog_policies.stewards(principal, committee.organization_id)


def can_publish_terms(principal: Principal, dataset: Dataset) -> bool:
    return catalog_policies.stewards(principal, dataset.steward_id)


def can_request_access(principal: Principal) -> bool:
    """Any signed-in person except through a funder-auditor account: auditors read the
    workflow and never write to it, so their findings stay independent."""
    return principal.is_authenticated and not principal.organizations_with(RoleName.FUNDER_AUDITOR)


def sits_on(principal: Principal, committee_id: uuid.UUID | None) -> bool:
    """A member or the chair of the committee: they review, vote and revoke."""
    return committee_id is not None and committee_id in principal.committees()


def chairs(principal: Principal, committee_id: uuid.UUID) -> bool:
    return any(
        r.role is RoleName.COMMITTEE_CHAIR and r.committee_id == committee_id
        for r in principal.roles
    )


def can_see_grants_of(principal: Principal, dataset: Dataset) -> bool:
    """Who holds access to a dataset: its stewards, its committee and administrators."""
    return catalog_policies.stewards(principal, dataset.steward_id) or sits_on(
        principal, dataset.committee_id
    )
