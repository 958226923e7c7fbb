"""Alembic environment. It runs on the connection that ``catalog.migrate`` hands over, so the
CLI, start-up and tests migrate exactly the database they already talk to."""

from alembic import context

import catalog.models
import governance.models
import search.models
from catalog.db import Base

assert catalog.models  # the imports register every package's tables on the metadata
assert governance.models
assert search.models

connection = context.config.attributes["connection"]
context.configure(connection=connection, target_metadata=Base.metadata)
with context.begin_transaction():
    context.run_migrations()
