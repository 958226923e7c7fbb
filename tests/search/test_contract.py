"""One contract for every search backend: same fixture catalog, same answers."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy.orm import Session

from catalog.errors import Invalid
from search import outbox, service
from search.backend import SearchBackend
from search.facets import Facet
from search.query import AccessFilter, SearchQuery, SortOrder, Visibility
from tests.search.catalog_fixture import NOW, FixtureCatalog

PUBLIC = Visibility()


@pytest.fixture
def run(db: Session, backend: SearchBackend, catalog: FixtureCatalog):  # type: ignore[no-untyped-def]
    backend.ensure_ready(db)
    outbox.drain(db, backend)
    backend.refresh()

    def run(query: SearchQuery, visibility: Visibility = PUBLIC) -> service.LabelledResult:
        return service.search(db, backend, query, visibility, now=NOW)

    return run


def accessions(result: service.LabelledResult) -> list[str]:
    return [hit.accession for hit in result.result.hits]


def keys(catalog: FixtureCatalog, *names: str) -> list[str]:
    return [catalog.accession(n) for n in names]


def counts(result: service.LabelledResult, facet: Facet) -> dict[str, int]:
    return {b.value: b.count for b in result.result.facets[facet]}


PUBLISHED = ("breast_wgs", "breast_rna", "heart", "mouse", "ehr")


def test_without_words_every_published_dataset_newest_first(run, catalog) -> None:  # type: ignore[no-untyped-def]
    result = run(SearchQuery())

    assert accessions(result) == keys(catalog, "breast_wgs", "heart", "breast_rna", "ehr", "mouse")
    assert result.result.total == 5
    assert all(hit.highlights == {} for hit in result.result.hits)


def test_title_matches_rank_above_description_matches(run, catalog) -> None:  # type: ignore[no-untyped-def]
    result = run(SearchQuery(text="genomes"))

    found = accessions(result)
    assert set(found) == set(keys(catalog, "breast_wgs", "mouse", "ehr"))
    assert found[0] == catalog.accession("breast_wgs")


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("heart attack", "heart"),
        ("mammary carcinoma", "breast_rna"),
        ("Wellspring", "mouse"),
        ("Coastal Imaging", "heart"),
        ("BRCA1", "breast_wgs"),
        ("lupus", "ehr"),
    ],
)
def test_finds_by_synonym_keyword_and_organisation(run, catalog, words, expected) -> None:  # type: ignore[no-untyped-def]
    assert catalog.accession(expected) in accessions(run(SearchQuery(text=words)))


def test_phrases_and_exclusions(run, catalog) -> None:  # type: ignore[no-untyped-def]
    assert accessions(run(SearchQuery(text='"whole genomes" -mice'))) == keys(catalog, "breast_wgs")


def test_retired_never_appear_and_drafts_only_for_their_stewards(run, catalog) -> None:  # type: ignore[no-untyped-def]
    public = accessions(run(SearchQuery(text="genomes", first=50)))
    steward = Visibility(steward_ids=frozenset({catalog.steward_b.id}))
    other = Visibility(steward_ids=frozenset({catalog.steward_a.id}))

    assert catalog.accession("retired") not in public
    assert catalog.accession("draft") not in public
    assert catalog.accession("draft") in accessions(run(SearchQuery(text="heart"), steward))
    assert catalog.accession("draft") not in accessions(run(SearchQuery(text="heart"), other))
    admin = accessions(run(SearchQuery(first=50), Visibility(is_admin=True)))
    assert catalog.accession("draft") in admin
    assert catalog.accession("retired") not in admin


def test_facet_counts_are_exact(run, catalog) -> None:  # type: ignore[no-untyped-def]
    result = run(SearchQuery())

    assert counts(result, Facet.DATA_TYPE) == {"WGS": 2, "RNA-seq": 1, "Imaging": 1, "EHR": 1}
    assert counts(result, Facet.ACCESS_LEVEL) == {"open": 2, "controlled": 2, "registered": 1}
    assert counts(result, Facet.DATA_USE) == {"GRU": 2, "HMB": 2, "DS": 1, "NPU": 1, "IRB": 1}
    assert counts(result, Facet.SPECIES) == {"Homo sapiens": 4, "Mus musculus": 1}
    assert counts(result, Facet.FUNDER) == {catalog.funder_x.slug: 3, catalog.funder_y.slug: 2}
    assert counts(result, Facet.STEWARD) == {catalog.steward_a.slug: 3, catalog.steward_b.slug: 2}
    assert counts(result, Facet.DISEASE) == {
        "MONDO:0007254": 1,
        "MONDO:0004989": 1,
        "MONDO:0005068": 1,
        "MONDO:0005311": 1,
        "MONDO:0007915": 1,
    }
    assert counts(result, Facet.PARTICIPANTS) == {
        "100-999": 1,
        "1000-9999": 1,
        "10000+": 1,
        "0-99": 1,
    }
    assert counts(result, Facet.UPDATED) == {"last-30-days": 2, "last-year": 2, "older": 1}


def test_facet_buckets_carry_labels(run, catalog) -> None:  # type: ignore[no-untyped-def]
    result = run(SearchQuery())

    assert result.label(Facet.DISEASE, "MONDO:0007254") == "breast cancer"
    assert result.label(Facet.STEWARD, catalog.steward_b.slug) == "Coastal Imaging Consortium"
    assert result.label(Facet.DATA_USE, "GRU") == "general research use"
    assert result.label(Facet.DATA_TYPE, "WGS") == "WGS"


def test_multi_select_facet_ignores_its_own_selection(run, catalog) -> None:  # type: ignore[no-untyped-def]
    result = run(SearchQuery(filters={Facet.DATA_TYPE: frozenset({"WGS"})}))

    assert sorted(accessions(result)) == sorted(keys(catalog, "breast_wgs", "mouse"))
    assert result.result.total == 2
    assert counts(result, Facet.DATA_TYPE) == {"WGS": 2, "RNA-seq": 1, "Imaging": 1, "EHR": 1}
    assert counts(result, Facet.SPECIES) == {"Homo sapiens": 1, "Mus musculus": 1}


def test_values_of_one_facet_or_and_facets_and(run, catalog) -> None:  # type: ignore[no-untyped-def]
    either = run(SearchQuery(filters={Facet.DATA_TYPE: frozenset({"WGS", "EHR"})}))
    both = run(
        SearchQuery(
            filters={
                Facet.DATA_TYPE: frozenset({"WGS", "EHR"}),
                Facet.SPECIES: frozenset({"Homo sapiens"}),
            }
        )
    )

    assert sorted(accessions(either)) == sorted(keys(catalog, "breast_wgs", "mouse", "ehr"))
    assert sorted(accessions(both)) == sorted(keys(catalog, "breast_wgs", "ehr"))
    assert counts(both, Facet.SPECIES) == {"Homo sapiens": 2, "Mus musculus": 1}
    assert counts(both, Facet.DATA_TYPE) == {"WGS": 1, "RNA-seq": 1, "Imaging": 1, "EHR": 1}


def test_filters_ignore_case(run, catalog) -> None:  # type: ignore[no-untyped-def]
    result = run(SearchQuery(filters={Facet.DATA_TYPE: frozenset({"wgs"})}))

    assert sorted(accessions(result)) == sorted(keys(catalog, "breast_wgs", "mouse"))


def test_range_filters(run, catalog) -> None:  # type: ignore[no-untyped-def]
    large = run(SearchQuery(filters={Facet.PARTICIPANTS: frozenset({"1000-9999", "10000+"})}))
    recent = run(SearchQuery(filters={Facet.UPDATED: frozenset({"last-30-days"})}))

    assert sorted(accessions(large)) == sorted(keys(catalog, "breast_wgs", "heart"))
    assert counts(large, Facet.PARTICIPANTS) == {
        "100-999": 1,
        "1000-9999": 1,
        "10000+": 1,
        "0-99": 1,
    }
    assert sorted(accessions(recent)) == sorted(keys(catalog, "breast_wgs", "heart"))


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        (SortOrder.NEWEST, ["breast_wgs", "heart", "breast_rna", "ehr", "mouse"]),
        (SortOrder.PARTICIPANTS, ["heart", "breast_wgs", "breast_rna", "mouse", "ehr"]),
        (SortOrder.TITLE, ["breast_wgs", "heart", "ehr", "mouse", "breast_rna"]),
    ],
)
def test_sorts(run, catalog, sort, expected) -> None:  # type: ignore[no-untyped-def]
    assert accessions(run(SearchQuery(sort=sort))) == keys(catalog, *expected)


@pytest.mark.parametrize("sort", [None, *SortOrder])
@pytest.mark.parametrize("text", [None, "genomes"])
def test_paging_visits_every_hit_once_in_order(run, sort, text) -> None:  # type: ignore[no-untyped-def]
    whole = accessions(run(SearchQuery(text=text, sort=sort, first=50)))
    paged: list[str] = []
    after = None
    while True:
        page = run(SearchQuery(text=text, sort=sort, first=2, after=after))
        assert page.result.total == len(whole)
        paged += accessions(page)
        if not page.result.has_next:
            break
        after = cursor_of(page)

    assert paged == whole


def cursor_of(page: service.LabelledResult) -> str:
    from search.query import encode_cursor

    return encode_cursor(page.query, page.result.hits[-1].key)


def test_cursor_of_another_query_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    page = run(SearchQuery(text="genomes", first=1))

    with pytest.raises(Invalid) as refused:
        run(SearchQuery(text="heart", first=1, after=cursor_of(page)))
    assert refused.value.field == "after"
    with pytest.raises(Invalid, match="not one this search returned"):
        run(SearchQuery(first=1, after="not-a-cursor"))


def test_highlights_mark_matches_and_escape_markup(run, catalog) -> None:  # type: ignore[no-untyped-def]
    result = run(SearchQuery(text="markup"))

    (hit,) = result.result.hits
    (fragment,) = hit.highlights["description"]
    assert "<mark>markup</mark>" in fragment
    assert "&lt;with&gt;" in fragment
    assert "&amp;" in fragment
    title = run(SearchQuery(text="cardiac")).result.hits[0].highlights["title"]
    assert title == ("<mark>Cardiac</mark> MRI after infarction",)


def test_readable_only(run, catalog) -> None:  # type: ignore[no-untyped-def]
    anonymous = AccessFilter(frozenset({"open"}), frozenset(), frozenset())
    granted = AccessFilter(
        frozenset({"open", "registered"}),
        frozenset({catalog.datasets["ehr"].id}),
        frozenset(),
    )

    assert sorted(accessions(run(SearchQuery(), Visibility(readable=anonymous)))) == sorted(
        keys(catalog, "breast_wgs", "mouse")
    )
    assert sorted(accessions(run(SearchQuery(), Visibility(readable=granted)))) == sorted(
        keys(catalog, "breast_wgs", "mouse", "heart", "ehr")
    )


@pytest.mark.parametrize(
    "words",
    ['"unbalanced', "title:(foo AND", "a || b && !c", "* ? ~ ^ [ ] { }", "\\", "-", "()", "the"],
)
def test_query_syntax_never_fails(run, words) -> None:  # type: ignore[no-untyped-def]
    result = run(SearchQuery(text=words))

    assert result.result.total >= 0


@pytest.mark.parametrize(
    ("query", "field"),
    [
        (SearchQuery(text="x" * 10_000), "query"),
        (SearchQuery(first=0), "first"),
        (SearchQuery(first=-5), "first"),
        (SearchQuery(first=101), "first"),
        (SearchQuery(filters={Facet.PARTICIPANTS: frozenset({"lots"})}), "filters.participants"),
    ],
)
def test_bad_input_is_refused_with_its_field(run, query, field) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as refused:
        run(query)
    assert refused.value.field == field


def test_unknown_dataset_ids_in_readable_filter_are_harmless(run) -> None:  # type: ignore[no-untyped-def]
    stray = AccessFilter(frozenset(), frozenset({uuid.uuid4()}), frozenset())

    assert run(SearchQuery(), Visibility(readable=stray)).result.total == 0


def forged(query: SearchQuery, value: object, accession: str = "ATR-DS-000001") -> str:
    import base64
    import json

    raw = json.dumps([query.fingerprint(), value, accession]).encode()
    return base64.urlsafe_b64encode(raw).decode()


@pytest.mark.parametrize(
    ("sort", "value"),
    [
        (SortOrder.NEWEST, "x"),
        (SortOrder.NEWEST, None),
        (SortOrder.PARTICIPANTS, None),
        (SortOrder.PARTICIPANTS, "12"),
        (SortOrder.PARTICIPANTS, True),
        (SortOrder.RELEVANCE, "high"),
        (SortOrder.TITLE, 5),
        (SortOrder.TITLE, "a\x00b"),
    ],
)
def test_a_forged_cursor_is_refused_not_failed(run, sort, value) -> None:  # type: ignore[no-untyped-def]
    query = SearchQuery(text="genomes" if sort is SortOrder.RELEVANCE else None, sort=sort)
    bad = SearchQuery(text=query.text, sort=sort, after=forged(query, value))

    with pytest.raises(Invalid) as refused:
        run(bad)
    assert refused.value.field == "after"


def test_a_forged_cursor_accession_is_refused(run) -> None:  # type: ignore[no-untyped-def]
    query = SearchQuery(sort=SortOrder.TITLE)

    with pytest.raises(Invalid, match="not one this search returned"):
        run(SearchQuery(sort=SortOrder.TITLE, after=forged(query, "a", "x\x00")))


@pytest.mark.parametrize("value", ["WGS\x00", "x" * 501])
def test_unstorable_or_huge_filter_values_are_refused(run, value) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(Invalid) as refused:
        run(SearchQuery(filters={Facet.DATA_TYPE: frozenset({value})}))
    assert refused.value.field == "filters.data_type"
