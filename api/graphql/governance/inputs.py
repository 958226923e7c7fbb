"""GraphQL inputs of governance mutations. They mirror ``governance.schemas``; pydantic does the
validation so every door rejects the same input with the same messages."""

from __future__ import annotations

import graphene

from api.graphql.catalog.types import DecisionRule
from api.graphql.governance.types import ResearchPurpose


class CommitteeRulesInput(graphene.InputObjectType):
    """How a committee decides."""

    decision_rule = DecisionRule(required=True, description="CHAIR, VOTES or MAJORITY.")
    required_votes = graphene.Int(description="Approving votes that decide; VOTES rule only.")
    sla_days = graphene.Int(required=True, description="Days a review may take, 1-365.")
    max_grant_days = graphene.Int(required=True, description="Longest grant in days, 1-3650.")


class RequestedDatasetInput(graphene.InputObjectType):
    """A controlled dataset to request, and the terms-of-use version you accept."""

    accession = graphene.String(required=True, description="Dataset accession.")
    accepted_terms_version = graphene.Int(
        description="The dataset's current `termsOfUse.version`; required when it has terms."
    )


class AccessRequestInput(graphene.InputObjectType):
    """Everything a request states; an update replaces all of it."""

    project_title = graphene.String(required=True, description="Project title, 1-500 chars.")
    lay_summary = graphene.String(required=True, description="Plain-language summary.")
    research_use = graphene.String(required=True, description="Research use statement.")
    purposes = graphene.List(
        graphene.NonNull(ResearchPurpose), required=True, description="Intended use (DUO)."
    )
    diseases = graphene.List(
        graphene.NonNull(graphene.String), description="MONDO CURIEs; exactly when DS."
    )
    commercial = graphene.Boolean(description="For-profit use (default false).")
    sensitive = graphene.Boolean(description="Research on sensitive topics (default false).")
    duration_days = graphene.Int(required=True, description="Requested access, in days.")
    collaborators = graphene.List(
        graphene.NonNull(graphene.String), description="Named collaborators."
    )
    institution = graphene.String(required=True, description="Your institution.")
    datasets = graphene.List(
        graphene.NonNull(RequestedDatasetInput), required=True, description="Datasets."
    )
