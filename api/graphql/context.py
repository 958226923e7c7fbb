"""What every resolver receives as ``info.context``."""

from __future__ import annotations

from collections.abc import Callable, Hashable
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


@dataclass
class Context:
    session: Session
    principal: Principal
    base_url: str
    search: SearchBackend
    drs: DrsNaming
    max_drs_uris: int
    json_pages: bool = True
    memo: CatalogMemo | None = None
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    loaders: Loaders = field(init=False)
    _generation: int | None = field(default=None, init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(
            self.session,
            self.principal.user_id,
            self.now,
            listable=lambda dataset: may_list_files(self, dataset),
        )

    def generation(self) -> int:
        """The catalog generation this request's transaction sees, read once."""
        if self._generation is None:
            ((self._generation,),) = catalog_generation.CURRENT.rows(self.session.connection(), {})
        return self._generation

    def remembered(self, key: Hashable, compute: Callable[[], T], size: int) -> T:
        """``compute()``, or what it returned for ``key`` at this generation (``memo``)."""
        if self.memo is None:
            return compute()
        found: T | None = self.memo.get(self.generation(), key)
        if found is None:
            found = compute()
            self.memo.put(self.generation(), key, found, size)
        return found
