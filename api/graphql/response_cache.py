"""Cached answers to anonymous catalog queries, valid for one catalog generation.

A public catalog page (a hundred datasets with their files) executes thousands of resolvers;
anonymous visitors ask the same few pages again and again, and their answers depend on the
catalog's committed state alone: no roles, no grants, no clock. Those answers are kept, keyed by
the query text, operation name and variables, and served while ``catalog.generation`` has not
moved. Anything else (a signed-in caller, a mutation, search, which reads the search index,
an answer with errors) is executed every time.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)

CACHEABLE_ROOT_FIELDS = frozenset(
    {
        "dataset",
        "datasets",
        "drsObject",
        "resolveDrs",
        "organization",
        "organizations",
        "committees",
        "__typename",
        "__schema",
        "__type",
    }
)
"""Root fields whose anonymous answers depend on catalog tables only (``CATALOG_TABLES``)."""


def cacheable(document: DocumentNode, operation_name: str | None) -> bool:
    """Whether the operation to run is a query reading cacheable root fields only."""
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    chosen = [
        o
        for o in operations
        if operation_name is None or (o.name is not None and o.name.value == operation_name)
    ]
    if len(chosen) != 1 or chosen[0].operation is not OperationType.QUERY:
        return False
    return _root_fields(chosen[0].selection_set, fragments, set()) <= CACHEABLE_ROOT_FIELDS


def _root_fields(
    selections: SelectionSetNode,
    fragments: dict[str, FragmentDefinitionNode],
    visited: set[str],
) -> set[str]:
    names: set[str] = set()
    for selection in selections.selections:
        if isinstance(selection, FieldNode):
            names.add(selection.name.value)
        elif isinstance(selection, InlineFragmentNode):
            names |= _root_fields(selection.selection_set, fragments, visited)
        elif isinstance(selection, FragmentSpreadNode) and selection.name.value not in visited:
            visited.add(selection.name.value)
            names |= _root_fields(fragments[selection.name.value].selection_set, fragments, visited)
    return names


def cache_key(query: str, operation_name: str | None, variables: dict[str, Any]) -> bytes:
    canonical = orjson.dumps([query, operation_name, variables], option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).digest()


@dataclass(frozen=True)
class Entry:
    generation: int
    body: bytes


class ResponseCache:
    """Answers by key, least recently used first out once they exceed ``max_bytes``. Used
    from the event loop's thread only, so it needs no lock."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self._entries: OrderedDict[bytes, Entry] = OrderedDict()
        self._computing: dict[tuple[bytes, int], asyncio.Future[bytes | None]] = {}

    async def answer(
        self, key: bytes, generation: int, compute: Callable[[], Awaitable[tuple[bytes, bool]]]
    ) -> tuple[bytes, str]:
        """The answer and how it was found: ``hit``; ``coalesced`` (another request was
        computing it, as after every catalog change, when a page's visitors all miss at once);
        or ``miss``. ``compute`` returns the answer and whether it may be kept."""
        cached = self.get(key, generation)
        if cached is not None:
            return cached, "hit"
        running = self._computing.get((key, generation))
        if running is not None:
            shared = await asyncio.shield(running)
            if shared is not None:
                return shared, "coalesced"
            body, _ = await compute()  # the first request failed; this one tries on its own
            return body, "miss"
        future: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
        self._computing[(key, generation)] = future
        try:
            body, keep = await compute()
            if keep:
                self.put(key, generation, body)
            future.set_result(body)
            return body, "miss"
        finally:
            if not future.done():
                future.set_result(None)
            del self._computing[(key, generation)]

    def get(self, key: bytes, generation: int) -> bytes | None:
        entry = self._entries.get(key)
        if entry is None:
            return None
        if entry.generation != generation:
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry.body

    def put(self, key: bytes, generation: int, body: bytes) -> None:
        if len(body) > self.max_bytes:
            return
        if key in self._entries:
            self._remove(key)
        self._entries[key] = Entry(generation, body)
        self.size += len(body)
        while self.size > self.max_bytes:
            self._remove(next(iter(self._entries)))

    def __len__(self) -> int:
        return len(self._entries)

    def _remove(self, key: bytes) -> None:
        self.size -= len(self._entries.pop(key).body)
