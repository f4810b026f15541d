"""The learned detector's data files: exemplar sentences and its thresholds.

Loading and validation live apart from the detector (:mod:`.semantic`) so
the model code reads as maths, and so both the detector and the
maintenance tuning command (:mod:`.semantic_tuning`) can load the same
validated inputs without importing each other. As with rules.yaml, a file
the risk team got wrong is refused at start-up with a ConfigError naming
the file, the key and the valid choices.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import BeforeValidator, ConfigDict, Field, StrictBool, StringConstraints

from models.datafile import (
    DataFileError,
    DataIssue,
    DataModel,
    Number,
    json_rows,
    one_of,
    parse_data,
    read_text,
    validate_rows,
)
from voice_agent.risk.model import FRAUD_FLAGS

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
_DIALECTS = ("mandarin", "shanghainese")
_SOURCES = ("hand", "template")

_Sentence = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
_Sentences = Annotated[tuple[_Sentence, ...], Field(min_length=1)]
_FraudCode = Annotated[str, one_of(FRAUD_FLAGS, "fraud flag code")]


def _as_example(value: Any) -> Any:
    return {"text": value} if isinstance(value, str) else value


class _Example(DataModel):
    """A sentence showing a flag, and any other flags it clearly shows too."""

    text: _Sentence
    also: tuple[_FraudCode, ...] = ()


class _Catalog(DataModel):
    exclude_intents: tuple[str, ...] = ()
    exclude_examples: tuple[str, ...] = ()


class ExamplesFile(DataModel):
    """The shape of ``fraud_examples.yaml`` (validated with file, line and choices)."""

    version: Literal[1] = 1
    catalog: _Catalog = _Catalog()
    # An entry is a sentence, or {text: ..., also: [other flags]}.
    flags: dict[
        _FraudCode,
        Annotated[
            tuple[Annotated[_Example, BeforeValidator(_as_example)], ...], Field(min_length=1)
        ],
    ]
    legitimate: _Sentences


class _Semantic(DataModel):
    enabled: StrictBool = True
    c: Annotated[Number, Field(gt=0)] = 10.0
    thresholds: dict[_FraudCode, Annotated[Number, Field(gt=0, lt=1)]]


class _RulesWithSemantic(DataModel):
    """rules.yaml as the detector reads it: only its ``semantic:`` section."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    semantic: _Semantic


class _EverydayRow(DataModel):
    text: _Sentence
    topic: Annotated[str, one_of(EVERYDAY_TOPICS, "topic")]
    dialect: Annotated[str, one_of(_DIALECTS, "dialect")]
    split: Annotated[str, one_of(EVERYDAY_SPLITS, "split")]
    source: Annotated[str, one_of(_SOURCES, "source")]


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
    text, where = read_text(path, "voice_agent.risk", "fraud_examples.yaml", "fraud examples")
    parsed = parse_data(ExamplesFile, text, where)
    f = parsed.data
    missing = [c for c in FRAUD_FLAGS if c not in f.flags]
    if missing:
        issue = parsed.issue(("flags",), f"missing flag(s) {', '.join(missing)}", FRAUD_FLAGS)
        raise DataFileError(where, [issue])
    texts: list[str] = []
    labels: list[frozenset[str]] = []
    for code, shown in f.flags.items():
        for example in shown:
            texts.append(example.text)
            labels.append(frozenset([code, *example.also]))
    for sentence in f.legitimate:
        texts.append(sentence)
        labels.append(frozenset())
    n_curated = len(texts)
    skip_intents = set(f.catalog.exclude_intents)
    skip_texts = set(f.catalog.exclude_examples)
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
    text, where = read_text(path, "voice_agent.risk", "everyday_calls.jsonl", "everyday calls")
    issues: list[DataIssue] = []
    rows = validate_rows(_EverydayRow, json_rows(text, where, issues), where, issues)
    if not rows and not issues:
        issues.append(DataIssue(where, None, "file", "has no rows"))
    if issues:
        raise DataFileError(where, issues)
    return tuple(EverydayCall(r.text, r.topic, r.dialect, r.split, r.source) for _, r in rows)


def catalog_examples() -> dict[str, list[str]]:
    """The shipped intent catalog's examples by intent (extra legitimate sentences)."""
    from intents.catalog import Catalog

    return {code: [e.text for e in spec.examples] for code, spec in Catalog.load().intents.items()}


def load_semantic_config(rules_path: Path | None = None) -> SemanticConfig:
    """The ``semantic:`` section of a rules file (None: the shipped rules.yaml).

    Raises:
        ConfigError: unreadable file, or the section is missing or invalid
            (unknown key or flag code, a threshold outside (0, 1), a missing
            flag); every problem with the file, the line and the choices.
    """
    text, where = read_text(rules_path, "voice_agent.risk", "rules.yaml", "rules file")
    parsed = parse_data(_RulesWithSemantic, text, where)
    section = parsed.data.semantic
    missing = [c for c in FRAUD_FLAGS if c not in section.thresholds]
    if missing:
        at = ("semantic", "thresholds")
        raise DataFileError(where, [parsed.issue(at, f"missing {', '.join(missing)}", FRAUD_FLAGS)])
    return SemanticConfig(section.enabled, float(section.c), dict(section.thresholds))
