"""Automatic DUO matching: does a request's intended use fit a dataset's data use conditions?

A pure function for the committee's first look at a request: one check per condition, each
with an outcome and a sentence naming the terms it compared, and an overall verdict (deny if
any check denies, else needs review if any check cannot decide, else approve). It reads no
database and no files; the caller passes the conditions and the disease hierarchy.

Rules follow the DUO definitions and the DUOS business rules (consent-ontology, versions 2-3):

- A dataset's permission terms (NRES, GRU, HMB, DS-X, POA) are alternatives: DS-X and DS-Y
  together consent to research on X or on Y. Every purpose of the request (every disease of a
  disease-specific one) must be permitted by at least one of them.
- DS-X permits disease-specific research on X or any subclass of X, over the MONDO hierarchy.
  A disease outside the shipped subset cannot be placed, so that check needs review.
- Methods development is permitted under any permission term unless NMDS confines it to the
  bounds of the other conditions, which a request stating methods development alone exceeds.
- Modifiers that depend on facts an intended use does not state (IRB, COL, PUB, GS, MOR, TS,
  US, PS, IS, RTN, GSO, RS), sensitive topics and unknown terms need the committee's review.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType

from governance.disease_hierarchy import DiseaseHierarchy
from governance.intended_use import IntendedUse, ResearchPurpose


class Outcome(enum.StrEnum):
    """Ordered by severity: a result is as severe as its most severe check."""

    APPROVE = "approve"
    NEEDS_REVIEW = "needs_review"
    DENY = "deny"

    @property
    def severity(self) -> int:
        return _SEVERITY[self]


_SEVERITY = {Outcome.APPROVE: 0, Outcome.NEEDS_REVIEW: 1, Outcome.DENY: 2}

DUO_CODES: Mapping[str, str] = MappingProxyType(
    {
        "DUO:0000004": "NRES",
        "DUO:0000042": "GRU",
        "DUO:0000006": "HMB",
        "DUO:0000007": "DS",
        "DUO:0000011": "POA",
        "DUO:0000043": "CC",
        "DUO:0000044": "NPOA",
        "DUO:0000015": "NMDS",
        "DUO:0000016": "GSO",
        "DUO:0000018": "NPUNCU",
        "DUO:0000045": "NPU",
        "DUO:0000046": "NCU",
        "DUO:0000019": "PUB",
        "DUO:0000020": "COL",
        "DUO:0000021": "IRB",
        "DUO:0000022": "GS",
        "DUO:0000024": "MOR",
        "DUO:0000025": "TS",
        "DUO:0000026": "US",
        "DUO:0000027": "PS",
        "DUO:0000028": "IS",
        "DUO:0000029": "RTN",
        "DUO:0000012": "RS",
    }
)
"""The DUO terms the matcher has a rule for, by CURIE; any other term needs review."""

PERMISSION_CODES = frozenset({"NRES", "GRU", "HMB", "DS", "POA"})


@dataclass(frozen=True, slots=True)
class DataUseCondition:
    """One row of a dataset's data use conditions (``dataset_data_use``)."""

    duo_id: str
    qualifier: str | None = None

    @property
    def code(self) -> str | None:
        return DUO_CODES.get(self.duo_id)

    @property
    def display(self) -> str:
        """``DS-MONDO:0007254``, ``NPU``, or the CURIE of a term without a rule."""
        name = self.code or self.duo_id
        return f"{name}-{self.qualifier}" if self.qualifier else name


@dataclass(frozen=True, slots=True)
class Check:
    """``condition`` is None for checks about the request itself or about a missing
    permission; ``code`` is what the committee sees (``DS-MONDO:0007254``, ``sensitive``)."""

    code: str
    outcome: Outcome
    reason: str
    condition: DataUseCondition | None = None


@dataclass(frozen=True, slots=True)
class DuoMatch:
    checks: tuple[Check, ...]

    @property
    def outcome(self) -> Outcome:
        return max(
            (check.outcome for check in self.checks),
            key=lambda outcome: outcome.severity,
            default=Outcome.APPROVE,
        )


def match_data_use(
    intended_use: IntendedUse,
    conditions: Iterable[DataUseCondition],
    diseases: DiseaseHierarchy,
) -> DuoMatch:
    """Raises ValueError for an intended use the request workflow should have refused, rather
    than guessing what it means."""
    _validate(intended_use)
    ordered = sorted(set(conditions), key=lambda c: (c.display, c.duo_id))
    permissions = [c for c in ordered if c.code in PERMISSION_CODES]
    others = [c for c in ordered if c.code not in PERMISSION_CODES]
    checks = _permission_checks(_items(intended_use), permissions, diseases)
    checks += [_modifier_check(intended_use, condition) for condition in others]
    if intended_use.sensitive:
        checks.append(
            Check(
                code="sensitive",
                outcome=Outcome.NEEDS_REVIEW,
                reason="the request concerns a sensitive research topic, which always needs "
                "the committee's judgement",
            )
        )
    return DuoMatch(checks=tuple(checks))


def _validate(use: IntendedUse) -> None:
    if not use.purposes:
        raise ValueError("an intended use needs at least one research purpose")
    disease_specific = ResearchPurpose.DISEASE_SPECIFIC in use.purposes
    if disease_specific and not use.diseases:
        raise ValueError("a disease-specific intended use must name at least one MONDO disease")
    if use.diseases and not disease_specific:
        raise ValueError("diseases are given but disease-specific research is not a purpose")


@dataclass(frozen=True, slots=True)
class _Item:
    """One thing the request must be permitted to do: a purpose, or DS research on a disease."""

    purpose: ResearchPurpose
    disease: str | None = None


_PURPOSE_ORDER = tuple(ResearchPurpose)


def _items(use: IntendedUse) -> list[_Item]:
    items: list[_Item] = []
    for purpose in sorted(use.purposes, key=_PURPOSE_ORDER.index):
        if purpose is ResearchPurpose.DISEASE_SPECIFIC:
            items += [_Item(purpose, disease) for disease in sorted(use.diseases)]
        else:
            items.append(_Item(purpose))
    return items


_PURPOSE_PHRASES = {
    ResearchPurpose.GENERAL_RESEARCH: "general research",
    ResearchPurpose.HEALTH_MEDICAL_BIOMEDICAL: "health, medical or biomedical research",
    ResearchPurpose.DISEASE_SPECIFIC: "disease-specific research",
    ResearchPurpose.POPULATION_ORIGINS_ANCESTRY: "population origins or ancestry research",
    ResearchPurpose.METHODS_DEVELOPMENT: "methods development",
}


class _Coverage(enum.Enum):
    COVERED = "covered"
    OUTSIDE = "outside"
    UNDECIDABLE = "undecidable"


_COVERAGE_ORDER = (_Coverage.COVERED, _Coverage.UNDECIDABLE, _Coverage.OUTSIDE)
"""From best to worst: an item is as covered as the best verdict any permission term gives."""


@dataclass(frozen=True, slots=True)
class _Verdict:
    """``text`` is the item's description when ``plain`` (read after "request is for"), else
    a whole clause explaining the verdict."""

    coverage: _Coverage
    text: str
    plain: bool = True


def _describe(item: _Item, diseases: DiseaseHierarchy, *, bare_disease: bool = False) -> str:
    if item.disease is None:
        return _PURPOSE_PHRASES[item.purpose]
    disease = diseases.describe(item.disease)
    return disease if bare_disease else f"disease-specific research on {disease}"


def _requirement(permission: DataUseCondition, diseases: DiseaseHierarchy) -> str:
    """What the permission term allows, read after its code."""
    match permission.code:
        case "NRES":
            return "places no restriction on use"
        case "GRU":
            return "permits any research purpose"
        case "HMB":
            return "requires health, medical or biomedical research"
        case "POA":
            return "requires population origins or ancestry research"
    if permission.qualifier is None:
        return "requires disease-specific research but names no disease"
    disease = diseases.labels.get(permission.qualifier, permission.qualifier)
    return f"requires disease-specific research on {disease} or a subtype"


def _coverage(permission: DataUseCondition, item: _Item, diseases: DiseaseHierarchy) -> _Verdict:
    described = _describe(item, diseases)
    if permission.code in {"NRES", "GRU"} or item.purpose is ResearchPurpose.METHODS_DEVELOPMENT:
        return _Verdict(_Coverage.COVERED, described)
    if permission.code == "HMB":
        health = item.purpose in {
            ResearchPurpose.HEALTH_MEDICAL_BIOMEDICAL,
            ResearchPurpose.DISEASE_SPECIFIC,
        }
        return _Verdict(_Coverage.COVERED if health else _Coverage.OUTSIDE, described)
    if permission.code == "POA":
        ancestry = item.purpose is ResearchPurpose.POPULATION_ORIGINS_ANCESTRY
        return _Verdict(_Coverage.COVERED if ancestry else _Coverage.OUTSIDE, described)
    if item.disease is None:
        return _Verdict(_Coverage.OUTSIDE, described)
    return _disease_coverage(permission.qualifier, item.disease, diseases)


def _disease_coverage(consented: str | None, disease: str, diseases: DiseaseHierarchy) -> _Verdict:
    described = diseases.describe(disease)
    if consented is None:
        return _Verdict(
            _Coverage.UNDECIDABLE, f"whether it covers {described} cannot be decided", False
        )
    consented_label = diseases.labels.get(consented, consented)
    if disease == consented:
        return _Verdict(_Coverage.COVERED, f"request is for {described} itself", False)
    if diseases.is_subclass(disease, consented):
        return _Verdict(_Coverage.COVERED, f"{described} is a subtype of {consented_label}", False)
    subset = "MONDO subset Atrium ships"
    if consented not in diseases:
        return _Verdict(
            _Coverage.UNDECIDABLE,
            f"{consented} is not in the {subset}, so whether {described} falls under it "
            "cannot be decided",
            False,
        )
    if disease not in diseases:
        return _Verdict(
            _Coverage.UNDECIDABLE,
            f"{disease} is not in the {subset}, so whether it is a subtype of "
            f"{consented_label} cannot be decided",
            False,
        )
    return _Verdict(_Coverage.OUTSIDE, described)


def _permission_checks(
    items: Sequence[_Item], permissions: Sequence[DataUseCondition], diseases: DiseaseHierarchy
) -> list[Check]:
    if not permissions:
        return [
            Check(
                code="permission",
                outcome=Outcome.NEEDS_REVIEW,
                reason="the dataset records no data use permission (NRES, GRU, HMB, DS or "
                "POA), so what it allows cannot be decided",
            )
        ]
    verdicts = {p: {item: _coverage(p, item, diseases) for item in items} for p in permissions}
    overall = {
        item: min((verdicts[p][item].coverage for p in permissions), key=_COVERAGE_ORDER.index)
        for item in items
    }
    return [
        _permission_check(permission, items, verdicts, overall, diseases)
        for permission in permissions
    ]


def _permission_check(
    permission: DataUseCondition,
    items: Sequence[_Item],
    verdicts: Mapping[DataUseCondition, Mapping[_Item, _Verdict]],
    overall: Mapping[_Item, _Coverage],
    diseases: DiseaseHierarchy,
) -> Check:
    """Judges one permission term, excusing items another term of the dataset permits: the
    terms are alternatives, so only an item nothing permits may deny."""
    own = verdicts[permission]
    bare = permission.code == "DS"
    head = f"{permission.display} {_requirement(permission, diseases)}"

    def others_for(item: _Item, coverage: _Coverage) -> str:
        return _and([p.display for p in verdicts if verdicts[p][item].coverage is coverage])

    denied = [i for i in items if overall[i] is _Coverage.OUTSIDE]
    if denied:
        described = _and([_describe(i, diseases, bare_disease=bare) for i in denied])
        return Check(
            permission.display, Outcome.DENY, f"{head}; request is for {described}", permission
        )
    open_items = [i for i in items if overall[i] is _Coverage.UNDECIDABLE]
    if open_items:
        clauses = [
            own[i].text
            if own[i].coverage is _Coverage.UNDECIDABLE
            else f"request is for {_describe(i, diseases, bare_disease=bare)}, which only "
            f"{others_for(i, _Coverage.UNDECIDABLE)} might permit"
            for i in open_items
        ]
        reason = "; ".join([head, *clauses])
        return Check(permission.display, Outcome.NEEDS_REVIEW, reason, permission)
    covered = [i for i in items if own[i].coverage is _Coverage.COVERED]
    plain = [own[i].text for i in covered if own[i].plain]
    clauses = ([f"request is for {_and(plain)}"] if plain else []) + [
        own[i].text for i in covered if not own[i].plain
    ]
    clauses += [
        f"{_describe(i, diseases)} is permitted by {others_for(i, _Coverage.COVERED)}"
        for i in items
        if own[i].coverage is not _Coverage.COVERED
    ]
    return Check(permission.display, Outcome.APPROVE, "; ".join([head, *clauses]), permission)


def _and(parts: Sequence[str]) -> str:
    return parts[0] if len(parts) == 1 else f"{', '.join(parts[:-1])} and {parts[-1]}"


_Rule = Callable[[IntendedUse, DataUseCondition], tuple[Outcome, str]]


def _not_for_profit(restriction: str) -> _Rule:
    def rule(use: IntendedUse, _: DataUseCondition) -> tuple[Outcome, str]:
        if use.commercial:
            return Outcome.DENY, f"{restriction}; request is for commercial use"
        return Outcome.APPROVE, f"{restriction}; request is not for commercial use"

    return rule


def _no_population_origins(use: IntendedUse, _: DataUseCondition) -> tuple[Outcome, str]:
    prohibits = "prohibits population origins or ancestry research"
    if ResearchPurpose.POPULATION_ORIGINS_ANCESTRY in use.purposes:
        return Outcome.DENY, f"{prohibits}; request is for population origins or ancestry research"
    if ResearchPurpose.GENERAL_RESEARCH in use.purposes:
        return (
            Outcome.NEEDS_REVIEW,
            f"{prohibits}; request is for general research, which may include it",
        )
    return Outcome.APPROVE, f"{prohibits}; request is not for it"


def _no_general_methods(use: IntendedUse, _: DataUseCondition) -> tuple[Outcome, str]:
    bounds = "allows methods development only within the bounds of the other conditions"
    if ResearchPurpose.METHODS_DEVELOPMENT not in use.purposes:
        return Outcome.APPROVE, f"{bounds}; request does not include methods development"
    rest = use.purposes - {ResearchPurpose.METHODS_DEVELOPMENT}
    if not rest:
        return Outcome.DENY, f"{bounds}; request is for methods development alone"
    stated = _and([_PURPOSE_PHRASES[p] for p in sorted(rest, key=_PURPOSE_ORDER.index)])
    return Outcome.APPROVE, f"{bounds}; request ties methods development to {stated}"


def _review(requirement: str, question: str) -> _Rule:
    def rule(_: IntendedUse, condition: DataUseCondition) -> tuple[Outcome, str]:
        scope = f" ({condition.qualifier})" if condition.qualifier else ""
        return Outcome.NEEDS_REVIEW, f"{requirement}{scope}; {question}"

    return rule


def _clinical_care(_: IntendedUse, __: DataUseCondition) -> tuple[Outcome, str]:
    return Outcome.APPROVE, "additionally allows clinical care use and restricts nothing"


_MODIFIER_RULES: Mapping[str, _Rule] = MappingProxyType(
    {
        "NPU": _not_for_profit("limits use to not-for-profit organisations"),
        "NCU": _not_for_profit("allows non-commercial use only"),
        "NPUNCU": _not_for_profit("allows only not-for-profit, non-commercial use"),
        "NPOA": _no_population_origins,
        "NMDS": _no_general_methods,
        "CC": _clinical_care,
        "IRB": _review(
            "requires ethics approval", "the committee must confirm the requester holds it"
        ),
        "COL": _review(
            "requires collaboration with the study's investigators",
            "the committee must confirm it is agreed",
        ),
        "PUB": _review(
            "requires the results to be published",
            "the committee must confirm the requester commits to it",
        ),
        "GS": _review(
            "restricts use to a geographic region",
            "the request does not state where the data will be used",
        ),
        "MOR": _review(
            "forbids publication before a moratorium ends",
            "the committee must confirm the requester accepts the date",
        ),
        "TS": _review(
            "limits how long the data may be used",
            "the committee must make the grant end in time",
        ),
        "US": _review(
            "restricts use to named users", "the committee must confirm the requester is one"
        ),
        "PS": _review(
            "restricts use to an approved project",
            "the committee must confirm this request is that project",
        ),
        "IS": _review(
            "restricts use to named institutions",
            "the committee must confirm the requester's institution is one",
        ),
        "RTN": _review(
            "requires derived data to be returned to the resource",
            "the committee must confirm the requester agrees",
        ),
        "GSO": _review(
            "limits use to genetic studies",
            "the request does not say whether it is a genetic study",
        ),
        "RS": _review(
            "restricts use to specific research topics",
            "the committee must judge whether the request fits",
        ),
    }
)


def _modifier_check(use: IntendedUse, condition: DataUseCondition) -> Check:
    rule = _MODIFIER_RULES.get(condition.code or "")
    if rule is None:
        return Check(
            condition.display,
            Outcome.NEEDS_REVIEW,
            f"{condition.display} is not a data use term Atrium can evaluate",
            condition,
        )
    outcome, reason = rule(use, condition)
    return Check(condition.display, outcome, f"{condition.display} {reason}", condition)
