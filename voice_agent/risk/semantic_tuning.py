"""Tuning the learned detector's per-flag thresholds (a maintenance command).

Run by hand after the risk team edits ``data/fraud_examples.yaml``; it
prints a ``semantic:`` block to paste into rules.yaml. It sits apart from
the detector because the live call never tunes: cross-validation and the
threshold search would only lengthen the module the engine imports.
Thresholds are chosen by cross-validation on the exemplars only, never on
the evaluation sets, so the figures in benchmarks/ stay honest.

Usage::

    .venv/bin/python -m voice_agent.risk.semantic_tuning
    .venv/bin/python -m voice_agent.risk.semantic   # same, the documented name
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence

import numpy as np
import yaml
from sklearn.model_selection import KFold

from voice_agent.risk.model import FRAUD_FLAGS
from voice_agent.risk.semantic import SUPPORTING, SemanticDetector
from voice_agent.risk.semantic_data import (
    SemanticConfig,
    TrainingSet,
    catalog_examples,
    load_everyday,
    load_examples,
    load_semantic_config,
)


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
    everyday = [c.text for c in load_everyday() if c.split == "train"]
    training = load_examples(None, catalog_examples(), everyday)
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
