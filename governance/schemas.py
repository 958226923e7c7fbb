"""Validated inputs of governance commands; GraphQL mutations build these, so shape errors are
reported with field paths before any command runs."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from catalog.models import RoleName
from catalog.schemas import Accession, Curie, Label, Slug, Strict
from governance.intended_use import IntendedUse, ResearchPurpose
from governance.models import DecisionRule

Prose = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=10_000)]
MAX_DURATION_DAYS = 3650
COMMITTEE_ROLES = (RoleName.COMMITTEE_MEMBER, RoleName.COMMITTEE_CHAIR)


class CommitteeRulesInput(Strict):
    decision_rule: DecisionRule
    required_votes: int | None = Field(default=None, ge=1, le=1000)
    sla_days: int = Field(ge=1, le=365)
    max_grant_days: int = Field(ge=1, le=MAX_DURATION_DAYS)

    @model_validator(mode="after")
    def _votes_need_a_count(self) -> CommitteeRulesInput:
        if (self.decision_rule is DecisionRule.VOTES) != (self.required_votes is not None):
            raise ValueError("requiredVotes is given exactly when the rule is VOTES")
        return self


class RequestedDataset(Strict):
    accession: Accession
    accepted_terms_version: int | None = Field(
        default=None, ge=1, description="The version of the dataset's terms of use accepted."
    )


class AccessRequestInput(Strict):
    """Everything a researcher states in a request; an update replaces all of it."""

    project_title: Annotated[
        str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)
    ]
    lay_summary: Prose
    research_use: Prose
    purposes: list[ResearchPurpose] = Field(min_length=1, max_length=len(ResearchPurpose))
    diseases: list[Curie] = Field(default_factory=list, max_length=50)
    commercial: bool = False
    sensitive: bool = False
    duration_days: int = Field(ge=1, le=MAX_DURATION_DAYS)
    collaborators: list[Label] = Field(default_factory=list, max_length=100)
    institution: Label
    datasets: list[RequestedDataset] = Field(min_length=1, max_length=100)

    @model_validator(mode="after")
    def _consistent(self) -> AccessRequestInput:
        if (ResearchPurpose.DISEASE_SPECIFIC in self.purposes) != bool(self.diseases):
            raise ValueError("diseases are given exactly when DS (disease-specific) is a purpose")
        if any(not d.startswith("MONDO:") for d in self.diseases):
            raise ValueError("diseases must be MONDO terms")
        accessions = [d.accession for d in self.datasets]
        if len(set(accessions)) != len(accessions):
            raise ValueError("each dataset may be requested once")
        return self

    @property
    def intended_use(self) -> IntendedUse:
        return IntendedUse(
            purposes=frozenset(self.purposes),
            diseases=frozenset(self.diseases),
            commercial=self.commercial,
            sensitive=self.sensitive,
        )


class MemberInput(Strict):
    committee: Slug
    subject: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=255)]
    issuer: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
