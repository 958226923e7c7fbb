"""A mutation whose lock wait runs out is refused as BUSY, leaving the request's transaction
usable; it never surfaces as an internal error."""

from __future__ import annotations

from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from api.graphql.errors import attempt

TERM = "MONDO:0007254"


def test_a_lock_timeout_is_busy_and_leaves_nothing_behind(db: Session, engine: Engine) -> None:
    def lock_the_term() -> None:
        db.execute(text("SET LOCAL lock_timeout = 50"))
        db.execute(text("SELECT 1 FROM ontology_terms WHERE curie = :c FOR UPDATE"), {"c": TERM})

    with engine.connect() as holder, holder.begin():
        holder.execute(
            text("SELECT 1 FROM ontology_terms WHERE curie = :c FOR UPDATE"), {"c": TERM}
        )
        result, errors = attempt(db, lock_the_term)

    assert result is None
    assert [(e.code, e.field) for e in errors] == [("BUSY", None)]
    assert db.execute(text("SELECT 1")).scalar() == 1
