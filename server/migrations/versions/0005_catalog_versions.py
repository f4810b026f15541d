"""One catalog for all servers (issue 10 item 4): versioned catalog and model metadata.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29

Each intent is stored as its YAML document (the text of its catalog file),
one row per intent per version that changed it. Why YAML text rather than
parsed JSON: the catalog's one validator works on the YAML (with file and
line numbers in its errors), an export gives back the reviewed files with
their comments byte for byte, and a product edit changes one row, not the
whole catalog. The versions table is empty on first start; the server seeds
version 1 from the YAML files.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add catalog_versions, catalog_documents and intent_models."""
    op.create_table(
        "catalog_versions",
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("author", sa.String(64), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("content_hash", sa.String(64), nullable=False),
    )
    op.create_table(
        "catalog_documents",
        sa.Column("code", sa.String(64), primary_key=True),
        sa.Column(
            "version",
            sa.Integer(),
            sa.ForeignKey("catalog_versions.version"),
            primary_key=True,
        ),
        sa.Column("file_name", sa.String(128), nullable=False),
        sa.Column("document", sa.Text(), nullable=True),
    )
    op.create_table(
        "intent_models",
        sa.Column("version", sa.String(16), primary_key=True),
        sa.Column("backend", sa.String(32), nullable=False),
        sa.Column("catalog_hash", sa.String(64), nullable=False),
        sa.Column("n_examples", sa.Integer(), nullable=False),
        sa.Column("n_corrections", sa.Integer(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("created_at", sa.String(40), nullable=False),
        sa.Column("checkpoint", sa.String(512), nullable=False),
        sa.Column("made_current_at", sa.DateTime(), nullable=True),
    )
    op.create_index("ix_intent_models_made_current_at", "intent_models", ["made_current_at"])


def downgrade() -> None:
    """Drop the catalog and model tables (the YAML export is the way back)."""
    op.drop_index("ix_intent_models_made_current_at", table_name="intent_models")
    op.drop_table("intent_models")
    op.drop_table("catalog_documents")
    op.drop_table("catalog_versions")
