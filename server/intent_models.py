"""Which trained intent model is live, agreed by every server through the database.

The weights stay in ``Settings.intent_model_dir`` (a volume every server
mounts); the ``intent_models`` table holds each version's meta.json and
which one was made current last. ``frontdesk intents train`` and
``rollback`` record here through :class:`intents.store.ModelStore`'s
recorder, and each server's catalog watcher loads the named version.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from intents.store import ModelMeta, ModelRecorder
from server.db import IntentModelRow, utcnow


def record(session: Session, meta: ModelMeta, current: bool) -> None:
    """Store (or update) ``meta``; ``current`` makes it the live model for every server."""
    row = session.get(IntentModelRow, meta.version)
    if row is None:
        row = IntentModelRow(version=meta.version)
        session.add(row)
    row.backend = meta.backend
    row.catalog_hash = meta.catalog_hash
    row.n_examples = meta.n_examples
    row.n_corrections = meta.n_corrections
    row.metrics = dict(meta.metrics)
    row.created_at = meta.created_at
    row.checkpoint = meta.checkpoint
    if current:
        row.made_current_at = utcnow()
    session.commit()


def recorder(sessions: sessionmaker[Any] | Callable[[], Session]) -> ModelRecorder:
    """A :data:`ModelRecorder` writing to the database ``sessions`` open."""

    def write(meta: ModelMeta, current: bool) -> None:
        with sessions() as session:
            record(session, meta, current)

    return write


def current_version(session: Session) -> str | None:
    """The version made current last, None when no model is recorded yet."""
    return session.execute(
        select(IntentModelRow.version)
        .where(IntentModelRow.made_current_at.is_not(None))
        .order_by(IntentModelRow.made_current_at.desc(), IntentModelRow.version.desc())
        .limit(1)
    ).scalar_one_or_none()
