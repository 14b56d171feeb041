"""Alembic's environment: runs on the connection `formcheck.server.db.upgrade` hands it."""

from __future__ import annotations

from alembic import context

from formcheck.server.db import metadata

connection = context.config.attributes["connection"]
# SQLite alters a table by copying it (batch mode); PostgreSQL alters in place.
context.configure(
    connection=connection,
    target_metadata=metadata,
    render_as_batch=connection.dialect.name == "sqlite",
)
with context.begin_transaction():
    context.run_migrations()
