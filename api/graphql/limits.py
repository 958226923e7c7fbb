"""Validation rules that refuse queries too deep or too expensive before anything executes.

Complexity estimates the number of objects a query could return: each field costs one, and a
field taking ``first`` multiplies the cost of its selection by that page size (20 if unset).
"""

from __future__ import annotations

from typing import Any

from graphql import (
    ASTValidationRule,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    IntValueNode,
    ListValueNode,
    OperationDefinitionNode,
    SelectionSetNode,
    ValidationContext,
    VariableNode,
)

DEFAULT_PAGE = 20


def limit_rules(
    max_depth: int, max_complexity: int, max_list: int
) -> list[type[ASTValidationRule]]:
    class QueryLimits(ASTValidationRule):
        def __init__(self, context: ValidationContext) -> None:
            super().__init__(context)
            self.fragments: dict[str, FragmentDefinitionNode] = {
                d.name.value: d
                for d in context.document.definitions
                if isinstance(d, FragmentDefinitionNode)
            }
            self.variables: dict[str, Any] = {}

        def enter_operation_definition(self, node: OperationDefinitionNode, *_: Any) -> None:
            depth, cost = self._measure(node.selection_set, 0, set())
            name = node.name.value if node.name else "anonymous operation"
            if depth > max_depth:
                self.report_error(
                    GraphQLError(
                        f"'{name}' is {depth} levels deep; the limit is {max_depth}.",
                        node,
                        extensions={"code": "QUERY_TOO_DEEP"},
                    )
                )
            if cost > max_complexity:
                self.report_error(
                    GraphQLError(
                        f"'{name}' could return about {cost} objects; the limit is "
                        f"{max_complexity}. Ask for smaller pages or fewer nested lists.",
                        node,
                        extensions={"code": "QUERY_TOO_COMPLEX"},
                    )
                )

        def _measure(
            self, selection_set: SelectionSetNode | None, depth: int, seen: set[str]
        ) -> tuple[int, int]:
            if selection_set is None:
                return depth, 0
            deepest, cost = depth, 0
            for selection in selection_set.selections:
                if isinstance(selection, FieldNode):
                    sub_depth, sub_cost = self._measure(selection.selection_set, depth + 1, seen)
                    deepest = max(deepest, sub_depth)
                    cost += 1 + _page_size(selection, max_list) * sub_cost
                elif isinstance(selection, InlineFragmentNode):
                    sub_depth, sub_cost = self._measure(selection.selection_set, depth, seen)
                    deepest, cost = max(deepest, sub_depth), cost + sub_cost
                elif isinstance(selection, FragmentSpreadNode):
                    name = selection.name.value
                    fragment = self.fragments.get(name)
                    if fragment is None or name in seen:
                        continue  # unknown or cyclic fragments are reported by standard rules
                    sub_depth, sub_cost = self._measure(
                        fragment.selection_set, depth, seen | {name}
                    )
                    deepest, cost = max(deepest, sub_depth), cost + sub_cost
            return deepest, cost

    return [QueryLimits]


LISTED_ARGUMENTS = frozenset({"uris"})
"""Arguments whose list length is the number of objects returned (``resolveDrs(uris)``)."""


def _page_size(field: FieldNode, max_list: int) -> int:
    """``max_list``: what a listed argument given as a variable counts as, since validation
    does not see variable values (the most such a list may hold)."""
    for argument in field.arguments or ():
        if argument.name.value in ("first", "last"):
            if isinstance(argument.value, IntValueNode):
                return max(1, int(argument.value.value))
            if isinstance(argument.value, VariableNode):
                return 100
        if argument.name.value in LISTED_ARGUMENTS:
            if isinstance(argument.value, ListValueNode):
                return max(1, len(argument.value.values))
            return max_list
    return DEFAULT_PAGE if _is_connection(field) else 1


def _is_connection(field: FieldNode) -> bool:
    selections = field.selection_set.selections if field.selection_set else ()
    return any(isinstance(s, FieldNode) and s.name.value == "edges" for s in selections)
