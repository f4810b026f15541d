"""Versioned intent models on disk: v0001/, v0002/ … and a ``current`` pointer.

Each version directory holds the backend's files plus meta.json (what it
was trained on and how it scored), so a teller-facing regression can be
traced to a version and undone with :meth:`ModelStore.rollback`. Versions
are never overwritten or deleted here.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import UTC, datetime
from pathlib import Path
from types import MappingProxyType

from intents.classifier import IntentModel, load_classifier
from models.errors import ModelError

META_FILE = "meta.json"
CURRENT_FILE = "current"
_VERSION = re.compile(r"^v(\d{4,})$")


@dataclass(frozen=True)
class ModelMeta:
    """What a stored model is and what it was trained on.

    Attributes:
        version: ``v0003``.
        backend: classifier backend name (sparse, sparse+e5, transformers …).
        catalog_hash: Catalog.content_hash() of the training catalog.
        n_examples: catalog examples used for training.
        n_corrections: accepted teller corrections used for training.
        metrics: headline evaluation figures (accuracy, macro_f1 …).
        created_at: ISO 8601 time of storing, UTC.
        checkpoint: the base checkpoint of a transformers model, else "".
    """

    version: str
    backend: str
    catalog_hash: str
    n_examples: int
    n_corrections: int
    metrics: Mapping[str, float] = field(default_factory=lambda: MappingProxyType({}))
    created_at: str = ""
    checkpoint: str = ""

    def to_json(self) -> dict[str, object]:
        """meta.json's content."""
        out: dict[str, object] = {f.name: getattr(self, f.name) for f in fields(self)}
        out["metrics"] = dict(sorted(self.metrics.items()))
        return out


#: Told of every stored model and every change of the current one: (meta, is_current).
ModelRecorder = Callable[[ModelMeta, bool], None]


class ModelStore:
    """The versioned model directory (``Settings.intent_model_dir``).

    ``recorder``, when given, is told of each stored version and each change
    of ``current`` (the server records them in its database, so every server
    sharing it loads the same model; this package stays database-free).
    """

    def __init__(self, root: Path, recorder: ModelRecorder | None = None) -> None:
        self.root = root
        self.recorder = recorder

    def versions(self) -> list[str]:
        """Stored versions, oldest first."""
        if not self.root.is_dir():
            return []
        found = [p.name for p in self.root.iterdir() if p.is_dir() and _VERSION.match(p.name)]
        return sorted(found, key=lambda v: int(v[1:]))

    def current_version(self) -> str | None:
        """The version the ``current`` pointer names, None when there is none."""
        pointer = self.root / CURRENT_FILE
        if not pointer.is_file():
            return None
        version = pointer.read_text(encoding="utf-8").strip()
        if version not in self.versions():
            raise ModelError(
                f"{pointer} names {version!r}, which is not stored "
                f"(valid: {', '.join(self.versions()) or 'none'})"
            )
        return version

    def meta(self, version: str) -> ModelMeta:
        """The meta.json of ``version``."""
        path = self.root / version / META_FILE
        try:
            raw = json.loads(path.read_text(encoding="utf-8"))
            raw["metrics"] = MappingProxyType(dict(raw.get("metrics", {})))
            return ModelMeta(**raw)
        except (OSError, ValueError, TypeError) as e:
            raise ModelError(f"cannot read {path}: {e}") from e

    def save(self, model: IntentModel, meta: ModelMeta, make_current: bool = True) -> ModelMeta:
        """Store ``model`` as the next version; ``meta.version`` is assigned here.

        Written into a temporary directory and renamed, so a crash never
        leaves a half-written version behind.
        """
        self.root.mkdir(parents=True, exist_ok=True)
        existing = self.versions()
        number = int(existing[-1][1:]) + 1 if existing else 1
        version = f"v{number:04d}"
        meta = replace(
            meta,
            version=version,
            created_at=meta.created_at or datetime.now(UTC).isoformat(timespec="seconds"),
            metrics=MappingProxyType(dict(meta.metrics)),
        )
        tmp = self.root / f".tmp-{version}"
        if tmp.exists():
            shutil.rmtree(tmp)
        tmp.mkdir()
        model.save(tmp)
        (tmp / META_FILE).write_text(
            json.dumps(meta.to_json(), ensure_ascii=False, indent=1, sort_keys=True) + "\n",
            encoding="utf-8",
        )
        tmp.rename(self.root / version)
        model.version = version
        if make_current:
            self.set_current(version)
        elif self.recorder is not None:
            self.recorder(meta, False)
        return meta

    def set_current(self, version: str) -> None:
        """Point ``current`` at ``version`` (atomically)."""
        if version not in self.versions():
            raise ModelError(
                f"no model {version!r} in {self.root} (valid: {', '.join(self.versions())})"
            )
        tmp = self.root / f".{CURRENT_FILE}.tmp"
        tmp.write_text(version + "\n", encoding="utf-8")
        os.replace(tmp, self.root / CURRENT_FILE)
        if self.recorder is not None:
            self.recorder(self.meta(version), True)

    def load(self, version: str) -> IntentModel:
        """Load the model of ``version``, its ``version`` attribute set."""
        model = load_classifier(self.root / version, self.meta(version).backend)
        model.version = version
        return model

    def load_current(self) -> IntentModel | None:
        """Load the current model, or None when nothing is stored yet."""
        version = self.current_version()
        return None if version is None else self.load(version)

    def rollback(self) -> str:
        """Make the version before the current one current again.

        Returns:
            The version now current.

        Raises:
            ModelError: no current model, or it is the oldest one.
        """
        current = self.current_version()
        versions = self.versions()
        if current is None:
            raise ModelError(f"no current intent model in {self.root}: nothing to roll back")
        older = versions[: versions.index(current)]
        if not older:
            raise ModelError(
                f"{current} is the oldest model in {self.root}: nothing to roll back to"
            )
        self.set_current(older[-1])
        return older[-1]
