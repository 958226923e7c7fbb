"""Discovery on Postgres full-text search: the embedded default.

Words are matched with the ``simple`` configuration (lower-cased, no stemming), as the
Elasticsearch backend's standard analyser does, so both backends find the same datasets.

Documents live in ``search_documents`` (tsvector with weights — title A, keywords and disease
names B, description C, organisations D — and one GIN-indexed array of filter keys). A search
is one statement: the matching rows are materialised once and the page, the total and every
facet are computed from them, each facet ignoring its own selection."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, delete, text
from sqlalchemy.dialects.postgresql import ARRAY, UUID
from sqlalchemy.orm import Session
from sqlalchemy.types import Text

from catalog.errors import Invalid
from search.backend import IndexedEntry, IndexReport
from search.document import DatasetDocument
from search.facets import PARTICIPANT_BUCKETS, TERMS_FACETS, Facet, updated_buckets
from search.models import SearchDocument
from search.query import (
    FacetBucket,
    SearchHit,
    SearchQuery,
    SearchResult,
    SortKey,
    SortOrder,
    Visibility,
    decode_cursor,
)

FACET_SIZE = 50
_UUID_ARRAYS = frozenset({"stewards", "readable_ids", "readable_stewards"})
HEADLINE = "StartSel=<mark>, StopSel=</mark>"

_UPSERT = text(
    """
    INSERT INTO search_documents AS d (dataset_id, row_version, accession, status, access_level,
        steward_id, title, title_sort, description, participant_count, updated_at, facets,
        filter_keys, tsv, document)
    SELECT r.id, r.version, r.accession, r.status, r.access_level, r.steward_id, r.title,
        lower(r.title), r.description, r.participant_count, r.updated_at, r.facets,
        r.filter_keys,
        setweight(to_tsvector('simple', r.title), 'A')
            || setweight(to_tsvector('simple', r.names), 'B')
            || setweight(to_tsvector('simple', r.description), 'C')
            || setweight(to_tsvector('simple', r.organisations), 'D'),
        r.document
    FROM jsonb_to_recordset(CAST(:rows AS jsonb)) AS r(id uuid, version bigint, accession text,
        status text, access_level text, steward_id uuid, title text, description text,
        participant_count integer, updated_at timestamptz, facets jsonb, filter_keys text[],
        names text, organisations text, document jsonb)
    ON CONFLICT (dataset_id) DO UPDATE SET
        row_version = EXCLUDED.row_version, accession = EXCLUDED.accession,
        status = EXCLUDED.status, access_level = EXCLUDED.access_level,
        steward_id = EXCLUDED.steward_id, title = EXCLUDED.title,
        title_sort = EXCLUDED.title_sort, description = EXCLUDED.description,
        participant_count = EXCLUDED.participant_count, updated_at = EXCLUDED.updated_at,
        facets = EXCLUDED.facets, filter_keys = EXCLUDED.filter_keys, tsv = EXCLUDED.tsv,
        document = EXCLUDED.document, indexed_at = now()
    WHERE d.row_version < EXCLUDED.row_version
    """
)

_SORTS: dict[SortOrder, tuple[str, str]] = {
    SortOrder.RELEVANCE: ("score", "DESC"),
    SortOrder.NEWEST: ("updated_at", "DESC"),
    SortOrder.PARTICIPANTS: ("participants", "DESC"),
    SortOrder.TITLE: ('title_sort COLLATE "C"', "ASC"),
}


class PostgresBackend:
    name = "postgres"

    def ensure_ready(self, session: Session) -> None:
        """The table comes with the migrations."""

    def refresh(self) -> None:
        """Postgres documents are searchable as soon as their transaction commits."""

    def index(self, session: Session, documents: Sequence[DatasetDocument]) -> IndexReport:
        if documents:
            session.execute(_UPSERT, {"rows": json.dumps([_row(d) for d in documents])})
        return IndexReport()

    def search(
        self, session: Session, query: SearchQuery, visibility: Visibility, *, now: datetime
    ) -> SearchResult:
        statement = _Statement(query, visibility, now)
        row = session.execute(statement.sql(), statement.params).one()
        hits = sorted((_hit(h) for h in row.hits), key=statement.order_key)
        has_next = len(hits) > query.first
        return SearchResult(
            total=row.total,
            hits=tuple(hits[: query.first]),
            facets=_facets(row.facets),
            has_next=has_next,
        )

    def entries(self, session: Session) -> Iterator[IndexedEntry]:
        rows = session.execute(
            text(
                "SELECT dataset_id, row_version, document FROM search_documents"
            ).execution_options(yield_per=2000)
        )
        for dataset_id, version, document in rows:
            yield IndexedEntry(dataset_id, version, document)

    def rebuild(self, session: Session, documents: Iterator[Sequence[DatasetDocument]]) -> int:
        """Replace every document in one transaction: searches see the old index until the
        commit, then the new one."""
        session.execute(delete(SearchDocument))
        count = 0
        for batch in documents:
            self.index(session, batch)
            count += len(batch)
        # A bulk load leaves its entries in the GIN indexes' pending lists, which every search
        # would scan and the next single write would have to flush; fold them in now, and give
        # the planner statistics of the new rows.
        for index in ("ix_search_documents_tsv", "ix_search_documents_filter_keys"):
            session.execute(
                text("SELECT gin_clean_pending_list(CAST(:i AS regclass))"), {"i": index}
            )
        session.execute(text("ANALYZE search_documents"))
        return count


def _row(document: DatasetDocument) -> dict[str, Any]:
    facets = {f.value: list(v) for f, v in document.facet_values().items()}
    return {
        "id": str(document.id),
        "version": document.version,
        "accession": document.accession,
        "status": document.status,
        "access_level": document.access_level,
        "steward_id": str(document.steward_id),
        "title": document.title,
        "description": document.description,
        "participant_count": document.participant_count,
        "updated_at": document.updated_at.isoformat(),
        "facets": facets,
        "filter_keys": sorted({filter_key(f, v) for f, vs in facets.items() for v in vs}),
        "names": " ".join((*document.keywords, *document.disease_names)),
        "organisations": " ".join((document.steward_name, *document.funder_names)),
        "document": document.body(),
    }


def filter_key(facet: str, value: str) -> str:
    """Filters match values case-insensitively, as Elasticsearch's lowercase normaliser does."""
    return f"{facet}:{value.lower()}"


class _Statement:
    """One search as SQL and its parameters."""

    def __init__(self, query: SearchQuery, visibility: Visibility, now: datetime) -> None:
        self.query = query
        self.sort = query.effective_sort
        self.after = decode_cursor(query)
        self.params: dict[str, Any] = {"limit": query.first + 1, "text": query.text or ""}
        self.visibility = visibility
        self.now_buckets = updated_buckets(now)
        self.matches = self._selection_matches()

    def sql(self) -> Any:
        column, direction = _SORTS[self.sort]
        order = f'b.{column} {direction}, b.accession COLLATE "C" ASC'
        selection_flags = (
            ", ".join(f"{sql} AS m_{name}" for name, sql in self.matches.items()) or "TRUE AS m_"
        )
        statement = f"""
            WITH base AS MATERIALIZED (
                SELECT d.dataset_id, d.accession, d.title_sort, d.updated_at,
                    d.participant_count, coalesce(d.participant_count, -1) AS participants,
                    d.facets, {self._score()} AS score,
                    {selection_flags}
                FROM search_documents d
                WHERE {self._where()}
            )
            SELECT
                (SELECT count(*) FROM base WHERE {self._all_matched()}) AS total,
                (SELECT coalesce(json_agg(h), '[]') FROM (
                    SELECT b.dataset_id, b.accession, b.score, {self._key_sql()} AS key,
                        {self._headline("s.title")} AS title_highlight,
                        {self._headline("s.description", fragments=True)}
                            AS description_highlight
                    FROM base b JOIN search_documents s USING (dataset_id)
                    WHERE {self._all_matched("b.")} AND {self._keyset()}
                    ORDER BY {order}
                    LIMIT :limit
                ) h) AS hits,
                (SELECT coalesce(json_agg(f), '[]') FROM ({self._facet_sql()}) f) AS facets
        """
        return text(statement).bindparams(*self._typed_params())

    def order_key(self, hit: SearchHit) -> tuple[Any, ...]:
        value = hit.key.value
        if self.sort in (SortOrder.RELEVANCE, SortOrder.PARTICIPANTS):
            return (-float(value or 0), hit.accession)
        if self.sort is SortOrder.NEWEST:
            return (-datetime.fromisoformat(str(value)).timestamp(), hit.accession)
        return (str(value).encode(), hit.accession.encode())

    def _typed_params(self) -> list[Any]:
        """Array parameters need their element type even when empty."""
        return [
            bindparam(name, type_=ARRAY(UUID) if name in _UUID_ARRAYS else ARRAY(Text))
            for name, value in self.params.items()
            if isinstance(value, list)
        ]

    def _score(self) -> str:
        if not self.query.text:
            return "0::float8"
        return "ts_rank(d.tsv, websearch_to_tsquery('simple', :text))::float8"

    def _where(self) -> str:
        clauses = ["d.status <> 'retired'"]
        if self.query.text:
            clauses.append("d.tsv @@ websearch_to_tsquery('simple', :text)")
        if not self.visibility.is_admin:
            self.params["stewards"] = list(self.visibility.steward_ids)
            clauses.append("(d.status = 'published' OR d.steward_id = ANY(:stewards))")
        readable = self.visibility.readable
        if readable is not None:
            self.params["readable_levels"] = sorted(readable.levels)
            self.params["readable_ids"] = list(readable.dataset_ids)
            self.params["readable_stewards"] = list(readable.steward_ids)
            clauses.append(
                "((d.status = 'published' AND (d.access_level = ANY(:readable_levels)"
                " OR (d.access_level = 'controlled' AND d.dataset_id = ANY(:readable_ids))))"
                " OR d.steward_id = ANY(:readable_stewards))"
            )
        return " AND ".join(clauses)

    def _selection_matches(self) -> dict[str, str]:
        """For every facet with a selection, the SQL that says a row matches it."""
        matches: dict[str, str] = {}
        for facet, values in self.query.filters.items():
            name = facet.value
            if facet in TERMS_FACETS:
                self.params[f"keys_{name}"] = sorted(filter_key(name, v) for v in values)
                matches[name] = f"(d.filter_keys && :keys_{name})"
            elif facet is Facet.PARTICIPANTS:
                ranges = [b for b in PARTICIPANT_BUCKETS if b.key in values]
                matches[name] = (
                    "("
                    + " OR ".join(
                        f"(d.participant_count >= {b.gte}"
                        + (f" AND d.participant_count < {b.lt})" if b.lt is not None else ")")
                        for b in ranges
                    )
                    + ")"
                )
            else:
                parts = []
                for i, bucket in enumerate(b for b in self.now_buckets if b.key in values):
                    bounds = []
                    if bucket.gte is not None:
                        self.params[f"updated_gte_{i}"] = bucket.gte
                        bounds.append(f"d.updated_at >= :updated_gte_{i}")
                    if bucket.lt is not None:
                        self.params[f"updated_lt_{i}"] = bucket.lt
                        bounds.append(f"d.updated_at < :updated_lt_{i}")
                    parts.append("(" + " AND ".join(bounds) + ")")
                matches[name] = "(" + " OR ".join(parts) + ")"
        return matches

    def _all_matched(self, prefix: str = "", *, except_facet: str | None = None) -> str:
        flags = [f"{prefix}m_{name}" for name in self.matches if name != except_facet]
        return " AND ".join(flags) or "TRUE"

    def _key_sql(self) -> str:
        if self.sort is SortOrder.NEWEST:
            return "to_json(b.updated_at)"
        if self.sort is SortOrder.TITLE:
            return "to_json(b.title_sort)"
        if self.sort is SortOrder.PARTICIPANTS:
            return "to_json(b.participants)"
        return "to_json(b.score)"

    def _keyset(self) -> str:
        if self.after is None:
            return "TRUE"
        column, direction = _SORTS[self.sort]
        column = f"b.{column}"
        cast = {
            SortOrder.RELEVANCE: "float8",
            SortOrder.NEWEST: "timestamptz",
            SortOrder.PARTICIPANTS: "bigint",
            SortOrder.TITLE: "text",
        }[self.sort]
        if self.sort is SortOrder.NEWEST and not isinstance(self.after.value, str):
            raise Invalid("the cursor is not one this search returned", field="after")
        self.params["after_value"] = str(self.after.value)
        self.params["after_accession"] = self.after.accession
        beyond = "<" if direction == "DESC" else ">"
        value = f"CAST(:after_value AS {cast})"
        if self.sort is SortOrder.TITLE:
            value += ' COLLATE "C"'
        return (
            f"({column} {beyond} {value} OR ({column} = {value}"
            f' AND b.accession COLLATE "C" > :after_accession))'
        )

    def _headline(self, column: str, *, fragments: bool = False) -> str:
        if not self.query.text:
            return "NULL"
        escaped = f"replace(replace(replace({column}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;')"
        options = HEADLINE + (
            ", MaxFragments=2, MaxWords=25, MinWords=8, FragmentDelimiter= … "
            if fragments
            else ", HighlightAll=true"
        )
        return (
            f"ts_headline('simple', {escaped}, websearch_to_tsquery('simple', :text), '{options}')"
        )

    def _facet_sql(self) -> str:
        parts = []
        for facet in TERMS_FACETS:
            name = facet.value
            parts.append(
                f"(SELECT '{name}' AS facet, v AS value, count(*) AS n"
                f" FROM base, jsonb_array_elements_text(base.facets -> '{name}') v"
                f" WHERE {self._all_matched(except_facet=name)}"
                f' GROUP BY v ORDER BY n DESC, v COLLATE "C" LIMIT {FACET_SIZE})'
            )
        participant_buckets = " UNION ALL ".join(
            f"SELECT '{b.key}' AS key, {b.gte} AS lo, {'NULL' if b.lt is None else b.lt}::int AS hi"
            for b in PARTICIPANT_BUCKETS
        )
        parts.append(
            "(SELECT 'participants', r.key, count(*) FROM base"
            f" JOIN ({participant_buckets}) r ON base.participant_count >= r.lo"
            " AND (r.hi IS NULL OR base.participant_count < r.hi)"
            f" WHERE {self._all_matched(except_facet=Facet.PARTICIPANTS.value)} GROUP BY r.key)"
        )
        for i, bucket in enumerate(self.now_buckets):
            self.params[f"bucket_gte_{i}"] = bucket.gte
            self.params[f"bucket_lt_{i}"] = bucket.lt
            parts.append(
                f"(SELECT 'updated', '{bucket.key}', count(*) FROM base"
                f" WHERE (CAST(:bucket_gte_{i} AS timestamptz) IS NULL"
                f" OR base.updated_at >= :bucket_gte_{i})"
                f" AND (CAST(:bucket_lt_{i} AS timestamptz) IS NULL"
                f" OR base.updated_at < :bucket_lt_{i})"
                f" AND {self._all_matched(except_facet=Facet.UPDATED.value)}"
                " HAVING count(*) > 0)"
            )
        return " UNION ALL ".join(parts)


def _hit(raw: dict[str, Any]) -> SearchHit:
    highlights = {
        field: (value,)
        for field, value in (
            ("title", raw["title_highlight"]),
            ("description", raw["description_highlight"]),
        )
        if value and "<mark>" in value
    }
    return SearchHit(
        dataset_id=uuid.UUID(raw["dataset_id"]),
        accession=raw["accession"],
        score=raw["score"] if raw["score"] else None,
        key=SortKey(raw["key"], raw["accession"]),
        highlights=highlights,
    )


def _facets(rows: list[dict[str, Any]]) -> dict[Facet, tuple[FacetBucket, ...]]:
    found: dict[Facet, list[FacetBucket]] = {facet: [] for facet in Facet}
    for row in rows:
        found[Facet(row["facet"])].append(FacetBucket(row["value"], row["n"]))
    return {
        facet: tuple(sorted(buckets, key=lambda b: (-b.count, b.value.encode())))
        for facet, buckets in found.items()
    }
