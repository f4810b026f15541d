"""Each turn's audio kept with its case (issue 9): the recordings table.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add recordings: one OGG/Opus file per case turn, deleted after the retention days."""
    op.create_table(
        "recordings",
        sa.Column("id", sa.Integer(), primary_key=True),
        sa.Column("case_id", sa.String(64), nullable=False),
        sa.Column("turn", sa.Integer(), nullable=False),
        sa.Column("mime_type", sa.String(64), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.UniqueConstraint("case_id", "turn", name="uq_recordings_case_turn"),
    )
    op.create_index("ix_recordings_created_at", "recordings", ["created_at"])


def downgrade() -> None:
    """Drop recordings."""
    op.drop_index("ix_recordings_created_at", table_name="recordings")
    op.drop_table("recordings")
