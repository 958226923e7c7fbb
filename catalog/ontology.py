"""The ontology subsets Atrium ships (MONDO diseases, HP phenotypes, DUO data use terms) and
their loading into ``ontology_terms``. Loading is an idempotent upsert, run after migrations."""

from __future__ import annotations

import json
from functools import cache
from importlib import resources
from typing import Any

from sqlalchemy import delete
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.orm import Session

from catalog.models import OntologyTerm, OntologyTermParent


@cache
def shipped(name: str) -> Any:
    """A JSON data file of ``catalog/data`` (mondo, duo, vocabularies)."""
    return json.loads(resources.files("catalog.data").joinpath(f"{name}.json").read_text("utf-8"))


def shipped_terms() -> list[dict[str, Any]]:
    terms: list[dict[str, Any]] = []
    for entry in shipped("mondo"):
        terms.append({**entry, "ontology": "MONDO", "code": None})
    for entry in shipped("duo"):
        terms.append({**entry, "ontology": "DUO"})
    for entry in shipped("vocabularies")["phenotypes"]:
        terms.append({"synonyms": [], **entry, "ontology": "HP", "code": None})
    return terms


def load_shipped_terms(session: Session) -> int:
    """Upsert the shipped terms and their parent links; returns how many terms were written."""
    terms = shipped_terms()
    stmt = insert(OntologyTerm).values(
        [
            {
                "curie": t["curie"],
                "label": t["label"],
                "ontology": t["ontology"],
                "code": t.get("code"),
                "synonyms": t.get("synonyms", []),
            }
            for t in terms
        ]
    )
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[OntologyTerm.curie],
            set_={
                "label": stmt.excluded.label,
                "ontology": stmt.excluded.ontology,
                "code": stmt.excluded.code,
                "synonyms": stmt.excluded.synonyms,
            },
        )
    )
    curies = [t["curie"] for t in terms]
    session.execute(delete(OntologyTermParent).where(OntologyTermParent.curie.in_(curies)))
    links = [{"curie": t["curie"], "parent_curie": p} for t in terms for p in t.get("parents", [])]
    if links:
        session.execute(insert(OntologyTermParent).values(links))
    session.flush()
    return len(terms)
