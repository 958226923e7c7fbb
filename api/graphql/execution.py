"""Executing a validated document, on an event loop only when a resolver needs one.

The catalog's resolvers are synchronous (``sibling_loaders``), so a catalog query completes
inside ``execute`` and gets no event loop at all; governance and identity fields still await
asyncio dataloaders, and then the rest of the execution runs on a private loop (ADR 0001).
"""

from __future__ import annotations

import asyncio
import datetime
import uuid
from decimal import Decimal
from enum import Enum
from types import CoroutineType
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionContext,
    ExecutionResult,
    FieldNode,
    GraphQLOutputType,
    GraphQLResolveInfo,
    GraphQLSchema,
    execute,
)
from graphql.pyutils import Path

# Types resolvers return by the thousand that can never be awaited: checked by identity
# before graphql-core's generic test, which costs a ``hasattr`` on every value of every field.
PLAIN_TYPES = frozenset(
    {str, int, float, bool, type(None), list, tuple, dict, uuid.UUID, Decimal}
    | {datetime.datetime, datetime.date}
)


def is_awaitable(value: Any) -> bool:
    """graphql-core's predicate, with a fast answer for plain values (ORM rows and enums
    fall through to it)."""
    kind = type(value)
    if kind in PLAIN_TYPES or isinstance(value, Enum):
        return False
    return isinstance(value, CoroutineType) or hasattr(value, "__await__")


class PrebuiltValues(ExecutionContext):
    """Passes a value a resolver built as JSON already (``orjson.Fragment``, see
    ``api.graphql.catalog.json_pages``) into the result as it is."""

    def complete_value(
        self,
        return_type: GraphQLOutputType,
        field_nodes: list[FieldNode],
        info: GraphQLResolveInfo,
        path: Path,
        result: Any,
    ) -> Any:
        if type(result) is orjson.Fragment:
            return result
        return super().complete_value(return_type, field_nodes, info, path, result)


def execute_document(
    schema: GraphQLSchema,
    document: DocumentNode,
    *,
    context: Any,
    variables: dict[str, Any],
    operation_name: str | None,
) -> ExecutionResult:
    outcome = execute(
        schema,
        document,
        context_value=context,
        variable_values=variables,
        operation_name=operation_name,
        is_awaitable=is_awaitable,
        execution_context_class=PrebuiltValues,
    )
    if isinstance(outcome, ExecutionResult):
        return outcome

    async def finish() -> ExecutionResult:
        return await outcome

    return asyncio.run(finish())
