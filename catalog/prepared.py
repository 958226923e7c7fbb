"""Server-side prepared statements for the reads on the hottest paths.

Postgres spends about 0.6 ms planning the DRS lookup and 0.3 ms executing it (measured on the
1,000,000-file benchmark catalog, BENCHMARKS.md). A statement prepared once per connection
skips the planning on every later request. Each statement is written with SQLAlchemy, so it
follows the models, and compiled once to SQL with ``$n`` parameters for ``PREPARE``.

Prepared statements live in the database session, not in a transaction: a rollback keeps them,
and which statements a connection holds is remembered with it (a SQLAlchemy connection's
``info``, or ``api.async_postgres.AsyncConnection.prepared``). Poolers
that share one server session between clients per transaction (PgBouncer's transaction mode)
cannot carry them; put Atrium behind session pooling or none.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any, cast

import psycopg2.errors as psycopg2_errors
from sqlalchemy.dialects.postgresql import psycopg2
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

PREPARED = "atrium_prepared_statements"


class PreparedQuery:
    """One statement, prepared on each connection the first time that connection runs it."""

    def __init__(self, name: str, statement: ClauseElement) -> None:
        if not re.fullmatch(r"[a-z_][a-z0-9_]*", name):
            raise ValueError(f"{name!r} is not a plain SQL identifier")
        dialect = psycopg2.dialect(paramstyle="numeric_dollar")  # type: ignore[no-untyped-call]
        compiled = cast(SQLCompiler, statement.compile(dialect=dialect))
        self.name = name
        self.parameters: tuple[str, ...] = tuple(compiled.positiontup or ())
        self.prepare_sql = f"PREPARE {name} AS {compiled.string}"
        placeholders = ", ".join("%s" for _ in self.parameters)
        self.execute_sql = f"EXECUTE {name}({placeholders})" if placeholders else f"EXECUTE {name}"

    def rows(self, connection: Connection, values: Mapping[str, Any]) -> Sequence[tuple[Any, ...]]:
        """The statement's rows for ``values`` (a value for every bound parameter name),
        preparing it first on a connection that has not run it yet."""
        prepared: set[str] = connection.connection.info.setdefault(PREPARED, set())
        if self.name not in prepared:
            # No parameters: the driver must not read the SQL's own % signs as placeholders.
            connection.execution_options(no_parameters=True).exec_driver_sql(self.prepare_sql)
            prepared.add(self.name)
        try:
            result = connection.exec_driver_sql(self.execute_sql, self.arguments(values))
        except DBAPIError as exc:
            if isinstance(exc.orig, psycopg2_errors.Error) and stale_plan(exc.orig):
                # The transaction is lost either way; a new connection prepares afresh.
                prepared.discard(self.name)
                connection.invalidate()
            raise
        return cast(Sequence[tuple[Any, ...]], result.all())

    def arguments(self, values: Mapping[str, Any]) -> tuple[Any, ...]:
        """``values`` in the order of the statement's ``$n`` parameters."""
        return tuple(values[name] for name in self.parameters)


def stale_plan(error: psycopg2_errors.Error) -> bool:
    """Postgres' refusal to run a prepared statement whose result columns changed type since it
    was prepared (a migration applied while servers run; it replans after other schema changes
    by itself). Told by its SQLSTATE and the function that raised it, not by its message,
    which the server may translate."""
    return error.pgcode == "0A000" and error.diag.source_function == "RevalidateCachedQuery"
