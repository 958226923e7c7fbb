"""GraphQL's view of the access rule: the same ``governance.access.read_bytes`` that DRS uses,
fed by a per-request loader of the caller's active grants. Synchronous, like the catalog
loaders it reads (see ``sibling_loaders``)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from catalog import policies
from governance.access import DatasetAccessFacts, Decision, dataset_url, read_bytes

if TYPE_CHECKING:
    from api.graphql.context import Context


def download_decision(context: Context, dataset: Any) -> Decision:
    has_grant = context.loaders.catalog.active_grant_by_dataset_id.get(dataset.id)
    facts = DatasetAccessFacts(
        id=dataset.id,
        url=dataset_url(context.base_url, dataset.accession),
        access_level=dataset.access_level,
        status=dataset.status,
        steward_id=dataset.steward_id,
    )
    return read_bytes(context.principal, facts, has_active_grant=bool(has_grant))


def may_list_files(context: Context, dataset: Any) -> bool:
    """File metadata: whoever may download, plus the dataset's committee (which reviews
    requests without holding data access)."""
    if policies.can_read_files(context.principal, dataset):
        return True
    return download_decision(context, dataset).allowed


def file_access(context: Context, dataset: Any) -> tuple[bool, bool]:
    """(``may_list_files``, may download) with one decision, for a page of datasets."""
    download = download_decision(context, dataset).allowed
    return download or policies.can_read_files(context.principal, dataset), download
