"""bundleCreate: group objects of a dataset into a (possibly nested) bundle."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.inputs import BundleInput, plain
from api.graphql.catalog.types import DrsObject, ctx
from api.graphql.errors import CatalogError, attempt, parse
from catalog import service
from catalog.schemas import BundleCreate as BundleCreateSchema


class BundleCreate(graphene.Mutation):
    """Create a bundle of existing files or bundles of the same dataset."""

    class Arguments:
        accession = graphene.String(required=True, description="Dataset accession.")
        input = BundleInput(required=True, description="The bundle.")

    bundle = graphene.Field(DrsObject, description="The new bundle.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(_root: Any, info: graphene.ResolveInfo, accession: str, input: Any) -> BundleCreate:
        c = ctx(info)
        data, errors = parse(BundleCreateSchema, plain(input))
        if data is None:
            return BundleCreate(bundle=None, errors=errors)
        bundle, errors = attempt(
            c.session,
            lambda: service.create_bundle(c.session, c.principal, accession=accession, data=data),
        )
        return BundleCreate(bundle=bundle, errors=errors)
