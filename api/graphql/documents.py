"""Parsed and validated GraphQL documents, kept by query text.

Clients send the same few query texts over and over with different variables; parsing and
validating the catalog's nested page query costs ~11 ms, more than serving its answer from the
response cache. Validation depends on the schema, the rules and the text only (the limits read
literal page sizes, never variables), so a text's outcome holds for every request.
"""

from __future__ import annotations

from collections import OrderedDict

from graphql import (
    ASTValidationRule,
    DocumentNode,
    GraphQLError,
    GraphQLSchema,
    parse,
    specified_rules,
    validate,
)

from api.graphql.limits import limit_rules
from api.graphql.text import StorableStringLiterals

MAX_TOKENS = 20_000
KEPT_TEXT_LENGTH = 4096
"""Only valid texts up to this length are kept: a parsed document costs ~70 bytes per byte of
text, so 128 kept texts stay under ~40 MB whatever clients send; longer or invalid texts are
checked on every request."""


class ValidatedDocuments:
    """Used from the event loop's thread only, so it needs no lock."""

    def __init__(
        self,
        schema: GraphQLSchema,
        *,
        max_depth: int,
        max_complexity: int,
        max_list: int,
        size: int = 128,
    ) -> None:
        self.schema = schema
        self.rules: list[type[ASTValidationRule]] = [
            *specified_rules,
            StorableStringLiterals,
            *limit_rules(max_depth, max_complexity, max_list),
        ]
        self.size = size
        self._kept: OrderedDict[str, tuple[DocumentNode, list[GraphQLError]]] = OrderedDict()

    def check(self, query: str) -> tuple[DocumentNode, list[GraphQLError]]:
        """The document and its validation problems; raises the ``GraphQLError`` of a text
        that does not parse."""
        kept = self._kept.get(query)
        if kept is not None:
            self._kept.move_to_end(query)
            return kept
        document = parse(query, max_tokens=MAX_TOKENS)
        problems = validate(self.schema, document, self.rules)
        for problem in problems:
            problem.extensions = problem.extensions or {"code": "GRAPHQL_VALIDATION_FAILED"}
        if not problems and len(query) <= KEPT_TEXT_LENGTH:
            self._kept[query] = (document, problems)
            if len(self._kept) > self.size:
                self._kept.popitem(last=False)
        return document, problems
