"""The learned detector's data files: exemplar sentences and its thresholds.

Loading and validation live apart from the detector (:mod:`.semantic`) so
the model code reads as maths, and so both the detector and the
maintenance tuning command (:mod:`.semantic_tuning`) can load the same
validated inputs without importing each other. As with rules.yaml, a file
the risk team got wrong is refused at start-up with a ConfigError naming
the file, the key and the valid choices.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from models.errors import ConfigError
from voice_agent.risk.datafile import read_data_file
from voice_agent.risk.model import FRAUD_FLAGS

_EXAMPLE_KEYS = ("version", "catalog", "flags", "legitimate")
_CATALOG_KEYS = ("exclude_intents", "exclude_examples")
_SEMANTIC_KEYS = ("enabled", "c", "thresholds")
EVERYDAY_TOPICS = (
    "delivery",
    "food",
    "taxi",
    "clinic",
    "telecom",
    "insurance",
    "community",
    "shop",
    "bank",
    "family",
)
EVERYDAY_SPLITS = ("train", "test")
_EVERYDAY_KEYS = ("text", "topic", "dialect", "split", "source")
_DIALECTS = ("mandarin", "shanghainese")
_SOURCES = ("hand", "template")


@dataclass(frozen=True)
class TrainingSet:
    """Exemplar sentences and the fraud flags each one shows (empty = legitimate).

    Attributes:
        texts: the sentences.
        labels: per sentence, the fraud flag codes it shows.
        curated: per sentence, whether it was written into the exemplar file
            (False for intent-catalog sentences added as legitimate).
        source: where the exemplars came from, for error messages.
    """

    texts: tuple[str, ...]
    labels: tuple[frozenset[str], ...]
    curated: tuple[bool, ...] = ()
    source: str = ""

    def positives(self, code: str) -> int:
        """How many sentences show ``code``."""
        return sum(1 for lab in self.labels if code in lab)


@dataclass(frozen=True)
class SemanticConfig:
    """The ``semantic:`` section of rules.yaml.

    Attributes:
        enabled: whether the engine should use the detector at all.
        c: inverse regularisation strength of each logistic regression.
        thresholds: fraud flag code → minimum probability to raise it.
    """

    enabled: bool
    c: float
    thresholds: Mapping[str, float]


def _read(path: Path | None, package_file: str) -> tuple[Any, str]:
    text, where = read_data_file(path, package_file, "file")
    try:
        return yaml.safe_load(text), where
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from exc


def _fail(where: str, key: str, message: str, choices: Sequence[str] = ()) -> ConfigError:
    valid = f" (valid: {', '.join(choices)})" if choices else ""
    return ConfigError(f"{where}: {key}: {message}{valid}")


def _sentences(raw: Any, where: str, key: str) -> list[str]:
    if not isinstance(raw, list) or not raw:
        raise _fail(where, key, "must be a non-empty list of sentences")
    out = []
    for i, s in enumerate(raw):
        if not isinstance(s, str) or not s.strip():
            raise _fail(where, f"{key}[{i}]", "must be a non-empty string")
        out.append(s.strip())
    return out


def load_examples(
    path: Path | None = None,
    catalog_examples: Mapping[str, Sequence[str]] | None = None,
    everyday: Sequence[str] = (),
) -> TrainingSet:
    """Load and validate the exemplar file; None loads the shipped one.

    Args:
        path: a fraud_examples.yaml, or None for the shipped file.
        catalog_examples: intent code → example sentences (the intent
            catalog's), added as legitimate sentences except the intents and
            sentences the file's ``catalog`` section excludes. None: none.
        everyday: everyday calls (:func:`load_everyday`, train split) added as
            legitimate sentences; like the catalog's, they are not "curated"
            look-alikes for threshold tuning.

    Raises:
        ConfigError: unreadable file, unknown key or flag code, empty list;
            the message names the file, the key and the valid choices.
    """
    raw, where = _read(path, "fraud_examples.yaml")
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with keys {', '.join(_EXAMPLE_KEYS)}")
    for k in raw:
        if k not in _EXAMPLE_KEYS:
            raise _fail(where, str(k), "unknown top-level key", _EXAMPLE_KEYS)
    flags = raw.get("flags")
    if not isinstance(flags, dict):
        raise _fail(where, "flags", "must map each fraud flag code to sentences", FRAUD_FLAGS)
    texts: list[str] = []
    labels: list[frozenset[str]] = []
    for code, items in flags.items():
        if code not in FRAUD_FLAGS:
            raise _fail(where, f"flags.{code}", "unknown fraud flag code", FRAUD_FLAGS)
        if not isinstance(items, list) or not items:
            raise _fail(where, f"flags.{code}", "must be a non-empty list of sentences")
        for i, item in enumerate(items):
            key = f"flags.{code}[{i}]"
            also: list[str] = []
            if isinstance(item, dict):
                if set(item) - {"text", "also"} or "text" not in item:
                    raise _fail(where, key, "a mapping needs 'text' and optional 'also'")
                also = item.get("also") or []
                if not isinstance(also, list) or any(a not in FRAUD_FLAGS for a in also):
                    raise _fail(where, f"{key}.also", "must list fraud flag codes", FRAUD_FLAGS)
                item = item["text"]
            if not isinstance(item, str) or not item.strip():
                raise _fail(where, key, "must be a non-empty string")
            texts.append(item.strip())
            labels.append(frozenset([code, *also]))
    missing = [c for c in FRAUD_FLAGS if c not in flags]
    if missing:
        raise _fail(where, "flags", f"missing flag(s) {', '.join(missing)}", FRAUD_FLAGS)
    for s in _sentences(raw.get("legitimate"), where, "legitimate"):
        texts.append(s)
        labels.append(frozenset())
    n_curated = len(texts)
    cat = raw.get("catalog") or {}
    if not isinstance(cat, dict):
        raise _fail(where, "catalog", "must be a mapping", _CATALOG_KEYS)
    for k in cat:
        if k not in _CATALOG_KEYS:
            raise _fail(where, f"catalog.{k}", "unknown key", _CATALOG_KEYS)
    skip_intents = set(cat.get("exclude_intents") or [])
    skip_texts = set(cat.get("exclude_examples") or [])
    seen = set(texts)
    for intent, examples in (catalog_examples or {}).items():
        if intent in skip_intents:
            continue
        for s in examples:
            if s not in skip_texts and s not in seen:
                texts.append(s)
                labels.append(frozenset())
                seen.add(s)
    for s in everyday:
        if s not in seen:
            texts.append(s)
            labels.append(frozenset())
            seen.add(s)
    curated = tuple(i < n_curated for i in range(len(texts)))
    return TrainingSet(tuple(texts), tuple(labels), curated, where)


@dataclass(frozen=True)
class EverydayCall:
    """One everyday call retold by a customer (a negative for the fraud detector)."""

    text: str
    topic: str
    dialect: str
    split: str
    source: str


def load_everyday(path: Path | None = None) -> tuple[EverydayCall, ...]:
    """Load and validate ``everyday_calls.jsonl`` (None: the shipped file).

    Written by ``tools/make_everyday_calls.py``; the ``train`` rows train the
    detector as legitimate sentences, the ``test`` rows are held out to
    measure it.

    Raises:
        ConfigError: unreadable file, a line that is not a JSON object, an
            unknown key or a bad topic/dialect/split/source; the message names
            the file, the line and the valid choices.
    """
    text, where = read_data_file(path, "everyday_calls.jsonl", "everyday calls")
    rows: list[EverydayCall] = []
    choices = {
        "topic": EVERYDAY_TOPICS,
        "dialect": _DIALECTS,
        "split": EVERYDAY_SPLITS,
        "source": _SOURCES,
    }
    for n, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        at = f"line {n}"
        try:
            raw = json.loads(line)
        except json.JSONDecodeError as exc:
            raise _fail(where, at, f"not valid JSON: {exc.msg}") from exc
        if not isinstance(raw, dict):
            raise _fail(where, at, "must be a JSON object", _EVERYDAY_KEYS)
        for k in raw:
            if k not in _EVERYDAY_KEYS:
                raise _fail(where, f"{at}: {k}", "unknown key", _EVERYDAY_KEYS)
        if not isinstance(raw.get("text"), str) or not raw["text"].strip():
            raise _fail(where, f"{at}: text", "must be a non-empty string")
        for k, valid in choices.items():
            if raw.get(k) not in valid:
                raise _fail(where, f"{at}: {k}", f"bad value {raw.get(k)!r}", valid)
        rows.append(
            EverydayCall(
                raw["text"].strip(), raw["topic"], raw["dialect"], raw["split"], raw["source"]
            )
        )
    if not rows:
        raise _fail(where, "file", "has no rows")
    return tuple(rows)


def catalog_examples() -> dict[str, list[str]]:
    """The shipped intent catalog's examples by intent (extra legitimate sentences)."""
    from intents.catalog import Catalog

    return {code: [e.text for e in spec.examples] for code, spec in Catalog.load().intents.items()}


def parse_semantic(raw: Any, where: str) -> SemanticConfig:
    """Validate rules.yaml's ``semantic:`` section (``where`` names the file).

    Raises:
        ConfigError: unknown key or flag code, threshold outside (0, 1),
            missing flag; the message names the file, key and valid choices.
    """
    if not isinstance(raw, dict):
        raise _fail(where, "semantic", "must be a mapping", _SEMANTIC_KEYS)
    for k in raw:
        if k not in _SEMANTIC_KEYS:
            raise _fail(where, f"semantic.{k}", "unknown key", _SEMANTIC_KEYS)
    enabled = raw.get("enabled", True)
    if not isinstance(enabled, bool):
        raise _fail(where, "semantic.enabled", "must be true or false")
    c = raw.get("c", 10.0)
    if not isinstance(c, (int, float)) or isinstance(c, bool) or c <= 0:
        raise _fail(where, "semantic.c", "must be a positive number")
    th = raw.get("thresholds")
    if not isinstance(th, dict):
        raise _fail(where, "semantic.thresholds", "must map each fraud flag code to a probability")
    for code, p in th.items():
        if code not in FRAUD_FLAGS:
            raise _fail(where, f"semantic.thresholds.{code}", "unknown fraud flag", FRAUD_FLAGS)
        if not isinstance(p, (int, float)) or isinstance(p, bool) or not 0 < p < 1:
            raise _fail(where, f"semantic.thresholds.{code}", "must be a probability in (0, 1)")
    missing = [f for f in FRAUD_FLAGS if f not in th]
    if missing:
        raise _fail(where, "semantic.thresholds", f"missing {', '.join(missing)}", FRAUD_FLAGS)
    return SemanticConfig(enabled, float(c), {k: float(v) for k, v in th.items()})


def load_semantic_config(rules_path: Path | None = None) -> SemanticConfig:
    """The ``semantic:`` section of a rules file (None: the shipped rules.yaml).

    Raises:
        ConfigError: unreadable file, or the section is missing or invalid.
    """
    raw, where = _read(rules_path, "rules.yaml")
    if not isinstance(raw, dict) or "semantic" not in raw:
        raise _fail(where, "semantic", "missing section", _SEMANTIC_KEYS)
    return parse_semantic(raw["semantic"], where)
