"""Per-request asyncio dataloaders of the governance and identity types (the catalog's are
synchronous: ``catalog_loaders``). Each batches the keys its resolvers ask for during one tick
of the executor into one repository call, and caches values for the rest of the request.

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

from api.graphql.catalog_loaders import CatalogLoaders
from api.graphql.sibling_loaders import Seen
from catalog import repository
from governance import repository as grants

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
    """Datasets of governance rows; they become siblings of the catalog loaders."""

    def __init__(self, session: Session, seen: Seen) -> None:
        def fetch(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, Any]:
            found = repository.datasets_by_ids(session, ids)
            seen.add_datasets(found.values())
            return found

        super().__init__(session, fetch)


class DatasetsByRequestIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    """(link, dataset) pairs of requests; the datasets become siblings of the catalog loaders."""

    def __init__(self, session: Session, seen: Seen) -> None:
        def fetch(session: Session, ids: list[uuid.UUID]) -> dict[uuid.UUID, list[Any]]:
            found = grants.datasets_of_requests(session, ids)
            seen.add_datasets(d for pairs in found.values() for _link, d in pairs)
            return found

        super().__init__(session, fetch, list)


class ReviewsByRequestIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, grants.reviews_of_requests, list)


class GrantsByRequestIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, grants.grants_of_requests, list)


class VotesByReviewIdLoader(MappingLoader[uuid.UUID, list[Any]]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, grants.votes_of_reviews, list)


class UserByIdLoader(MappingLoader[uuid.UUID, Any]):
    def __init__(self, session: Session) -> None:
        super().__init__(session, grants.users_by_ids)


class Loaders:
    """The loaders of one request, created together so each caches for exactly that request:
    the synchronous catalog loaders, and asyncio ones for the governance and identity types."""

    def __init__(
        self,
        session: Session,
        user_id: uuid.UUID | None,
        now: datetime,
        listable: Callable[[Any], bool],
        granted: frozenset[uuid.UUID] | None = None,
    ) -> None:
        self.catalog = CatalogLoaders(session, user_id, now, listable, granted)
        self.organization_by_id = OrganizationByIdLoader(session)
        self.committee_by_id = CommitteeByIdLoader(session)
        self.dataset_by_id = DatasetByIdLoader(session, self.catalog.seen)
        self.datasets_by_request_id = DatasetsByRequestIdLoader(session, self.catalog.seen)
        self.reviews_by_request_id = ReviewsByRequestIdLoader(session)
        self.grants_by_request_id = GrantsByRequestIdLoader(session)
        self.votes_by_review_id = VotesByReviewIdLoader(session)
        self.user_by_id = UserByIdLoader(session)
