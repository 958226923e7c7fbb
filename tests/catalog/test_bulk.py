"""COPY text written by ``catalog.ingest.bulk`` reads back as the values it was made from."""

from __future__ import annotations

from itertools import pairwise, product

from sqlalchemy import text
from sqlalchemy.orm import Session

from catalog.ingest.bulk import array_value, copy_rows, text_value

PIECES = ["", "a", '"', "\\", "\t", "\n", "\r", ",", "{", "}", " ", "NULL", "é", "\\N"]
"""Everything that needs escaping in COPY text or in an array literal, and plain text."""


def awkward_texts() -> list[str]:
    return ["".join(pair) for pair in product(PIECES, repeat=2)]


def awkward_arrays() -> list[list[str | None]]:
    """Empty, all-NULL, single and paired elements, plain and awkward."""
    texts: list[str | None] = [*awkward_texts(), None]
    return [[], [None], *([t] for t in texts), *(list(pair) for pair in pairwise(texts))]


def test_text_and_arrays_round_trip_through_copy(db: Session) -> None:
    texts, arrays = awkward_texts(), awkward_arrays()
    db.execute(text("CREATE TEMP TABLE bulk_check (n integer, t text, a text[]) ON COMMIT DROP"))
    lines = [
        f"{n}\t{text_value(texts[n] if n < len(texts) else None)}\t"
        f"{array_value(arrays[n]) if n < len(arrays) else '{}'}\n"
        for n in range(max(len(texts), len(arrays)))
    ]

    copy_rows(db, "bulk_check", ["n", "t", "a"], lines)

    stored = db.execute(text("SELECT n, t, a FROM bulk_check ORDER BY n")).all()
    assert [t for _, t, _ in stored][: len(texts)] == texts
    assert [a for _, _, a in stored][: len(arrays)] == arrays
