"""GraphQL types of access governance: grants, access requests, their committee reviews and
votes. Who may see a request is decided once, by ``governance.repository.readable_requests``;
fields of a visible request resolve through the request's dataloaders."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import Committee, Dataset, ctx
from governance.duo_matching import Outcome as OutcomeModel
from governance.intended_use import ResearchPurpose as ResearchPurposeModel
from governance.models import RequestState as RequestStateModel
from governance.models import VoteChoice as VoteChoiceModel

RequestState = graphene.Enum.from_enum(
    RequestStateModel,
    description="draft → submitted → under review → changes requested ↔ resubmitted → approved"
    " | rejected; withdrawn by the requester before a decision.",
)
VoteChoice = graphene.Enum.from_enum(VoteChoiceModel, description="A member's vote.")
DuoOutcome = graphene.Enum.from_enum(
    OutcomeModel,
    description="The DUO matcher's verdict: the intended use fits the data use conditions,"
    " breaks one, or needs the committee's judgement.",
)
ResearchPurpose = graphene.Enum(
    "ResearchPurpose",
    [(p.value, p.value) for p in ResearchPurposeModel],
    description="DUO research purposes: GRU general research, HMB health/medical/biomedical,"
    " DS disease-specific (name MONDO diseases), POA population origins or ancestry, MDS"
    " methods development.",
)


class AccessGrant(graphene.ObjectType):
    """Permission for one person to read one controlled dataset, for a time."""

    id = graphene.UUID(required=True, description="Stable identifier.")
    dataset = graphene.Field(Dataset, required=True, description="The controlled dataset.")
    holder = graphene.String(required=True, description="`sub` of the person holding it.")
    starts_at = graphene.DateTime(required=True, description="When access begins.")
    expires_at = graphene.DateTime(required=True, description="When access ends.")
    granted_by = graphene.String(required=True, description="Who granted it.")
    revoked_at = graphene.DateTime(description="When it was revoked, if it was.")
    revoked_reason = graphene.String(description="Why it was revoked.")
    request_id = graphene.UUID(description="The access request that issued it, if any.")
    active = graphene.Boolean(
        required=True, description="Whether it grants access at this instant."
    )

    @staticmethod
    async def resolve_dataset(parent: Any, info: graphene.ResolveInfo) -> Any:
        return await ctx(info).loaders.dataset_by_id.load(parent.dataset_id)

    @staticmethod
    async def resolve_holder(parent: Any, info: graphene.ResolveInfo) -> str:
        user = await ctx(info).loaders.user_by_id.load(parent.user_id)
        return str(user.subject)

    @staticmethod
    def resolve_active(parent: Any, info: graphene.ResolveInfo) -> bool:
        now = ctx(info).now
        return bool(parent.revoked_at is None and parent.starts_at <= now < parent.expires_at)


class ReviewVote(graphene.ObjectType):
    """One member's vote; voided votes stay visible as history."""

    member = graphene.String(required=True, description="`sub` of the member.")
    choice = graphene.Field(VoteChoice, required=True, description="Approve or reject.")
    comment = graphene.String(description="The member's comment.")
    cast_at = graphene.DateTime(required=True, description="When it was cast.")
    voided_at = graphene.DateTime(description="When it stopped counting, if it did.")
    voided_reason = graphene.String(description="Why it stopped counting.")

    @staticmethod
    def resolve_member(parent: Any, _info: graphene.ResolveInfo) -> str:
        return str(parent[1].subject)

    @staticmethod
    def resolve_choice(parent: Any, _info: graphene.ResolveInfo) -> Any:
        return parent[0].choice

    @staticmethod
    def resolve_comment(parent: Any, _info: graphene.ResolveInfo) -> Any:
        return parent[0].comment

    @staticmethod
    def resolve_cast_at(parent: Any, _info: graphene.ResolveInfo) -> Any:
        return parent[0].cast_at

    @staticmethod
    def resolve_voided_at(parent: Any, _info: graphene.ResolveInfo) -> Any:
        return parent[0].voided_at

    @staticmethod
    def resolve_voided_reason(parent: Any, _info: graphene.ResolveInfo) -> Any:
        return parent[0].voided_reason


class DuoCheck(graphene.ObjectType):
    """One thing the matcher compared, and what it concluded."""

    code = graphene.String(
        required=True,
        description="The condition checked (`DS-MONDO:0007254`, `NPU`), or `permission` /"
        " `sensitive` for checks about the request itself.",
    )
    outcome = graphene.Field(DuoOutcome, required=True, description="This check's verdict.")
    reason = graphene.String(required=True, description="Why, naming the terms compared.")


class DatasetMatch(graphene.ObjectType):
    """The matcher's verdict on one dataset's data use conditions."""

    accession = graphene.String(required=True, description="The dataset.")
    outcome = graphene.Field(
        DuoOutcome, required=True, description="The most severe of its checks."
    )
    checks = graphene.List(
        graphene.NonNull(DuoCheck), required=True, description="One per condition compared."
    )


class AlgorithmResult(graphene.ObjectType):
    """The DUO matcher's suggestion for one review: a suggestion, never a decision."""

    outcome = graphene.Field(
        DuoOutcome, required=True, description="The most severe over the review's datasets."
    )
    datasets = graphene.List(
        graphene.NonNull(DatasetMatch),
        required=True,
        description="The datasets the committee governs in the request, by accession.",
    )


class RequestReview(graphene.ObjectType):
    """One committee's review of the datasets it governs within a request."""

    id = graphene.UUID(required=True, description="Stable identifier; name it in review mutations.")
    committee = graphene.Field(Committee, required=True, description="The reviewing committee.")
    state = graphene.Field(RequestState, required=True, description="This review's state.")
    due_at = graphene.DateTime(required=True, description="Deadline from the committee's SLA.")
    changes_comment = graphene.String(description="The changes the committee last asked for.")
    decided_at = graphene.DateTime(description="When it was decided.")
    decided_by = graphene.String(description="The chair who decided, or `votes`.")
    decision_comment = graphene.String(description="The decision's reasons.")
    algorithm = graphene.Field(
        AlgorithmResult,
        description="The automatic DUO matcher's suggestion, computed at (re)submission; null"
        " for reviews submitted before the matcher ran.",
    )
    committee_agreed_with_algorithm = graphene.Boolean(
        description="Whether the decision followed the matcher: approved when it said approve,"
        " rejected when it said deny. Null until decided, or when it said needs review."
    )
    votes = graphene.List(
        graphene.NonNull(ReviewVote), required=True, description="Votes, oldest first."
    )

    @staticmethod
    async def resolve_committee(parent: Any, info: graphene.ResolveInfo) -> Any:
        return await ctx(info).loaders.committee_by_id.load(parent.committee_id)

    @staticmethod
    def resolve_algorithm(parent: Any, _info: graphene.ResolveInfo) -> Any:
        if parent.algorithm_outcome is None:
            return None
        return AlgorithmResult(
            outcome=OutcomeModel(parent.algorithm_outcome),
            datasets=[
                DatasetMatch(
                    accession=accession,
                    outcome=OutcomeModel(match["outcome"]),
                    checks=[
                        DuoCheck(
                            code=c["code"], outcome=OutcomeModel(c["outcome"]), reason=c["reason"]
                        )
                        for c in match["checks"]
                    ],
                )
                for accession, match in sorted((parent.algorithm_result or {}).items())
            ],
        )

    @staticmethod
    async def resolve_votes(parent: Any, info: graphene.ResolveInfo) -> Any:
        return await ctx(info).loaders.votes_by_review_id.load(parent.id)


class RequestedDataset(graphene.ObjectType):
    """A dataset a request covers and the terms-of-use version accepted for it."""

    dataset = graphene.Field(Dataset, required=True, description="The dataset.")
    accepted_terms_version = graphene.Int(description="Accepted terms version (null: none).")

    @staticmethod
    def resolve_dataset(parent: Any, _info: graphene.ResolveInfo) -> Any:
        return parent[1]

    @staticmethod
    def resolve_accepted_terms_version(parent: Any, _info: graphene.ResolveInfo) -> Any:
        return parent[0].accepted_terms_version


class AccessRequest(graphene.ObjectType):
    """A researcher's request for controlled datasets, split into one review per committee."""

    id = graphene.UUID(required=True, description="Stable identifier.")
    requester = graphene.String(required=True, description="`sub` of the researcher.")
    state = graphene.Field(RequestState, required=True, description="Derived from its reviews.")
    project_title = graphene.String(required=True, description="Project title.")
    lay_summary = graphene.String(required=True, description="Plain-language summary.")
    research_use = graphene.String(required=True, description="Research use statement.")
    purposes = graphene.List(
        graphene.NonNull(ResearchPurpose), required=True, description="Intended use (DUO)."
    )
    diseases = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="MONDO CURIEs (DS only)."
    )
    commercial = graphene.Boolean(required=True, description="For-profit use.")
    sensitive = graphene.Boolean(required=True, description="Research on sensitive topics.")
    duration_days = graphene.Int(required=True, description="Requested access duration.")
    collaborators = graphene.List(
        graphene.NonNull(graphene.String), required=True, description="Named collaborators."
    )
    institution = graphene.String(required=True, description="The requester's institution.")
    renewal_of = graphene.UUID(description="The approved request this one renews.")
    created_at = graphene.DateTime(required=True, description="Creation time.")
    updated_at = graphene.DateTime(required=True, description="Last change.")
    submitted_at = graphene.DateTime(description="First submission.")
    decided_at = graphene.DateTime(description="When every committee had decided.")
    datasets = graphene.List(
        graphene.NonNull(RequestedDataset), required=True, description="Requested datasets."
    )
    reviews = graphene.List(
        graphene.NonNull(RequestReview), required=True, description="One per committee."
    )
    grants = graphene.List(
        graphene.NonNull(AccessGrant), required=True, description="Grants its approval issued."
    )

    @staticmethod
    async def resolve_requester(parent: Any, info: graphene.ResolveInfo) -> str:
        user = await ctx(info).loaders.user_by_id.load(parent.requester_id)
        return str(user.subject)

    @staticmethod
    def resolve_purposes(parent: Any, _info: graphene.ResolveInfo) -> Any:
        return list(parent.purposes)

    @staticmethod
    def resolve_renewal_of(parent: Any, _info: graphene.ResolveInfo) -> Any:
        return parent.renewal_of_id

    @staticmethod
    async def resolve_datasets(parent: Any, info: graphene.ResolveInfo) -> Any:
        return await ctx(info).loaders.datasets_by_request_id.load(parent.id)

    @staticmethod
    async def resolve_reviews(parent: Any, info: graphene.ResolveInfo) -> Any:
        return await ctx(info).loaders.reviews_by_request_id.load(parent.id)

    @staticmethod
    async def resolve_grants(parent: Any, info: graphene.ResolveInfo) -> Any:
        return await ctx(info).loaders.grants_by_request_id.load(parent.id)


class AccessRequestConnection(graphene.relay.Connection):
    """A page of access requests, newest first."""

    class Meta:
        node = AccessRequest

    total_count = graphene.Int(required=True, description="Requests matching the filter.")

    @staticmethod
    def resolve_total_count(parent: Any, _info: graphene.ResolveInfo) -> int:
        return int(parent.total_count)
