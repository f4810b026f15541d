"""Where product staff's catalog edits go, and the catalog facts routes need.

The shipped catalog is package data and must not be edited in place (an
upgrade would overwrite it, and it may be read-only). The first edit copies
it to ``data_dir/catalog``; from then on the server and ``frontdesk intents
train`` use that copy (``editable_catalog_dir``).
"""

from __future__ import annotations

import shutil
from pathlib import Path

from intents.catalog import Catalog, IntentSpec, shipped_catalog_dir
from voice_agent.settings import Settings

EDITABLE_CATALOG = "catalog"


def editable_catalog_dir(settings: Settings) -> Path:
    """The catalog directory edits go to: the configured one, else ``data_dir/catalog``."""
    return settings.understanding.catalog_dir or settings.data_dir / EDITABLE_CATALOG


def effective_settings(settings: Settings) -> Settings:
    """``settings`` with ``catalog_dir`` pointing at the edited copy once one exists.

    So a restarted server (and its FrontDesk) keeps the examples product staff added.
    """
    if settings.understanding.catalog_dir is not None:
        return settings
    copy_dir = settings.data_dir / EDITABLE_CATALOG
    if not copy_dir.is_dir():
        return settings
    understanding = settings.understanding.model_copy(update={"catalog_dir": copy_dir})
    return settings.model_copy(update={"understanding": understanding})


def load_editable(settings: Settings) -> Catalog:
    """The editable catalog, copying the shipped one into ``data_dir`` on first use."""
    directory = editable_catalog_dir(settings)
    if not directory.is_dir():
        directory.parent.mkdir(parents=True, exist_ok=True)
        shutil.copytree(shipped_catalog_dir(), directory, ignore=shutil.ignore_patterns("*.md"))
    return Catalog.load(directory)


def intent_json(spec: IntentSpec) -> dict[str, object]:
    """One intent as the product console shows and edits it."""
    return {
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


def catalog_json(catalog: Catalog) -> dict[str, object]:
    """The product console's view of the catalog."""
    return {
        "directory": str(catalog.directory),
        "intents": [intent_json(spec) for spec in catalog],
    }
