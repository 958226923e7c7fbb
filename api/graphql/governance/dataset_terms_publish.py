"""datasetTermsPublish: a steward publishes a new version of a dataset's terms of use."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import DatasetTermsOfUse, ctx
from api.graphql.errors import CatalogError, attempt
from governance import committees


class DatasetTermsPublish(graphene.Mutation):
    """Publish new terms of use for a dataset you steward; requests must accept the latest
    version before they are submitted."""

    class Arguments:
        accession = graphene.String(required=True, description="Dataset accession.")
        text = graphene.String(required=True, description="The terms, in plain text.")

    terms = graphene.Field(DatasetTermsOfUse, description="The new version.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(
        _root: Any, info: graphene.ResolveInfo, accession: str, text: str
    ) -> DatasetTermsPublish:
        c = ctx(info)
        terms, errors = attempt(
            c.session,
            lambda: committees.publish_terms(
                c.session, c.principal, accession=accession, text=text
            ),
        )
        return DatasetTermsPublish(terms=terms, errors=errors)
