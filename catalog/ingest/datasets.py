"""The datasets of an ingest. Records are checked against the catalog's organizations,
committees and ontology terms, every problem with its line, then written: new datasets in bulk,
a few statements per batch; existing datasets that changed through the catalog services, which
own the rules of updates and publication (such changes are rare).

A record is the whole truth about its dataset: fields it leaves out take their defaults.
``published`` publishes the dataset, or publishes a new version when its metadata changed;
``draft`` leaves publication alone, as an ingest never unpublishes. An ingest cannot move a
dataset to another steward, and retired datasets are frozen.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from catalog import repository, service
from catalog.errors import AtriumError
from catalog.ingest.bulk import insert_rows
from catalog.ingest.events import AuditTrail
from catalog.ingest.problems import Problems
from catalog.ingest.records import DatasetRecord
from catalog.ingest.report import IngestReport
from catalog.ingest.writer import Writer
from catalog.models import (
    AccessLevel,
    Committee,
    Dataset,
    DatasetDataUse,
    DatasetFunder,
    DatasetStatus,
    DatasetTerm,
    DatasetVersion,
    OntologyTerm,
    Organization,
    OrganizationKind,
    Publication,
    TermRole,
)
from catalog.principals import SYSTEM
from catalog.schemas import PERMISSION_CODES, DatasetUpdate, DataUseInput

BATCH = 1000
UPDATABLE = tuple(DatasetUpdate.model_fields)
"""The snapshot keys an ingest may change on an existing dataset."""

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


@dataclass
class _Catalog:
    """The organizations, committees and terms that records refer to."""

    organizations: dict[str, Organization]
    committees: dict[str, Committee]
    duo: dict[str, OntologyTerm]
    terms: dict[str, OntologyTerm | None] = field(default_factory=dict)


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
        self._pending: list[tuple[int, DatasetRecord]] = []
        self._catalog: _Catalog | None = None

    def add(self, line: int, record: DatasetRecord) -> None:
        first = self._declared_on.setdefault(record.accession, line)
        if first != line:
            self.problems.add(line, f"accession: {record.accession} is also on line {first}")
            return
        self._pending.append((line, record))
        if len(self._pending) >= BATCH:
            batch = self.take()
            self.writer.submit(lambda: self.write(batch))

    def refuse(self, accession: str) -> None:
        self.failed.add(accession)

    def take(self) -> list[tuple[int, DatasetRecord]]:
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

    def write(self, batch: Sequence[tuple[int, DatasetRecord]]) -> None:
        """Check and write a batch of records (writer thread)."""
        if not batch:
            return
        catalog = self._catalog_for(record for _, record in batch)
        existing = repository.datasets_by_accessions(self.session, [r.accession for _, r in batch])
        new: list[tuple[int, DatasetRecord]] = []
        known: list[tuple[int, DatasetRecord]] = []
        for line, record in batch:
            found = _problems(record, catalog)
            for message in found:
                self.problems.add(line, message)
            if found:
                self.failed.add(record.accession)
            else:
                (known if record.accession in existing else new).append((line, record))
        self._create(new, catalog)
        self._update(known, existing)
        self.audit.flush()

    def _catalog_for(self, records: Iterable[DatasetRecord]) -> _Catalog:
        if self._catalog is None:
            self._catalog = _Catalog(
                organizations={o.slug: o for o in repository.organizations(self.session)},
                committees={c.slug: c for c in repository.committees(self.session)},
                duo=repository.terms_by_code(self.session, "DUO"),
            )
        catalog = self._catalog
        wanted = {curie for record in records for curie in _curies(record)}
        unknown = [c for c in wanted if c not in catalog.terms]
        if unknown:
            found = repository.terms_by_curies(self.session, unknown)
            catalog.terms.update({c: found.get(c) for c in unknown})
        return catalog

    def _create(self, new: Sequence[tuple[int, DatasetRecord]], catalog: _Catalog) -> None:
        if not new:
            return
        now = self.session.scalar(select(func.now()))
        rows: list[dict[str, Any]] = []
        terms: list[dict[str, Any]] = []
        uses: list[dict[str, Any]] = []
        funders: list[dict[str, Any]] = []
        publications: list[dict[str, Any]] = []
        published: list[uuid.UUID] = []
        for _, record in new:
            dataset_id = uuid.uuid4()
            is_published = record.status == "published"
            rows.append(
                {
                    "id": dataset_id,
                    "accession": record.accession,
                    "title": record.title,
                    "description": record.description,
                    "keywords": record.keywords,
                    "data_types": record.data_types,
                    "file_formats": record.file_formats,
                    "species": record.species,
                    "participant_count": record.participant_count,
                    "sample_count": record.sample_count,
                    "access_level": record.access_level,
                    "steward_id": catalog.organizations[record.steward].id,
                    "committee_id": (
                        catalog.committees[record.committee].id if record.committee else None
                    ),
                    "license": record.license,
                    "status": DatasetStatus.PUBLISHED if is_published else DatasetStatus.DRAFT,
                    "version": 1 if is_published else 0,
                    "published_at": now if is_published else None,
                }
            )
            terms += [
                {"dataset_id": dataset_id, "role": role, "curie": curie}
                for role, curies in (
                    (TermRole.DISEASE, record.diseases),
                    (TermRole.PHENOTYPE, record.phenotypes),
                )
                for curie in dict.fromkeys(curies)
            ]
            uses += [
                {"dataset_id": dataset_id, "duo_id": catalog.duo[code].curie, "qualifier": q}
                for code, q in _data_use_pairs(record.data_use)
            ]
            funders += [
                {
                    "dataset_id": dataset_id,
                    "funder_id": catalog.organizations[slug].id,
                    "award_number": award,
                }
                for slug, award in dict.fromkeys((f.funder, f.award_number) for f in record.funders)
            ]
            publications += [
                {"dataset_id": dataset_id, "scheme": scheme, "identifier": identifier}
                for scheme, identifier in dict.fromkeys(
                    (p.scheme, p.identifier) for p in record.publications
                )
            ]
            if is_published:
                published.append(dataset_id)
            self.refs[record.accession] = DatasetRef(dataset_id, record.accession, retired=False)
            self.created.add(dataset_id)
            self.audit.add(
                "dataset.created",
                object_type="dataset",
                object_id=record.accession,
                title=record.title,
            )
        insert_rows(self.session, Dataset, rows)
        insert_rows(self.session, DatasetTerm, terms)
        insert_rows(self.session, DatasetDataUse, uses)
        insert_rows(self.session, DatasetFunder, funders)
        insert_rows(self.session, Publication, publications)
        self.session.execute(ADVANCE_ACCESSIONS, {"n": max(int(r.accession[7:]) for _, r in new)})
        self._record_first_versions(published)
        self.report.datasets_created += len(new)

    def _record_first_versions(self, dataset_ids: Sequence[uuid.UUID]) -> None:
        """Version 1 of datasets created as published, frozen by the same snapshot function
        that ``service.publish_dataset`` uses."""
        if not dataset_ids:
            return
        datasets = list(repository.datasets_by_ids(self.session, dataset_ids).values())
        snapshots = service.snapshots(self.session, datasets)
        insert_rows(
            self.session,
            DatasetVersion,
            [
                {
                    "dataset_id": d.id,
                    "version": 1,
                    "published_by": SYSTEM.actor,
                    "snapshot": snapshots[d.id],
                }
                for d in datasets
            ],
        )
        for dataset in datasets:
            self.audit.add(
                "dataset.published", object_type="dataset", object_id=dataset.accession, version=1
            )
        self.report.datasets_published += len(datasets)

    def _update(
        self, known: Sequence[tuple[int, DatasetRecord]], existing: dict[str, Dataset]
    ) -> None:
        if not known:
            return
        current = service.snapshots(self.session, [existing[r.accession] for _, r in known])
        for line, record in known:
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
        if record.status == "published" and self._publishable(dataset, changed):
            service.publish_dataset(
                self.session, SYSTEM, accession=record.accession, audit_context=context
            )
            self.report.datasets_published += 1
        elif not changed:
            self.report.datasets_unchanged += 1

    def _publishable(self, dataset: Dataset, changed: list[str]) -> bool:
        """A draft is published; a published dataset gets a new version only if this record
        changed it into metadata that differs from its latest version."""
        if dataset.status is DatasetStatus.DRAFT:
            return True
        if not changed:
            return False
        latest = repository.versions_of_datasets(self.session, [dataset.id])[dataset.id][0]
        return service.snapshot(self.session, dataset) != latest.snapshot


def _ref(dataset: Dataset) -> DatasetRef:
    return DatasetRef(dataset.id, dataset.accession, dataset.status is DatasetStatus.RETIRED)


def _curies(record: DatasetRecord) -> list[str]:
    qualifiers = record.data_use.diseases if record.data_use else []
    return [*record.diseases, *record.phenotypes, *qualifiers]


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
        if term is None or term.ontology != ontology:
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


def _normal(snapshot: dict[str, Any]) -> dict[str, Any]:
    """A snapshot comparable with another: unordered lists sorted, pairs as lists."""
    return {
        **snapshot,
        "diseases": sorted(snapshot["diseases"]),
        "phenotypes": sorted(snapshot["phenotypes"]),
        "funders": [list(pair) for pair in snapshot["funders"]],
    }
