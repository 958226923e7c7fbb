"""committeeMemberAdd: a steward appoints a committee member or chair."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import Committee, ctx
from api.graphql.errors import CatalogError, attempt, parse
from catalog.models import RoleName
from governance import committees
from governance.schemas import MemberInput

CommitteeRole = graphene.Enum(
    "CommitteeRole",
    [("MEMBER", "committee_member"), ("CHAIR", "committee_chair")],
    description="A seat on a committee: members review and vote; chairs also decide.",
)


class CommitteeMemberAdd(graphene.Mutation):
    """Seat someone on a committee, or change their seat (a chair may step down to member
    only while another chair remains)."""

    class Arguments:
        committee = graphene.String(required=True, description="The committee's slug.")
        subject = graphene.String(required=True, description="`sub` of the person's tokens.")
        issuer = graphene.String(description="`iss` of the person's tokens (default: Atrium's).")
        role = CommitteeRole(required=True, description="MEMBER or CHAIR.")

    committee = graphene.Field(Committee, description="The committee.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(
        _root: Any,
        info: graphene.ResolveInfo,
        committee: str,
        subject: str,
        role: Any,
        issuer: str | None = None,
    ) -> CommitteeMemberAdd:
        c = ctx(info)
        raw = {"committee": committee, "subject": subject, "issuer": issuer or c.base_url}
        member, errors = parse(MemberInput, raw)
        if member is None:
            return CommitteeMemberAdd(committee=None, errors=errors)
        found, errors = attempt(
            c.session,
            lambda: committees.add_member(
                c.session, c.principal, member=member, role=RoleName(getattr(role, "value", role))
            ),
        )
        return CommitteeMemberAdd(committee=found, errors=errors)
