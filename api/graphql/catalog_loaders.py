"""The synchronous loaders of the catalog's types (see ``sibling_loaders``), created per
request. Siblings: every dataset and DRS object the request has seen in a list; organizations,
committees, terms and bundle members reached from those."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session

from api.graphql.sibling_loaders import Seen, SiblingLoader
from catalog import repository
from governance import repository as grants
from governance.committees import effective_rules

FilesPageKey = tuple[uuid.UUID, int, str | None]


class CatalogLoaders:
    """``listable(dataset)`` says whether the caller may list the dataset's files: pages of
    files are fetched for those siblings only. ``granted``, when given, is the set of datasets the
    caller holds active grants for at ``now``, already read (``caller_access``)."""

    def __init__(
        self,
        session: Session,
        user_id: uuid.UUID | None,
        now: datetime,
        listable: Callable[[Any], bool],
        granted: frozenset[uuid.UUID] | None = None,
    ) -> None:
        self.seen = seen = Seen()
        self._listable = listable

        def dataset_ids(_key: object) -> Iterable[uuid.UUID]:
            return seen.datasets

        def object_ids(_key: object) -> Iterable[str]:
            return seen.objects

        def per_dataset(
            fetch: Callable[[Session, list[uuid.UUID]], Any],
        ) -> SiblingLoader[Any, Any]:
            return SiblingLoader(session, fetch, dataset_ids, list)

        def per_object(fetch: Callable[[Session, list[str]], Any]) -> SiblingLoader[Any, Any]:
            return SiblingLoader(session, fetch, object_ids, list)

        held: frozenset[uuid.UUID] | set[uuid.UUID] | None = granted

        def grant_flags(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, bool]:
            """All the caller's active grants, read once: a handful of rows, where a statement
            naming a page's hundred datasets cost more to build than to run."""
            nonlocal held
            if held is None:
                held = grants.all_granted_dataset_ids(session, user_id, now)
            return {i: i in held for i in ids}

        self.active_grant_by_dataset_id: SiblingLoader[uuid.UUID, bool] = SiblingLoader(
            session, grant_flags, dataset_ids, lambda: False
        )
        self.terms_by_dataset_id = per_dataset(repository.terms_of_datasets)
        self.data_use_by_dataset_id = per_dataset(repository.data_use_of_datasets)
        self.funders_by_dataset_id = per_dataset(repository.funders_of_datasets)
        self.publications_by_dataset_id = per_dataset(repository.publications_of_datasets)
        self.versions_by_dataset_id = per_dataset(repository.versions_of_datasets)
        self.terms_of_use_by_dataset_id: SiblingLoader[uuid.UUID, Any] = SiblingLoader(
            session, grants.current_terms, dataset_ids, lambda: None
        )
        self.file_totals_by_dataset_id: SiblingLoader[uuid.UUID, repository.FileTotals] = (
            SiblingLoader(session, repository.file_totals, dataset_ids, repository.FileTotals)
        )
        self.files_by_dataset_id: SiblingLoader[FilesPageKey, list[Any]] = SiblingLoader(
            session, self._files_pages, self._listable_pages, list
        )
        self.organization_by_id: SiblingLoader[uuid.UUID, Any] = SiblingLoader(
            session, repository.organizations_by_ids, self._organization_ids, lambda: None
        )
        self.committee_by_id: SiblingLoader[uuid.UUID, Any] = SiblingLoader(
            session, repository.committees_by_ids, self._committee_ids, lambda: None
        )
        self.rules_by_committee_id: SiblingLoader[uuid.UUID, Any] = SiblingLoader(
            session, effective_rules, lambda _k: self._committee_ids_loaded(), lambda: None
        )
        self.term_by_curie: SiblingLoader[str, Any] = SiblingLoader(
            session, repository.terms_by_curies, self._qualifiers, lambda: None
        )
        self.dataset_by_id: SiblingLoader[uuid.UUID, Any] = SiblingLoader(
            session, self._datasets, lambda _k: (), lambda: None
        )
        self.object_by_id: SiblingLoader[str, Any] = SiblingLoader(
            session, self._objects, self._member_ids, lambda: None
        )
        self.aliases_by_object_id = per_object(repository.aliases_of_objects)
        self.members_by_bundle_id: SiblingLoader[str, list[Any]] = SiblingLoader(
            session,
            repository.members_of_bundles,
            lambda _k: (i for i, o in seen.objects.items() if o.is_bundle),
            list,
        )

    def _listable_pages(self, key: FilesPageKey) -> Iterable[FilesPageKey]:
        _, first, after = key
        return [(d.id, first, after) for d in self.seen.datasets.values() if self._listable(d)]

    def _files_pages(
        self, session: Session, keys: list[FilesPageKey]
    ) -> dict[FilesPageKey, list[Any]]:
        """One windowed query per distinct (first, after) page shape, usually exactly one."""
        shapes: dict[tuple[int, str | None], list[uuid.UUID]] = {}
        for dataset_id, first, after in keys:
            shapes.setdefault((first, after), []).append(dataset_id)
        pages: dict[FilesPageKey, list[Any]] = {}
        for (first, after), ids in shapes.items():
            found = repository.first_files_of_datasets(session, ids, limit=first, after=after)
            for dataset_id, rows in found.items():
                pages[(dataset_id, first, after)] = rows
                self.seen.add_objects(rows)
        return pages

    def _organization_ids(self, _key: uuid.UUID) -> Iterable[uuid.UUID]:
        stewards = (d.steward_id for d in self.seen.datasets.values())
        owners = (c.organization_id for c in self.committee_by_id.values() if c is not None)
        return [*stewards, *owners]

    def _committee_ids(self, _key: uuid.UUID) -> Iterable[uuid.UUID]:
        ids = (d.committee_id for d in self.seen.datasets.values())
        return [i for i in ids if i is not None]

    def _committee_ids_loaded(self) -> Iterable[uuid.UUID]:
        return [c.id for c in self.committee_by_id.values() if c is not None]

    def _qualifiers(self, _key: str) -> Iterable[str]:
        return [
            use.qualifier
            for rows in self.data_use_by_dataset_id.values()
            for use, _term in rows
            if use.qualifier
        ]

    def _datasets(self, session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
        """Datasets already seen need no statement (the session holds the same rows)."""
        known = {i: self.seen.datasets[i] for i in ids if i in self.seen.datasets}
        missing = [i for i in ids if i not in known]
        found = repository.datasets_by_ids(session, missing) if missing else {}
        self.seen.add_datasets(found.values())
        return {**known, **found}

    def _objects(self, session: Session, ids: list[str]) -> dict[str, Any]:
        found = repository.objects_by_ids(session, ids)
        self.seen.add_objects(found.values())
        return found

    def _member_ids(self, _key: str) -> Iterable[str]:
        return [
            m.child_id
            for members in self.members_by_bundle_id.values()
            for m in members
            if m.child_id not in self.seen.objects
        ]
