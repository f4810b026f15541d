"""``frontdesk intents check|eval|train|rollback``: the catalog and classifier commands.

Run by product staff and release scripts. Errors are one line on stderr
and exit code 2, never a traceback; ``train`` exits 0 whether or not the
gate accepted the candidate (the printed line says which), because a
refusal is the gate working, not a failure.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TextIO

from dialects.normaliser import DialectNormaliser
from intents.catalog import Catalog, check_catalog
from intents.dataset import LabelledExample, load_jsonl
from intents.evaluation import evaluate
from intents.report import write_report
from intents.slots import SlotExtractor
from intents.store import ModelStore
from intents.training import evaluation_set, load_or_bootstrap, train
from models.errors import FrontDeskError
from server.progress import terminal_track
from voice_agent.settings import Settings

EXIT_OK, EXIT_INPUT = 0, 2
EVAL_SUBDIR = "eval"  # under data_dir: where the console's "latest evaluation" looks

CorrectionsLoader = Callable[[], Sequence[LabelledExample]]


def add_intents_commands(subparsers: argparse._SubParsersAction) -> None:
    """Add ``intents`` and its subcommands to the ``frontdesk`` parser."""
    intents = subparsers.add_parser(
        "intents", help="check the catalog; evaluate/train the classifier"
    )
    sub = intents.add_subparsers(dest="intents_command", required=True)

    p = sub.add_parser("check", help="validate an intent catalog; errors name file, line, choices")
    p.add_argument("dir", nargs="?", type=Path, help="catalog directory (default: configured)")

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
            return _check(args.dir or settings.understanding.catalog_dir, out)
        if args.intents_command == "rollback":
            version = ModelStore(settings.intent_model_dir).rollback()
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


def _check(directory: Path | None, out: TextIO) -> int:
    issues = check_catalog(directory)
    if issues:
        for issue in issues:
            print(issue, file=out)
        return EXIT_INPUT
    catalog = Catalog.load(directory)
    print(f"OK: {len(catalog.intents)} intents, {len(catalog.examples())} examples", file=out)
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
    catalog = Catalog.load(u.catalog_dir)
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
    catalog = Catalog.load(u.catalog_dir)
    preprocess, dialect_of = _text_tools(settings)
    corrections = tuple(corrections_loader()) if corrections_loader else ()
    result = train(
        catalog,
        corrections,
        ModelStore(settings.intent_model_dir),
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
