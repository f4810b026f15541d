"""Alembic migrations, run programmatically by server.db.migrate."""
