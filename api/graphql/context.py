"""What every resolver receives as ``info.context``."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Hashable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TypeVar

from sqlalchemy.orm import Session

from api.drs.uris import DrsNaming
from api.graphql.access import may_list_files
from api.graphql.catalog_memo import CatalogMemo
from api.graphql.dataloaders import Loaders
from catalog import generation as catalog_generation
from catalog.principals import Principal
from search.backend import SearchBackend

T = TypeVar("T")
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


@dataclass
class Context:
    session: Session
    principal: Principal
    base_url: str
    search: SearchBackend
    drs: DrsNaming
    max_drs_uris: int
    json_pages: bool = False
    memo: CatalogMemo | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    granted: frozenset[uuid.UUID] | None = None
    """The datasets the caller holds active grants for at ``now``, when already read."""
    loaders: Loaders = field(init=False)
    _generation: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(
            self.session,
            self.principal.user_id,
            self.now,
            listable=lambda dataset: may_list_files(self, dataset),
            granted=self.granted,
        )

    def generation(self) -> int:
        """The catalog generation this request first saw, read once, before anything it
        keeps in the memo."""
        if self._generation is None:
            self._generation = self._current_generation()
        return self._generation

    def keep(self, values: Mapping[K, V], size: Callable[[V], int]) -> None:
        """Keep ``values`` in the memo for the request's generation if that is still the
        current one: each statement of a transaction reads the latest commit (READ COMMITTED),
        so a value computed across a catalog commit may mix two generations. Nothing is kept
        before the request has read its generation: no computation can vouch for one."""
        assert self.memo is not None
        generation = self._generation
        if values and generation is not None and self._current_generation() == generation:
            for key, value in values.items():
                self.memo.put(generation, key, value, size(value))

    def remembered(self, key: Hashable, compute: Callable[[], T], size: int) -> T:
        """``compute()``, or what it returned for ``key`` at this generation (``memo``)."""
        if self.memo is None:
            return compute()
        found: T | None = self.memo.get(self.generation(), key)
        if found is None:
            found = compute()
            self.keep({key: found}, lambda _: size)
        return found

    def _current_generation(self) -> int:
        ((current,),) = catalog_generation.CURRENT.rows(self.session.connection(), {})
        return int(current)
