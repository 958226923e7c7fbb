"""The index document: what discovery knows about a dataset, built from Postgres in batches.

Both backends index the same document; ``version`` is the dataset's ``row_version`` read in the
same snapshot as the rest, so whichever copy reaches an index last, the newer one wins."""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, aliased

from catalog.models import (
    Dataset,
    DatasetDataUse,
    DatasetFunder,
    DatasetTerm,
    OntologyTerm,
    Organization,
    TermRole,
)
from search.facets import Facet


@dataclass(frozen=True)
class DatasetDocument:
    id: uuid.UUID
    version: int
    accession: str
    status: str
    access_level: str
    steward_id: uuid.UUID
    steward: str
    steward_name: str
    title: str
    description: str
    keywords: tuple[str, ...]
    diseases: tuple[str, ...]
    disease_names: tuple[str, ...]
    data_types: tuple[str, ...]
    file_formats: tuple[str, ...]
    species: tuple[str, ...]
    data_use: tuple[str, ...]
    funders: tuple[str, ...]
    funder_names: tuple[str, ...]
    participant_count: int | None
    updated_at: datetime

    def facet_values(self) -> dict[Facet, tuple[str, ...]]:
        """The values this dataset counts under, for every terms facet."""
        return {
            Facet.DISEASE: self.diseases,
            Facet.DATA_TYPE: self.data_types,
            Facet.FILE_FORMAT: self.file_formats,
            Facet.ACCESS_LEVEL: (self.access_level,),
            Facet.DATA_USE: self.data_use,
            Facet.STEWARD: (self.steward,),
            Facet.FUNDER: self.funders,
            Facet.SPECIES: self.species,
        }

    def body(self) -> dict[str, Any]:
        """The JSON form both backends store (and ``atrium search check`` compares)."""
        return {
            "id": str(self.id),
            "accession": self.accession,
            "status": self.status,
            "access_level": self.access_level,
            "steward_id": str(self.steward_id),
            "steward": self.steward,
            "steward_name": self.steward_name,
            "title": self.title,
            "description": self.description,
            "keywords": list(self.keywords),
            "diseases": list(self.diseases),
            "disease_names": list(self.disease_names),
            "data_types": list(self.data_types),
            "file_formats": list(self.file_formats),
            "species": list(self.species),
            "data_use": list(self.data_use),
            "funders": list(self.funders),
            "funder_names": list(self.funder_names),
            "participant_count": self.participant_count,
            "updated_at": self.updated_at.isoformat(),
        }


def build_documents(session: Session, dataset_ids: Iterable[uuid.UUID]) -> list[DatasetDocument]:
    """Documents of the given datasets that exist, in four statements whatever their number."""
    ids = list(dict.fromkeys(dataset_ids))
    if not ids:
        return []
    steward = aliased(Organization)
    rows = session.execute(
        select(Dataset, steward.slug, steward.name)
        .join(steward, steward.id == Dataset.steward_id)
        .where(Dataset.id.in_(ids))
        .execution_options(populate_existing=True)
    ).all()
    diseases = _diseases(session, ids)
    data_use = _data_use(session, ids)
    funders = _funders(session, ids)
    return [
        _document(
            dataset, slug, name, diseases[dataset.id], data_use[dataset.id], funders[dataset.id]
        )
        for dataset, slug, name in rows
    ]


def _document(
    dataset: Dataset,
    steward_slug: str,
    steward_name: str,
    diseases: Sequence[tuple[str, str, list[str]]],
    data_use: Sequence[str],
    funders: Sequence[tuple[str, str]],
) -> DatasetDocument:
    return DatasetDocument(
        id=dataset.id,
        version=dataset.row_version,
        accession=dataset.accession,
        status=dataset.status.value,
        access_level=dataset.access_level.value,
        steward_id=dataset.steward_id,
        steward=steward_slug,
        steward_name=steward_name,
        title=dataset.title,
        description=dataset.description,
        keywords=tuple(dataset.keywords),
        diseases=tuple(curie for curie, _, _ in diseases),
        disease_names=tuple(n for _, label, synonyms in diseases for n in (label, *synonyms)),
        data_types=tuple(dataset.data_types),
        file_formats=tuple(dataset.file_formats),
        species=tuple(dataset.species),
        data_use=tuple(sorted(set(data_use))),
        funders=tuple(slug for slug, _ in funders),
        funder_names=tuple(name for _, name in funders),
        participant_count=dataset.participant_count,
        updated_at=dataset.updated_at,
    )


def _diseases(
    session: Session, ids: list[uuid.UUID]
) -> defaultdict[uuid.UUID, list[tuple[str, str, list[str]]]]:
    found: defaultdict[uuid.UUID, list[tuple[str, str, list[str]]]] = defaultdict(list)
    rows = session.execute(
        select(
            DatasetTerm.dataset_id, OntologyTerm.curie, OntologyTerm.label, OntologyTerm.synonyms
        )
        .join(OntologyTerm, OntologyTerm.curie == DatasetTerm.curie)
        .where(DatasetTerm.dataset_id.in_(ids), DatasetTerm.role == TermRole.DISEASE)
        .order_by(DatasetTerm.dataset_id, OntologyTerm.curie)
    )
    for dataset_id, curie, label, synonyms in rows:
        found[dataset_id].append((curie, label, list(synonyms)))
    return found


def _data_use(session: Session, ids: list[uuid.UUID]) -> defaultdict[uuid.UUID, list[str]]:
    """DUO codes (GRU, DS, NPU, ...); a term without a code counts under its CURIE."""
    found: defaultdict[uuid.UUID, list[str]] = defaultdict(list)
    rows = session.execute(
        select(DatasetDataUse.dataset_id, OntologyTerm.code, OntologyTerm.curie)
        .join(OntologyTerm, OntologyTerm.curie == DatasetDataUse.duo_id)
        .where(DatasetDataUse.dataset_id.in_(ids))
    )
    for dataset_id, code, curie in rows:
        found[dataset_id].append(code or curie)
    return found


def _funders(
    session: Session, ids: list[uuid.UUID]
) -> defaultdict[uuid.UUID, list[tuple[str, str]]]:
    found: defaultdict[uuid.UUID, list[tuple[str, str]]] = defaultdict(list)
    rows = session.execute(
        select(DatasetFunder.dataset_id, Organization.slug, Organization.name)
        .join(Organization, Organization.id == DatasetFunder.funder_id)
        .where(DatasetFunder.dataset_id.in_(ids))
        .order_by(DatasetFunder.dataset_id, Organization.slug)
        .distinct()
    )
    for dataset_id, slug, name in rows:
        found[dataset_id].append((slug, name))
    return found
