"""The GraphQL schema, composed from each domain's queries and mutations."""

from __future__ import annotations

import graphene

from api.graphql.catalog.bundle_create import BundleCreate
from api.graphql.catalog.dataset_create import DatasetCreate
from api.graphql.catalog.dataset_publish import DatasetPublish
from api.graphql.catalog.dataset_retire import DatasetRetire
from api.graphql.catalog.dataset_update import DatasetUpdate
from api.graphql.catalog.files_register import FilesRegister
from api.graphql.catalog.queries import CatalogQuery
from api.graphql.governance.access_grant_create import AccessGrantCreate
from api.graphql.governance.access_grant_revoke import AccessGrantRevoke
from api.graphql.governance.access_request_create import AccessRequestCreate
from api.graphql.governance.access_request_renew import AccessRequestRenew
from api.graphql.governance.access_request_resubmit import AccessRequestResubmit
from api.graphql.governance.access_request_submit import AccessRequestSubmit
from api.graphql.governance.access_request_update import AccessRequestUpdate
from api.graphql.governance.access_request_withdraw import AccessRequestWithdraw
from api.graphql.governance.audit_events import AuditQuery
from api.graphql.governance.committee_configure import CommitteeConfigure
from api.graphql.governance.committee_member_add import CommitteeMemberAdd
from api.graphql.governance.committee_member_remove import CommitteeMemberRemove
from api.graphql.governance.dataset_terms_publish import DatasetTermsPublish
from api.graphql.governance.notification_mark_read import NotificationMarkRead
from api.graphql.governance.notifications import NotificationQuery
from api.graphql.governance.queries import GovernanceQuery
from api.graphql.governance.review_decide import ReviewDecide
from api.graphql.governance.review_request_changes import ReviewRequestChanges
from api.graphql.governance.review_start import ReviewStart
from api.graphql.governance.review_vote import ReviewVote
from api.graphql.identity.committee_create import CommitteeCreate
from api.graphql.identity.organization_create import OrganizationCreate
from api.graphql.identity.role_assign import RoleAssign
from api.graphql.identity.types import IdentityQuery
from api.graphql.search.queries import SearchQueries


class Query(
    CatalogQuery,
    SearchQueries,
    IdentityQuery,
    NotificationQuery,
    AuditQuery,
    GovernanceQuery,
    graphene.ObjectType,
):
    """Read the catalog."""


class Mutation(graphene.ObjectType):
    """Change the catalog. Each mutation reports refusals in its payload's `errors`."""

    dataset_create = DatasetCreate.Field(description=DatasetCreate.__doc__)
    dataset_update = DatasetUpdate.Field(description=DatasetUpdate.__doc__)
    dataset_publish = DatasetPublish.Field(description=DatasetPublish.__doc__)
    dataset_retire = DatasetRetire.Field(description=DatasetRetire.__doc__)
    files_register = FilesRegister.Field(description=FilesRegister.__doc__)
    bundle_create = BundleCreate.Field(description=BundleCreate.__doc__)
    organization_create = OrganizationCreate.Field(description=OrganizationCreate.__doc__)
    committee_create = CommitteeCreate.Field(description=CommitteeCreate.__doc__)
    role_assign = RoleAssign.Field(description=RoleAssign.__doc__)
    access_grant_create = AccessGrantCreate.Field(description=AccessGrantCreate.__doc__)
    access_grant_revoke = AccessGrantRevoke.Field(description=AccessGrantRevoke.__doc__)
    notification_mark_read = NotificationMarkRead.Field(description=NotificationMarkRead.__doc__)
    dataset_terms_publish = DatasetTermsPublish.Field(description=DatasetTermsPublish.__doc__)
    committee_configure = CommitteeConfigure.Field(description=CommitteeConfigure.__doc__)
    committee_member_add = CommitteeMemberAdd.Field(description=CommitteeMemberAdd.__doc__)
    committee_member_remove = CommitteeMemberRemove.Field(description=CommitteeMemberRemove.__doc__)
    access_request_create = AccessRequestCreate.Field(description=AccessRequestCreate.__doc__)
    access_request_update = AccessRequestUpdate.Field(description=AccessRequestUpdate.__doc__)
    access_request_submit = AccessRequestSubmit.Field(description=AccessRequestSubmit.__doc__)
    access_request_withdraw = AccessRequestWithdraw.Field(description=AccessRequestWithdraw.__doc__)
    access_request_resubmit = AccessRequestResubmit.Field(description=AccessRequestResubmit.__doc__)
    access_request_renew = AccessRequestRenew.Field(description=AccessRequestRenew.__doc__)
    review_start = ReviewStart.Field(description=ReviewStart.__doc__)
    review_request_changes = ReviewRequestChanges.Field(description=ReviewRequestChanges.__doc__)
    review_vote = ReviewVote.Field(description=ReviewVote.__doc__)
    review_decide = ReviewDecide.Field(description=ReviewDecide.__doc__)


schema = graphene.Schema(query=Query, mutation=Mutation)
