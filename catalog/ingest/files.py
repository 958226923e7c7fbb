"""The files of an ingest, written set-based: each chunk of records is COPYed into a temporary
staging table (one row per file, its checksums and access methods in the form ``drs_objects``
stores them, its aliases as an array), checked against the catalog and the earlier chunks with a
few statements that name the offending lines, and merged into ``drs_objects`` and
``drs_aliases``.

A staged file is new (``n``), an existing file that is unchanged (``e``), or an existing file
that changed (``c``): only ``n`` and ``c`` rows are written, so re-ingesting a file touches no
row. Every SQL statement of the file path lives here; nothing is asked per line.

The staging table has no statistics and the catalog's tables grow inside the ingest's own
transaction, so the planner would happily hash-join a chunk with all of ``drs_objects``, a scan
per chunk that makes a large ingest quadratic. Lookups in the catalog's tables are therefore
written as index lookups per staged row (``LATERAL (... LIMIT 1)``, ``= ANY(ARRAY(...))``).
Most files have no aliases: statements that unnest them skip empty arrays first (an unnest per
row costs about 1 µs even when it yields nothing).
"""

from __future__ import annotations

import io
import uuid
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import groupby

from sqlalchemy.orm import Session

from catalog.ingest.bulk import array_rows_value, array_value, text_value
from catalog.ingest.datasets import DatasetLoader, DatasetRef, PreparedDataset
from catalog.ingest.problems import Problems
from catalog.ingest.records import FileRecord
from catalog.ingest.report import IngestReport
from catalog.ingest.writer import Writer

CHUNK = 20_000

CREATE_STAGING = """
DROP TABLE IF EXISTS ingest_chunk, ingest_keys;
CREATE TEMP TABLE ingest_chunk (
    dataset_id uuid NOT NULL,
    line integer NOT NULL,
    id text NOT NULL,
    minted boolean NOT NULL,
    name text NOT NULL,
    size bigint NOT NULL,
    mime_type text,
    version text,
    description text,
    created_time timestamptz,
    checksums jsonb NOT NULL,
    methods text[] NOT NULL,
    aliases text[] NOT NULL,
    state "char" NOT NULL DEFAULT 'n',
    existing_dataset uuid,
    existing_bundle boolean
) ON COMMIT DROP;
CREATE TEMP TABLE ingest_keys (key text PRIMARY KEY, line integer NOT NULL) ON COMMIT DROP;
"""
DROP_STAGING = "DROP TABLE ingest_chunk, ingest_keys"
COPY_CHUNK = (
    "COPY ingest_chunk (dataset_id, line, id, minted, name, size, mime_type, version,"
    " description, created_time, checksums, methods, aliases) FROM STDIN"
)

# Files without an id whose aliases already name a DRS object are that object again, so that
# re-ingesting them (a Gen3 manifest loaded with GUIDs as aliases) updates instead of adding.
ALIAS_OWNERS = """
SELECT c.line, array_agg(DISTINCT a.object_id ORDER BY a.object_id)
FROM ingest_chunk c CROSS JOIN unnest(c.aliases) AS k(alias)
CROSS JOIN LATERAL (SELECT object_id FROM drs_aliases WHERE alias = k.alias LIMIT 1) a
WHERE c.minted
GROUP BY c.line
"""
ADOPT = """
UPDATE ingest_chunk c SET id = a.id, minted = false
FROM unnest(%(lines)s::integer[], %(ids)s::text[]) AS a(line, id)
WHERE c.line = a.line
"""
# Files the catalog has are unchanged ('e'), or changed ('c') when any of their columns or their
# set of aliases differ (access methods and aliases compared in the order every writer stores
# them in, C collation): one lookup per file decides both, and only the verdicts are joined back
# (joining the staged rows with the catalog's made sorts wide enough to spill). Returns how many
# changed.
MARK_EXISTING = """
WITH found AS MATERIALIZED (
    SELECT s.line, x.dataset_id, x.is_bundle, CASE WHEN
        (x.name, x.size, x.mime_type, x.version, x.description, x.checksums, x.access_methods)
            IS DISTINCT FROM
            (s.name, s.size, s.mime_type, s.version, s.description, s.checksums, s.methods)
        OR (s.created_time IS NOT NULL AND s.created_time <> x.created_time)
        OR s.aliases <> ARRAY(
            SELECT a.alias FROM drs_aliases a WHERE a.object_id = s.id ORDER BY a.alias COLLATE "C")
        THEN 'c' ELSE 'e' END AS state
    FROM ingest_chunk s
    CROSS JOIN LATERAL (
        SELECT dataset_id, is_bundle, name, size, mime_type, version, description, created_time,
               checksums, access_methods
        FROM drs_objects WHERE id = s.id LIMIT 1
    ) x
), marked AS (
    UPDATE ingest_chunk c
    SET state = f.state, existing_dataset = f.dataset_id, existing_bundle = f.is_bundle
    FROM found f WHERE c.line = f.line
)
SELECT count(*) FILTER (WHERE state = 'c') FROM found
"""
# Ids and aliases share one namespace: each may appear once in a file. This remembers the
# chunk's keys and returns every occurrence of a key that an earlier chunk used (with the line
# that used it) or that the chunk uses twice. Earlier uses are found by one index scan for the
# whole chunk and only new keys are inserted: a third cheaper than ON CONFLICT DO NOTHING.
REPEATS = """
WITH keys AS MATERIALIZED (
    SELECT line, id AS key, false AS is_alias FROM ingest_chunk
    UNION ALL
    SELECT c.line, k.key, true FROM ingest_chunk c CROSS JOIN unnest(c.aliases) AS k(key)
    WHERE c.aliases <> '{}'
), earlier AS MATERIALIZED (
    SELECT key, line FROM ingest_keys WHERE key = ANY(ARRAY(SELECT key FROM keys))
), counted AS MATERIALIZED (
    SELECT key, min(line) AS first, count(*) AS uses FROM keys GROUP BY key
), remembered AS (
    INSERT INTO ingest_keys (key, line)
    SELECT key, first FROM counted c WHERE NOT EXISTS (SELECT FROM earlier e WHERE e.key = c.key)
), repeated AS (
    SELECT key FROM counted WHERE uses > 1 UNION SELECT key FROM earlier
)
SELECT k.key, k.line, k.is_alias, e.line
FROM repeated r JOIN keys k ON k.key = r.key LEFT JOIN earlier e ON e.key = r.key
ORDER BY k.key, k.line, k.is_alias
"""
# Keys the catalog already has. A key that an earlier chunk of this file wrote is a repeat,
# reported by REPEATS, so conflicts of lines REPEATS refused are not reported again. Ids are
# looked up as aliases by one index scan for the whole chunk (a lateral lookup per file costs
# twice the Postgres time when, as usually, no id is an alias).
CONFLICTS = """
SELECT c.line, CASE WHEN c.existing_bundle THEN 'bundle' ELSE 'other_dataset' END, c.id,
       d.accession
FROM ingest_chunk c JOIN datasets d ON d.id = c.existing_dataset
WHERE c.existing_bundle OR c.existing_dataset <> c.dataset_id
UNION ALL
SELECT c.line, 'id_is_alias', c.id, a.object_id
FROM drs_aliases a JOIN ingest_chunk c ON c.id = a.alias
WHERE a.alias = ANY(ARRAY(SELECT id FROM ingest_chunk))
UNION ALL
SELECT c.line, CASE WHEN x.id IS NULL THEN 'alias_of_other' ELSE 'alias_is_id' END, k.alias,
       a.object_id
FROM ingest_chunk c CROSS JOIN unnest(c.aliases) AS k(alias)
LEFT JOIN LATERAL (SELECT id FROM drs_objects WHERE id = k.alias LIMIT 1) x ON true
LEFT JOIN LATERAL (
    SELECT object_id FROM drs_aliases WHERE alias = k.alias AND object_id <> c.id LIMIT 1
) a ON true
WHERE c.aliases <> '{}' AND (x.id IS NOT NULL OR a.object_id IS NOT NULL)
"""
DROP_LINES = "DELETE FROM ingest_chunk WHERE line = ANY(%(lines)s)"
RETIRED = "SELECT line, id FROM ingest_chunk WHERE state <> 'e' AND dataset_id = ANY(%(ids)s)"
UPDATE_CHANGED = """
UPDATE drs_objects x
SET name = c.name, size = c.size, mime_type = c.mime_type, version = c.version,
    description = c.description, created_time = coalesce(c.created_time, x.created_time),
    checksums = c.checksums, access_methods = c.methods, updated_time = now()
FROM ingest_chunk c
WHERE x.id = ANY(ARRAY(SELECT id FROM ingest_chunk WHERE state = 'c'))
  AND c.state = 'c' AND c.id = x.id
"""
CLEAR_CHANGED = (
    "DELETE FROM drs_aliases"
    " WHERE object_id = ANY(ARRAY(SELECT id FROM ingest_chunk WHERE state = 'c'))"
)
INSERT_NEW = """
INSERT INTO drs_objects (id, dataset_id, name, size, mime_type, version, description,
                         created_time, checksums, access_methods)
SELECT id, dataset_id, name, size, mime_type, version, description, coalesce(created_time, now()),
       checksums, methods
FROM ingest_chunk WHERE state = 'n'
"""
INSERT_ALIASES = """
INSERT INTO drs_aliases (alias, object_id)
SELECT k.alias, c.id FROM ingest_chunk c CROSS JOIN unnest(c.aliases) AS k(alias)
WHERE c.state <> 'e' AND c.aliases <> '{}'
"""
COUNT_BY_DATASET = """
SELECT dataset_id,
       count(*) FILTER (WHERE state = 'n'),
       count(*) FILTER (WHERE state = 'c'),
       count(*) FILTER (WHERE state = 'e'),
       coalesce(sum(size) FILTER (WHERE state <> 'e'), 0)::bigint
FROM ingest_chunk GROUP BY dataset_id
"""


@dataclass
class Changes:
    """New and changed objects of one dataset, for its ``files.registered`` event."""

    new_files: int = 0
    changed_files: int = 0
    new_bundles: int = 0
    changed_bundles: int = 0
    bytes: int = 0

    @property
    def touched(self) -> bool:
        return any((self.new_files, self.changed_files, self.new_bundles, self.changed_bundles))


@dataclass(slots=True)
class _Staged:
    """A file's staging row and what its dataset is to be resolved from; one is made per file
    on the parsing thread, where a frozen dataclass would cost a microsecond more each."""

    line: int
    accession: str
    row: str


class FileLoader:
    """Stages files by chunks. Each chunk, with the datasets read since the previous one, goes
    to the ingest's writer, which checks and merges it while the next chunk is parsed."""

    def __init__(
        self,
        session: Session,
        *,
        writer: Writer,
        datasets: DatasetLoader,
        problems: Problems,
        report: IngestReport,
        changes: defaultdict[uuid.UUID, Changes],
    ) -> None:
        self.session = session
        self.writer = writer
        self.datasets = datasets
        self.problems = problems
        self.report = report
        self.changes = changes
        self._chunk: list[_Staged] = []
        self._adoptable = False
        self._cursor = writer.cursor
        self._cursor.execute(CREATE_STAGING)

    def close(self) -> None:
        """Drop the staging tables (a rollback drops them too, as they were made in it)."""
        self.writer.wait()
        self._cursor.execute(DROP_STAGING)

    def add(self, line: int, record: FileRecord) -> None:
        self._chunk.append(_Staged(line, record.dataset, _copy_row(line, record)))
        if record.id is None and record.aliases:
            self._adoptable = True
        if len(self._chunk) >= CHUNK:
            self.flush()

    def flush(self) -> None:
        """Hand the chunk to the writer, after the datasets read before it: files may only
        refer to datasets of earlier lines."""
        chunk, self._chunk = self._chunk, []
        adoptable, self._adoptable = self._adoptable, False
        datasets = self.datasets.take()
        if chunk or datasets:
            self.writer.submit(lambda: self._write(datasets, chunk, adoptable=adoptable))

    def remember(self, keys: Sequence[tuple[str, int]]) -> list[tuple[int, str, int]]:
        """Add bundle ids to the keys of this ingest; returns (line, key, earlier line) of the
        ones already used."""
        self.writer.wait()
        params = {"keys": [k for k, _ in keys], "lines": [n for _, n in keys]}
        self._cursor.execute(
            "SELECT k.line, k.key, i.line FROM unnest(%(keys)s::text[], %(lines)s::integer[])"
            " AS k(key, line) JOIN ingest_keys i ON i.key = k.key",
            params,
        )
        repeats: list[tuple[int, str, int]] = self._cursor.fetchall()
        self._cursor.execute(
            "INSERT INTO ingest_keys (key, line) SELECT * FROM unnest(%(keys)s::text[],"
            " %(lines)s::integer[]) ON CONFLICT (key) DO NOTHING",
            params,
        )
        return repeats

    def _write(
        self, datasets: list[PreparedDataset], chunk: list[_Staged], *, adoptable: bool
    ) -> None:
        """On the writer thread."""
        self.datasets.write(datasets)
        if not chunk:
            return
        refs = self.datasets.resolve({s.accession for s in chunk})
        self.session.flush()
        rows = self._rows(chunk, refs)
        cursor = self._cursor
        cursor.execute("TRUNCATE ingest_chunk")
        # One read of the whole chunk: each read would take the GIL from the parsing thread.
        cursor.copy_expert(COPY_CHUNK, io.BytesIO(rows), size=len(rows))
        refused = self._adopt() if adoptable else []
        cursor.execute(MARK_EXISTING)
        changed = cursor.fetchall()[0][0]
        refused += self._check()
        if refused:
            cursor.execute(DROP_LINES, {"lines": refused})
        self._merge(changed, [ref.id for ref in refs.values() if ref.retired])

    def _rows(self, chunk: list[_Staged], refs: dict[str, DatasetRef]) -> bytes:
        """The chunk's COPY text. This runs on the writer thread while Postgres waits for it,
        so each dataset id is formatted once, not once per file (``UUID.__str__`` is slow)."""
        prefixes = {accession: f"{ref.id}\t" for accession, ref in refs.items()}
        rows: list[str] = []
        for staged in chunk:
            prefix = prefixes.get(staged.accession)
            if prefix is not None:
                rows += (prefix, staged.row)
            elif staged.accession not in self.datasets.failed:
                self.problems.add(staged.line, unknown_dataset(staged.accession))
        return "".join(rows).encode()

    def _adopt(self) -> list[int]:
        cursor = self._cursor
        cursor.execute(ALIAS_OWNERS)
        lines, ids, refused = [], [], []
        for line, owners in cursor.fetchall():
            if len(owners) == 1:
                lines.append(line)
                ids.append(owners[0])
            else:
                refused.append(line)
                self.problems.add(
                    line, f"aliases: name different DRS objects ({', '.join(map(repr, owners))})"
                )
        if lines:
            cursor.execute(ADOPT, {"lines": lines, "ids": ids})
        return refused

    def _check(self) -> list[int]:
        cursor = self._cursor
        refused = []
        cursor.execute(REPEATS)
        for key, uses in groupby(cursor.fetchall(), key=lambda row: row[0]):
            occurrences = list(uses)
            earlier = occurrences[0][3]
            if earlier is None:
                earlier, occurrences = occurrences[0][1], occurrences[1:]
            for _, line, is_alias, _ in occurrences:
                field = "aliases" if is_alias else "id"
                where = "earlier in this record" if earlier == line else f"on line {earlier}"
                self.problems.add(line, f"{field}: {key!r} is already used {where}")
                refused.append(line)
        repeated = set(refused)
        cursor.execute(CONFLICTS)
        for line, kind, key, other in cursor.fetchall():
            if line not in repeated:
                self.problems.add(line, _CONFLICT_MESSAGES[kind](key, other))
                refused.append(line)
        return refused

    def _merge(self, changed: int, retired: list[uuid.UUID]) -> None:
        """``changed`` counts the changed files staged before refused lines were dropped: a
        few more than will be written, at most."""
        cursor = self._cursor
        if retired:
            cursor.execute(RETIRED, {"ids": retired})
            lines = []
            for line, object_id in cursor.fetchall():
                self.problems.add(line, f"id: {object_id!r} cannot be added to a retired dataset")
                lines.append(line)
            if lines:
                cursor.execute(DROP_LINES, {"lines": lines})
        if changed:
            # Statistics let the planner see how many rows changed: a few, or a whole chunk.
            cursor.execute("ANALYZE ingest_chunk")
            cursor.execute(UPDATE_CHANGED)
            cursor.execute(CLEAR_CHANGED)
        cursor.execute(INSERT_NEW)
        cursor.execute(INSERT_ALIASES)
        cursor.execute(COUNT_BY_DATASET)
        for dataset_id, new, updated, unchanged, size in cursor.fetchall():
            counted = self.changes[dataset_id]
            counted.new_files += new
            counted.changed_files += updated
            counted.bytes += size
            self.report.files_new += new
            self.report.files_changed += updated
            self.report.files_unchanged += unchanged


_CONFLICT_MESSAGES: dict[str, Callable[[str, str | None], str]] = {
    "other_dataset": lambda key, other: f"id: {key!r} already belongs to dataset {other}",
    "bundle": lambda key, _: f"id: {key!r} is a bundle, not a file",
    "id_is_alias": lambda key, other: f"id: {key!r} is already an alias of DRS object {other!r}",
    "alias_is_id": lambda key, _: f"aliases: {key!r} is already a DRS id",
    "alias_of_other": lambda key, other: (
        f"aliases: {key!r} is already an alias of DRS object {other!r}"
    ),
}


def unknown_dataset(accession: str) -> str:
    return f"dataset: no dataset {accession} in the catalog or on an earlier line"


def _copy_row(line: int, record: FileRecord) -> str:
    """The staging row of a file, but for its leading dataset id, in COPY text format. It runs
    once per file, on the parsing thread. Checksum types and digests are validated names and
    hex digits, so they need no JSON escaping."""
    created = record.created_time
    fields = (
        str(line),
        record.id or str(uuid.uuid4()),
        "f" if record.id else "t",
        text_value(record.name),
        str(record.size),
        text_value(record.mime_type),
        text_value(record.version),
        text_value(record.description),
        created.isoformat() if created else "\\N",
        "{" + ", ".join([f'"{c.type}": "{c.checksum}"' for c in record.checksums]) + "}",
        array_rows_value(record.access_method_rows()),
        array_value(sorted(record.aliases)),
    )
    return "\t".join(fields) + "\n"
