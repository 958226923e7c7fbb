"""datasetRetire: withdraw a published dataset, leaving a tombstone."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import Dataset, ctx
from api.graphql.errors import CatalogError, attempt
from catalog import service


class DatasetRetire(graphene.Mutation):
    """Retire a published dataset; its accession keeps answering with the reason."""

    class Arguments:
        accession = graphene.String(required=True, description="Dataset accession.")
        reason = graphene.String(required=True, description="Why it is retired (shown publicly).")

    dataset = graphene.Field(Dataset, description="The retired dataset.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(
        _root: Any, info: graphene.ResolveInfo, accession: str, reason: str
    ) -> DatasetRetire:
        c = ctx(info)
        dataset, errors = attempt(
            c.session,
            lambda: service.retire_dataset(
                c.session, c.principal, accession=accession, reason=reason
            ),
        )
        return DatasetRetire(dataset=dataset, errors=errors)
