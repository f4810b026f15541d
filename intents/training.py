"""Gated retraining: a new model replaces the current one only if it is not worse.

Teller corrections and catalog edits arrive continuously; a bad batch must
not silently degrade what every caller gets. So the candidate and the
current model are scored on the same evaluation set (the catalog's
held-back split plus any labelled JSONL), and the candidate becomes current
only when its macro-F1 is at least the current one's minus
:data:`TOLERANCE` — or when an operator forces it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from intents.catalog import Catalog
from intents.classifier import IntentModel, make_classifier
from intents.dataset import LabelledExample, catalog_split
from intents.evaluation import EvalReport, evaluate
from intents.store import ModelMeta, ModelStore
from models.errors import ModelError
from models.progress import Track, no_progress

#: A candidate may score this much lower macro-F1 and still replace the
#: current model: on a few hundred held-back sentences one sentence moves
#: macro-F1 by about this much, which is noise, not a regression.
TOLERANCE = 0.01


def _unknown_dialect(_text: str) -> str:
    return "unknown"


@dataclass(frozen=True)
class TrainResult:
    """The outcome of one training run.

    Attributes:
        accepted: whether the candidate became the current model.
        reason: one sentence saying why, with the figures.
        candidate_metrics: the candidate's headline figures.
        current_metrics: the previous current model's, None when there was none.
        version: the version now current (the new one when accepted).
        candidate_report: the candidate's full evaluation.
        current_report: the previous model's full evaluation, if any.
    """

    accepted: bool
    reason: str
    candidate_metrics: Mapping[str, float]
    current_metrics: Mapping[str, float] | None
    version: str | None
    candidate_report: EvalReport
    current_report: EvalReport | None = None


def evaluation_set(
    catalog: Catalog, eval_data: Sequence[LabelledExample] | None = None
) -> tuple[LabelledExample, ...]:
    """The catalog's held-back split plus ``eval_data``."""
    return catalog_split(catalog)[1] + tuple(eval_data or ())


def fit_candidate(
    catalog: Catalog,
    corrections: Sequence[LabelledExample],
    backend: str,
    preprocess: Callable[[str], str],
    checkpoint: Path | None = None,
) -> tuple[IntentModel, int, int]:
    """Fit a new model on the catalog's training split plus corrections.

    Corrections whose intent is no longer in the catalog are left out: the
    model must only predict intents the forms and prompts know.

    Returns:
        The model, the number of catalog examples and of corrections used.
    """
    train_split, _held = catalog_split(catalog)
    usable = [c for c in corrections if c.intent in catalog.intents]
    texts = [preprocess(e.text) for e in train_split] + [preprocess(c.text) for c in usable]
    labels = [e.intent for e in train_split] + [c.intent for c in usable]
    model = make_classifier(backend, checkpoint)
    model.fit(texts, labels)
    return model, len(train_split), len(usable)


def train(
    catalog: Catalog,
    corrections: Sequence[LabelledExample],
    store: ModelStore,
    backend: str,
    preprocess: Callable[[str], str],
    eval_data: Sequence[LabelledExample] | None = None,
    force: bool = False,
    checkpoint: Path | None = None,
    dialect_of: Callable[[str], str] = _unknown_dialect,
    tolerance: float = TOLERANCE,
    track: Track = no_progress,
) -> TrainResult:
    """Train a candidate and make it current unless it evaluates worse.

    Args:
        catalog: the validated intent catalog.
        corrections: accepted teller corrections (from the server's database).
        store: where versions live.
        backend: classifier backend name (sparse, sparse+e5, e5, transformers).
        preprocess: the dialect normaliser's text normalisation.
        eval_data: extra labelled utterances for the evaluation set.
        force: store and activate the candidate whatever it scores.
        checkpoint: base checkpoint directory for the transformers backend.
        dialect_of: dialect detector for per-dialect figures.
        tolerance: allowed macro-F1 drop (see :data:`TOLERANCE`).
        track: reports progress of the evaluations (a terminal bar from the CLI).
    """
    model, n_examples, n_corrections = fit_candidate(
        catalog, corrections, backend, preprocess, checkpoint
    )
    examples = evaluation_set(catalog, eval_data)
    if not examples:
        raise ModelError("no evaluation data: the catalog's held-back split is empty")
    candidate = evaluate(model, examples, preprocess, dialect_of, track=track)

    current_report: EvalReport | None = None
    try:
        current = store.load_current()
    except ModelError as e:
        current, why_no_current = None, f"the current model is unreadable ({e})"
    else:
        why_no_current = "there was no current model"
    if current is not None:
        current_report = evaluate(current, examples, preprocess, dialect_of, track=track)

    figures = f"candidate macro-F1 {candidate.macro_f1:.3f}"
    if current_report is None:
        accepted, reason = True, f"{why_no_current}; {figures}"
    else:
        figures += (
            f" vs current {current_report.model_version} {current_report.macro_f1:.3f} "
            f"on {len(examples)} utterances (tolerance {tolerance})"
        )
        not_worse = candidate.macro_f1 >= current_report.macro_f1 - tolerance
        accepted = not_worse or force
        if not_worse:
            reason = f"not worse: {figures}"
        elif force:
            reason = f"worse but forced: {figures}"
        else:
            reason = f"refused, worse than the current model: {figures}"

    version = current_report.model_version if current_report else None
    if accepted:
        meta = store.save(
            model,
            ModelMeta(
                version="",
                backend=backend,
                catalog_hash=catalog.content_hash(),
                n_examples=n_examples,
                n_corrections=n_corrections,
                metrics=MappingProxyType(candidate.summary()),
                checkpoint=str(checkpoint or ""),
            ),
        )
        version = meta.version
    return TrainResult(
        accepted=accepted,
        reason=reason,
        candidate_metrics=MappingProxyType(candidate.summary()),
        current_metrics=MappingProxyType(current_report.summary()) if current_report else None,
        version=version,
        candidate_report=candidate,
        current_report=current_report,
    )


def load_or_bootstrap(
    store_dir: Path,
    catalog: Catalog,
    backend: str,
    preprocess: Callable[[str], str],
    checkpoint: Path | None = None,
    dialect_of: Callable[[str], str] = _unknown_dialect,
) -> IntentModel:
    """The current model of ``store_dir``, training and storing v0001 if none.

    A fresh install therefore works without a separate training step. When
    the current model was trained with another backend than the one now
    configured, a model of the configured backend is trained and made
    current (changing the setting is the operator's explicit choice).

    Raises:
        ModelError: the stored model cannot be loaded (says how to recover).
        ConfigError: unknown backend, or transformers without a checkpoint.
    """
    store = ModelStore(store_dir)
    version = store.current_version()
    if version is not None and store.meta(version).backend == backend:
        return store.load(version)
    result = train(
        catalog,
        (),
        store,
        backend,
        preprocess,
        force=True,
        checkpoint=checkpoint,
        dialect_of=dialect_of,
    )
    assert result.version is not None  # forced, so always stored
    return store.load(result.version)
