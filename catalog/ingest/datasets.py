"""The datasets of an ingest. On the parsing thread each record is checked against the
catalog's organizations, committees and ontology terms (read once, when the ingest starts), every
problem with its line, and its rows are prepared. On the writer thread new datasets are COPYed
in bulk, and existing datasets that changed go through the catalog services, which own the rules
of updates and publication (such changes are rare).

A record is the whole truth about its dataset: fields it leaves out take their defaults.
``published`` publishes a new dataset or a draft; a published dataset whose metadata a record
changes gets a new version, whatever the record's status, as an ingest never unpublishes. An
ingest cannot move a dataset to another steward, and retired datasets are frozen.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from catalog import repository, service
from catalog.errors import AtriumError
from catalog.ingest.bulk import copy_line, copy_rows
from catalog.ingest.events import AuditTrail
from catalog.ingest.problems import Problems
from catalog.ingest.records import DatasetRecord
from catalog.ingest.report import IngestReport
from catalog.ingest.writer import Writer
from catalog.models import (
    AccessLevel,
    Committee,
    Dataset,
    DatasetStatus,
    Organization,
    OrganizationKind,
    TermRole,
)
from catalog.principals import SYSTEM
from catalog.schemas import PERMISSION_CODES, DatasetUpdate, DataUseInput

BATCH = 1000
UPDATABLE = tuple(DatasetUpdate.model_fields)
"""The snapshot keys an ingest may change on an existing dataset."""

COLUMNS = {
    "datasets": (
        "id",
        "accession",
        "title",
        "description",
        "keywords",
        "data_types",
        "file_formats",
        "species",
        "participant_count",
        "sample_count",
        "access_level",
        "steward_id",
        "committee_id",
        "license",
        "status",
        "version",
        "published_at",
    ),
    "dataset_terms": ("dataset_id", "role", "curie"),
    "dataset_data_use": ("dataset_id", "duo_id", "qualifier"),
    "dataset_funders": ("dataset_id", "funder_id", "award_number"),
    "publications": ("dataset_id", "scheme", "identifier"),
    "dataset_versions": ("dataset_id", "version", "published_by", "snapshot"),
}
"""The columns of the rows ``_prepare`` makes, by table, in an order the foreign keys allow."""
ADVANCE_ACCESSIONS = text(
    "SELECT setval('dataset_accession_seq', :n) WHERE :n > (SELECT CASE WHEN is_called"
    " THEN last_value ELSE last_value - 1 END FROM dataset_accession_seq)"
)


@dataclass(frozen=True)
class DatasetRef:
    """What the files and bundles of an ingest need to know of their dataset."""

    id: uuid.UUID
    accession: str
    retired: bool


@dataclass(frozen=True)
class _Catalog:
    """What records refer to, read once: organizations and committees by slug, terms by CURIE
    (ontology, code), DUO terms by code, and the transaction's timestamp."""

    organizations: dict[str, Organization]
    committees: dict[str, Committee]
    terms: dict[str, tuple[str, str | None]]
    duo: dict[str, str]
    now: datetime

    @classmethod
    def read(cls, session: Session) -> _Catalog:
        terms = repository.ontology_index(session)
        return cls(
            organizations={o.slug: o for o in repository.organizations(session)},
            committees={c.slug: c for c in repository.committees(session)},
            terms=terms,
            duo={code: curie for curie, (onto, code) in terms.items() if onto == "DUO" and code},
            now=session.scalars(select(func.now())).one(),
        )


@dataclass(frozen=True)
class PreparedDataset:
    """A checked record, its new id, and its rows in COPY text by table."""

    line: int
    record: DatasetRecord
    id: uuid.UUID
    rows: dict[str, list[str]]


class DatasetLoader:
    def __init__(
        self,
        session: Session,
        *,
        writer: Writer,
        problems: Problems,
        report: IngestReport,
        audit: AuditTrail,
    ) -> None:
        self.session = session
        self.writer = writer
        self.problems = problems
        self.report = report
        self.audit = audit
        self.refs: dict[str, DatasetRef] = {}
        self.failed: set[str] = set()
        """Accessions declared on refused lines: their files are not reported again."""
        self.created: set[uuid.UUID] = set()
        self._declared_on: dict[str, int] = {}
        self._pending: list[PreparedDataset] = []
        self._published: list[str] = []
        """Accessions of the datasets created as published, for their ``dataset.published``
        events."""
        self._catalog = _Catalog.read(session)

    def add(self, line: int, record: DatasetRecord) -> None:
        """Check and prepare a record (parsing thread)."""
        first = self._declared_on.setdefault(record.accession, line)
        if first != line:
            self.problems.add(line, f"accession: {record.accession} is also on line {first}")
            return
        found = _problems(record, self._catalog)
        for message in found:
            self.problems.add(line, message)
        if found:
            self.failed.add(record.accession)
            return
        self._pending.append(_prepare(line, record, self._catalog))
        if len(self._pending) >= BATCH:
            batch = self.take()
            self.writer.submit(lambda: self.write(batch))

    def refuse(self, accession: str) -> None:
        self.failed.add(accession)

    def take(self) -> list[PreparedDataset]:
        """The records added since the last take, for the writer to write in file order."""
        batch, self._pending = self._pending, []
        return batch

    def resolve(self, accessions: Iterable[str]) -> dict[str, DatasetRef]:
        """Datasets by accession, from this ingest or from the catalog (writer thread)."""
        missing = [a for a in accessions if a not in self.refs]
        if missing:
            for dataset in repository.datasets_by_accessions(self.session, missing).values():
                self.refs[dataset.accession] = _ref(dataset)
        return {a: self.refs[a] for a in accessions if a in self.refs}

    def write(self, batch: Sequence[PreparedDataset]) -> None:
        """Write a batch of prepared records (writer thread)."""
        if not batch:
            return
        existing = repository.datasets_by_accessions(
            self.session, [p.record.accession for p in batch]
        )
        self._create([p for p in batch if p.record.accession not in existing])
        self._update([p for p in batch if p.record.accession in existing], existing)
        self.audit.flush()

    def _create(self, new: Sequence[PreparedDataset]) -> None:
        if not new:
            return
        for table, columns in COLUMNS.items():
            copy_rows(self.session, table, columns, [row for p in new for row in p.rows[table]])
        self.session.execute(
            ADVANCE_ACCESSIONS, {"n": max(int(p.record.accession[7:]) for p in new)}
        )
        for prepared in new:
            accession = prepared.record.accession
            self.refs[accession] = DatasetRef(prepared.id, accession, retired=False)
            self.created.add(prepared.id)
            self.audit.add(
                "dataset.created",
                object_type="dataset",
                object_id=accession,
                title=prepared.record.title,
            )
        self._published += [p.record.accession for p in new if p.record.status == "published"]
        self.report.datasets_created += len(new)

    def finish(self) -> None:
        """Record the publication of the datasets created as published. Their version 1 was
        written with them; the events come once parsing is done, after every creation, as
        they always have."""
        for accession in self._published:
            self.audit.add(
                "dataset.published", object_type="dataset", object_id=accession, version=1
            )
        self.audit.flush()
        self.report.datasets_published += len(self._published)
        self._published = []

    def _update(self, known: Sequence[PreparedDataset], existing: dict[str, Dataset]) -> None:
        if not known:
            return
        current = service.snapshots(self.session, [existing[p.record.accession] for p in known])
        for line, record in ((p.line, p.record) for p in known):
            dataset = existing[record.accession]
            self.refs[record.accession] = _ref(dataset)
            before = _normal(current[dataset.id])
            wanted = _normal(_snapshot_of(record))
            changed = [name for name in UPDATABLE if wanted[name] != before[name]]
            if wanted["steward"] != before["steward"]:
                self.failed.add(record.accession)
                self.problems.add(
                    line,
                    f"steward: {record.accession} is stewarded by {before['steward']!r};"
                    " an ingest cannot move it",
                )
            elif dataset.status is DatasetStatus.RETIRED:
                if changed:
                    self.problems.add(line, f"{record.accession} is retired; it cannot change")
                else:
                    self.report.datasets_unchanged += 1
            else:
                try:
                    self._apply(record, dataset, changed)
                except AtriumError as error:
                    path = f"{error.field}: " if error.field else ""
                    self.problems.add(line, path + error.message)

    def _apply(self, record: DatasetRecord, dataset: Dataset, changed: list[str]) -> None:
        context = self.audit.context
        if changed:
            update = DatasetUpdate.model_validate(record.model_dump(include=set(changed)))
            service.update_dataset(
                self.session,
                SYSTEM,
                accession=record.accession,
                data=update,
                audit_context=context,
            )
            self.report.datasets_updated += 1
        if self._publishable(record, dataset, changed):
            service.publish_dataset(
                self.session, SYSTEM, accession=record.accession, audit_context=context
            )
            self.report.datasets_published += 1
        elif not changed:
            self.report.datasets_unchanged += 1

    def _publishable(self, record: DatasetRecord, dataset: Dataset, changed: list[str]) -> bool:
        """A draft is published when its record says so. A published dataset gets a new version
        when the record changed its metadata away from its latest version, whatever the record's
        status, since an ingest never unpublishes."""
        if dataset.status is DatasetStatus.DRAFT:
            return record.status == "published"
        if not changed:
            return False
        latest = repository.versions_of_datasets(self.session, [dataset.id])[dataset.id][0]
        return service.snapshot(self.session, dataset) != latest.snapshot


def _prepare(line: int, record: DatasetRecord, catalog: _Catalog) -> PreparedDataset:
    dataset_id = uuid.uuid4()
    published = record.status == "published"
    dataset = copy_line(
        [
            dataset_id,
            record.accession,
            record.title,
            record.description,
            record.keywords,
            record.data_types,
            record.file_formats,
            record.species,
            record.participant_count,
            record.sample_count,
            record.access_level,
            catalog.organizations[record.steward].id,
            catalog.committees[record.committee].id if record.committee else None,
            record.license,
            DatasetStatus.PUBLISHED if published else DatasetStatus.DRAFT,
            1 if published else 0,
            catalog.now if published else None,
        ]
    )
    terms = [
        copy_line([dataset_id, role, curie])
        for role, curies in (
            (TermRole.DISEASE, record.diseases),
            (TermRole.PHENOTYPE, record.phenotypes),
        )
        for curie in dict.fromkeys(curies)
    ]
    uses = [
        copy_line([dataset_id, catalog.duo[code], qualifier])
        for code, qualifier in _data_use_pairs(record.data_use)
    ]
    funders = [
        copy_line([dataset_id, catalog.organizations[slug].id, award])
        for slug, award in dict.fromkeys((f.funder, f.award_number) for f in record.funders)
    ]
    publications = [
        copy_line([dataset_id, scheme, identifier])
        for scheme, identifier in dict.fromkeys(
            (p.scheme, p.identifier) for p in record.publications
        )
    ]
    versions = (
        [copy_line([dataset_id, 1, SYSTEM.actor, _first_snapshot(record)])] if published else []
    )
    rows = {
        "datasets": [dataset],
        "dataset_terms": terms,
        "dataset_data_use": uses,
        "dataset_funders": funders,
        "publications": publications,
        "dataset_versions": versions,
    }
    return PreparedDataset(line, record, dataset_id, rows)


def _ref(dataset: Dataset) -> DatasetRef:
    return DatasetRef(dataset.id, dataset.accession, dataset.status is DatasetStatus.RETIRED)


def _problems(record: DatasetRecord, catalog: _Catalog) -> list[str]:
    """Everything the services would refuse about a new record, all of it at once."""
    found = []
    steward = catalog.organizations.get(record.steward)
    if steward is None:
        found.append(f"steward: no organization {record.steward!r}")
    elif steward.kind is OrganizationKind.FUNDER:
        found.append(f"steward: {record.steward!r} is a funder, not a data steward")
    if record.committee is not None and record.committee not in catalog.committees:
        found.append(f"committee: no committee {record.committee!r}")
    if (
        record.status == "published"
        and record.access_level is AccessLevel.CONTROLLED
        and record.committee is None
    ):
        found.append("committee: controlled datasets need a governing committee")
    for i, funder in enumerate(record.funders):
        org = catalog.organizations.get(funder.funder)
        if org is None or org.kind is not OrganizationKind.FUNDER:
            found.append(f"funders[{i}].funder: {funder.funder!r} is not a funder organization")
    found += _term_problems(catalog, record.diseases, "diseases", "MONDO")
    found += _term_problems(catalog, record.phenotypes, "phenotypes", "HP")
    if record.data_use is not None:
        use = record.data_use
        if use.permission not in catalog.duo:
            found.append(f"data_use.permission: DUO {use.permission} is not in the catalog")
        found += _term_problems(catalog, use.diseases, "data_use.diseases", "MONDO")
        for i, code in enumerate(use.modifiers):
            if code not in catalog.duo or code in PERMISSION_CODES:
                found.append(f"data_use.modifiers[{i}]: {code} is not a DUO data use modifier")
    return found


def _term_problems(
    catalog: _Catalog, curies: Sequence[str], field: str, ontology: str
) -> list[str]:
    found = []
    for i, curie in enumerate(curies):
        term = catalog.terms.get(curie)
        if term is None or term[0] != ontology:
            found.append(f"{field}[{i}]: {curie} is not a known {ontology} term")
    return found


def _data_use_pairs(use: DataUseInput | None) -> list[tuple[str, str | None]]:
    """(DUO code, qualifier) rows of a consent, as ``service`` stores them."""
    if use is None:
        return []
    pairs: list[tuple[str, str | None]] = [
        (use.permission, disease) for disease in dict.fromkeys(use.diseases)
    ] or [(use.permission, None)]
    return pairs + [(code, None) for code in dict.fromkeys(use.modifiers)]


def _snapshot_of(record: DatasetRecord) -> dict[str, Any]:
    """The ``service.snapshot`` a dataset would have once written from ``record``."""
    return {
        "accession": record.accession,
        "title": record.title,
        "description": record.description,
        "keywords": list(record.keywords),
        "diseases": list(dict.fromkeys(record.diseases)),
        "phenotypes": list(dict.fromkeys(record.phenotypes)),
        "data_types": list(record.data_types),
        "file_formats": list(record.file_formats),
        "species": list(record.species),
        "participant_count": record.participant_count,
        "sample_count": record.sample_count,
        "data_use": sorted([code, q] for code, q in _data_use_pairs(record.data_use)),
        "access_level": record.access_level.value,
        "steward": record.steward,
        "committee": record.committee,
        "funders": sorted({(f.funder, f.award_number or "") for f in record.funders}),
        "license": record.license,
        "publications": sorted({f"{p.scheme}:{p.identifier}" for p in record.publications}),
    }


def _first_snapshot(record: DatasetRecord) -> dict[str, Any]:
    """The version 1 snapshot of a dataset created from ``record``: what ``service.snapshot``
    reads back once its rows are written (terms in CURIE order, funder pairs as lists), made
    from the record instead, as publishing thousands of datasets would otherwise read them all
    back."""
    return _normal(_snapshot_of(record))


def _normal(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot comparable with another: unordered lists sorted, pairs as lists."""
    return {
        **snapshot,
        "diseases": sorted(snapshot["diseases"]),
        "phenotypes": sorted(snapshot["phenotypes"]),
        "funders": [list(pair) for pair in snapshot["funders"]],
    }
