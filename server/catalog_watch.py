"""Each server follows the database's catalog version and live intent model.

Every ``server.catalog_poll_s`` the watcher asks the database for the newest
catalog version and the current model (two cheap queries). When either
changed, it loads them and swaps ``app.state.catalog`` and
``app.state.frontdesk`` for new ones built around them; nothing is
restarted. A call in progress holds the Front Desk it started with and
finishes on that version; the next call gets the new one.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import sessionmaker

from intents.classifier import IntentModel
from intents.store import ModelStore
from models.errors import FrontDeskError
from server import catalog_store, intent_models
from voice_agent.settings import Settings

if TYPE_CHECKING:
    from voice_agent.service import FrontDesk

log = logging.getLogger("server.catalog")


@dataclass(frozen=True)
class Loaded:
    """What a server is serving: catalog version and intent model version."""

    catalog_version: int | None
    model_version: str | None


class CatalogWatcher:
    """Keeps one server's catalog and model at the database's versions.

    Args:
        sessions: the server's database sessions.
        settings: ``intent_model_dir`` (where the named model's weights are)
            and the seed directory for an empty database.
    """

    def __init__(self, sessions: sessionmaker[Any], settings: Settings) -> None:
        self.sessions = sessions
        self.settings = settings
        self.loaded = Loaded(None, None)
        self._lock = threading.Lock()  # the poller and request threads both apply
        self._reported: set[str] = set()  # models that would not load, logged once each

    def start(self, state: Any) -> None:
        """Seed the catalog if the database has none and put it in ``state.catalog``."""
        with self.sessions() as session:
            current = catalog_store.ensure_catalog(session, self.settings)
        state.catalog = current.catalog
        state.catalog_current = current
        self.loaded = Loaded(current.version, self.loaded.model_version)

    def adopt(self, state: Any, frontdesk: FrontDesk) -> FrontDesk:
        """Serve ``frontdesk`` on the database's catalog and model (``state.frontdesk``).

        Records this server's current model when the database names none.

        Called once the models are loaded: a fresh database learns which
        model this server trained or found, so every later server agrees.
        """
        store = ModelStore(self.settings.intent_model_dir)
        with self.sessions() as session:
            named = intent_models.current_version(session)
            on_disk = store.current_version()
            if named is None and on_disk is not None:
                intent_models.record(session, store.meta(on_disk), current=True)
                named = on_disk
        serving = getattr(frontdesk.understander.classifier, "version", None)
        classifier = self._model(store, named) if named and named != serving else None
        with self._lock:  # the poller may have swapped the catalog meanwhile
            model_version = named if classifier is not None else serving
            self.loaded = Loaded(self.loaded.catalog_version, model_version)
            state.frontdesk = frontdesk.with_catalog(state.catalog, classifier)
            adopted: FrontDesk = state.frontdesk
        return adopted

    def poll(self, state: Any) -> bool:
        """Swap in a newer catalog or model when the database has one; True when it did."""
        with self.sessions() as session:
            version = catalog_store.head(session)
            model = intent_models.current_version(session)
            catalog_changed = version != self.loaded.catalog_version
            model_changed = model is not None and model != self.loaded.model_version
            if not (catalog_changed or model_changed):
                return False
            if catalog_changed:
                current = catalog_store.load_version(session, version)
            else:
                current = state.catalog_current
        if current is None:  # emptied under us: keep serving what we have
            return False
        classifier = None
        if model_changed and model is not None:
            classifier = self._model(ModelStore(self.settings.intent_model_dir), model)
        return self.apply(state, current, classifier, model if classifier is not None else None)

    def apply(
        self,
        state: Any,
        current: catalog_store.CatalogVersion,
        classifier: IntentModel | None = None,
        model_version: str | None = None,
    ) -> bool:
        """Serve ``current`` (and ``classifier``) from now on (also after this server's edit).

        Never goes back: an older version than the one served is ignored (a
        poll that read the database just before this server's own edit).

        Returns:
            True when something was swapped in.
        """
        with self._lock:
            newer = (self.loaded.catalog_version or 0) < current.version
            if not newer and classifier is None:
                return False
            if not newer:
                current = state.catalog_current
            frontdesk = state.frontdesk
            if frontdesk is not None:
                state.frontdesk = frontdesk.with_catalog(current.catalog, classifier)
            state.catalog = current.catalog
            state.catalog_current = current
            self.loaded = Loaded(current.version, model_version or self.loaded.model_version)
        log.info(
            "serving catalog v%d%s",
            current.version,
            f" and intent model {model_version}" if model_version else "",
        )
        return True

    def _model(self, store: ModelStore, version: str) -> IntentModel | None:
        try:
            return store.load(version)
        except FrontDeskError as exc:  # weights not (yet) on this server's volume
            if version in self._reported:
                return None  # tried again every poll, logged once
            self._reported.add(version)
            log.error(
                "intent model %s is current in the database but cannot be loaded from %s "
                "(mount the shared intent_model_dir): %s",
                version,
                store.root,
                exc,
            )
            return None
