"""GraphQL's view of the access rule: the same ``governance.access.read_bytes`` that DRS uses,
fed by a per-request loader of the caller's active grants. Synchronous, like the catalog
loaders it reads (see ``sibling_loaders``)."""

from __future__ import annotations

from collections.abc import Sequence
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
    return file_access(context, dataset)[0]


def file_access(context: Context, dataset: Any) -> tuple[bool, bool]:
    """(may list the files, may download). File metadata: whoever may download, plus the
    dataset's committee (which reviews requests without holding data access)."""
    download = download_decision(context, dataset).allowed
    return download or policies.can_read_files(context.principal, dataset), download


def page_access(context: Context, datasets: Sequence[Any]) -> list[tuple[bool, bool, bool]]:
    """(``may_list_files``, may download, stewards it) for each dataset of a page, decided
    once per distinct combination of the facts those rules read: a page's hundred datasets
    share a handful. Keep the key in step with ``file_access`` and ``policies.stewards`` (a
    test compares the two over every combination of facts); the accession is left out because
    GraphQL decides without passport visas, the only reader of the dataset's URL."""
    grants = context.loaders.catalog.active_grant_by_dataset_id
    decided: dict[tuple[Any, ...], tuple[bool, bool, bool]] = {}
    flags = []
    for dataset in datasets:
        key = (
            dataset.steward_id,
            dataset.status,
            dataset.access_level,
            dataset.committee_id,
            grants.get(dataset.id),
        )
        found = decided.get(key)
        if found is None:
            listed, download = file_access(context, dataset)
            steward = policies.stewards(context.principal, dataset.steward_id)
            found = decided[key] = (listed, download, steward)
        flags.append(found)
    return flags
