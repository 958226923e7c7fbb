"""Cached answers to catalog queries, valid for one catalog generation.

A catalog page (a hundred datasets with their files) executes thousands of resolvers; visitors
ask the same few pages again and again. An anonymous answer depends on the catalog's committed
state alone: no roles, no grants, no clock. A signed-in caller's depends besides on its class of
access (its roles and active grants, ``caller_access``), which the endpoint adds to the key, so
researchers without roles or grants share one answer, and so do a steward organization's
stewards who hold nothing else. Answers are kept, keyed by the query text, operation name and
variables, and served while ``catalog.generation`` has not moved. Anything else (a mutation,
``me`` or governance fields, search, which reads the search index, an answer with errors) is
executed every time.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any, NamedTuple

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
"""Root fields whose answers depend on catalog tables only (``CATALOG_TABLES``), and for a
signed-in caller on its class of access."""

SAME_FOR_EVERYONE = frozenset(
    {"organization", "organizations", "committees", "__typename", "__schema", "__type"}
)
"""Cacheable root fields whose answers no policy reads the caller for."""


class CacheKey(NamedTuple):
    digest: bytes
    same_for_everyone: bool
    """Every root field is in ``SAME_FOR_EVERYONE``: a signed-in caller's answer is the
    anonymous one, kept once."""


def cache_key(
    document: DocumentNode, query: str, operation_name: str | None, variables: dict[str, Any]
) -> CacheKey | None:
    """The key of the operation's answer, or None when it may not be cached: not a query, a
    root field outside ``CACHEABLE_ROOT_FIELDS``, or variables JSON cannot say exactly (NaN).
    Only declared variables count, so undeclared ones (which GraphQL ignores) cannot make
    endless distinct entries of one answer."""
    operation = _operation(document, operation_name)
    if operation is None or operation.operation is not OperationType.QUERY:
        return None
    fragments = {
        d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
    }
    root_fields = _root_fields(operation.selection_set, fragments, set())
    if not root_fields <= CACHEABLE_ROOT_FIELDS:
        return None
    declared = {v.variable.name.value for v in operation.variable_definitions or ()}
    used = {name: value for name, value in variables.items() if name in declared}
    try:
        canonical = json.dumps([query, operation_name, used], sort_keys=True, allow_nan=False)
    except ValueError:
        return None
    return CacheKey(hashlib.sha256(canonical.encode()).digest(), root_fields <= SAME_FOR_EVERYONE)


def _operation(
    document: DocumentNode, operation_name: str | None
) -> OperationDefinitionNode | None:
    operations = [
        d
        for d in document.definitions
        if isinstance(d, OperationDefinitionNode)
        and (operation_name is None or (d.name is not None and d.name.value == operation_name))
    ]
    return operations[0] if len(operations) == 1 else None


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


ENTRY_OVERHEAD = 256
"""Bytes an entry costs beyond its key and body (measured: dict slot, entry object, bytes
headers), counted so that many small answers cannot exceed the budget."""


@dataclass(frozen=True, slots=True)
class Entry:
    generation: int
    body: bytes

    def cost(self, key: bytes) -> int:
        return len(key) + len(self.body) + ENTRY_OVERHEAD


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
        while True:
            cached = self.get(key, generation)
            if cached is not None:
                return cached, "hit"
            running = self._computing.get((key, generation))
            if running is None:
                break
            shared = await asyncio.shield(running)
            if shared is not None:
                return shared, "coalesced"
            # The computing request failed: start over, coalescing with whoever goes first.
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
        """The answer computed at ``generation``; one of an older generation is dropped, one of
        a newer generation (read by a request that started later) is kept for others."""
        entry = self._entries.get(key)
        if entry is None or entry.generation > generation:
            return None
        if entry.generation < generation:
            self._remove(key)
            return None
        self._entries.move_to_end(key)
        return entry.body

    def put(self, key: bytes, generation: int, body: bytes) -> None:
        entry = Entry(generation, body)
        if entry.cost(key) > self.max_bytes:
            return
        existing = self._entries.get(key)
        if existing is not None:
            if existing.generation > generation:
                return
            self._remove(key)
        self._entries[key] = entry
        self.size += entry.cost(key)
        while self.size > self.max_bytes:
            self._remove(next(iter(self._entries)))

    def __len__(self) -> int:
        return len(self._entries)

    def _remove(self, key: bytes) -> None:
        self.size -= self._entries.pop(key).cost(key)
