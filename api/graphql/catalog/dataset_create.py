"""datasetCreate: a steward registers a new draft dataset."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.inputs import DatasetCreateInput, plain
from api.graphql.catalog.types import Dataset, ctx
from api.graphql.errors import CatalogError, attempt, parse
from catalog import service
from catalog.schemas import DatasetCreate as DatasetCreateSchema


class DatasetCreate(graphene.Mutation):
    """Create a draft dataset. Requires the steward role for the steward organization."""

    class Arguments:
        input = DatasetCreateInput(required=True, description="The dataset.")

    dataset = graphene.Field(Dataset, description="The new dataset; null if refused.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, input: Any) -> DatasetCreate:
        c = ctx(info)
        data, errors = parse(DatasetCreateSchema, plain(input))
        if data is None:
            return DatasetCreate(dataset=None, errors=errors)
        dataset, errors = attempt(
            c.session, lambda: service.create_dataset(c.session, c.principal, data=data)
        )
        return DatasetCreate(dataset=dataset, errors=errors)
