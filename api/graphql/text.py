"""Strings Postgres cannot store (a NUL character, or a lone UTF-16 surrogate that has no UTF-8
form) are refused at the door, in query literals and in variables alike, so no resolver ever
passes one to the database and turns a bad input into a server error."""

from __future__ import annotations

from typing import Any

from graphql import ASTValidationRule, GraphQLError, StringValueNode

from catalog.schemas import UNSTORABLE, storable


class StorableStringLiterals(ASTValidationRule):
    def enter_string_value(self, node: StringValueNode, *_: Any) -> None:
        if not storable(node.value):
            self.report_error(GraphQLError(UNSTORABLE, node, extensions={"code": "BAD_USER_INPUT"}))


def unstorable_variable(value: Any, path: str = "variables") -> str | None:
    """The path of the first variable value that cannot be stored, if any."""
    if isinstance(value, str):
        return None if storable(value) else path
    if isinstance(value, dict):
        for key, item in value.items():
            found = unstorable_variable(key, path) or unstorable_variable(item, f"{path}.{key}")
            if found:
                return found
    if isinstance(value, list):
        for index, item in enumerate(value):
            found = unstorable_variable(item, f"{path}[{index}]")
            if found:
                return found
    return None
