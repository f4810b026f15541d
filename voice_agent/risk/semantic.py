"""A learned fraud-cue detector that complements the hand-written rules.

The rules in ``rules.yaml`` are precise but only catch phrasings someone
wrote down; scam stories told in other words slip through. This detector
learns each fraud flag from exemplar sentences (``data/fraud_examples.yaml``,
edited by the risk team) and legitimate look-alikes, so "伊讲阿拉存款勿安全，
要挪到新开的户头" can fire ``safe_account`` without the word 安全账户.

Model: one logistic regression per fraud flag (one-vs-rest) over TF-IDF of
character 1–3-grams and toneless-pinyin 1–3-grams, the same feature scheme
as the intent classifier (``intents.features``), so ASR homophones (克服/客服,
验证马/验证码) share features. It is small enough to train at start-up (well
under 2 s), so nothing is cached on disk and an edit to the exemplars takes
effect on the next start.

Per-flag probability thresholds live in ``rules.yaml`` under ``semantic:``
(validated here); :func:`tune_thresholds` derives them by cross-validation
on the exemplars only, never on the evaluation sets.
"""

from __future__ import annotations

import functools
import math
import re
import warnings
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import yaml
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold

from dialects.types import Normalised
from intents.features import NGRAM_RANGE, clean
from models.errors import ConfigError
from models.text import phrase_pinyin
from voice_agent.risk.rules import FRAUD_FLAGS

SUPPORTING = ("secrecy_pressure", "third_party_instruction")
_CLAUSE_SPLIT = re.compile(r"[，。！？,;；!?]+")
_EXAMPLE_KEYS = ("version", "catalog", "flags", "legitimate")
_CATALOG_KEYS = ("exclude_intents", "exclude_examples")
_SEMANTIC_KEYS = ("enabled", "c", "thresholds")
_SHIPPED_EXAMPLES = "voice_agent/risk/data/fraud_examples.yaml"
_SHIPPED_RULES = "voice_agent/risk/data/rules.yaml"


# ---------------------------------------------------------------- features


@functools.lru_cache(maxsize=8192)
def _syllable(ch: str) -> str:
    # Per character (cached) rather than phrase-aware: ~10x faster, which
    # keeps scoring under a millisecond; polyphones matter little here
    # because character n-grams carry the same words anyway.
    return phrase_pinyin(ch)[0] if ch.strip() else ch


def analyze(text: str) -> list[str]:
    """Character and toneless-pinyin 1–3-grams of ``text`` (``c:``/``p:`` prefixed).

    The scheme of :func:`intents.features.analyze`, with a per-character
    pinyin cache so one utterance featurises in well under a millisecond.
    """
    s = clean(text)
    syl = [_syllable(ch) for ch in s]
    out: list[str] = []
    lo, hi = NGRAM_RANGE
    for n in range(lo, hi + 1):
        for i in range(len(s) - n + 1):
            out.append("c:" + s[i : i + n])
            out.append("p:" + "_".join(syl[i : i + n]))
    return out


def clauses(text: str) -> list[str]:
    """The clauses of ``text`` (split on ，。！？,;), empty pieces dropped."""
    return [c.strip() for c in _CLAUSE_SPLIT.split(text) if c.strip()]


# ---------------------------------------------------------------- data


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


@dataclass(frozen=True)
class SemanticHit:
    """A fraud flag the detector is confident about.

    Attributes:
        code: fraud flag code.
        probability: the model's probability (max over original and Mandarin text).
        evidence: the clause of the customer's original words that scored highest.
    """

    code: str
    probability: float
    evidence: str


def _read(path: Path | None, shipped: str, package_file: str) -> tuple[Any, str]:
    if path is None:
        where = shipped
        try:
            text = (resources.files("voice_agent.risk") / "data" / package_file).read_text(
                encoding="utf-8"
            )
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read the shipped file") from exc
    else:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read: {exc}") from exc
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
    path: Path | None = None, catalog_examples: Mapping[str, Sequence[str]] | None = None
) -> TrainingSet:
    """Load and validate the exemplar file; None loads the shipped one.

    Args:
        path: a fraud_examples.yaml, or None for the shipped file.
        catalog_examples: intent code → example sentences (the intent
            catalog's), added as legitimate sentences except the intents and
            sentences the file's ``catalog`` section excludes. None: none.

    Raises:
        ConfigError: unreadable file, unknown key or flag code, empty list;
            the message names the file, the key and the valid choices.
    """
    raw, where = _read(path, _SHIPPED_EXAMPLES, "fraud_examples.yaml")
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
    curated = tuple(i < n_curated for i in range(len(texts)))
    return TrainingSet(tuple(texts), tuple(labels), curated, where)


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
    raw, where = _read(rules_path, _SHIPPED_RULES, "rules.yaml")
    if not isinstance(raw, dict) or "semantic" not in raw:
        raise _fail(where, "semantic", "missing section", _SEMANTIC_KEYS)
    return parse_semantic(raw["semantic"], where)


# ---------------------------------------------------------------- model


def _fit_matrix(training: TrainingSet, c: float) -> tuple[TfidfVectorizer, np.ndarray, np.ndarray]:
    """TF-IDF vectoriser plus (features × flags) weights and per-flag intercepts."""
    # min_df=2: an n-gram seen in one sentence only cannot generalise to a
    # paraphrase, and dropping them makes training ~4x faster.
    vec = TfidfVectorizer(analyzer=analyze, sublinear_tf=True, min_df=2, dtype=np.float64)
    x = vec.fit_transform(training.texts)
    coef = np.zeros((x.shape[1], len(FRAUD_FLAGS)))
    bias = np.full(len(FRAUD_FLAGS), -30.0)
    for j, code in enumerate(FRAUD_FLAGS):
        rows, y = _rows_for(training, code)
        if y.sum() == 0 or y.sum() == len(y):
            continue
        lr = LogisticRegression(C=c, solver="liblinear", class_weight="balanced")
        lr.fit(x[rows], y)
        coef[:, j] = lr.coef_[0]
        bias[j] = lr.intercept_[0]
    return vec, coef, bias


def _rows_for(training: TrainingSet, code: str) -> tuple[np.ndarray, np.ndarray]:
    """The training rows and 0/1 targets of one flag's classifier.

    Other scams' exemplars are negatives (so each flag learns its own story),
    except for the supporting cues: secrecy and "someone told me to" ride
    along with most scams unlabelled, so for them only legitimate sentences
    are negatives.
    """
    rows, y = [], []
    for i, lab in enumerate(training.labels):
        if code in lab:
            rows.append(i)
            y.append(1)
        elif not lab or code not in SUPPORTING:
            rows.append(i)
            y.append(0)
    return np.asarray(rows), np.asarray(y)


class SemanticDetector:
    """Scores an utterance for every fraud flag; immutable once built.

    Build it with :meth:`load` (shipped exemplars and thresholds) or
    :meth:`train`. Scoring is a dictionary lookup per n-gram and one small
    matrix product, well under a millisecond per utterance.
    """

    def __init__(
        self,
        vocabulary: Mapping[str, int],
        idf: np.ndarray,
        coef: np.ndarray,
        bias: np.ndarray,
        thresholds: Mapping[str, float],
    ) -> None:
        self._vocab = dict(vocabulary)
        self._idf = idf
        self._coef = coef
        self._bias = bias
        self.thresholds: Mapping[str, float] = dict(thresholds)

    @classmethod
    def train(cls, training: TrainingSet, config: SemanticConfig) -> SemanticDetector:
        """Fit one classifier per fraud flag on ``training``."""
        vec, coef, bias = _fit_matrix(training, config.c)
        vocab = {str(k): int(v) for k, v in vec.vocabulary_.items()}
        return cls(vocab, np.asarray(vec.idf_), coef, bias, config.thresholds)

    @classmethod
    def load(
        cls,
        examples_path: Path | None = None,
        rules_path: Path | None = None,
        with_catalog: bool = True,
    ) -> SemanticDetector:
        """Train on the exemplar file with the thresholds of the rules file.

        Args:
            examples_path: fraud_examples.yaml (None: shipped).
            rules_path: rules.yaml holding the ``semantic:`` section (None: shipped).
            with_catalog: add the shipped intent catalog's examples as
                legitimate sentences.

        Raises:
            ConfigError: either file is invalid; the message names it.
        """
        config = load_semantic_config(rules_path)
        extra = catalog_examples() if with_catalog else None
        return cls.train(load_examples(examples_path, extra), config)

    # ------------------------------------------------------------ scoring

    def _proba(self, text: str) -> np.ndarray:
        counts = Counter(analyze(text))
        idx = [self._vocab[t] for t in counts if t in self._vocab]
        if not idx:
            return np.asarray(1.0 / (1.0 + np.exp(-self._bias)))
        vals = (
            np.asarray([1.0 + math.log(n) for t, n in counts.items() if t in self._vocab])
            * self._idf[idx]
        )
        vals /= np.linalg.norm(vals)
        logits = vals @ self._coef[idx] + self._bias
        return np.asarray(1.0 / (1.0 + np.exp(-logits)))

    def score(self, utterance: Normalised | str) -> dict[str, float]:
        """Probability of every fraud flag, the max over original and Mandarin text."""
        if isinstance(utterance, str):
            p = self._proba(utterance)
        else:
            p = self._proba(utterance.normalized_text)
            if utterance.text != utterance.normalized_text:
                p = np.maximum(p, self._proba(utterance.text))
        return {code: float(v) for code, v in zip(FRAUD_FLAGS, p, strict=True)}

    def evidence(self, text: str, code: str) -> str:
        """The clause of ``text`` with the highest probability for ``code``."""
        parts = clauses(text)
        if len(parts) <= 1:
            return text.strip()
        j = FRAUD_FLAGS.index(code)
        return max(parts, key=lambda c: float(self._proba(c)[j]))

    def detect(self, utterance: Normalised) -> tuple[SemanticHit, ...]:
        """The fraud flags whose probability reaches their threshold, in taxonomy order."""
        hits = []
        for code, p in self.score(utterance).items():
            if p >= self.thresholds.get(code, 1.0):
                hits.append(SemanticHit(code, p, self.evidence(utterance.text, code)))
        return tuple(hits)


# ---------------------------------------------------------------- tuning


def out_of_fold(training: TrainingSet, c: float, folds: int = 5, seed: int = 0) -> np.ndarray:
    """Out-of-fold probabilities (sentences × fraud flags) by k-fold cross-validation."""
    proba = np.zeros((len(training.texts), len(FRAUD_FLAGS)))
    splitter = KFold(n_splits=folds, shuffle=True, random_state=seed)
    texts = np.asarray(training.texts, dtype=object)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        for tr, te in splitter.split(texts):
            part = TrainingSet(tuple(texts[tr]), tuple(training.labels[i] for i in tr))
            det = SemanticDetector.train(part, SemanticConfig(True, c, {}))
            for i in te:
                proba[i] = list(det.score(str(texts[i])).values())
    return proba


def tune_thresholds(
    training: TrainingSet,
    proba: np.ndarray,
    max_false_alarm: float = 0.01,
    grid: Sequence[float] = tuple(np.round(np.arange(0.15, 0.951, 0.025), 3)),
) -> dict[str, float]:
    """Per-flag thresholds from out-of-fold probabilities (:func:`out_of_fold`).

    For each flag, the lowest threshold (most recall) at which at most
    ``max_false_alarm`` of the curated legitimate look-alikes reach it. Only
    the curated ones count: the intent catalog's sentences are easy
    negatives that would dilute the rate and pull thresholds too low. The
    budget is per flag, so it is kept small: eleven flags share the overall
    false-alarm allowance.
    """
    legit = np.asarray(
        [not lab and cur for lab, cur in zip(training.labels, training.curated, strict=True)]
    )
    out: dict[str, float] = {}
    for j, code in enumerate(FRAUD_FLAGS):
        best = float(grid[-1])
        for t in grid:
            if float((proba[legit, j] >= t).mean()) <= max_false_alarm:
                best = float(t)
                break
        out[code] = best
    return out


def choose_thresholds(training: TrainingSet, proba: np.ndarray) -> tuple[dict[str, float], float]:
    """Per-flag thresholds at the budget that maximises recall minus false alarms.

    Both are out-of-fold on the exemplars: recall = share of fraud exemplars
    (non-supporting flags) with any flag fired, false alarms = share of
    curated look-alikes with any non-supporting flag (Youden's J over the
    per-flag budgets). Returns the thresholds and that false-alarm rate.
    """
    legit = np.asarray(
        [not lab and cur for lab, cur in zip(training.labels, training.curated, strict=True)]
    )
    fraud = np.asarray([bool(lab - set(SUPPORTING)) for lab in training.labels])
    hot = [j for j, c in enumerate(FRAUD_FLAGS) if c not in SUPPORTING]
    best: tuple[float, dict[str, float], float] = (-1.0, {}, 0.0)
    for budget in (0.0, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03):
        th = tune_thresholds(training, proba, budget)
        fired = proba[:, hot] >= np.asarray([th[FRAUD_FLAGS[j]] for j in hot])
        rate = float(fired[legit].any(axis=1).mean())
        j_stat = float(fired[fraud].any(axis=1).mean()) - rate
        if j_stat > best[0] + 1e-9:
            best = (j_stat, th, rate)
    return best[1], best[2]


def main() -> None:  # pragma: no cover - a maintenance command, run by hand
    """Print tuned thresholds as a ``semantic:`` block to paste into rules.yaml."""
    config = load_semantic_config()
    training = load_examples(None, catalog_examples())
    proba = out_of_fold(training, config.c)
    th, rate = choose_thresholds(training, proba)
    for j, code in enumerate(FRAUD_FLAGS):
        pos = np.asarray([code in lab for lab in training.labels])
        rec = float((proba[pos, j] >= th[code]).mean())
        print(f"# {code}: out-of-fold recall {rec:.2f} on {int(pos.sum())} exemplars")
    print(f"# curated look-alikes out-of-fold false alarms: {rate:.3f}")
    print(yaml.safe_dump({"thresholds": th}, sort_keys=False))


if __name__ == "__main__":  # pragma: no cover
    main()
