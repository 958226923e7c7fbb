"""The DUO matcher against the shipped MONDO subset: a table of requests and conditions with
the outcome of every check, the reasons committees read, bad input, and properties over
generated requests (derandomized, no example database, so every run checks the same cases).
"""

from __future__ import annotations

from dataclasses import FrozenInstanceError
from random import Random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from catalog.ontology import shipped
from governance.disease_hierarchy import DiseaseHierarchy
from governance.duo_matching import (
    DUO_CODES,
    PERMISSION_CODES,
    Check,
    DataUseCondition,
    DuoMatch,
    Outcome,
    match_data_use,
)
from governance.intended_use import IntendedUse, ResearchPurpose

HIERARCHY = DiseaseHierarchy.shipped()
CURIE_BY_CODE = {term["code"]: term["curie"] for term in shipped("duo") if term["code"]}

GRU = ResearchPurpose.GENERAL_RESEARCH
HMB = ResearchPurpose.HEALTH_MEDICAL_BIOMEDICAL
DS = ResearchPurpose.DISEASE_SPECIFIC
POA = ResearchPurpose.POPULATION_ORIGINS_ANCESTRY
MDS = ResearchPurpose.METHODS_DEVELOPMENT
A, R, D = Outcome.APPROVE, Outcome.NEEDS_REVIEW, Outcome.DENY

DISEASE = "MONDO:0000001"
CANCER = "MONDO:0004992"
ADENOCARCINOMA = "MONDO:0004970"
BREAST_CANCER = "MONDO:0007254"
BREAST_CARCINOMA = "MONDO:0004989"
DUCTAL = "MONDO:0004953"  # invasive ductal breast carcinoma: breast carcinoma and adenocarcinoma
TRIPLE_NEGATIVE = "MONDO:0005494"
HBOC = "MONDO:0003582"  # hereditary breast ovarian cancer syndrome: not a breast cancer subclass
LUNG_CANCER = "MONDO:0008903"
LUNG_ADENOCARCINOMA = "MONDO:0005061"
DIABETES = "MONDO:0005015"
TYPE_2_DIABETES = "MONDO:0005148"
PSYCHIATRIC = "MONDO:0002025"
NEURODEGENERATIVE = "MONDO:0005559"
ALZHEIMER = "MONDO:0004975"  # dementia (psychiatric) and neurodegenerative disease
NOT_SHIPPED = "MONDO:9999999"
GAZ_FRANCE = "GAZ:00002940"
BC = f"DS-{BREAST_CANCER}"  # the code committees see for DS restricted to breast cancer


def use(
    *purposes: ResearchPurpose,
    diseases: tuple[str, ...] = (),
    commercial: bool = False,
    sensitive: bool = False,
) -> IntendedUse:
    return IntendedUse(
        purposes=frozenset(purposes),
        diseases=frozenset(diseases),
        commercial=commercial,
        sensitive=sensitive,
    )


def term(code: str, qualifier: str | None = None) -> DataUseCondition:
    return DataUseCondition(duo_id=CURIE_BY_CODE[code], qualifier=qualifier)


def ds(disease: str | None) -> DataUseCondition:
    return term("DS", disease)


BC_DS = ds(BREAST_CANCER)


def match(intended: IntendedUse, *conditions: DataUseCondition) -> DuoMatch:
    return match_data_use(intended, conditions, HIERARCHY)


def case(
    name: str,
    intended: IntendedUse,
    conditions: list[DataUseCondition],
    checks: list[tuple[str, Outcome]],
    expected: Outcome,
) -> object:
    return pytest.param(intended, conditions, checks, expected, id=name)


REVIEW_MODIFIERS = ["IRB", "COL", "PUB", "GS", "MOR", "TS", "US", "PS", "IS", "RTN", "GSO", "RS"]

CASES = [
    # GRU and NRES permit every purpose, whatever the disease.
    case("GRU-general", use(GRU), [term("GRU")], [("GRU", A)], A),
    case("GRU-health", use(HMB), [term("GRU")], [("GRU", A)], A),
    case("GRU-DS", use(DS, diseases=(BREAST_CANCER,)), [term("GRU")], [("GRU", A)], A),
    case("GRU-POA", use(POA), [term("GRU")], [("GRU", A)], A),
    case("GRU-MDS", use(MDS), [term("GRU")], [("GRU", A)], A),
    case("GRU-unshipped", use(DS, diseases=(NOT_SHIPPED,)), [term("GRU")], [("GRU", A)], A),
    case("GRU-commercial", use(HMB, commercial=True), [term("GRU")], [("GRU", A)], A),
    case("NRES-POA", use(POA, commercial=True), [term("NRES")], [("NRES", A)], A),
    case("NRES-general", use(GRU, MDS), [term("NRES")], [("NRES", A)], A),
    # HMB: health research and disease-specific research, not ancestry or general research.
    case("HMB-health", use(HMB), [term("HMB")], [("HMB", A)], A),
    case("HMB-DS", use(DS, diseases=(DIABETES,)), [term("HMB")], [("HMB", A)], A),
    case("HMB-MDS", use(MDS), [term("HMB")], [("HMB", A)], A),
    case("HMB-POA", use(POA), [term("HMB")], [("HMB", D)], D),
    case("HMB-general", use(GRU), [term("HMB")], [("HMB", D)], D),
    # DS-X: X or a subclass of X, transitively and over every parent.
    case("DS-same", use(DS, diseases=(BREAST_CANCER,)), [BC_DS], [(BC, A)], A),
    case("DS-child", use(DS, diseases=(BREAST_CARCINOMA,)), [BC_DS], [(BC, A)], A),
    case("DS-grandchild", use(DS, diseases=(DUCTAL,)), [BC_DS], [(BC, A)], A),
    case("DS-triple-negative", use(DS, diseases=(TRIPLE_NEGATIVE,)), [BC_DS], [(BC, A)], A),
    case("DS-other-disease", use(DS, diseases=(DIABETES,)), [BC_DS], [(BC, D)], D),
    case("DS-ancestor", use(DS, diseases=(CANCER,)), [BC_DS], [(BC, D)], D),
    case("DS-lookalike", use(DS, diseases=(HBOC,)), [BC_DS], [(BC, D)], D),
    case(
        "DS-cancer-lung",
        use(DS, diseases=(LUNG_ADENOCARCINOMA,)),
        [ds(CANCER)],
        [(f"DS-{CANCER}", A)],
        A,
    ),
    case(
        "DS-second-parent",
        use(DS, diseases=(DUCTAL,)),
        [ds(ADENOCARCINOMA)],
        [(f"DS-{ADENOCARCINOMA}", A)],
        A,
    ),
    case(
        "DS-psychiatric",
        use(DS, diseases=(ALZHEIMER,)),
        [ds(PSYCHIATRIC)],
        [(f"DS-{PSYCHIATRIC}", A)],
        A,
    ),
    case(
        "DS-neurodegen",
        use(DS, diseases=(ALZHEIMER,)),
        [ds(NEURODEGENERATIVE)],
        [(f"DS-{NEURODEGENERATIVE}", A)],
        A,
    ),
    case("DS-root", use(DS, diseases=(TYPE_2_DIABETES,)), [ds(DISEASE)], [(f"DS-{DISEASE}", A)], A),
    case("DS-health", use(HMB), [BC_DS], [(BC, D)], D),
    case("DS-general", use(GRU), [BC_DS], [(BC, D)], D),
    case("DS-POA", use(POA), [BC_DS], [(BC, D)], D),
    case("DS-MDS", use(MDS), [BC_DS], [(BC, A)], A),
    case("DS-unshipped-request", use(DS, diseases=(NOT_SHIPPED,)), [BC_DS], [(BC, R)], R),
    case(
        "DS-unshipped-consent",
        use(DS, diseases=(BREAST_CANCER,)),
        [ds(NOT_SHIPPED)],
        [(f"DS-{NOT_SHIPPED}", R)],
        R,
    ),
    case(
        "DS-unshipped-same",
        use(DS, diseases=(NOT_SHIPPED,)),
        [ds(NOT_SHIPPED)],
        [(f"DS-{NOT_SHIPPED}", A)],
        A,
    ),
    case("DS-no-disease", use(DS, diseases=(BREAST_CANCER,)), [ds(None)], [("DS", R)], R),
    case("DS-no-disease-health", use(HMB), [ds(None)], [("DS", D)], D),
    # POA: ancestry research (and methods development) only.
    case("POA-POA", use(POA), [term("POA")], [("POA", A)], A),
    case("POA-MDS", use(MDS), [term("POA")], [("POA", A)], A),
    case("POA-health", use(HMB), [term("POA")], [("POA", D)], D),
    case("POA-DS", use(DS, diseases=(BREAST_CANCER,)), [term("POA")], [("POA", D)], D),
    case("POA-general", use(GRU), [term("POA")], [("POA", D)], D),
    # A request must be permitted for every purpose and every disease it states.
    case("multi-HMB-POA", use(HMB, POA), [term("HMB")], [("HMB", D)], D),
    case("multi-DS-MDS", use(DS, MDS, diseases=(DUCTAL,)), [BC_DS], [(BC, A)], A),
    case("multi-disease-one-out", use(DS, diseases=(DUCTAL, DIABETES)), [BC_DS], [(BC, D)], D),
    case(
        "multi-all-GRU",
        use(GRU, HMB, DS, POA, MDS, diseases=(LUNG_CANCER,)),
        [term("GRU")],
        [("GRU", A)],
        A,
    ),
    # Several permission terms are alternatives: each item needs one of them.
    case(
        "alternatives-each-covers-one",
        use(DS, diseases=(DUCTAL, LUNG_ADENOCARCINOMA)),
        [BC_DS, ds(LUNG_CANCER)],
        [(BC, A), (f"DS-{LUNG_CANCER}", A)],
        A,
    ),
    case(
        "alternatives-none-covers",
        use(DS, diseases=(DIABETES,)),
        [BC_DS, ds(LUNG_CANCER)],
        [(BC, D), (f"DS-{LUNG_CANCER}", D)],
        D,
    ),
    case(
        "alternatives-one-disease-uncovered",
        use(DS, diseases=(DUCTAL, DIABETES)),
        [BC_DS, ds(LUNG_CANCER)],
        [(BC, D), (f"DS-{LUNG_CANCER}", D)],
        D,
    ),
    case(
        "alternatives-one-undecidable",
        use(DS, diseases=(LUNG_ADENOCARCINOMA,)),
        [BC_DS, ds(NOT_SHIPPED)],
        [(BC, R), (f"DS-{NOT_SHIPPED}", R)],
        R,
    ),
    case(
        "alternatives-HMB-POA",
        use(HMB, POA),
        [term("HMB"), term("POA")],
        [("HMB", A), ("POA", A)],
        A,
    ),
    # Modifiers.
    case(
        "NPU-commercial",
        use(HMB, commercial=True),
        [term("GRU"), term("NPU")],
        [("GRU", A), ("NPU", D)],
        D,
    ),
    case("NPU-not-for-profit", use(HMB), [term("GRU"), term("NPU")], [("GRU", A), ("NPU", A)], A),
    case(
        "NCU-commercial",
        use(HMB, commercial=True),
        [term("GRU"), term("NCU")],
        [("GRU", A), ("NCU", D)],
        D,
    ),
    case("NCU-non-commercial", use(HMB), [term("GRU"), term("NCU")], [("GRU", A), ("NCU", A)], A),
    case(
        "NPUNCU-commercial",
        use(GRU, commercial=True),
        [term("GRU"), term("NPUNCU")],
        [("GRU", A), ("NPUNCU", D)],
        D,
    ),
    case("NMDS-alone", use(MDS), [term("HMB"), term("NMDS")], [("HMB", A), ("NMDS", D)], D),
    case(
        "NMDS-within-DS",
        use(DS, MDS, diseases=(BREAST_CANCER,)),
        [BC_DS, term("NMDS")],
        [(BC, A), ("NMDS", A)],
        A,
    ),
    case("NMDS-no-methods", use(HMB), [term("GRU"), term("NMDS")], [("GRU", A), ("NMDS", A)], A),
    case("NPOA-POA", use(POA), [term("GRU"), term("NPOA")], [("GRU", A), ("NPOA", D)], D),
    case("NPOA-general", use(GRU), [term("GRU"), term("NPOA")], [("GRU", A), ("NPOA", R)], R),
    case("NPOA-health", use(HMB), [term("GRU"), term("NPOA")], [("GRU", A), ("NPOA", A)], A),
    case("CC", use(HMB), [term("HMB"), term("CC")], [("HMB", A), ("CC", A)], A),
    *[
        case(f"{code}-review", use(HMB), [term("HMB"), term(code)], [("HMB", A), (code, R)], R)
        for code in REVIEW_MODIFIERS
    ],
    case(
        "GS-region",
        use(HMB),
        [term("GRU"), term("GS", GAZ_FRANCE)],
        [("GRU", A), (f"GS-{GAZ_FRANCE}", R)],
        R,
    ),
    case(
        "deny-beats-review",
        use(DS, diseases=(DIABETES,)),
        [BC_DS, term("IRB")],
        [(BC, D), ("IRB", R)],
        D,
    ),
    # Anything the matcher cannot judge needs review, never a crash or a guess.
    case(
        "unknown-DUO",
        use(HMB),
        [term("GRU"), DataUseCondition("DUO:0000099")],
        [("GRU", A), ("DUO:0000099", R)],
        R,
    ),
    case(
        "obsolete-GRU-CC",
        use(HMB),
        [term("HMB"), DataUseCondition("DUO:0000005")],
        [("HMB", A), ("DUO:0000005", R)],
        R,
    ),
    case(
        "not-DUO",
        use(HMB),
        [term("GRU"), DataUseCondition("EFO:0000001", "X:1")],
        [("GRU", A), ("EFO:0000001-X:1", R)],
        R,
    ),
    case(
        "DUO-root-only",
        use(HMB),
        [DataUseCondition("DUO:0000001")],
        [("permission", R), ("DUO:0000001", R)],
        R,
    ),
    case("no-conditions", use(HMB), [], [("permission", R)], R),
    case("modifier-only", use(HMB), [term("NPU")], [("permission", R), ("NPU", A)], R),
    case(
        "modifier-only-deny",
        use(HMB, commercial=True),
        [term("NPU")],
        [("permission", R), ("NPU", D)],
        D,
    ),
    case("sensitive", use(HMB, sensitive=True), [term("GRU")], [("GRU", A), ("sensitive", R)], R),
    case(
        "sensitive-denied",
        use(POA, sensitive=True),
        [term("HMB")],
        [("HMB", D), ("sensitive", R)],
        D,
    ),
]


@pytest.mark.parametrize(("intended", "conditions", "checks", "expected"), CASES)
def test_match_table(
    intended: IntendedUse,
    conditions: list[DataUseCondition],
    checks: list[tuple[str, Outcome]],
    expected: Outcome,
) -> None:
    result = match(intended, *conditions)
    assert [(check.code, check.outcome) for check in result.checks] == checks
    assert result.outcome is expected


def reason(intended: IntendedUse, *conditions: DataUseCondition, code: str) -> str:
    (found,) = [c for c in match(intended, *conditions).checks if c.code == code]
    return found.reason


def test_reason_for_another_disease_names_both_curies_and_the_consented_label() -> None:
    assert reason(use(DS, diseases=(DIABETES,)), BC_DS, code=BC) == (
        "DS-MONDO:0007254 requires disease-specific research on breast cancer or a subtype; "
        "request is for MONDO:0005015 (diabetes mellitus)"
    )


def test_reason_for_a_subtype_names_it() -> None:
    assert reason(use(DS, diseases=(DUCTAL,)), BC_DS, code=BC) == (
        "DS-MONDO:0007254 requires disease-specific research on breast cancer or a subtype; "
        "MONDO:0004953 (invasive ductal breast carcinoma) is a subtype of breast cancer"
    )


def test_reason_for_the_consented_disease_itself() -> None:
    text = reason(use(DS, diseases=(BREAST_CANCER,)), BC_DS, code=BC)
    assert text.endswith("request is for MONDO:0007254 (breast cancer) itself")


def test_reason_of_an_alternative_names_the_term_that_permits_the_rest() -> None:
    text = reason(
        use(DS, diseases=(DUCTAL, LUNG_ADENOCARCINOMA)),
        BC_DS,
        ds(LUNG_CANCER),
        code=BC,
    )
    assert text.endswith(
        "disease-specific research on MONDO:0005061 (lung adenocarcinoma) is permitted by "
        "DS-MONDO:0008903"
    )


def test_reason_when_the_request_names_an_unshipped_disease() -> None:
    text = reason(use(DS, diseases=(NOT_SHIPPED,)), BC_DS, code=BC)
    assert text.endswith(
        "MONDO:9999999 is not in the MONDO subset Atrium ships, so whether it is a subtype of "
        "breast cancer cannot be decided"
    )


def test_reason_when_the_consent_names_an_unshipped_disease() -> None:
    text = reason(use(DS, diseases=(DIABETES,)), ds(NOT_SHIPPED), code=f"DS-{NOT_SHIPPED}")
    assert text == (
        "DS-MONDO:9999999 requires disease-specific research on MONDO:9999999 or a subtype; "
        "MONDO:9999999 is not in the MONDO subset Atrium ships, so whether MONDO:0005015 "
        "(diabetes mellitus) falls under it cannot be decided"
    )


def test_reason_lists_every_purpose_a_term_does_not_permit() -> None:
    text = reason(use(GRU, POA, MDS), term("HMB"), code="HMB")
    assert text == (
        "HMB requires health, medical or biomedical research; request is for general research "
        "and population origins or ancestry research"
    )


@pytest.mark.parametrize(
    ("commercial", "expected"),
    [(True, "request is for commercial use"), (False, "request is not for commercial use")],
)
def test_reason_for_not_for_profit(commercial: bool, expected: str) -> None:
    text = reason(use(HMB, commercial=commercial), term("GRU"), term("NPU"), code="NPU")
    assert text == f"NPU limits use to not-for-profit organisations; {expected}"


def test_reason_for_a_geographic_restriction_names_the_region() -> None:
    text = reason(use(HMB), term("GRU"), term("GS", GAZ_FRANCE), code=f"GS-{GAZ_FRANCE}")
    assert text == (
        f"GS-{GAZ_FRANCE} restricts use to a geographic region ({GAZ_FRANCE}); "
        "the request does not state where the data will be used"
    )


def test_reason_for_methods_development_alone_under_nmds() -> None:
    text = reason(use(MDS), term("HMB"), term("NMDS"), code="NMDS")
    assert text.endswith("request is for methods development alone")


def test_reason_for_an_unknown_term_names_it() -> None:
    text = reason(use(HMB), term("GRU"), DataUseCondition("DUO:0000099"), code="DUO:0000099")
    assert text == "DUO:0000099 is not a data use term Atrium can evaluate"


@pytest.mark.parametrize("code", REVIEW_MODIFIERS)
def test_every_review_reason_starts_with_its_code_and_says_what_to_confirm(code: str) -> None:
    text = reason(use(HMB), term("GRU"), term(code), code=code)
    assert text.startswith(f"{code} ")
    assert "; " in text


def test_checks_carry_their_condition() -> None:
    npu = term("NPU")
    result = match(use(HMB, sensitive=True), BC_DS, npu)
    assert [check.condition for check in result.checks] == [BC_DS, npu, None]


def test_duplicate_conditions_are_checked_once() -> None:
    result = match(use(HMB), term("GRU"), term("GRU"), term("IRB"), term("IRB"))
    assert [check.code for check in result.checks] == ["GRU", "IRB"]


@pytest.mark.parametrize(
    ("intended", "message"),
    [
        (use(DS), "must name at least one MONDO disease"),
        (use(DS, MDS), "must name at least one MONDO disease"),
        (use(HMB, diseases=(BREAST_CANCER,)), "disease-specific research is not a purpose"),
        (use(), "at least one research purpose"),
    ],
)
def test_invalid_intended_use_is_refused(intended: IntendedUse, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        match(intended, term("GRU"))


def test_results_are_immutable() -> None:
    result = match(use(HMB), term("GRU"))
    with pytest.raises(FrozenInstanceError):
        result.checks = ()  # type: ignore[misc]
    with pytest.raises(FrozenInstanceError):
        result.checks[0].outcome = D  # type: ignore[misc]


def test_outcome_of_no_checks_is_approve_and_of_mixed_checks_the_most_severe() -> None:
    assert DuoMatch(checks=()).outcome is A
    mixed = tuple(Check(code=o.value, outcome=o, reason="") for o in (A, D, R))
    assert DuoMatch(checks=mixed).outcome is D
    assert DuoMatch(checks=mixed[:1] + mixed[2:]).outcome is R


def test_rules_cover_every_shipped_duo_term_with_a_code() -> None:
    """A term added to duo.json without a rule would silently need review; fail here instead."""
    assert {code: curie for curie, code in DUO_CODES.items()} == CURIE_BY_CODE
    assert {"NRES", "GRU", "HMB", "DS", "POA"} == PERMISSION_CODES


# The disease hierarchy.


def test_shipped_hierarchy_holds_every_mondo_entry_and_is_closed_under_parents() -> None:
    """DS-X may deny a disease only because the subset holds every ancestor of its terms."""
    entries = shipped("mondo")
    assert set(HIERARCHY.labels) == {entry["curie"] for entry in entries}
    assert all(parent in HIERARCHY for entry in entries for parent in entry["parents"])
    assert HIERARCHY.labels[BREAST_CANCER] == "breast cancer"


@pytest.mark.parametrize(
    ("curie", "of", "expected"),
    [
        (BREAST_CANCER, BREAST_CANCER, True),
        (DUCTAL, BREAST_CANCER, True),
        (DUCTAL, ADENOCARCINOMA, True),
        (DUCTAL, DISEASE, True),
        (BREAST_CANCER, DUCTAL, False),
        (HBOC, BREAST_CANCER, False),
        (NOT_SHIPPED, BREAST_CANCER, False),
        (NOT_SHIPPED, NOT_SHIPPED, True),
    ],
)
def test_is_subclass(curie: str, of: str, expected: bool) -> None:
    assert HIERARCHY.is_subclass(curie, of) is expected


def test_describe_adds_the_label_when_known() -> None:
    assert HIERARCHY.describe(DIABETES) == "MONDO:0005015 (diabetes mellitus)"
    assert HIERARCHY.describe(NOT_SHIPPED) == NOT_SHIPPED


def test_hierarchy_refuses_a_curie_twice() -> None:
    entries = [{"curie": "X:1", "label": "a", "parents": []}] * 2
    with pytest.raises(ValueError, match="X:1 appears twice"):
        DiseaseHierarchy.from_entries(entries)


def test_hierarchy_survives_a_cycle() -> None:
    hierarchy = DiseaseHierarchy.from_entries(
        [
            {"curie": "X:1", "label": "a", "parents": ["X:2"]},
            {"curie": "X:2", "label": "b", "parents": ["X:1"]},
            {"curie": "X:3", "label": "c", "parents": ["X:2"]},
        ]
    )
    assert hierarchy.ancestors == {
        "X:1": frozenset({"X:2"}),
        "X:2": frozenset({"X:1"}),
        "X:3": frozenset({"X:1", "X:2"}),
    }


def test_hierarchy_is_immutable() -> None:
    with pytest.raises(TypeError):
        HIERARCHY.labels["X:1"] = "changed"  # type: ignore[index]
    with pytest.raises(FrozenInstanceError):
        HIERARCHY.labels = {}  # type: ignore[misc]


# Properties over generated requests and conditions.

PROPERTY_SETTINGS = settings(max_examples=150, derandomize=True, database=None, deadline=None)
SHIPPED_DISEASES = sorted(HIERARCHY.labels)
diseases_st = st.sampled_from([*SHIPPED_DISEASES, NOT_SHIPPED])
MODIFIER_CODES = sorted(set(CURIE_BY_CODE) - PERMISSION_CODES)


@st.composite
def intended_uses(draw: st.DrawFn, sensitive: bool | None = None) -> IntendedUse:
    purposes = draw(st.frozensets(st.sampled_from(list(ResearchPurpose)), min_size=1))
    diseases: frozenset[str] = frozenset()
    if DS in purposes:
        diseases = draw(st.frozensets(diseases_st, min_size=1, max_size=3))
    return IntendedUse(
        purposes=purposes,
        diseases=diseases,
        commercial=draw(st.booleans()),
        sensitive=draw(st.booleans()) if sensitive is None else sensitive,
    )


permissions_st = st.one_of(
    st.sampled_from([term(code) for code in ("NRES", "GRU", "HMB", "POA")]),
    st.builds(ds, st.one_of(st.none(), diseases_st)),
)
modifiers_st = st.one_of(
    st.sampled_from([term(code) for code in MODIFIER_CODES]),
    st.builds(term, st.just("GS"), st.just(GAZ_FRANCE)),
    st.builds(
        DataUseCondition,
        st.text(max_size=20),
        st.one_of(st.none(), st.text(max_size=20)),
    ),
)
conditions_st = st.lists(st.one_of(permissions_st, modifiers_st), max_size=5)


@PROPERTY_SETTINGS
@given(intended_uses(), conditions_st)
def test_outcome_is_the_most_severe_check_and_every_condition_is_checked(
    intended: IntendedUse, conditions: list[DataUseCondition]
) -> None:
    result = match(intended, *conditions)
    assert result.outcome.severity == max(check.outcome.severity for check in result.checks)
    checked = [check.condition for check in result.checks if check.condition is not None]
    assert sorted(set(checked), key=repr) == sorted(set(conditions), key=repr)
    assert all(check.reason for check in result.checks)


@PROPERTY_SETTINGS
@given(intended_uses(), conditions_st, modifiers_st)
def test_adding_a_modifier_never_relaxes_the_outcome(
    intended: IntendedUse, conditions: list[DataUseCondition], modifier: DataUseCondition
) -> None:
    before = match(intended, *conditions).outcome
    after = match(intended, *conditions, modifier).outcome
    assert after.severity >= before.severity


@PROPERTY_SETTINGS
@given(intended_uses(), st.lists(permissions_st, min_size=1, max_size=3), permissions_st)
def test_adding_an_alternative_permission_never_tightens_the_outcome(
    intended: IntendedUse, permissions: list[DataUseCondition], extra: DataUseCondition
) -> None:
    before = match(intended, *permissions).outcome
    after = match(intended, *permissions, extra).outcome
    assert after.severity <= before.severity


@PROPERTY_SETTINGS
@given(intended_uses(sensitive=False), st.sampled_from(["GRU", "NRES"]))
def test_unrestricted_dataset_approves_any_non_sensitive_use(
    intended: IntendedUse, code: str
) -> None:
    assert match(intended, term(code)).outcome is A


@PROPERTY_SETTINGS
@given(intended_uses(sensitive=True), conditions_st)
def test_sensitive_use_is_never_approved(
    intended: IntendedUse, conditions: list[DataUseCondition]
) -> None:
    assert match(intended, *conditions).outcome is not A


@PROPERTY_SETTINGS
@given(intended_uses(), conditions_st, st.randoms(use_true_random=False))
def test_order_of_conditions_does_not_matter(
    intended: IntendedUse, conditions: list[DataUseCondition], random: Random
) -> None:
    shuffled = list(conditions)
    random.shuffle(shuffled)
    assert match(intended, *conditions) == match(intended, *shuffled)


@PROPERTY_SETTINGS
@given(st.sampled_from(SHIPPED_DISEASES), st.sampled_from(SHIPPED_DISEASES))
def test_ds_permits_exactly_the_consented_disease_and_its_subclasses(
    requested: str, consented: str
) -> None:
    expected = A if consented in HIERARCHY.ancestors[requested] | {requested} else D
    assert match(use(DS, diseases=(requested,)), ds(consented)).outcome is expected
    for ancestor in HIERARCHY.ancestors[consented] if expected is A else ():
        assert match(use(DS, diseases=(requested,)), ds(ancestor)).outcome is A
