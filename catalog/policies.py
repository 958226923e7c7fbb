"""One named function per guarded catalog operation. Services call them before they write;
read filters live in ``repository.readable_datasets``. Each returns a bool and never raises, so
the caller decides how a refusal is reported."""

from __future__ import annotations

import uuid

from catalog.models import AccessLevel, Dataset, DatasetStatus, RoleName
from catalog.principals import Principal


def stewards(principal: Principal, organization_id: uuid.UUID) -> bool:
    return principal.is_admin or organization_id in principal.organizations_with(RoleName.STEWARD)


def can_create_dataset(principal: Principal, steward_id: uuid.UUID) -> bool:
    return stewards(principal, steward_id)


def can_update_dataset(principal: Principal, dataset: Dataset) -> bool:
    return stewards(principal, dataset.steward_id) and dataset.status is not DatasetStatus.RETIRED


def can_publish_dataset(principal: Principal, dataset: Dataset) -> bool:
    return stewards(principal, dataset.steward_id)


def can_retire_dataset(principal: Principal, dataset: Dataset) -> bool:
    return stewards(principal, dataset.steward_id)


def can_register_files(principal: Principal, dataset: Dataset) -> bool:
    return stewards(principal, dataset.steward_id)


def can_read_dataset(principal: Principal, dataset: Dataset) -> bool:
    """Drafts are private to their stewards; published and retired (tombstone) are public."""
    return dataset.status is not DatasetStatus.DRAFT or stewards(principal, dataset.steward_id)


def can_read_files(principal: Principal, dataset: Dataset) -> bool:
    """File-level metadata (ids, names, checksums) of a dataset, apart from grants.

    Open data is public; registered data needs an authenticated caller; controlled data is
    visible to the dataset's stewards and its committee (which reviews requests without
    holding data access). Grant holders see it too: the API layer adds
    ``governance.access.read_bytes``, which this package cannot import. Retired datasets keep
    their tombstone but no longer list files except to stewards.
    """
    if stewards(principal, dataset.steward_id):
        return True
    if dataset.status is not DatasetStatus.PUBLISHED:
        return False
    if dataset.access_level is AccessLevel.OPEN:
        return True
    if dataset.access_level is AccessLevel.REGISTERED:
        return principal.is_authenticated
    return dataset.committee_id is not None and dataset.committee_id in principal.committees()


def can_manage_organizations(principal: Principal) -> bool:
    return principal.is_admin


def can_assign_roles(principal: Principal) -> bool:
    return principal.is_admin


def can_read_audit(principal: Principal) -> bool:
    return principal.is_admin
