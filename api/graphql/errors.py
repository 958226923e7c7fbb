"""Mutation errors as data: every payload carries ``errors: [CatalogError!]!`` with a camelCase
field path, a message and a stable code. Domain errors and pydantic validation errors both map
onto it, so clients handle one shape."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import graphene
from pydantic import BaseModel, ValidationError
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from catalog.db import is_lock_timeout
from catalog.errors import AtriumError, Busy


class CatalogErrorCode(graphene.Enum):
    """Why a catalog mutation was refused."""

    INVALID = "INVALID"
    NOT_FOUND = "NOT_FOUND"
    FORBIDDEN = "FORBIDDEN"
    UNAUTHENTICATED = "UNAUTHENTICATED"
    CONFLICT = "CONFLICT"
    INVALID_TRANSITION = "INVALID_TRANSITION"
    BUSY = "BUSY"
    BAD_REQUEST = "BAD_REQUEST"


class CatalogError(graphene.ObjectType):
    """One reason a mutation did not happen. Nothing of a refused mutation is written."""

    field = graphene.String(
        description="Path of the offending input field (camelCase, e.g. `files[3].checksums[0]`);"
        " null when the error concerns the whole request."
    )
    message = graphene.String(required=True, description="Human-readable explanation.")
    code = graphene.Field(CatalogErrorCode, required=True, description="Stable machine code.")


def camel_path(path: str | None) -> str | None:
    if path is None:
        return None
    return re.sub(r"_([a-z])", lambda m: m.group(1).upper(), path)


def from_validation(error: ValidationError, prefix: str = "") -> list[CatalogError]:
    found = []
    for item in error.errors():
        parts: list[str] = []
        for loc in item["loc"]:
            if isinstance(loc, int):
                parts.append(f"[{loc}]")
            elif loc not in ("function-after", "function-before") and not str(loc).startswith(
                ("function-", "literal[")
            ):
                parts.append(("." if parts else "") + str(loc))
        path = prefix + ("." if prefix and parts and not parts[0].startswith("[") else "")
        path += "".join(parts)
        message = str(item["msg"]).removeprefix("Value error, ")
        found.append(CatalogError(field=camel_path(path) or None, message=message, code="INVALID"))
    return found


def from_domain(error: AtriumError) -> CatalogError:
    return CatalogError(field=camel_path(error.field), message=error.message, code=error.code)


R = TypeVar("R")
B = TypeVar("B", bound=BaseModel)


def parse(model: type[B], raw: Any, prefix: str = "") -> tuple[B | None, list[CatalogError]]:
    try:
        return model.model_validate(raw), []
    except ValidationError as exc:
        return None, from_validation(exc, prefix)


def attempt(session: Session, work: Callable[[], R]) -> tuple[R | None, list[CatalogError]]:
    """Run one mutation inside a savepoint: a refused mutation leaves nothing behind, while
    the rest of the request's transaction stands."""
    savepoint = session.begin_nested()
    try:
        result = work()
    except AtriumError as exc:
        savepoint.rollback()
        return None, [from_domain(exc)]
    except OperationalError as exc:
        # Any lock wait that ran out (every connection has a lock_timeout), not only those of
        # the workflow's bounded blocks, is the caller's to retry, never an internal error.
        savepoint.rollback()
        if is_lock_timeout(exc):
            return None, [from_domain(Busy("another change holds this data; retry shortly"))]
        raise
    except BaseException:
        savepoint.rollback()
        raise
    savepoint.commit()
    return result, []
