"""The Alembic migration builds exactly the models' schema, on SQLite and PostgreSQL,
and the audit log is append-only in the database itself."""

from __future__ import annotations

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from server.db import MIGRATIONS_DIR, Base, make_engine, migrate
from server.repository import append_audit


def _head() -> str:
    """The newest revision in server/migrations (each engineer chains one after it)."""
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    head = ScriptDirectory.from_config(cfg).get_current_head()
    assert head is not None
    return head


def test_migration_matches_models_and_is_idempotent(db_url: str) -> None:
    engine = make_engine(db_url)
    migrate(engine)
    migrate(engine)  # a second server start changes nothing
    with engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
        version = conn.execute(sa.text("SELECT version_num FROM alembic_version")).scalar_one()
    engine.dispose()
    assert diff == []
    assert version == _head()


@pytest.mark.parametrize(
    "statement",
    ["UPDATE audit_log SET actor = 'mallory'", "DELETE FROM audit_log"],
)
def test_audit_log_refuses_update_and_delete(db: Session, statement: str) -> None:
    append_audit(db, actor="teller", action="case.accept", case_id="c_1", reason="ok")
    db.commit()
    with pytest.raises(DBAPIError, match="append-only"):
        db.execute(sa.text(statement))
    db.rollback()
    rows = db.execute(sa.text("SELECT actor, action FROM audit_log")).all()
    assert [tuple(r) for r in rows] == [("teller", "case.accept")]
