"""Intent classifier backend: fine-tune a local BERT-style checkpoint (CPU).

For banks that have a Chinese BERT checkpoint of their own (nothing is
downloaded: the checkpoint is a local directory). It is trained from the
same catalog and corrections as the linear backends, stored and gated by
the same ModelStore and ``train``, and answers the same ``predict``.

Differences from the sparse backend: no drivers (attributing a transformer's
decision to words would cost a backward pass per sentence), and the
out-of-scope floor is a fixed argument rather than tuned (cross-validated
fine-tuning would multiply the training time).
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import torch
from transformers import AutoModelForSequenceClassification, AutoTokenizer

from intents.classifier import decide
from intents.features import clean
from intents.types import IntentPrediction
from models.errors import ModelError

HF_DIR = "hf"
META_FILE = "transformer.json"


class TransformerIntentClassifier:
    """Sequence classification with a fine-tuned BERT-style model.

    Args:
        checkpoint: local directory with a tokenizer and a model config
            (and weights) that AutoModelForSequenceClassification can load.
        seed: fixes initialisation of the classification head, dropout and
            batch order, so the same data gives the same model.
        epochs: passes over the training data.
        learning_rate: AdamW learning rate.
        batch_size: sentences per step.
        max_length: tokens per sentence (utterances are short).
        confidence_floor: below this probability the answer is out_of_scope.
    """

    backend = "transformers"

    def __init__(
        self,
        checkpoint: Path,
        seed: int = 0,
        epochs: int = 4,
        learning_rate: float = 5e-5,
        batch_size: int = 16,
        max_length: int = 64,
        confidence_floor: float = 0.0,
    ) -> None:
        self.checkpoint = checkpoint
        self.seed = seed
        self.epochs = epochs
        self.learning_rate = learning_rate
        self.batch_size = batch_size
        self.max_length = max_length
        self.confidence_floor = confidence_floor
        self.version = ""
        self.losses: list[float] = []
        self._classes: tuple[str, ...] = ()
        self._tokenizer: object | None = None
        self._model: torch.nn.Module | None = None

    @property
    def classes(self) -> tuple[str, ...]:
        """The intent codes the model can predict, sorted."""
        return self._classes

    def fit(self, texts: Sequence[str], labels: Sequence[str]) -> None:
        """Fine-tune the checkpoint on ``texts``; records the mean loss per epoch."""
        self._classes = tuple(sorted(set(labels)))
        label_id = {c: i for i, c in enumerate(self._classes)}
        random.seed(self.seed)
        np.random.seed(self.seed)
        torch.manual_seed(self.seed)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(self.checkpoint))
            model = AutoModelForSequenceClassification.from_pretrained(
                str(self.checkpoint),
                num_labels=len(self._classes),
                id2label=dict(enumerate(self._classes)),
                label2id=label_id,
                ignore_mismatched_sizes=True,  # a checkpoint's own head has other labels
            )
        except (OSError, ValueError) as e:
            raise ModelError(
                f"cannot load transformer checkpoint {self.checkpoint}: {e} "
                "(needs a local directory with config.json, weights and a tokenizer)"
            ) from e
        cleaned = [clean(t) or t for t in texts]
        y = torch.tensor([label_id[c] for c in labels])
        optimiser = torch.optim.AdamW(model.parameters(), lr=self.learning_rate)
        order_rng = torch.Generator().manual_seed(self.seed)
        model.train()
        self.losses = []
        for _epoch in range(self.epochs):
            order = torch.randperm(len(cleaned), generator=order_rng).tolist()
            total = 0.0
            for start in range(0, len(order), self.batch_size):
                idx = order[start : start + self.batch_size]
                batch = tokenizer(
                    [cleaned[i] for i in idx],
                    padding=True,
                    truncation=True,
                    max_length=self.max_length,
                    return_tensors="pt",
                )
                out = model(**batch, labels=y[idx])
                optimiser.zero_grad()
                out.loss.backward()
                optimiser.step()
                total += out.loss.item() * len(idx)
            self.losses.append(total / len(order))
        model.eval()
        self._tokenizer, self._model = tokenizer, model

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """Class probabilities, columns in :attr:`classes` order."""
        if self._model is None or self._tokenizer is None:
            raise ModelError("the transformer classifier is not trained")
        batch = self._tokenizer(  # type: ignore[operator]
            [clean(t) or t for t in texts],
            padding=True,
            truncation=True,
            max_length=self.max_length,
            return_tensors="pt",
        )
        with torch.no_grad():
            logits = self._model(**batch).logits
        return np.asarray(torch.softmax(logits, dim=-1).numpy(), dtype=float)

    def predict(self, text: str) -> IntentPrediction:
        """Pick the intent of normalised ``text`` with alternatives (no drivers)."""
        return decide(
            self.predict_proba([text])[0], self._classes, self.confidence_floor, self.version
        )

    def save(self, directory: Path) -> None:
        """Write the fine-tuned model, its tokenizer and its labels into ``directory``."""
        if self._model is None or self._tokenizer is None:
            raise ModelError("the transformer classifier is not trained")
        self._model.save_pretrained(str(directory / HF_DIR))  # type: ignore[operator]
        self._tokenizer.save_pretrained(str(directory / HF_DIR))  # type: ignore[attr-defined]
        meta = {
            "checkpoint": str(self.checkpoint),
            "classes": list(self._classes),
            "confidence_floor": self.confidence_floor,
            "max_length": self.max_length,
            "seed": self.seed,
            "epochs": self.epochs,
            "learning_rate": self.learning_rate,
            "losses": self.losses,
        }
        (directory / META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")

    @classmethod
    def load(cls, directory: Path) -> TransformerIntentClassifier:
        """Load a model written by :meth:`save`.

        Raises:
            ModelError: missing or unreadable files.
        """
        try:
            meta = json.loads((directory / META_FILE).read_text())
            tokenizer = AutoTokenizer.from_pretrained(str(directory / HF_DIR))
            model = AutoModelForSequenceClassification.from_pretrained(str(directory / HF_DIR))
        except (OSError, ValueError, KeyError) as e:
            raise ModelError(f"cannot load transformer intent model {directory}: {e}") from e
        self = cls(
            Path(meta["checkpoint"]),
            seed=meta["seed"],
            epochs=meta["epochs"],
            learning_rate=meta["learning_rate"],
            max_length=meta["max_length"],
            confidence_floor=meta["confidence_floor"],
        )
        self._classes = tuple(meta["classes"])
        self.losses = list(meta["losses"])
        model.eval()
        self._tokenizer, self._model = tokenizer, model
        return self
