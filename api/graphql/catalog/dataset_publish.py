"""datasetPublish: make a draft public, or publish changes as a new version."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import Dataset, ctx
from api.graphql.errors import CatalogError, attempt
from catalog import service


class DatasetPublish(graphene.Mutation):
    """Publish the dataset's current metadata as its next version."""

    class Arguments:
        accession = graphene.String(required=True, description="Dataset accession.")

    dataset = graphene.Field(Dataset, description="The published dataset.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, accession: str) -> DatasetPublish:
        c = ctx(info)
        dataset, errors = attempt(
            c.session, lambda: service.publish_dataset(c.session, c.principal, accession=accession)
        )
        return DatasetPublish(dataset=dataset, errors=errors)
