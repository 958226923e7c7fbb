"""GraphQL's view of the access rule: the same ``governance.access.read_bytes`` that DRS uses,
fed by a per-request loader of the caller's active grants."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.context import Context
from catalog import policies
from governance.access import DatasetAccessFacts, Decision, dataset_url, read_bytes


async def download_decision(info: graphene.ResolveInfo, dataset: Any) -> Decision:
    context: Context = info.context
    has_grant = await context.loaders.active_grant_by_dataset_id.load(dataset.id)
    facts = DatasetAccessFacts(
        id=dataset.id,
        url=dataset_url(context.base_url, dataset.accession),
        access_level=dataset.access_level,
        status=dataset.status,
        steward_id=dataset.steward_id,
    )
    return read_bytes(context.principal, facts, has_active_grant=bool(has_grant))


async def may_list_files(info: graphene.ResolveInfo, dataset: Any) -> bool:
    """File metadata: whoever may download, plus the dataset's committee (which reviews
    requests without holding data access)."""
    context: Context = info.context
    if policies.can_read_files(context.principal, dataset):
        return True
    return (await download_decision(info, dataset)).allowed
