"""``frontdesk intents import``: a reviewed YAML directory as the next catalog version.

The same rule as a console edit, intent by intent, against the version the
directory was exported from: an intent left as exported keeps the
database's current text (console edits made since survive); one the
directory changes, adds or removes is taken from it; one changed on both
sides refuses the whole import. ``--force`` (no base version) makes the
directory the whole catalog, and works even when the stored version does
not pass this release's validator.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy.orm import Session

from intents.catalog import Catalog
from models.errors import InputError
from server.catalog_store import (
    COMMIT_ATTEMPTS,
    CatalogVersion,
    LostRaceError,
    commit,
    ensure_catalog,
    head,
    load_version,
    origin,
    stored_documents,
)
from server.errors import ConflictError
from voice_agent.settings import Settings


class ImportConflictError(ConflictError):
    """Intents an import changes that were also changed in the database since its export."""

    def __init__(self, base_version: int, current: CatalogVersion, codes: list[str]) -> None:
        self.codes = codes
        changed = ", ".join(
            f"{c} (v{current.revisions[c]})" if c in current.revisions else f"{c} (removed)"
            for c in codes
        )
        super().__init__(
            f"not imported: changed in the database since export v{base_version}: {changed}; "
            "export again, redo your edit on it and import that (or --force to overwrite)"
        )


def merged_import(
    session: Session, current: CatalogVersion, base_version: int, incoming: Catalog
) -> Catalog:
    """``incoming`` (edited from an export of ``base_version``) applied over ``current``.

    Intent by intent, like a console edit: an intent the import leaves as it
    was exported keeps the database's current document (edits made since
    survive); one it changes, adds or removes is taken from the import,
    unless the database changed that intent too since the export.

    Raises:
        ImportConflictError: the import and the database both changed an intent.
        CatalogError: the merged catalog is invalid (e.g. the same example
            under two intents, one from each side).
        InputError: no such base version.
    """
    base = load_version(session, base_version)
    if base is None:
        raise InputError(f"the export names catalog v{base_version}, which does not exist")
    was, now, new = (
        base.catalog.to_documents(),
        current.catalog.to_documents(),
        incoming.to_documents(),
    )
    merged = dict(now)
    conflicts = []
    for name in sorted(set(was) | set(new)):
        if new.get(name) == was.get(name):
            continue  # untouched by the import: the database's document stays
        if now.get(name) != was.get(name) and now.get(name) != new.get(name):
            conflicts.append(Path(name).stem)
        elif name in new:
            merged[name] = new[name]
        else:
            merged.pop(name, None)
    if conflicts:
        raise ImportConflictError(base_version, current, conflicts)
    return Catalog.from_documents(origin(current.version), merged)


def replace_all(
    session: Session,
    settings: Settings,
    catalog: Catalog,
    author: str,
    note: str,
    base_version: int | None = None,
) -> CatalogVersion:
    """Store ``catalog`` (validated, e.g. an imported directory) as the next version.

    Args:
        base_version: the version ``catalog`` was exported from: it is merged
            over edits made since (:func:`merged_import`). None: ``catalog``
            replaces the whole catalog (``--force``).
    """
    for _ in range(COMMIT_ATTEMPTS):
        if base_version is None:  # the stored version need not pass this release's validator
            if head(session) is None:
                ensure_catalog(session, settings)
            stored = stored_documents(session)
            assert stored is not None
            version, before, edited = stored[0].version, stored[1], catalog
        else:
            current = ensure_catalog(session, settings)
            edited = merged_import(session, current, base_version, catalog)
            version, before = current.version, current.catalog.to_documents()
        try:
            made = commit(session, version, before, edited, author, note)
        except LostRaceError:
            continue
        found = made or load_version(session, version)
        assert found is not None
        return found
    raise ConflictError(f"the catalog changed {COMMIT_ATTEMPTS} times while importing; try again")
