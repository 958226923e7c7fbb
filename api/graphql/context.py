"""What every resolver receives as ``info.context``."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from sqlalchemy.orm import Session

from api.drs.uris import DrsNaming
from api.graphql.access import may_list_files
from api.graphql.dataloaders import Loaders
from catalog.principals import Principal
from search.backend import SearchBackend


@dataclass
class Context:
    session: Session
    principal: Principal
    base_url: str
    search: SearchBackend
    drs: DrsNaming
    max_drs_uris: int
    json_pages: bool = True
    now: datetime = field(default_factory=lambda: datetime.now(UTC))
    loaders: Loaders = field(init=False)

    def __post_init__(self) -> None:
        self.loaders = Loaders(
            self.session,
            self.principal.user_id,
            self.now,
            listable=lambda dataset: may_list_files(self, dataset),
        )
