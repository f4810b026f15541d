"""The ``frontdesk`` command (contract.md: installed command).

Exit codes: 0 success; 2 bad usage or unreadable/invalid input, with one
line on stderr naming the problem; 1 an internal failure. Never a
traceback unless ``--debug`` is given: the people running this are tellers'
scripts and product staff, not Python developers.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any, TextIO

from pydantic import ValidationError

from intents.dataset import LabelledExample
from models.errors import ConfigError, FrontDeskError, InputError
from server.db import ROLES
from voice_agent.settings import Settings

EXIT_OK, EXIT_INTERNAL, EXIT_INPUT = 0, 1, 2


class UsageError(FrontDeskError):
    """Bad command-line usage."""


class _Parser(argparse.ArgumentParser):
    """argparse that raises instead of exiting, so main() owns exit codes."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(f"{self.prog}: {message}")


def _dump(obj: Any, out: TextIO) -> None:
    out.write(json.dumps(obj, ensure_ascii=False) + "\n")
    out.flush()


def build_parser() -> argparse.ArgumentParser:
    """The argument parser for every subcommand (used by --help and tests)."""
    from server.cli_intents import add_intents_commands

    parser = _Parser(
        prog="frontdesk",
        description="Front Desk: voice and dialect front desk for a bank's remote branch.",
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks on errors")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("understand", help="print one Understanding for TEXT (or --jsonl)")
    p.add_argument("text", nargs="?", help="what the customer said")
    p.add_argument("--customer-id", help="compare against this customer's profile")
    p.add_argument(
        "--jsonl",
        action="store_true",
        help="read lines from stdin (plain text or JSON with 'text' and optional "
        "'customer_id'); print one Understanding per line",
    )

    p = sub.add_parser("handle", help="run the whole pipeline on audio files; one Case per file")
    p.add_argument("audio", nargs="+", type=Path, help="wav, flac, mp3 or ogg; any rate")
    p.add_argument("--customer-id", help="the caller's customer id")
    p.add_argument(
        "--scenario",
        help="why the mobile app sent the caller (a scenario of the catalog, e.g. password_locked)",
    )

    p = sub.add_parser("serve", help="run the web server (customer page, teller console, API)")
    p.add_argument("--host", help="bind address (default from settings: 127.0.0.1)")
    p.add_argument("--port", type=int, help="port (default from settings: 8000)")
    p.add_argument(
        "--demo",
        action="store_true",
        help="demo mode: create demo staff accounts (passwords in the data dir's "
        "demo-accounts.txt) and let the customer page mint call tokens for the demo "
        "customer; never on a real deployment",
    )

    p = sub.add_parser("service-keys", help="credentials of the bank's systems")
    keys = p.add_subparsers(dest="keys_command", required=True, parser_class=_Parser)
    p = keys.add_parser("add", help="create a key; printed once as the last line of stdout")
    p.add_argument("name", help="which system holds it, e.g. mobile-app")
    p = keys.add_parser("revoke", help="revoke a key at once (every server)")
    p.add_argument("name")
    keys.add_parser("list", help="key names and whether they are revoked (never the keys)")

    p = sub.add_parser(
        "call-token", help="print a short-lived call token for one customer (last line)"
    )
    p.add_argument("customer_id")
    p.add_argument("--scenario", help="why the mobile app sent the customer")
    p.add_argument("--ttl", type=int, default=None, help="lifetime in seconds (default 300)")

    p = sub.add_parser("models", help="prepare and verify the models (run by the installer)")
    p.add_argument(
        "action",
        choices=("prepare", "import-whisper", "check-sherpa"),
        help="prepare: assemble/verify Whisper, load VAD; import-whisper HF_DIR NAME: convert "
        "a Hugging Face Whisper (e.g. a Wu fine-tune) to CTranslate2 int8 and verify it; "
        "check-sherpa DIR: load a sherpa-onnx WeNet CTC export (model.onnx, tokens.txt) in "
        "a child process and decode one second of silence",
    )
    p.add_argument(
        "hf_dir",
        nargs="?",
        type=Path,
        help="import-whisper: the HF directory; check-sherpa: the WeNet export directory",
    )
    p.add_argument("name", nargs="?", help="import-whisper: the new model's name")

    p = sub.add_parser("recordings", help="turn recordings kept with the cases")
    recs = p.add_subparsers(dest="recordings_command", required=True, parser_class=_Parser)
    p = recs.add_parser(
        "purge", help="delete recordings older than the retention period (never the cases)"
    )
    p.add_argument(
        "--days",
        type=float,
        default=None,
        help="retention in days (default: the recordings.retention_days setting)",
    )

    p = sub.add_parser("users", help="staff accounts")
    users = p.add_subparsers(dest="users_command", required=True, parser_class=_Parser)
    p = users.add_parser("languages", help="set the languages a member of staff serves in")
    p.add_argument("username")
    p.add_argument("languages", help="comma-separated, e.g. mandarin,shanghainese")
    p = users.add_parser("add", help="create a teller, supervisor, product or admin account")
    p.add_argument("username")
    p.add_argument("role", choices=ROLES)
    p.add_argument(
        "--languages",
        default="mandarin",
        help="comma-separated languages served (mandarin, shanghainese); default mandarin",
    )
    p.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password (>= 12 characters) from standard input; without it a "
        "random one is generated and printed once",
    )

    add_intents_commands(sub)
    return parser


def _models(settings: Settings, out: TextIO) -> int:
    """Assemble and verify the ASR model, load VAD, train the first classifier.

    Run once by the installer so the first call of the day does not pay for
    it, and so a broken model is reported at install time, not mid-call.
    """
    from models.whisper_assets import resolve_asr_model
    from server.progress import terminal_track
    from voice_agent.service import build_frontdesk

    steps = ("assemble and verify Whisper", "load VAD, train or load the classifier")
    for i, _step in enumerate(terminal_track()(steps, total=len(steps), what="preparing models")):
        if i == 0:
            ref = resolve_asr_model(settings.asr.model, settings.model_cache_dir)
            print(f"ASR model ready: {ref}", file=out)
        else:
            desk = build_frontdesk(settings, load_asr=True)
            n = len(desk.catalog.intents)
            print(f"VAD ready; intent classifier ready ({n} intents)", file=out)
    return EXIT_OK


def _import_whisper(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from models.import_whisper import import_whisper

    if args.hf_dir is None or not args.name:
        raise UsageError("frontdesk models import-whisper HF_DIR NAME: both are needed")
    target = import_whisper(args.hf_dir, args.name, settings.model_cache_dir)
    print(f"converted and verified: {target}", file=out)
    print(f"use it for dialect turns: FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE={target}", file=out)
    return EXIT_OK


def _environment_settings() -> Settings:
    """Settings from ``FRONTDESK_*`` and ``.env``; a bad value is one clear line, not a traceback.

    Raises:
        ConfigError: a setting is invalid (e.g. a second engine directory that
            does not exist); the message names each one.
    """
    try:
        return Settings()
    except ValidationError as exc:
        bad = "; ".join(
            f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors()
        )
        raise ConfigError(f"frontdesk: invalid setting {bad}") from exc


def _check_sherpa(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from models.sherpa_wenet import verify_wenet_dir

    if args.hf_dir is None:
        raise UsageError("frontdesk models check-sherpa DIR: the directory is needed")
    check = verify_wenet_dir(args.hf_dir, threads=settings.asr.cpu_threads)
    print(
        f"verified: {check.model} ({check.vocab_size} symbols, subsampling "
        f"{check.subsampling_factor}; loads in {check.load_ms} ms, 1 s of audio in "
        f"{check.decode_ms} ms)",
        file=out,
    )
    print("use it for dialect turns:", file=out)
    print("  FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE_KIND=sherpa-onnx-wenet", file=out)
    print(f"  FRONTDESK_SPEECH_DIALECT__SECOND_ENGINE={args.hf_dir.resolve()}", file=out)
    return EXIT_OK


def _understand(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from voice_agent.service import build_frontdesk

    if args.jsonl == bool(args.text):
        raise UsageError("frontdesk understand: give TEXT or --jsonl (one of them)")
    desk = build_frontdesk(settings, load_asr=False)
    if not args.jsonl:
        _dump(desk.understand(args.text, args.customer_id).to_json(), out)
        return EXIT_OK
    status = EXIT_OK
    for lineno, raw in enumerate(sys.stdin, start=1):
        line = raw.strip()
        if not line:
            continue
        try:
            text, customer_id = _parse_jsonl_line(line, lineno)
            result = desk.understand(text, customer_id or args.customer_id).to_json()
        except InputError as exc:
            print(f"frontdesk understand: {exc}", file=sys.stderr)
            result = {"line": lineno, "error": str(exc)}
            status = EXIT_INPUT
        _dump(result, out)
    return status


def _parse_jsonl_line(line: str, lineno: int) -> tuple[str, str | None]:
    if not line.startswith("{"):
        return line, None
    try:
        obj = json.loads(line)
    except json.JSONDecodeError as exc:
        raise InputError(f"line {lineno}: malformed JSON ({exc.msg})") from exc
    text = obj.get("text") if isinstance(obj, dict) else None
    if not isinstance(text, str) or not text.strip():
        raise InputError(f"line {lineno}: JSON object needs a non-empty string 'text'")
    customer_id = obj.get("customer_id")
    return text, str(customer_id) if customer_id is not None else None


CASE_KEYS = (
    "case_id", "created_at", "customer_id", "audio_seconds", "transcript", "text",
    "normalized_text", "dialect", "intent", "slots", "risk", "form", "summary", "timings_ms",
)  # fmt: skip


def error_case(path: Path, message: str, customer_id: str | None) -> dict[str, Any]:
    """A Case-shaped line for a file that could not be handled."""
    case: dict[str, Any] = dict.fromkeys(CASE_KEYS)
    case.update({"file": str(path), "error": message, "customer_id": customer_id, "transcript": []})
    return case


def _handle(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from server.progress import terminal_track
    from voice_agent.service import build_frontdesk

    desk = build_frontdesk(settings, load_asr=True)
    status = EXIT_OK
    track = terminal_track()
    for path in track(args.audio, total=len(args.audio), what="handling recordings"):
        try:
            if not path.is_file():
                raise InputError(f"{path}: no such file")
            case = desk.handle_audio(path, args.customer_id, args.scenario).to_json()
            case["file"] = str(path)
        except InputError as exc:
            message = str(exc) if str(path) in str(exc) else f"{path}: {exc}"
            print(f"frontdesk handle: {message}", file=sys.stderr)
            case = error_case(path, message, args.customer_id)
            status = EXIT_INPUT
        _dump(case, out)
    return status


def _serve(args: argparse.Namespace, settings: Settings) -> int:
    from loguru import logger

    # pipecat logs every frame event through loguru at DEBUG: keep warnings only.
    logger.remove()
    logger.add(sys.stderr, level="WARNING")

    from server.app import create_app
    from server.serving import run

    if args.demo:
        server = settings.server.model_copy(update={"demo": True, "create_demo_accounts": True})
        settings = settings.model_copy(update={"server": server})
    host = args.host or settings.server.host
    port = args.port or settings.server.port
    run(create_app(settings), host, port, drain_s=settings.server.drain_s)
    return EXIT_OK


def _service_keys(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from server import admin

    if args.keys_command == "add":
        key = admin.add_key(settings, args.name)
        print(f"service key {args.name!r} created; it is shown only now:", file=out)
        print(key, file=out)
    elif args.keys_command == "revoke":
        admin.revoke_key(settings, args.name)
        print(f"service key {args.name!r} revoked", file=out)
    else:
        for row in admin.list_keys(settings):
            state = "revoked" if row["revoked"] else "active"
            print(f"{row['name']}\t{row['prefix']}…\t{state}\t{row['created_at']}", file=out)
    return EXIT_OK


def _call_token(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from intents.catalog import Catalog
    from server.call_tokens import expires_iso, load_secret, mint, scenario_codes

    ttl = args.ttl if args.ttl is not None else settings.server.call_token_ttl_s
    catalog = Catalog.load(settings.understanding.catalog_dir)
    token, grant = mint(
        load_secret(settings),
        args.customer_id,
        args.scenario,
        ttl,
        scenario_codes(catalog),
        max_ttl_s=settings.server.call_token_max_ttl_s,
    )
    print(f"call token for {grant.customer_id}, valid until {expires_iso(grant)}:", file=out)
    print(token, file=out)
    return EXIT_OK


def _recordings(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from server.admin import purge_recordings_older

    days = args.days if args.days is not None else settings.recordings.retention_days
    if days < 0:
        raise UsageError("frontdesk recordings purge: --days must be >= 0")
    result = purge_recordings_older(settings, days)
    print(
        f"deleted {result['deleted']} recordings of {result['cases']} cases "
        f"older than {days:g} days (cases kept)",
        file=out,
    )
    return EXIT_OK


def _users(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    from server.admin import add_user, change_languages

    languages = [code.strip() for code in args.languages.split(",") if code.strip()]
    if args.users_command == "languages":
        user = change_languages(settings, args.username, languages)
        print(f"user {user['username']} serves {', '.join(user['languages'])}", file=out)
        return EXIT_OK
    password = None
    if args.password_stdin:
        password = sys.stdin.readline().rstrip("\r\n")
        if not password:
            raise UsageError("frontdesk users add: --password-stdin read an empty password")
    created = add_user(settings, args.username, args.role, password, languages)
    print(f"user {args.username} ({args.role}; {', '.join(languages)}) created", file=out)
    if password is None:
        # Asked for no password: the generated one is shown this once, on the terminal.
        print(f"password: {created}", file=out)
    return EXIT_OK


def run(
    argv: Sequence[str] | None, settings: Settings | None = None, out: TextIO | None = None
) -> int:
    """Parse ``argv`` and run the command; returns the exit code."""
    out = out or sys.stdout
    parser = build_parser()
    args = parser.parse_args(argv)
    from server.catalog_store import effective_settings

    # Examples product staff added through the console live in an edited copy
    # of the catalog; every command must see the same catalog the server does.
    settings = effective_settings(settings or _environment_settings())
    if args.command == "understand":
        return _understand(args, settings, out)
    if args.command == "handle":
        return _handle(args, settings, out)
    if args.command == "serve":
        return _serve(args, settings)
    if args.command == "models" and args.action == "import-whisper":
        return _import_whisper(args, settings, out)
    if args.command == "models" and args.action == "check-sherpa":
        return _check_sherpa(args, settings, out)
    if args.command == "models":
        return _models(settings, out)
    if args.command == "intents":
        from server.admin import load_accepted_corrections
        from server.cli_intents import run_intents

        def corrections() -> list[LabelledExample]:
            return [
                LabelledExample(text=c["text"], intent=c["intent"], slots=c.get("slots"))
                for c in load_accepted_corrections(settings)
            ]

        return run_intents(args, settings, corrections_loader=corrections, out=out)
    if args.command == "users":
        return _users(args, settings, out)
    if args.command == "recordings":
        return _recordings(args, settings, out)
    if args.command == "service-keys":
        return _service_keys(args, settings, out)
    if args.command == "call-token":
        return _call_token(args, settings, out)
    raise UsageError(f"unknown command {args.command!r}")


def main(argv: Iterable[str] | None = None) -> None:
    """Entry point of the installed ``frontdesk`` command."""
    argv_list = list(argv) if argv is not None else sys.argv[1:]
    debug = "--debug" in argv_list
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        code = run(argv_list)
    except FrontDeskError as exc:
        if debug:
            raise
        print(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, file=sys.stderr)
        code = EXIT_INPUT
    except KeyboardInterrupt:
        code = 130
    except Exception as exc:  # one line, never a traceback (see module docstring)
        if debug:
            raise
        print(f"frontdesk: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        code = EXIT_INTERNAL
    sys.exit(code)
