"""Per-request dataloaders. Each batches the keys its resolvers ask for during one tick of the
executor into one repository call, and caches values for the rest of the request.

The batch functions call the synchronous session directly: the whole GraphQL execution runs on
one worker thread with its own event loop (ADR 0001), so the session is never shared between
threads or used by two batches at once.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Iterable, Mapping
from datetime import datetime
from typing import Any, Generic, TypeVar

from graphene.utils.dataloader import DataLoader
from sqlalchemy.orm import Session

from catalog import repository
from governance import repository as grants
from governance.committees import effective_rules

K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class MappingLoader(DataLoader, Generic[K, V]):
    """A loader over a repository function that returns ``{key: value}`` for many keys."""

    def __init__(
        self,
        session: Session,
        fetch: Callable[[Session, list[K]], Mapping[K, V]],
        default: Callable[[], V | None] = lambda: None,
    ) -> None:
        super().__init__()
        self._session = session
        self._fetch = fetch
        self._default = default

    async def batch_load_fn(self, keys: Iterable[K]) -> list[V | None]:
        wanted = list(keys)
        found = self._fetch(self._session, wanted)
        return [found[k] if k in found else self._default() for k in wanted]


class OrganizationByIdLoader(MappingLoader[uuid.UUID, Any]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.organizations_by_ids)


class CommitteeByIdLoader(MappingLoader[uuid.UUID, Any]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.committees_by_ids)


class DatasetByIdLoader(MappingLoader[uuid.UUID, Any]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.datasets_by_ids)


class TermByCurieLoader(MappingLoader[str, Any]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.terms_by_curies)


class TermsByDatasetIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.terms_of_datasets, list)


class DataUseByDatasetIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.data_use_of_datasets, list)


class FundersByDatasetIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.funders_of_datasets, list)


class PublicationsByDatasetIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.publications_of_datasets, list)


class VersionsByDatasetIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.versions_of_datasets, list)


class FileTotalsByDatasetIdLoader(MappingLoader[uuid.UUID, repository.FileTotals]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.file_totals, repository.FileTotals)


FilesPageKey = tuple[uuid.UUID, int, str | None]


def _files_pages(session: Session, keys: list[FilesPageKey]) -> dict[FilesPageKey, list[Any]]:
    """One windowed query per distinct (first, after) page shape, usually exactly one."""
    shapes: dict[tuple[int, str | None], list[uuid.UUID]] = {}
    for dataset_id, first, after in keys:
        shapes.setdefault((first, after), []).append(dataset_id)
    pages: dict[FilesPageKey, list[Any]] = {}
    for (first, after), dataset_ids in shapes.items():
        found = repository.first_files_of_datasets(session, dataset_ids, limit=first, after=after)
        for dataset_id in dataset_ids:
            pages[(dataset_id, first, after)] = found.get(dataset_id, [])
    return pages


class FilesByDatasetIdLoader(MappingLoader[FilesPageKey, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, _files_pages, list)


class ObjectByIdLoader(MappingLoader[str, Any]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.objects_by_ids)


class ChecksumsByObjectIdLoader(MappingLoader[str, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.checksums_of_objects, list)


class AccessMethodsByObjectIdLoader(MappingLoader[str, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.access_methods_of_objects, list)


class AliasesByObjectIdLoader(MappingLoader[str, list[str]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.aliases_of_objects, list)


class MembersByBundleIdLoader(MappingLoader[str, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, repository.members_of_bundles, list)


class ActiveGrantByDatasetIdLoader(MappingLoader[uuid.UUID, bool]):
    """Whether the caller holds an active grant, evaluated at the request's instant."""

    def __init__(self, session: Session, user_id: uuid.UUID | None, now: datetime) -> None:
        def fetch(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, bool]:
            granted = grants.granted_dataset_ids(session, user_id, ids, now)
            return {i: i in granted for i in ids}

        super().__init__(session, fetch, lambda: False)


class ReviewsByRequestIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, grants.reviews_of_requests, list)


class DatasetsByRequestIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, grants.datasets_of_requests, list)


class GrantsByRequestIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, grants.grants_of_requests, list)


class VotesByReviewIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, grants.votes_of_reviews, list)


class TermsOfUseByDatasetIdLoader(MappingLoader[uuid.UUID, Any]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, grants.current_terms)


class UserByIdLoader(MappingLoader[uuid.UUID, Any]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, grants.users_by_ids)


class RulesByCommitteeIdLoader(MappingLoader[uuid.UUID, Any]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, effective_rules)


class Loaders:
    """The loaders of one request, created together so each caches for exactly that request."""

    def __init__(self, session: Session, user_id: uuid.UUID | None, now: datetime) -> None:
        self.active_grant_by_dataset_id = ActiveGrantByDatasetIdLoader(session, user_id, now)
        self.organization_by_id = OrganizationByIdLoader(session)
        self.committee_by_id = CommitteeByIdLoader(session)
        self.dataset_by_id = DatasetByIdLoader(session)
        self.term_by_curie = TermByCurieLoader(session)
        self.terms_by_dataset_id = TermsByDatasetIdLoader(session)
        self.data_use_by_dataset_id = DataUseByDatasetIdLoader(session)
        self.funders_by_dataset_id = FundersByDatasetIdLoader(session)
        self.publications_by_dataset_id = PublicationsByDatasetIdLoader(session)
        self.versions_by_dataset_id = VersionsByDatasetIdLoader(session)
        self.file_totals_by_dataset_id = FileTotalsByDatasetIdLoader(session)
        self.files_by_dataset_id = FilesByDatasetIdLoader(session)
        self.object_by_id = ObjectByIdLoader(session)
        self.checksums_by_object_id = ChecksumsByObjectIdLoader(session)
        self.access_methods_by_object_id = AccessMethodsByObjectIdLoader(session)
        self.aliases_by_object_id = AliasesByObjectIdLoader(session)
        self.members_by_bundle_id = MembersByBundleIdLoader(session)
        self.reviews_by_request_id = ReviewsByRequestIdLoader(session)
        self.datasets_by_request_id = DatasetsByRequestIdLoader(session)
        self.grants_by_request_id = GrantsByRequestIdLoader(session)
        self.votes_by_review_id = VotesByReviewIdLoader(session)
        self.user_by_id = UserByIdLoader(session)
        self.terms_of_use_by_dataset_id = TermsOfUseByDatasetIdLoader(session)
        self.rules_by_committee_id = RulesByCommitteeIdLoader(session)
