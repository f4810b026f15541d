"""The database catalog's costs: the poll, a version load, an edit, the swap.

What every server pays each ``server.catalog_poll_s`` (the poll), on each
new version (load and validate it, build a new FrontDesk around it) and per
console edit (load, validate, commit, reload). The version load is also
timed the previous way (pure-Python YAML, two parses per document, no
example-key cache) in the same run, as the peer.

Usage::

    .venv/bin/python benchmarks/bench_catalog.py [--database-url URL] [--edits 20]
"""

from __future__ import annotations

import argparse
import functools
import os
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from machine import describe_machine

import intents.catalog as catalog_module
from intents.catalog import Catalog
from server import catalog_store, intent_models
from server.db import make_engine, make_sessionmaker, migrate
from voice_agent.settings import ServerSettings, Settings


def median_ms(fn: Callable[[], Any], n: int) -> float:
    """Median wall time of ``fn`` over ``n`` runs, in milliseconds."""
    times = []
    for _ in range(n):
        start = time.perf_counter()
        fn()
        times.append((time.perf_counter() - start) * 1000)
    return statistics.median(times)


def _add_example(catalog: Catalog, text: str) -> Catalog:
    return catalog.with_example("transfer", text)


def _previous_way(fn: Callable[[], Any]) -> Callable[[], Any]:
    """``fn`` run with pure-Python YAML parsed twice and no example-key cache."""
    import yaml

    def compose_twice(text: str) -> tuple[Any, Any]:
        return yaml.compose(text, Loader=yaml.SafeLoader), yaml.safe_load(text)

    def run() -> Any:
        saved = catalog_module._compose
        catalog_module._compose = compose_twice
        catalog_module.example_key.cache_clear()
        try:
            return fn()
        finally:
            catalog_module._compose = saved

    return run


def main() -> int:
    """Seed a catalog with ``--edits`` of history, time each step, print a Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", help="default: a SQLite file in a temporary directory")
    parser.add_argument("--edits", type=int, default=20)
    args = parser.parse_args()
    machine = describe_machine()
    tmp = Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    url = args.database_url or f"sqlite:///{tmp / 'fd.db'}"
    settings = Settings(data_dir=tmp / "data", server=ServerSettings(database_url=url))
    engine = make_engine(url)
    migrate(engine)
    sessions = make_sessionmaker(engine)
    from voice_agent.service import build_frontdesk

    frontdesk = build_frontdesk(settings, load_asr=False)
    rows: list[tuple[str, float]] = []
    with sessions() as session:
        current = catalog_store.ensure_catalog(session, settings)
        for i in range(args.edits):
            current = catalog_store.edit(
                session,
                settings,
                functools.partial(_add_example, text=f"帮我转{i + 1}千块给我女儿"),
                author="bench",
                note="history",
                code="transfer",
                base_revision=current.revisions["transfer"],
            )
        n_examples = len(current.catalog.examples())
        rows.append(
            (
                "poll: newest version + current model",
                median_ms(
                    lambda: (catalog_store.head(session), intent_models.current_version(session)),
                    200,
                ),
            )
        )
        rows.append(
            (
                "load + validate a version",
                median_ms(lambda: catalog_store.load_version(session), 20),
            )
        )
        rows.append(
            (
                "load + validate a version, previous way (peer)",
                median_ms(_previous_way(lambda: catalog_store.load_version(session)), 5),
            )
        )
        counter = iter(range(10_000))
        rows.append(
            (
                "console edit: load, validate, commit, reload",
                median_ms(
                    lambda: catalog_store.edit(
                        session,
                        settings,
                        lambda c: c.with_example("card_loss", f"存折又丢了第{next(counter)}回"),
                        author="bench",
                        note="edit",
                    ),
                    10,
                ),
            )
        )
        loaded = catalog_store.load_version(session)
    assert loaded is not None
    rows.append(
        (
            "FrontDesk.with_catalog (the swap)",
            median_ms(lambda: frontdesk.with_catalog(loaded.catalog), 50),
        )
    )
    engine.dispose()
    kind = url.split(":", 1)[0]
    print(f"Machine: {machine}; load average {os.getloadavg()[0]:.1f} at the end.")
    print(
        f"Database: {kind}; catalog v{loaded.version}: {len(loaded.catalog.intents)} intents, "
        f"{n_examples} examples, {args.edits} edits of history.\n"
    )
    print("| step | median ms |\n|---|---|")
    for name, ms in rows:
        print(f"| {name} | {ms:.2f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
