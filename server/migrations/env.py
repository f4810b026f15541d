"""Alembic environment: migrations run programmatically at server start-up.

``server.db.migrate`` hands over an open connection in
``config.attributes["connection"]``; there is no alembic.ini, and logging is
left alone (the server owns it).
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import engine_from_config, pool

from server.db import Base

target_metadata = Base.metadata
config = context.config


def _run(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=connection.dialect.name == "sqlite",  # type: ignore[attr-defined]
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is not None:
    _run(connection)
else:
    # `alembic -x ...` from a shell: needs sqlalchemy.url in the config.
    engine = engine_from_config(
        config.get_section(config.config_ini_section) or {},
        prefix="sqlalchemy.",
        poolclass=pool.NullPool,
    )
    with engine.connect() as conn:
        _run(conn)
