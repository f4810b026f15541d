"""Write-ahead live calls (issue 10): one row per call in progress.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add live_calls (case statuses are plain strings: ``interrupted`` needs no change)."""
    op.create_table(
        "live_calls",
        sa.Column("case_id", sa.String(64), primary_key=True),
        sa.Column("customer_id", sa.String(128), nullable=True),
        sa.Column("scenario", sa.String(64), nullable=True),
        sa.Column("instance", sa.String(64), nullable=False),
        sa.Column("host", sa.String(255), nullable=False),
        sa.Column("pid", sa.Integer(), nullable=False),
        sa.Column("turns", sa.Integer(), nullable=False),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
    )
    op.create_index("ix_live_calls_instance", "live_calls", ["instance"])
    op.create_index("ix_live_calls_heartbeat_at", "live_calls", ["heartbeat_at"])


def downgrade() -> None:
    """Drop live_calls."""
    op.drop_index("ix_live_calls_heartbeat_at", table_name="live_calls")
    op.drop_index("ix_live_calls_instance", table_name="live_calls")
    op.drop_table("live_calls")
