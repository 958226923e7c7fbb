"""Alembic environment and versions: the only place Atrium's schema changes."""
