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

This module holds only the detector (features, training, scoring), the
part the live call runs. Its data files are loaded and validated by
:mod:`.semantic_data`; per-flag thresholds (rules.yaml ``semantic:``) are
derived by :mod:`.semantic_tuning`, which ``python -m
voice_agent.risk.semantic`` still runs.
"""

from __future__ import annotations

import functools
import math
import re
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression

from dialects.types import Normalised
from intents.features import NGRAM_RANGE, clean
from models.text import phrase_pinyin
from voice_agent.risk.model import FRAUD_FLAGS
from voice_agent.risk.semantic_data import (
    SemanticConfig,
    TrainingSet,
    catalog_examples,
    load_everyday,
    load_examples,
    load_semantic_config,
)

SUPPORTING = ("secrecy_pressure", "third_party_instruction")
_CLAUSE_SPLIT = re.compile(r"[，。！？,;；!?]+")


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
        everyday_path: Path | None = None,
        with_everyday: bool = True,
    ) -> SemanticDetector:
        """Train on the exemplar file with the thresholds of the rules file.

        Args:
            examples_path: fraud_examples.yaml (None: shipped).
            rules_path: rules.yaml holding the ``semantic:`` section (None: shipped).
            with_catalog: add the shipped intent catalog's examples as
                legitimate sentences.
            everyday_path: everyday_calls.jsonl (None: shipped).
            with_everyday: add its ``train`` rows as legitimate sentences.

        Raises:
            ConfigError: either file is invalid; the message names it.
        """
        config = load_semantic_config(rules_path)
        extra = catalog_examples() if with_catalog else None
        everyday = (
            [c.text for c in load_everyday(everyday_path) if c.split == "train"]
            if with_everyday
            else []
        )
        return cls.train(load_examples(examples_path, extra, everyday), config)

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


if __name__ == "__main__":  # pragma: no cover - the documented tuning command
    from voice_agent.risk.semantic_tuning import main

    main()
