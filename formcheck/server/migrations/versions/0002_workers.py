"""Fronts and workers on several machines: a `workers` table (one row per running worker:
its heartbeat, what it has scored) behind `/metrics`; worker names long enough for
`host/pid/name`; the CSRF secret in the database (`secrets`), shared by every front.

Revision ID: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("name", sa.String(120), primary_key=True),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer, nullable=False),
        sa.Column("state", sa.String(10), nullable=False),
        sa.Column("started_at", sa.Float, nullable=False),
        sa.Column("heartbeat_at", sa.Float, nullable=False),
        sa.Column("jobs_done", sa.Integer, nullable=False),
        sa.Column("scoring_s", sa.Float, nullable=False),
    )
    op.create_table(
        "secrets",
        sa.Column("name", sa.String(40), primary_key=True),
        sa.Column("value", sa.LargeBinary, nullable=False),
    )
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column(
            "worker", existing_type=sa.String(40), type_=sa.String(120), existing_nullable=True
        )


def downgrade() -> None:
    with op.batch_alter_table("jobs") as batch:
        batch.alter_column(
            "worker", existing_type=sa.String(120), type_=sa.String(40), existing_nullable=True
        )
    op.drop_table("secrets")
    op.drop_table("workers")
