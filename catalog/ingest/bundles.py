"""The bundles of an ingest, written after every file is in, since a bundle's members may be
files from anywhere in the ingest or the catalog, and bundles declared on earlier lines (nested
bundles). As ``service.create_bundle`` defines it, a bundle's size is its members' total and its
checksum hashes their sorted checksums (``service.bundle_checksum``). Bundles are few, so they are
checked and written record by record in memory, with a fixed number of statements.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from sqlalchemy import delete, func, update
from sqlalchemy.orm import Session

from catalog import repository, service
from catalog.errors import Invalid
from catalog.ingest.bulk import insert_rows
from catalog.ingest.datasets import DatasetLoader, DatasetRef
from catalog.ingest.files import Changes, FileLoader, unknown_dataset
from catalog.ingest.problems import Problems
from catalog.ingest.records import BundleRecord
from catalog.ingest.report import IngestReport
from catalog.models import BundleMember, DrsObject

LOOKUP_BATCH = 5000


@dataclass
class _Member:
    """What a bundle needs of a member: its dataset, size and checksums by type."""

    dataset_id: uuid.UUID
    size: int
    sums: dict[str, str]


@dataclass
class _Bundle:
    line: int
    id: str
    dataset: DatasetRef
    record: BundleRecord
    size: int = 0
    sums: dict[str, str] = field(default_factory=dict)


class BundleLoader:
    def __init__(
        self,
        session: Session,
        *,
        datasets: DatasetLoader,
        files: FileLoader,
        problems: Problems,
        report: IngestReport,
        changes: defaultdict[uuid.UUID, Changes],
    ) -> None:
        self.session = session
        self.datasets = datasets
        self.files = files
        self.problems = problems
        self.report = report
        self.changes = changes
        self._pending: list[tuple[int, BundleRecord]] = []

    def add(self, line: int, record: BundleRecord) -> None:
        self._pending.append((line, record))

    def finish(self) -> None:
        if not self._pending:
            return
        self.files.writer.wait()
        bundles, existing = self._existing(self._identified())
        declared = {b.id: b.line for b in bundles}
        members = _members(
            self.session, sorted({m.object_id for b in bundles for m in b.record.members})
        )
        computed: dict[str, _Bundle] = {}
        for bundle in bundles:
            if self._compute(bundle, members, computed, declared):
                computed[bundle.id] = bundle
        self._write(list(computed.values()), existing)

    def _identified(self) -> list[_Bundle]:
        """Bundles with their datasets and ids, minus those whose id is taken."""
        refs = self.datasets.resolve({r.dataset for _, r in self._pending})
        bundles = []
        for line, record in self._pending:
            ref = refs.get(record.dataset)
            if ref is None:
                if record.dataset not in self.datasets.failed:
                    self.problems.add(line, unknown_dataset(record.dataset))
                continue
            if ref.retired:
                self.problems.add(line, f"dataset: {ref.accession} is retired")
                continue
            bundles.append(_Bundle(line, record.id or str(uuid.uuid4()), ref, record))
        repeats = self.files.remember([(b.id, b.line) for b in bundles])
        first: dict[str, int] = {}
        for bundle in bundles:
            first.setdefault(bundle.id, bundle.line)
        taken = {line for line, _, _ in repeats}
        for line, key, earlier in repeats:
            self.problems.add(line, f"id: {key!r} is already used on line {earlier}")
        for bundle in bundles:
            if first[bundle.id] != bundle.line and bundle.line not in taken:
                taken.add(bundle.line)
                self.problems.add(
                    bundle.line, f"id: {bundle.id!r} is already used on line {first[bundle.id]}"
                )
        return [b for b in bundles if b.line not in taken]

    def _existing(self, bundles: list[_Bundle]) -> tuple[list[_Bundle], dict[str, DrsObject]]:
        """The bundles whose ids are free or theirs already, and those already in the catalog
        (this ingest declares them again)."""
        ids = [b.id for b in bundles]
        objects = _objects(self.session, ids)
        aliases = repository.existing_object_ids(self.session, ids) - objects.keys()
        owners = repository.datasets_by_ids(self.session, {o.dataset_id for o in objects.values()})
        kept, existing = [], {}
        for bundle in bundles:
            found = objects.get(bundle.id)
            if bundle.id in aliases:
                self.problems.add(
                    bundle.line, f"id: {bundle.id!r} is already an alias of a DRS object"
                )
            elif found is not None and found.dataset_id != bundle.dataset.id:
                accession = owners[found.dataset_id].accession
                self.problems.add(
                    bundle.line, f"id: {bundle.id!r} already belongs to dataset {accession}"
                )
            elif found is not None and not found.is_bundle:
                self.problems.add(bundle.line, f"id: {bundle.id!r} is a file, not a bundle")
            else:
                kept.append(bundle)
                if found is not None:
                    existing[bundle.id] = found
        return kept, existing

    def _compute(
        self,
        bundle: _Bundle,
        members: dict[str, _Member],
        computed: dict[str, _Bundle],
        declared: dict[str, int],
    ) -> bool:
        """The bundle's size and checksum from its members; False if a member is wrong."""
        found: list[_Member] = []
        for i, member in enumerate(bundle.record.members):
            where = f"members[{i}].object_id"
            earlier = computed.get(member.object_id)
            if member.object_id == bundle.id:
                self.problems.add(bundle.line, f"{where}: a bundle cannot contain itself")
            elif earlier is not None:
                found.append(_Member(earlier.dataset.id, earlier.size, earlier.sums))
            elif declared.get(member.object_id, 0) > bundle.line:
                self.problems.add(
                    bundle.line,
                    f"{where}: bundle {member.object_id!r} is declared later, on line"
                    f" {declared[member.object_id]}; declare nested bundles first",
                )
            elif (known := members.get(member.object_id)) and known.dataset_id == bundle.dataset.id:
                found.append(known)
            else:
                self.problems.add(
                    bundle.line,
                    f"{where}: {member.object_id!r} is not an object of {bundle.dataset.accession}",
                )
        if len(found) < len(bundle.record.members):
            return False
        try:
            kind, checksum = service.bundle_checksum([m.sums for m in found])
        except Invalid as error:
            self.problems.add(bundle.line, f"members: {error.message}")
            return False
        bundle.size = sum(m.size for m in found)
        bundle.sums = {kind: checksum}
        return True

    def _write(self, bundles: list[_Bundle], existing: dict[str, DrsObject]) -> None:
        current_members = repository.members_of_bundles(self.session, list(existing))
        new = [b for b in bundles if b.id not in existing]
        changed = [
            b
            for b in bundles
            if b.id in existing and _differs(b, existing[b.id], current_members[b.id])
        ]
        if new:
            insert_rows(
                self.session,
                DrsObject,
                [
                    {
                        "id": b.id,
                        "dataset_id": b.dataset.id,
                        "name": b.record.name,
                        "description": b.record.description,
                        "size": b.size,
                        "is_bundle": True,
                        "checksums": b.sums,
                    }
                    for b in new
                ],
            )
        if changed:
            ids = [b.id for b in changed]
            for b in changed:
                self.session.execute(
                    update(DrsObject)
                    .where(DrsObject.id == b.id)
                    .values(
                        name=b.record.name,
                        description=b.record.description,
                        size=b.size,
                        checksums=b.sums,
                        updated_time=func.now(),
                    )
                )
            self.session.execute(delete(BundleMember).where(BundleMember.bundle_id.in_(ids)))
        written = new + changed
        if written:
            insert_rows(
                self.session,
                BundleMember,
                [
                    {"bundle_id": b.id, "name": m.name, "child_id": m.object_id}
                    for b in written
                    for m in b.record.members
                ],
            )
        for bundle in new:
            self.changes[bundle.dataset.id].new_bundles += 1
        for bundle in changed:
            self.changes[bundle.dataset.id].changed_bundles += 1
        self.report.bundles_new += len(new)
        self.report.bundles_changed += len(changed)
        self.report.bundles_unchanged += len(bundles) - len(written)


def _differs(bundle: _Bundle, current: DrsObject, members: list[BundleMember]) -> bool:
    return (current.name, current.description, current.size, current.checksums) != (
        bundle.record.name,
        bundle.record.description,
        bundle.size,
        bundle.sums,
    ) or sorted((m.name, m.child_id) for m in members) != sorted(
        (m.name, m.object_id) for m in bundle.record.members
    )


def _batches(ids: Sequence[str]) -> Iterator[Sequence[str]]:
    for start in range(0, len(ids), LOOKUP_BATCH):
        yield ids[start : start + LOOKUP_BATCH]


def _objects(session: Session, ids: Sequence[str]) -> dict[str, DrsObject]:
    found: dict[str, DrsObject] = {}
    for batch in _batches(ids):
        found.update(repository.objects_by_ids(session, batch))
    return found


def _members(session: Session, ids: Sequence[str]) -> dict[str, _Member]:
    """Members that are in the catalog (files of this ingest included), with their checksums."""
    found: dict[str, _Member] = {}
    for batch in _batches(ids):
        for object_id, obj in repository.objects_by_ids(session, batch).items():
            found[object_id] = _Member(obj.dataset_id, obj.size, obj.checksums)
    return found
