"""The one decision of whether a caller may read a dataset's bytes.

DRS access, GraphQL fields and search flags all ask this module. It is pure: the caller
supplies what it knows (the principal, the dataset's access fields, whether Postgres holds an
active grant at this instant, and which dataset URLs valid passport visas name), so the rule
itself can be tested exhaustively and reused on any path without extra queries.
"""

from __future__ import annotations

import enum
import uuid
from collections.abc import Collection
from dataclasses import dataclass

from catalog.models import AccessLevel, DatasetStatus, RoleName
from catalog.principals import Principal


class Decision(enum.Enum):
    ALLOWED = "allowed"
    NEEDS_AUTHENTICATION = "needs authentication"
    DENIED = "denied"

    @property
    def allowed(self) -> bool:
        return self is Decision.ALLOWED


@dataclass(frozen=True)
class DatasetAccessFacts:
    """The fields of a dataset the decision depends on."""

    id: uuid.UUID
    url: str
    access_level: AccessLevel
    status: DatasetStatus
    steward_id: uuid.UUID


def read_bytes(
    principal: Principal,
    dataset: DatasetAccessFacts,
    *,
    has_active_grant: bool,
    visa_dataset_urls: Collection[str] = (),
) -> Decision:
    """Open data: anyone. Registered: any authenticated subject. Controlled: an active grant in
    Postgres, or a valid ControlledAccessGrants visa naming the dataset's URL. Stewards of the
    dataset may always read it; nobody else may read drafts or retired datasets."""
    if dataset.steward_id in principal.organizations_with(RoleName.STEWARD):
        return Decision.ALLOWED
    if dataset.status is not DatasetStatus.PUBLISHED:
        return Decision.DENIED
    if dataset.access_level is AccessLevel.OPEN:
        return Decision.ALLOWED
    if dataset.access_level is AccessLevel.REGISTERED:
        return Decision.ALLOWED if principal.is_authenticated else Decision.NEEDS_AUTHENTICATION
    if has_active_grant or dataset.url in visa_dataset_urls:
        return Decision.ALLOWED
    if not principal.is_authenticated and not visa_dataset_urls:
        return Decision.NEEDS_AUTHENTICATION
    return Decision.DENIED


def decision_key(
    *,
    access_level: str,
    status: str,
    steward_id: uuid.UUID,
    has_active_grant: bool,
    dataset: str | None,
) -> tuple[object, ...]:
    """What ``read_bytes`` reads of a dataset, as a key: for one caller and one set of visas,
    datasets with equal keys get the same decision, so a 1,000-object bulk request decides a
    handful of times instead of a thousand. ``dataset`` names the dataset (its URL or
    accession) when visas name datasets, and is None otherwise: only then does it count. Keep
    in step with ``read_bytes`` (a test compares the two over every combination of facts)."""
    return (access_level, status, steward_id, has_active_grant, dataset)


@dataclass(frozen=True)
class ReadableScope:
    """``read_bytes`` as sets, for filtering many datasets at once (search's "only what I can
    access"); ``dataset_ids`` are the controlled datasets the caller holds a grant or a visa
    for. ``admits`` must agree with ``read_bytes`` on every dataset; a test holds them to
    it over every combination of facts."""

    levels: frozenset[AccessLevel]
    dataset_ids: frozenset[uuid.UUID]
    steward_ids: frozenset[uuid.UUID]

    def admits(self, dataset: DatasetAccessFacts) -> bool:
        if dataset.steward_id in self.steward_ids:
            return True
        if dataset.status is not DatasetStatus.PUBLISHED:
            return False
        if dataset.access_level is AccessLevel.CONTROLLED:
            return dataset.id in self.dataset_ids
        return dataset.access_level in self.levels


def readable_scope(
    principal: Principal,
    *,
    granted_dataset_ids: Collection[uuid.UUID],
    visa_dataset_ids: Collection[uuid.UUID] = (),
) -> ReadableScope:
    """``granted_dataset_ids``: datasets with an active grant for the principal right now;
    ``visa_dataset_ids``: datasets that valid visas name."""
    levels = {AccessLevel.OPEN}
    if principal.is_authenticated:
        levels.add(AccessLevel.REGISTERED)
    return ReadableScope(
        levels=frozenset(levels),
        dataset_ids=frozenset(granted_dataset_ids) | frozenset(visa_dataset_ids),
        steward_ids=principal.organizations_with(RoleName.STEWARD),
    )


def dataset_url(base_url: str, accession: str) -> str:
    """The URL that names a dataset in ControlledAccessGrants visas (their ``value``)."""
    return f"{base_url}/datasets/{accession}"


def committee_url(base_url: str, slug: str) -> str:
    """The URL that names a committee as the ``source`` of the visas its grants become."""
    return f"{base_url}/committees/{slug}"


def organization_url(base_url: str, slug: str) -> str:
    """The ``source`` of visas for a dataset without a committee: its stewarding organization."""
    return f"{base_url}/organizations/{slug}"
