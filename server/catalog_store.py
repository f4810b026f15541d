"""The intent catalog in the database: versioned, shared by every server.

Every server on one database reads the same catalog: the highest version in
``catalog_versions``. A product edit validates the whole edited catalog
(the same validator as the YAML files, :mod:`intents.catalog`) and commits
it as the next version, storing only the intents it changed
(``catalog_documents``; see migration 0005 for why each intent is its YAML
text).

Optimistic concurrency, per intent: an intent's *revision* is the catalog
version that last changed it. An edit of an existing intent names the
revision the user saw; when the intent has changed since, the edit is
refused with :class:`StaleEditError` (HTTP 409, with what changed), never
applied over the other user's change. Edits of different intents do not
conflict. Two servers committing at the same moment both try to insert the
same next version; the primary key lets one win and the other re-reads and
retries, so no edit is lost and no lock is held.

The database is empty on first start: version 1 is seeded from the YAML
files — the configured ``understanding.catalog_dir``, else the copy an
older release kept edits in (``data_dir/catalog``), else the shipped one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from intents.catalog import Catalog, CatalogError, IntentSpec, shipped_catalog_dir
from server.db import (
    CatalogDocumentRow,
    CatalogVersionRow,
    make_engine,
    make_sessionmaker,
    migrate,
    utcnow,
)
from server.errors import ConflictError
from voice_agent.settings import Settings

#: Where releases before the database catalog kept product edits (still a seed source).
LEGACY_EDIT_DIR = "catalog"
#: Attempts at committing when other servers keep committing first.
COMMIT_ATTEMPTS = 5


@dataclass(frozen=True)
class CatalogVersion:
    """One stored catalog version, validated.

    Attributes:
        version: the catalog version (1, 2, …).
        catalog: its intents.
        revisions: intent code → the version that last changed it.
        created_at: when it was committed (UTC).
        author: who committed it (a username, or ``seed``/``import``).
        note: what changed, in words.
    """

    version: int
    catalog: Catalog
    revisions: Mapping[str, int]
    created_at: dt.datetime
    author: str
    note: str


class StaleEditError(ConflictError):
    """The intent changed since the user saw it; nothing was stored (HTTP 409).

    Attributes:
        code: the intent.
        base_revision: the revision the user saw.
        current: the catalog now.
        changed: the intent's fields that differ between the two revisions
            (empty when the revision the user saw is unknown).
    """

    def __init__(
        self, code: str, base_revision: int, current: CatalogVersion, changed: tuple[str, ...]
    ) -> None:
        self.code = code
        self.base_revision = base_revision
        self.current = current
        self.changed = changed
        now = current.revisions.get(code)
        what = f" ({', '.join(changed)} changed)" if changed else ""
        super().__init__(
            f"intent {code!r} was changed by someone else: you edited revision "
            f"{base_revision}, it is now revision {now}{what}; reload and redo your edit"
        )


def origin(version: int) -> Path:
    """What a stored version's documents are called in errors and ``spec.path``."""
    return Path(f"database:catalog@v{version}")


def content_hash(catalog: Catalog) -> str:
    """sha256 of the catalog's documents (file names and texts), as stored."""
    digest = hashlib.sha256()
    for name, text in sorted(catalog.to_documents().items()):
        digest.update(name.encode("utf-8") + b"\0" + text.encode("utf-8") + b"\0")
    return digest.hexdigest()


def head(session: Session) -> int | None:
    """The newest catalog version, None before the seed (one cheap query)."""
    value = session.execute(select(func.max(CatalogVersionRow.version))).scalar_one_or_none()
    return int(value) if value is not None else None


def stored_documents(
    session: Session, version: int | None = None
) -> tuple[CatalogVersionRow, dict[str, str], dict[str, int]] | None:
    """Version ``version``'s row, file name → YAML text and code → revision, unvalidated.

    ``frontdesk intents export`` uses it as is, so a version a newer
    release's validator refuses can still be exported, fixed and imported.
    """
    version = head(session) if version is None else version
    row = session.get(CatalogVersionRow, version) if version is not None else None
    if row is None:
        return None
    newest = (
        select(CatalogDocumentRow.code, func.max(CatalogDocumentRow.version).label("v"))
        .where(CatalogDocumentRow.version <= row.version)
        .group_by(CatalogDocumentRow.code)
        .subquery()
    )
    docs = session.execute(
        select(CatalogDocumentRow).join(
            newest,
            (CatalogDocumentRow.code == newest.c.code) & (CatalogDocumentRow.version == newest.c.v),
        )
    ).scalars()
    documents: dict[str, str] = {}
    revisions: dict[str, int] = {}
    for doc in docs:
        if doc.document is not None:
            documents[doc.file_name] = doc.document
            revisions[doc.code] = doc.version
    return row, documents, revisions


def load_version(session: Session, version: int | None = None) -> CatalogVersion | None:
    """Catalog ``version`` (None: the newest), validated; None when there is no such version.

    Raises:
        CatalogError: the stored version does not pass this release's
            validator (export it, fix it, ``import --force``).
    """
    stored = stored_documents(session, version)
    if stored is None:
        return None
    row, documents, revisions = stored
    try:
        catalog = Catalog.from_documents(origin(row.version), documents)
    except CatalogError as e:
        raise CatalogError(
            e.directory,
            e.issues,
            "`frontdesk intents export DIR`, fix the files, `frontdesk intents import --force DIR`",
        ) from e
    return CatalogVersion(
        version=row.version,
        catalog=catalog,
        revisions=MappingProxyType(revisions),
        created_at=row.created_at,
        author=row.author,
        note=row.note,
    )


def seed_dir(settings: Settings) -> Path:
    """The YAML catalog version 1 is made from (see the module docstring)."""
    if settings.understanding.catalog_dir is not None:
        return settings.understanding.catalog_dir
    legacy = settings.data_dir / LEGACY_EDIT_DIR
    return legacy if legacy.is_dir() else shipped_catalog_dir()


def effective_settings(settings: Settings) -> Settings:
    """``settings`` with ``catalog_dir`` at the legacy edited copy, when there is one.

    For the offline commands that read YAML (``understand``, ``handle``,
    ``call-token``): an install upgraded from a release that kept edits in
    ``data_dir/catalog`` keeps reading them. The server and ``frontdesk
    intents`` read the database (export it with ``frontdesk intents export``).
    """
    if settings.understanding.catalog_dir is not None:
        return settings
    legacy = settings.data_dir / LEGACY_EDIT_DIR
    if not legacy.is_dir():
        return settings
    understanding = settings.understanding.model_copy(update={"catalog_dir": legacy})
    return settings.model_copy(update={"understanding": understanding})


def database_catalog(settings: Settings) -> CatalogVersion:
    """The newest catalog of ``settings``' database (migrated and seeded if new): for the CLI."""
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        with make_sessionmaker(engine)() as session:
            return ensure_catalog(session, settings)
    finally:
        engine.dispose()


def ensure_catalog(session: Session, settings: Settings) -> CatalogVersion:
    """The newest catalog version, seeding version 1 from the YAML files when there is none.

    Servers starting together may both seed; one insert wins and the other
    reads the winner's version.

    Raises:
        CatalogError: the seed directory's catalog is invalid (nothing stored).
    """
    current = load_version(session)
    if current is not None:
        return current
    directory = seed_dir(settings)
    try:
        seeded = commit(session, 0, {}, Catalog.load(directory), "seed", f"seeded from {directory}")
        assert seeded is not None  # a catalog is never empty
        return seeded
    except LostRaceError:
        found = load_version(session)
        assert found is not None  # the winner committed a version
        return found


class LostRaceError(Exception):
    """Another server committed the same version number first (re-read and retry)."""


def commit(
    session: Session,
    base_version: int,
    before: Mapping[str, str],
    edited: Catalog,
    author: str,
    note: str,
) -> CatalogVersion | None:
    """Store ``edited`` as the version after ``base_version``, with the intents that differ.

    Args:
        base_version: the newest version read (0: none yet).
        before: its documents (file name → YAML text).

    Returns:
        The stored version; None when nothing differs (no empty versions).

    Raises:
        LostRaceError: another server stored that version first (re-read and retry).
    """
    after = edited.to_documents()
    changed = {name: text for name, text in after.items() if before.get(name) != text}
    removed = [name for name in before if name not in after]
    if not changed and not removed:
        return None
    version = base_version + 1
    session.add(
        CatalogVersionRow(
            version=version,
            created_at=utcnow(),
            author=author[:64],
            note=note,
            content_hash=content_hash(edited),
        )
    )
    try:
        session.flush()  # the version row first: the documents refer to it
        for name, text in changed.items():
            session.add(
                CatalogDocumentRow(
                    code=Path(name).stem, version=version, file_name=name, document=text
                )
            )
        for name in removed:
            session.add(
                CatalogDocumentRow(
                    code=Path(name).stem, version=version, file_name=name, document=None
                )
            )
        session.commit()
    except IntegrityError as e:
        session.rollback()
        raise LostRaceError(str(e)) from e
    stored = load_version(session, version)
    assert stored is not None
    return stored


def edit(
    session: Session,
    settings: Settings,
    change: Callable[[Catalog], Catalog],
    *,
    author: str,
    note: str,
    code: str | None = None,
    base_revision: int | None = None,
) -> CatalogVersion:
    """Apply ``change`` to the newest catalog and commit it as the next version.

    Args:
        session: the database.
        settings: where to seed from if the database has no catalog yet.
        change: a pure edit (e.g. ``lambda c: c.with_example(code, text)``);
            it validates and raises ConfigError for a bad edit.
        author: the product user's name.
        note: what the edit does, in words (kept with the version).
        code: the intent edited, when it exists already.
        base_revision: the revision of ``code`` the user saw.

    Raises:
        StaleEditError: ``code`` is at another revision than ``base_revision``.
        ConfigError: the edit is invalid (nothing stored).
        ConflictError: other servers kept committing first (try again).
    """
    for _ in range(COMMIT_ATTEMPTS):
        current = ensure_catalog(session, settings)
        if code is not None and base_revision is not None:
            revision = current.revisions.get(code)
            if revision is not None and revision != base_revision:
                raise StaleEditError(
                    code, base_revision, current, changed_fields(session, code, base_revision)
                )
        edited = change(current.catalog)
        try:
            before = current.catalog.to_documents()
            return commit(session, current.version, before, edited, author, note) or current
        except LostRaceError:
            continue
    raise ConflictError(
        f"the catalog changed {COMMIT_ATTEMPTS} times while saving this edit; try again"
    )


def changed_fields(session: Session, code: str, base_revision: int) -> tuple[str, ...]:
    """The fields of intent ``code`` that differ between ``base_revision`` and now."""
    old_version, new_version = load_version(session, base_revision), load_version(session)
    if old_version is None or new_version is None:
        return ()
    old, new = old_version.catalog.intents.get(code), new_version.catalog.intents.get(code)
    if old is None or new is None:
        return ("intent",)
    before, after = intent_json(old), intent_json(new)
    return tuple(key for key in after if before.get(key) != after[key])


def intent_json(spec: IntentSpec, revision: int | None = None) -> dict[str, Any]:
    """One intent as the product console shows and edits it."""
    out: dict[str, Any] = {
        "code": spec.code,
        "name": spec.name,
        "description": spec.description,
        "slots": list(spec.slots),
        "required": [list(group) for group in spec.required],
        "prompts": dict(spec.prompts),
        "readback": spec.readback.to_data(),
        "summary": spec.summary.to_data(),
        "scenarios": {
            code: {
                "greeting": sc.greeting,
                "also_expected": list(sc.also_expected),
                "teller_note": sc.teller_note,
            }
            for code, sc in spec.scenarios.items()
        },
        "examples": [ex.text for ex in spec.examples],
    }
    if revision is not None:
        out["revision"] = revision
    return out


def catalog_json(current: CatalogVersion) -> dict[str, object]:
    """The product console's view of the catalog: its version and every intent's revision."""
    return {
        "directory": str(current.catalog.directory),
        "version": current.version,
        "updated_at": current.created_at.isoformat(timespec="seconds") + "Z",
        "updated_by": current.author,
        "intents": [
            intent_json(spec, current.revisions.get(spec.code)) for spec in current.catalog
        ],
    }
