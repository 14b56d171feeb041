"""Alembic migrations of the service's database (`formcheck db upgrade`; `formcheck serve`
applies them at start). One revision per schema change, same on SQLite and PostgreSQL."""
