"""The MONDO subclass relation the DUO matcher reasons over, frozen at construction.

Built from ontology entries (``curie``, ``label``, ``parents``) such as the subset Atrium ships,
so matching never queries the database and a test can pass any hierarchy it likes.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from catalog.ontology import shipped


@dataclass(frozen=True, slots=True)
class DiseaseHierarchy:
    """``ancestors`` maps each known CURIE to every CURIE above it (transitively, excluding
    itself), so a subclass question is one set lookup."""

    labels: Mapping[str, str]
    ancestors: Mapping[str, frozenset[str]]

    @classmethod
    def from_entries(cls, entries: Iterable[Mapping[str, Any]]) -> DiseaseHierarchy:
        labels: dict[str, str] = {}
        parents: dict[str, tuple[str, ...]] = {}
        for entry in entries:
            curie, label = entry["curie"], entry["label"]
            if curie in labels:
                raise ValueError(f"{curie} appears twice in the disease hierarchy")
            labels[curie] = label
            parents[curie] = tuple(entry.get("parents", ()))
        closure = {curie: _ancestors_of(curie, parents) for curie in labels}
        return cls(labels=MappingProxyType(labels), ancestors=MappingProxyType(closure))

    @classmethod
    def shipped(cls) -> DiseaseHierarchy:
        """The MONDO subset in ``catalog/data/mondo.json``."""
        return cls.from_entries(shipped("mondo"))

    def __contains__(self, curie: object) -> bool:
        return curie in self.labels

    def is_subclass(self, curie: str, of: str) -> bool:
        """Reflexive: a disease counts as a subclass of itself, as DUO's DS-X permits X."""
        return curie == of or of in self.ancestors.get(curie, frozenset())

    def describe(self, curie: str) -> str:
        """``MONDO:0005015 (diabetes mellitus)``, or the bare CURIE when it is unknown."""
        label = self.labels.get(curie)
        return f"{curie} ({label})" if label else curie


def _ancestors_of(curie: str, parents: Mapping[str, tuple[str, ...]]) -> frozenset[str]:
    """Walks parent links iteratively; a cycle in bad data ends the walk instead of looping."""
    seen: set[str] = set()
    stack = list(parents.get(curie, ()))
    while stack:
        parent = stack.pop()
        if parent in seen or parent == curie:
            continue
        seen.add(parent)
        stack.extend(parents.get(parent, ()))
    return frozenset(seen)
