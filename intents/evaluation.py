"""Evaluate an intent classifier on labelled utterances.

The report answers the product team's questions: which intents are weak,
what they are confused with (with the sentences), whether Shanghainese
callers are served as well as Mandarin ones, and whether the confidence
figures can be trusted. The same inputs always give the same report.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Protocol

import numpy as np

from intents.dataset import LabelledExample
from intents.types import IntentPrediction, Slots
from models.progress import Track, no_progress

N_WORST = 10
N_CONFUSION_EXAMPLES = 3
CONFIDENCE_BINS = 10


class Predictor(Protocol):
    """Anything with the classifier's predict()."""

    def predict(self, text: str) -> IntentPrediction:
        """Pick the intent of normalised ``text``."""
        ...


class SlotExtractorLike(Protocol):
    """intents.slots.SlotExtractor's extract()."""

    def extract(self, text: str) -> Slots:
        """Find the slots in normalised ``text``."""
        ...


@dataclass(frozen=True)
class IntentMetrics:
    """Precision, recall, F1 and support (gold count) of one intent."""

    code: str
    precision: float
    recall: float
    f1: float
    support: int


@dataclass(frozen=True)
class GroupAccuracy:
    """Accuracy on one group of utterances (e.g. one dialect)."""

    name: str
    n: int
    accuracy: float


@dataclass(frozen=True)
class Confusion:
    """One gold→predicted mistake, how often, and the sentences it happened on."""

    gold: str
    predicted: str
    count: int
    examples: tuple[str, ...]


@dataclass(frozen=True)
class ConfidenceHistogram:
    """Counts of correct and wrong predictions per confidence bin.

    ``edges`` has one more item than the count tuples. ``ece`` is the
    expected calibration error: the support-weighted gap between mean
    confidence and accuracy per bin (0 is perfectly calibrated).
    """

    edges: tuple[float, ...]
    correct: tuple[int, ...]
    wrong: tuple[int, ...]
    ece: float


@dataclass(frozen=True)
class Outcome:
    """One evaluated utterance."""

    text: str
    normalized_text: str
    dialect: str
    gold: str
    predicted: str
    confidence: float


@dataclass(frozen=True)
class EvalReport:
    """Everything measured on one labelled set.

    Attributes:
        n: number of utterances.
        accuracy: share of correct intents.
        macro_f1: unweighted mean F1 over the gold intents.
        per_intent: metrics per intent, sorted by code.
        per_dialect: accuracy per dialect, sorted by name.
        slot_accuracy: share of annotated utterances whose slots were all
            found exactly (None without annotations or slot extractor).
        slot_support: how many utterances had gold slots.
        labels: row/column order of ``confusion``.
        confusion: counts, rows gold, columns predicted.
        worst_confusions: the most frequent mistakes, with sentences.
        confidence: histogram of confidences, correct vs wrong.
        outcomes: every utterance with its prediction.
        model_version: the stored version evaluated ("" when unstored).
    """

    n: int
    accuracy: float
    macro_f1: float
    per_intent: tuple[IntentMetrics, ...]
    per_dialect: tuple[GroupAccuracy, ...]
    slot_accuracy: float | None
    slot_support: int
    labels: tuple[str, ...]
    confusion: tuple[tuple[int, ...], ...]
    worst_confusions: tuple[Confusion, ...]
    confidence: ConfidenceHistogram
    outcomes: tuple[Outcome, ...]
    model_version: str = ""

    def to_json(self) -> dict[str, Any]:
        """A JSON-ready dict (floats rounded so reruns compare equal)."""
        return _rounded(asdict(self))

    def summary(self) -> dict[str, float]:
        """The headline figures stored with a model version."""
        out = {"accuracy": self.accuracy, "macro_f1": self.macro_f1, "n": float(self.n)}
        for g in self.per_dialect:
            out[f"accuracy_{g.name}"] = g.accuracy
        return {k: round(v, 4) for k, v in out.items()}


def _rounded(obj: Any) -> Any:
    if isinstance(obj, float):
        return round(obj, 6)
    if isinstance(obj, dict):
        return {k: _rounded(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_rounded(v) for v in obj]
    return obj


def _histogram(confidences: list[float], correct: list[bool]) -> ConfidenceHistogram:
    edges = np.linspace(0.0, 1.0, CONFIDENCE_BINS + 1)
    conf = np.asarray(confidences, dtype=float)
    ok = np.asarray(correct, dtype=bool)
    idx = np.clip(np.digitize(conf, edges[1:-1]), 0, CONFIDENCE_BINS - 1)
    n_ok = [int(((idx == b) & ok).sum()) for b in range(CONFIDENCE_BINS)]
    n_bad = [int(((idx == b) & ~ok).sum()) for b in range(CONFIDENCE_BINS)]
    ece = 0.0
    for b in range(CONFIDENCE_BINS):
        mask = idx == b
        if mask.any():
            ece += mask.sum() / len(conf) * abs(conf[mask].mean() - ok[mask].mean())
    return ConfidenceHistogram(
        edges=tuple(float(e) for e in edges),
        correct=tuple(n_ok),
        wrong=tuple(n_bad),
        ece=float(ece),
    )


def _slots_match(found: Slots, gold: dict[str, int | str]) -> bool:
    got = found.as_dict()
    return all(got.get(k) == v for k, v in gold.items()) and set(got) == set(gold)


def evaluate(
    classifier: Predictor,
    examples: Sequence[LabelledExample],
    preprocess: Callable[[str], str],
    dialect_of: Callable[[str], str],
    slot_extractor: SlotExtractorLike | None = None,
    track: Track = no_progress,
) -> EvalReport:
    """Run ``classifier`` on every example and measure it.

    Args:
        classifier: the model under test.
        examples: the labelled set (order does not change the figures).
        preprocess: the same text normalisation the live pipeline applies
            (the dialect normaliser's ``normalized_text``).
        dialect_of: the dialect of a raw text, used when an example has none.
        slot_extractor: when given, slots are checked on annotated examples.
        track: reports progress over the examples (a terminal bar from the CLI).
    """
    outcomes: list[Outcome] = []
    slot_hits = slot_n = 0
    for ex in track(examples, total=len(examples), what="evaluating"):
        norm = preprocess(ex.text)
        pred = classifier.predict(norm)
        dialect = ex.dialect or dialect_of(ex.text)
        outcomes.append(Outcome(ex.text, norm, dialect, ex.intent, pred.code, pred.confidence))
        if slot_extractor is not None and ex.slots is not None:
            slot_n += 1
            slot_hits += _slots_match(slot_extractor.extract(norm), dict(ex.slots))

    gold = [o.gold for o in outcomes]
    pred_codes = [o.predicted for o in outcomes]
    gold_labels = sorted(set(gold))
    labels = tuple(sorted(set(gold) | set(pred_codes)))
    pairs = Counter(zip(gold, pred_codes, strict=True))

    per_intent: list[IntentMetrics] = []
    for code in gold_labels:
        tp = pairs[(code, code)]
        n_pred = sum(1 for p in pred_codes if p == code)
        n_gold = sum(1 for g in gold if g == code)
        precision = tp / n_pred if n_pred else 0.0
        recall = tp / n_gold if n_gold else 0.0
        f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
        per_intent.append(IntentMetrics(code, precision, recall, f1, n_gold))

    by_dialect: dict[str, list[bool]] = defaultdict(list)
    for o in outcomes:
        by_dialect[o.dialect].append(o.gold == o.predicted)
    per_dialect = tuple(
        GroupAccuracy(name, len(v), sum(v) / len(v)) for name, v in sorted(by_dialect.items())
    )

    examples_of: dict[tuple[str, str], list[str]] = defaultdict(list)
    for o in outcomes:
        if o.gold != o.predicted:
            examples_of[(o.gold, o.predicted)].append(o.text)
    mistakes = sorted(
        ((g, p, c) for (g, p), c in pairs.items() if g != p), key=lambda t: (-t[2], t[0], t[1])
    )
    worst = tuple(
        Confusion(g, p, c, tuple(sorted(examples_of[(g, p)])[:N_CONFUSION_EXAMPLES]))
        for g, p, c in mistakes[:N_WORST]
    )
    n = len(outcomes)
    return EvalReport(
        n=n,
        accuracy=sum(g == p for g, p in zip(gold, pred_codes, strict=True)) / n if n else 0.0,
        macro_f1=float(np.mean([m.f1 for m in per_intent])) if per_intent else 0.0,
        per_intent=tuple(per_intent),
        per_dialect=per_dialect,
        slot_accuracy=slot_hits / slot_n if slot_n else None,
        slot_support=slot_n,
        labels=labels,
        confusion=tuple(tuple(pairs[(g, p)] for p in labels) for g in labels),
        worst_confusions=worst,
        confidence=_histogram(
            [o.confidence for o in outcomes], [o.gold == o.predicted for o in outcomes]
        ),
        outcomes=tuple(outcomes),
        model_version=str(getattr(classifier, "version", "")),
    )
