"""committeeMemberRemove: a steward takes someone off a committee."""

from __future__ import annotations

from typing import Any

import graphene

from api.graphql.catalog.types import Committee, ctx
from api.graphql.errors import CatalogError, attempt, parse
from governance import committees
from governance.schemas import MemberInput


class CommitteeMemberRemove(graphene.Mutation):
    """Remove someone from a committee. Refused for its last chair, and while they hold votes
    on undecided reviews unless `voidOpenVotes` says to void those votes."""

    class Arguments:
        committee = graphene.String(required=True, description="The committee's slug.")
        subject = graphene.String(required=True, description="`sub` of the person's tokens.")
        issuer = graphene.String(description="`iss` of the person's tokens (default: Atrium's).")
        void_open_votes = graphene.Boolean(
            default_value=False, description="Void their votes on undecided reviews."
        )

    committee = graphene.Field(Committee, description="The committee.")
    errors = graphene.List(graphene.NonNull(CatalogError), required=True, description="Why not.")

    @staticmethod
    def mutate(
        _root: Any,
        info: graphene.ResolveInfo,
        committee: str,
        subject: str,
        issuer: str | None = None,
        void_open_votes: bool = False,
    ) -> CommitteeMemberRemove:
        c = ctx(info)
        raw = {"committee": committee, "subject": subject, "issuer": issuer or c.base_url}
        member, errors = parse(MemberInput, raw)
        if member is None:
            return CommitteeMemberRemove(committee=None, errors=errors)
        found, errors = attempt(
            c.session,
            lambda: committees.remove_member(
                c.session, c.principal, member=member, void_open_votes=void_open_votes, now=c.now
            ),
        )
        return CommitteeMemberRemove(committee=found, errors=errors)
