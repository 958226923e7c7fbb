"""datasetUpdate: a steward changes a dataset's metadata."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.inputs import DatasetUpdateInput, plain
from api.graphql.catalog.types import Dataset, ctx
from api.graphql.errors import CatalogError, attempt, parse
from catalog import service
from catalog.schemas import DatasetUpdate as DatasetUpdateSchema


class DatasetUpdate(graphene.Mutation):
    """Change a draft or published dataset (publish again to make a new version)."""

    class Arguments:
        accession = graphene.String(required=True, description="Dataset accession.")
        input = DatasetUpdateInput(required=True, description="Fields to change.")

    dataset = graphene.Field(Dataset, description="The dataset after the change.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, accession: str, input: Any) -> DatasetUpdate:
        c = ctx(info)
        data, errors = parse(DatasetUpdateSchema, plain(input))
        if data is None:
            return DatasetUpdate(dataset=None, errors=errors)
        dataset, errors = attempt(
            c.session,
            lambda: service.update_dataset(c.session, c.principal, accession=accession, data=data),
        )
        return DatasetUpdate(dataset=dataset, errors=errors)
