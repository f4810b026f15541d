"""``frontdesk intents check|export|import|eval|train|rollback``: catalog and classifier.

Run by product staff and release scripts. The catalog they work on is the
server's database catalog (seeded from the YAML files on first use);
``export DIR`` writes it as the YAML files a reviewer diffs in git, and
``import DIR`` validates a directory and stores it as the next version.
``train`` and ``rollback`` record which model is current in the database,
so every server loads it. Errors are one line on stderr and exit code 2,
never a traceback; ``train`` exits 0 whether or not the gate accepted the
candidate (the printed line says which), because a refusal is the gate
working, not a failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TextIO

from sqlalchemy.orm import sessionmaker

from dialects.normaliser import DialectNormaliser
from intents.catalog import Catalog, check_catalog
from intents.dataset import LabelledExample, load_jsonl
from intents.evaluation import evaluate
from intents.report import write_report
from intents.slots import SlotExtractor
from intents.store import ModelStore
from intents.training import evaluation_set, load_or_bootstrap, train
from models.errors import FrontDeskError, InputError
from server import catalog_import, catalog_store, intent_models
from server.db import make_engine, make_sessionmaker, migrate
from server.progress import terminal_track
from voice_agent.settings import Settings

EXIT_OK, EXIT_INPUT = 0, 2
EVAL_SUBDIR = "eval"  # under data_dir: where the console's "latest evaluation" looks
#: Written by ``export``: the version the files are, so ``import`` can tell what changed since.
VERSION_FILE = ".catalog-version"

CorrectionsLoader = Callable[[], Sequence[LabelledExample]]


def add_intents_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``intents`` and its subcommands to the ``frontdesk`` parser."""
    intents = subparsers.add_parser(
        "intents", help="check the catalog; evaluate/train the classifier"
    )
    sub = intents.add_subparsers(dest="intents_command", required=True)

    p = sub.add_parser("check", help="validate an intent catalog; errors name file, line, choices")
    p.add_argument(
        "dir", nargs="?", type=Path, help="catalog directory (default: the database's catalog)"
    )

    p = sub.add_parser(
        "export", help="write the database's current catalog as YAML files (one per intent)"
    )
    p.add_argument("dir", type=Path, help="directory to write (its other *.yaml files go)")

    p = sub.add_parser(
        "import", help="validate a YAML catalog directory and store it as the next version"
    )
    p.add_argument("dir", type=Path, help="catalog directory (e.g. an edited export)")
    p.add_argument("--note", default="", help="why, kept with the version")
    p.add_argument(
        "--force",
        action="store_true",
        help=f"store DIR even over intents changed since its export (or without {VERSION_FILE})",
    )

    p = sub.add_parser("eval", help="evaluate the current classifier; writes an HTML/JSON report")
    p.add_argument("--data", type=Path, help="extra labelled JSONL ({text, intent, ...} per line)")
    p.add_argument(
        "--out", type=Path, help="report directory (default: DATA_DIR/eval, shown in the console)"
    )

    p = sub.add_parser(
        "train", help="retrain from catalog + accepted corrections; refuses a worse model"
    )
    p.add_argument("--force", action="store_true", help="make the new model current anyway")
    p.add_argument("--data", type=Path, help="extra labelled JSONL for the evaluation")

    sub.add_parser("rollback", help="make the previous classifier version current again")


def run_intents(
    args: argparse.Namespace,
    settings: Settings,
    corrections_loader: CorrectionsLoader | None = None,
    out: TextIO | None = None,
) -> int:
    """Run one ``frontdesk intents`` subcommand; returns the exit code.

    Args:
        args: parsed arguments (see :func:`add_intents_commands`).
        settings: catalog_dir, intent_model_dir, classifier_backend and
            transformer_checkpoint are used.
        corrections_loader: returns the accepted teller corrections (from the
            server's database); None trains on the catalog alone.
        out: where results are printed (stdout by default).
    """
    out = out or sys.stdout
    try:
        if args.intents_command == "check":
            return _check(args.dir, settings, out)
        if args.intents_command == "export":
            return _export(args.dir, settings, out)
        if args.intents_command == "import":
            return _import(args.dir, args.note, args.force, settings, out)
        if args.intents_command == "rollback":
            with _database(settings) as sessions:
                store = ModelStore(settings.intent_model_dir, intent_models.recorder(sessions))
                version = store.rollback()
            print(f"current intent model: {version}", file=out)
            return EXIT_OK
        if args.intents_command == "eval":
            return _eval(args, settings, out)
        if args.intents_command == "train":
            return _train(args, settings, corrections_loader, out)
    except FrontDeskError as e:
        print(str(e).splitlines()[0], file=sys.stderr)
        return EXIT_INPUT
    print(f"unknown intents command {args.intents_command!r}", file=sys.stderr)
    return EXIT_INPUT


@contextmanager
def _database(settings: Settings) -> Iterator[sessionmaker[Any]]:
    """Sessions on the server's database (migrated, as the server would)."""
    engine = make_engine(settings.database_url)
    try:
        migrate(engine)
        yield make_sessionmaker(engine)
    finally:
        engine.dispose()


def _catalog(settings: Settings) -> Catalog:
    """The database's current catalog, seeded from the YAML files if it has none."""
    return catalog_store.database_catalog(settings).catalog


def _check(directory: Path | None, settings: Settings, out: TextIO) -> int:
    if directory is None:
        current = catalog_store.database_catalog(settings)
        catalog, where = current.catalog, f" (database catalog v{current.version})"
    else:
        issues = check_catalog(directory)
        if issues:
            for issue in issues:
                print(issue, file=out)
            return EXIT_INPUT
        catalog, where = Catalog.load(directory), ""
    print(
        f"OK: {len(catalog.intents)} intents, {len(catalog.examples())} examples{where}", file=out
    )
    return EXIT_OK


def _export(directory: Path, settings: Settings, out: TextIO) -> int:
    """Write the current version's documents as stored; other YAML files in ``directory`` go.

    Not validated on the way out: a version a newer release refuses can be
    exported, fixed and imported again (``--force``).
    """
    with _database(settings) as sessions, sessions() as session:
        if catalog_store.head(session) is None:
            catalog_store.ensure_catalog(session, settings)  # a new database: seed it
        stored = catalog_store.stored_documents(session)
    assert stored is not None  # seeded above
    row, documents, _revisions = stored
    if directory.exists() and not directory.is_dir():
        raise InputError(f"{directory} is not a directory")
    directory.mkdir(parents=True, exist_ok=True)
    for stale in directory.iterdir():
        if stale.suffix in (".yaml", ".yml") and stale.name not in documents:
            stale.unlink()
    for name, text in documents.items():
        (directory / name).write_text(text, encoding="utf-8")
    (directory / VERSION_FILE).write_text(f"{row.version}\n", encoding="utf-8")
    print(
        f"exported catalog v{row.version} ({len(documents)} intents, by {row.author}) "
        f"to {directory}",
        file=out,
    )
    return EXIT_OK


def _export_version(directory: Path) -> int | None:
    """The version ``directory`` was exported from (its VERSION_FILE), None without one."""
    path = directory / VERSION_FILE
    if not path.is_file():
        return None
    text = path.read_text(encoding="utf-8").strip()
    if not text.isdigit():
        raise InputError(f"{path}: {text!r} is not a catalog version; export again")
    return int(text)


def _import(directory: Path, note: str, force: bool, settings: Settings, out: TextIO) -> int:
    """Validate ``directory`` (every problem listed, nothing stored) and store it.

    Intents changed in the database since the export ``directory`` was made
    from refuse the import (unless ``force``), as a stale console edit is.
    """
    issues = check_catalog(directory)
    if issues:
        for issue in issues:
            print(issue, file=out)
        print(f"not imported: {len(issues)} problem(s) in {directory}", file=sys.stderr)
        return EXIT_INPUT
    base = None if force else _export_version(directory)
    if base is None and not force:
        raise InputError(
            f"not imported: {directory} has no {VERSION_FILE} (written by `frontdesk intents "
            "export`), so edits made since cannot be told apart; import an export, or --force"
        )
    catalog = Catalog.load(directory)
    with _database(settings) as sessions, sessions() as session:
        stored = catalog_store.stored_documents(session)  # unvalidated: --force may fix it
        before_version, before_codes = (stored[0].version, set(stored[2])) if stored else (0, set())
        current = catalog_import.replace_all(
            session,
            settings,
            catalog,
            "import",
            note or f"imported from {directory}",
            base_version=base,
        )
    if current.version == before_version:
        print(f"no change: {directory} equals catalog v{current.version}", file=out)
    else:
        changed = sorted(c for c, r in current.revisions.items() if r == current.version)
        removed = sorted(before_codes - set(current.revisions))
        gone = f"; removed: {', '.join(removed)}" if removed else ""
        print(
            f"imported {directory} as catalog v{current.version} "
            f"(changed: {', '.join(changed) or 'none'}{gone})",
            file=out,
        )
    return EXIT_OK


def _text_tools(settings: Settings) -> tuple[Callable[[str], str], Callable[[str], str]]:
    normaliser = DialectNormaliser.load(settings.understanding.lexicon_path)

    def preprocess(text: str) -> str:
        return normaliser.normalise(text).normalized_text

    def dialect_of(text: str) -> str:
        return normaliser.normalise(text).dialect

    return preprocess, dialect_of


def _extra(path: Path | None) -> tuple[LabelledExample, ...]:
    return load_jsonl(path) if path is not None else ()


def _eval(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    u = settings.understanding
    catalog = _catalog(settings)
    preprocess, dialect_of = _text_tools(settings)
    model = load_or_bootstrap(
        settings.intent_model_dir,
        catalog,
        u.classifier_backend,
        preprocess,
        checkpoint=u.transformer_checkpoint,
        dialect_of=dialect_of,
    )
    examples = evaluation_set(catalog, _extra(args.data))
    report = evaluate(
        model, examples, preprocess, dialect_of, SlotExtractor.load(), track=terminal_track()
    )
    page = write_report(report, args.out or settings.data_dir / EVAL_SUBDIR)
    dialects = ", ".join(f"{g.name} {g.accuracy:.3f} (n={g.n})" for g in report.per_dialect)
    print(
        f"{report.model_version}: accuracy {report.accuracy:.3f}, macro-F1 "
        f"{report.macro_f1:.3f} on {report.n} utterances; {dialects}; report: {page}",
        file=out,
    )
    return EXIT_OK


def _train(
    args: argparse.Namespace,
    settings: Settings,
    corrections_loader: CorrectionsLoader | None,
    out: TextIO,
) -> int:
    u = settings.understanding
    catalog = _catalog(settings)
    preprocess, dialect_of = _text_tools(settings)
    corrections = tuple(corrections_loader()) if corrections_loader else ()
    with _database(settings) as sessions:
        # The database learns the new current model: every server then loads it.
        store = ModelStore(settings.intent_model_dir, intent_models.recorder(sessions))
        result = train(
            catalog,
            corrections,
            store,
            u.classifier_backend,
            preprocess,
            eval_data=_extra(args.data),
            force=args.force,
            checkpoint=u.transformer_checkpoint,
            dialect_of=dialect_of,
            track=terminal_track(),
        )
    verdict = "ACCEPTED" if result.accepted else "REFUSED"
    print(f"{verdict}: {result.reason}; current model: {result.version}", file=out)
    return EXIT_OK
