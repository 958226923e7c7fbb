"""The /graphql HTTP endpoint: GraphiQL on GET from a browser, queries over GET or POST,
mutations over POST only.

Each request is executed on one worker thread that owns the request's session and runs the
resolvers, on its own event loop when any resolver awaits (ADR 0001). The transaction commits
once after execution, and rolls back if anything failed unexpectedly, before the response is
sent.
"""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import orjson
from graphql import (
    DocumentNode,
    ExecutionResult,
    GraphQLError,
    GraphQLSchema,
    OperationDefinitionNode,
    OperationType,
)
from sqlalchemy.orm import Session, sessionmaker
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response

from api.auth.principals import principal_from_claims
from api.database import ReadConnections
from api.drs.uris import DrsNaming
from api.graphql.caller_access import CallerAccess, generation_and_caller_access
from api.graphql.catalog_memo import CatalogMemo
from api.graphql.context import Context
from api.graphql.documents import ValidatedDocuments
from api.graphql.execution import execute_document
from api.graphql.graphiql import GRAPHIQL_HTML
from api.graphql.response_cache import ResponseCache, cache_key
from api.graphql.text import unstorable_variable
from api.json_response import JSONResponse
from catalog import audit
from catalog import generation as catalog_generation
from catalog.errors import AtriumError
from catalog.schemas import UNSTORABLE
from search.backend import SearchBackend

log = logging.getLogger(__name__)

CACHE_HEADER = "atrium-cache"
"""`hit`, `coalesced` or `miss` on answers the response cache could serve; absent on others."""


@dataclass(frozen=True)
class GraphQLConfig:
    schema: GraphQLSchema
    sessions: sessionmaker[Session]
    base_url: str
    search: SearchBackend
    reads: ReadConnections
    cache: ResponseCache | None
    drs: DrsNaming
    max_drs_uris: int
    json_pages: bool
    memo: CatalogMemo | None
    documents: ValidatedDocuments


async def graphql_endpoint(request: Request) -> Response:
    config: GraphQLConfig = request.app.state.graphql
    if request.method == "GET" and "text/html" in request.headers.get("accept", ""):
        return HTMLResponse(GRAPHIQL_HTML)
    try:
        payload = await _payload(request)
        query = payload.get("query")
        if not isinstance(query, str) or not query.strip():
            raise ValueError("a GraphQL request needs a non-empty 'query' string")
        variables = payload.get("variables") or {}
        if not isinstance(variables, dict):
            raise ValueError("'variables' must be a JSON object")
        operation_name = payload.get("operationName")
        if operation_name is not None and not isinstance(operation_name, str):
            raise ValueError("'operationName' must be a string")
    except ValueError as exc:
        return _errors(400, [GraphQLError(str(exc), extensions={"code": "BAD_REQUEST"})])
    try:
        document, problems = config.documents.check(query)
    except GraphQLError as exc:
        exc.extensions = {"code": "GRAPHQL_PARSE_FAILED"}
        return _errors(400, [exc])
    bad_variable = unstorable_variable(variables)
    if bad_variable is not None:
        return _errors(
            400,
            [GraphQLError(f"{bad_variable}: {UNSTORABLE}", extensions={"code": "BAD_USER_INPUT"})],
        )
    if problems:
        return _errors(400, problems)
    if request.method == "GET" and _operation_type(document, operation_name) is not (
        OperationType.QUERY
    ):
        return _errors(
            405, [GraphQLError("mutations need POST", extensions={"code": "METHOD_NOT_ALLOWED"})]
        )
    claims = request.scope["state"].get("claims")
    try:
        return await _executed(config, document, query, variables, operation_name, claims)
    except Exception:
        # Outside any resolver: the cache's reads, the session, the commit.
        log.exception("GraphQL request failed")
        return _errors(
            500,
            [GraphQLError("Internal server error", extensions={"code": "INTERNAL_SERVER_ERROR"})],
        )


async def _executed(
    config: GraphQLConfig,
    document: DocumentNode,
    query: str,
    variables: dict[str, Any],
    operation_name: str | None,
    claims: dict[str, Any] | None,
) -> Response:
    """The answer, from the response cache where it may be kept."""

    async def execute(
        claims: dict[str, Any] | None, access: CallerAccess | None = None
    ) -> ExecutionResult:
        return await run_in_threadpool(
            _execute_in_transaction, config, document, variables, operation_name, claims, access
        )

    cache = config.cache
    key = cache_key(document, query, operation_name, variables) if cache is not None else None
    if cache is not None and key is not None:
        digest, access = key.digest, None
        if key.same_for_everyone:
            # Kept under the anonymous key, so computed as the anonymous caller: a field that
            # came to depend on its caller would not hand a signed-in answer to everyone.
            claims = None
        if claims is not None:
            generation, access = await generation_and_caller_access(
                config.reads, claims, datetime.now(UTC)
            )
            digest = hashlib.sha256(digest + access.key()).digest()
        else:
            ((generation,),) = await config.reads.rows(catalog_generation.CURRENT, {})

        async def compute() -> tuple[bytes, bool]:
            result = await execute(claims, access)
            return orjson.dumps(_format(result)), not result.errors

        body, state = await cache.answer(digest, generation, compute)
        return _answer(body, state)
    result = await execute(claims)
    return _answer(orjson.dumps(_format(result)), None)


def _answer(body: bytes, cache: str | None) -> Response:
    headers = {"cache-control": "no-store"}
    if cache is not None:
        headers[CACHE_HEADER] = cache
    return Response(body, media_type="application/json", headers=headers)


def _execute_in_transaction(
    config: GraphQLConfig,
    document: DocumentNode,
    variables: dict[str, Any],
    operation_name: str | None,
    claims: dict[str, Any] | None,
    access: CallerAccess | None,
) -> ExecutionResult:
    """``access``, when given, is the caller as already read: its answer is kept under it, so
    it is executed with exactly that."""
    with config.sessions() as session:
        context = Context(
            session=session,
            principal=access.principal
            if access is not None
            else principal_from_claims(session.connection(), claims),
            base_url=config.base_url,
            search=config.search,
            drs=config.drs,
            max_drs_uris=config.max_drs_uris,
            json_pages=config.json_pages,
            memo=config.memo,
            now=access.now if access is not None else datetime.now(UTC),
            granted=access.granted if access is not None else None,
        )
        result = execute_document(
            config.schema,
            document,
            context=context,
            variables=variables,
            operation_name=operation_name,
        )
        if any(_unexpected(e) for e in result.errors or ()):
            session.rollback()
        else:
            session.commit()
            audit.seal_appended(session)
        return result


async def _payload(request: Request) -> dict[str, Any]:
    if request.method == "GET":
        params = request.query_params
        variables = params.get("variables")
        return {
            "query": params.get("query"),
            "variables": json.loads(variables) if variables else None,
            "operationName": params.get("operationName"),
        }
    if "application/json" not in request.headers.get("content-type", ""):
        raise ValueError("POST a JSON body with Content-Type: application/json")
    try:
        body = json.loads(await request.body())
    except json.JSONDecodeError as exc:
        raise ValueError(f"request body is not valid JSON: {exc.msg}") from exc
    if not isinstance(body, dict):
        raise ValueError("request body must be a JSON object")
    return body


def _operation_type(document: DocumentNode, name: str | None) -> OperationType | None:
    for definition in document.definitions:
        if isinstance(definition, OperationDefinitionNode) and (
            name is None or (definition.name and definition.name.value == name)
        ):
            return definition.operation
    return None


def _unexpected(error: GraphQLError) -> bool:
    """Domain refusals and GraphQL's own input errors (which wrap a GraphQLError when a
    variable does not fit its type) are the caller's; anything else is ours."""
    return error.original_error is not None and not isinstance(
        error.original_error, AtriumError | GraphQLError
    )


def _format(result: ExecutionResult) -> dict[str, Any]:
    body: dict[str, Any] = {"data": result.data}
    if result.errors:
        body["errors"] = [_format_error(e) for e in result.errors]
    return body


def _format_error(error: GraphQLError) -> dict[str, Any]:
    original = error.original_error
    formatted: dict[str, Any] = dict(error.formatted)
    if isinstance(original, AtriumError):
        extensions: dict[str, Any] = {"code": original.code}
        if original.field:
            extensions["field"] = original.field
        formatted["message"] = original.message
        formatted["extensions"] = extensions
    elif isinstance(original, GraphQLError):
        formatted["extensions"] = {"code": "BAD_USER_INPUT"}
    elif original is not None:
        log.error("unexpected error in %s", error.path, exc_info=original)
        formatted["message"] = "Internal server error"
        formatted["extensions"] = {"code": "INTERNAL_SERVER_ERROR"}
    return formatted


def _errors(status: int, errors: list[GraphQLError]) -> JSONResponse:
    return JSONResponse({"errors": [e.formatted for e in errors]}, status_code=status)
