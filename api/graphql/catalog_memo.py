"""Parts of catalog answers kept for one catalog generation: dataset nodes as ``json_pages``
builds them, and a caller's pages of datasets and how many a filter matches.

The response cache keeps whole answers per class of access (roles and grants), and misses
whenever a caller's class or query has not been answered at this generation. Most of what such
an answer holds does not depend on the class: a dataset's JSON for one selection depends on the
catalog and on the three access flags the statement receives (may list files, may download,
stewards it), and a page or a count on the filter, the ordering and the caller's visibility (the
``Principal``). Those parts are kept under keys that name everything they depend on, for the
generation the request read before anything it keeps, and only if that generation is still
current once they are computed (``Context.keep``): each statement reads the latest commit, and
the generation moves in the same commit as the data. A request that sees a newer generation
empties the memo; one that sees an older one neither reads nor writes it.
"""

from __future__ import annotations

import sys
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from typing import Any, TypeVar

K = TypeVar("K", bound=Hashable)

ENTRY_OVERHEAD = 200
"""Bytes an entry costs beside its value: its key tuple, the dictionary slot, the link."""


class CatalogMemo:
    """Values by key for the newest generation seen, least recently used first out once they
    pass ``max_bytes``. Requests execute on worker threads, so it takes a lock."""

    def __init__(self, max_bytes: int) -> None:
        self.max_bytes = max_bytes
        self.size = 0
        self.generation = -1
        self._values: OrderedDict[Hashable, tuple[Any, int]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, generation: int, key: Hashable) -> Any | None:
        with self._lock:
            if generation != self.generation:
                return None
            found = self._values.get(key)
            if found is None:
                return None
            self._values.move_to_end(key)
            return found[0]

    def get_many(self, generation: int, keys: Iterable[K]) -> dict[K, Any]:
        """The values kept for those of ``keys`` that have one, under one lock."""
        found: dict[K, Any] = {}
        with self._lock:
            if generation != self.generation:
                return found
            values = self._values
            for key in keys:
                kept = values.get(key)
                if kept is not None:
                    values.move_to_end(key)
                    found[key] = kept[0]
        return found

    def put(self, generation: int, key: Hashable, value: Any, size: int) -> None:
        """Keep ``value`` (about ``size`` bytes) computed at ``generation``."""
        cost = size + ENTRY_OVERHEAD
        with self._lock:
            if generation < self.generation or cost > self.max_bytes:
                return
            if generation > self.generation:
                self._values.clear()
                self.size = 0
                self.generation = generation
            previous = self._values.pop(key, None)
            if previous is not None:
                self.size -= previous[1]
            self._values[key] = (value, cost)
            self.size += cost
            while self.size > self.max_bytes:
                _, (_, dropped) = self._values.popitem(last=False)
                self.size -= dropped

    def __len__(self) -> int:
        return len(self._values)


def text_size(values: tuple[str, ...]) -> int:
    return sum(sys.getsizeof(v) for v in values)
