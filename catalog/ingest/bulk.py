"""Bulk writes for the ingest, through COPY: the cheapest way into Postgres for Python and the
server alike. Rows are formatted in COPY's text format; constraints, defaults and triggers of the
target tables apply as they do to any insert."""

from __future__ import annotations

import io
import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any, cast

import orjson
from sqlalchemy.orm import Session

from catalog.db import Base
from catalog.ingest.writer import Cursor


def insert_rows(session: Session, model: type[Base], rows: Sequence[dict[str, Any]]) -> None:
    """Insert rows (dicts with the same keys) into the model's table."""
    if rows:
        columns = list(rows[0])
        lines = [copy_line([row[c] for c in columns]) for row in rows]
        copy_rows(session, model.__tablename__, columns, lines)


def copy_rows(session: Session, table: str, columns: Sequence[str], lines: Sequence[str]) -> None:
    """COPY lines made by ``copy_line`` into ``table``."""
    if not lines:
        return
    text = "".join(lines).encode()
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    cursor = cast(Cursor, dbapi.cursor())
    try:
        cursor.copy_expert(
            f"COPY {table} ({', '.join(columns)}) FROM STDIN", io.BytesIO(text), size=len(text)
        )
    finally:
        cursor.close()


def copy_line(values: Sequence[Any]) -> str:
    """One row in COPY text format."""
    return "\t".join(_value(v) for v in values) + "\n"


def text_value(value: str | None) -> str:
    """A text value escaped for COPY (``\\N`` is NULL)."""
    if value is None:
        return "\\N"
    if "\\" in value or "\t" in value or "\n" in value or "\r" in value:
        value = value.replace("\\", "\\\\").replace("\t", "\\t")
        return value.replace("\n", "\\n").replace("\r", "\\r")
    return value


def array_value(values: Sequence[str | None]) -> str:
    """A text[] literal, every element quoted, escaped for COPY."""
    return text_value(_array_literal(values))


def array_rows_value(rows: Sequence[Sequence[str | None]]) -> str:
    """A two-dimensional text[] literal (rows of equal length), escaped for COPY: one array in
    place of a column for each position of the rows."""
    return text_value("{" + ",".join(map(_array_literal, rows)) + "}")


def _array_literal(values: Sequence[str | None]) -> str:
    """Every ingested file has several arrays, so elements that need no escaping (the usual
    case) are joined in one step."""
    if not values:
        return "{}"
    if None not in values:
        joined = '","'.join(cast("Sequence[str]", values))
        if '"' not in joined and "\\" not in joined:
            return '{"' + joined + '"}'
    items = []
    for value in values:
        if value is None:
            items.append("NULL")
        elif '"' in value or "\\" in value:
            items.append('"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"')
        else:
            items.append(f'"{value}"')
    return "{" + ",".join(items) + "}"


def _value(value: Any) -> str:
    if value is None or isinstance(value, str):
        return text_value(value)
    if isinstance(value, bool):
        return "t" if value else "f"
    if isinstance(value, int | uuid.UUID):
        return str(value)
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, list):
        return array_value(value)
    if isinstance(value, dict):
        return text_value(orjson.dumps(value).decode())
    raise TypeError(f"no COPY text format for {type(value).__name__}")
