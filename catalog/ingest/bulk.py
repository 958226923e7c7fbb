"""Bulk inserts for the ingest: plain Core ``executemany`` on a model's table, which batches rows
into multi-row statements. The ORM's bulk path would return generated keys row by row for tables
with serial keys, which an ingest of thousands of datasets does not need."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from catalog.db import Base


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    if rows:
        session.execute(insert(Base.metadata.tables[model.__tablename__]), rows)
