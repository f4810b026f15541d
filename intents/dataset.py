"""Labelled utterances: the catalog's train/held-back split, corrections, JSONL sets.

The held-back split is chosen by a stable hash of each sentence, not by a
random draw, so every run, machine and model version is evaluated on the
same sentences, and adding an example never reshuffles the others.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

from intents.catalog import Catalog, example_key
from models.errors import InputError

#: Share of catalog examples held back for evaluation (by stable hash).
HELD_BACK_PERCENT = 20


@dataclass(frozen=True)
class LabelledExample:
    """One utterance with its gold intent (and, when known, slots and dialect).

    Attributes:
        text: the utterance as the customer (or ASR) produced it.
        intent: the gold intent code.
        slots: gold slot values (code → value); None when not annotated
            (an empty mapping means "annotated: no slots").
        dialect: gold dialect code, None when unknown (then detected).
    """

    text: str
    intent: str
    slots: Mapping[str, int | str] | None = None
    dialect: str | None = None


def is_held_back(text: str, percent: int = HELD_BACK_PERCENT) -> bool:
    """Whether ``text`` belongs to the held-back split (stable across runs)."""
    digest = hashlib.sha256(example_key(text).encode("utf-8")).digest()
    return int.from_bytes(digest[:4], "big") % 100 < percent


def catalog_split(
    catalog: Catalog, percent: int = HELD_BACK_PERCENT
) -> tuple[tuple[LabelledExample, ...], tuple[LabelledExample, ...]]:
    """The catalog's examples as (training, held-back) by stable hash.

    An intent whose examples all hash into the held-back split keeps its
    first one for training, so no class is unknown to the model.
    """
    train: list[LabelledExample] = []
    held: list[LabelledExample] = []
    for spec in catalog:
        mine_train: list[LabelledExample] = []
        mine_held: list[LabelledExample] = []
        for ex in spec.examples:
            item = LabelledExample(ex.text, ex.intent)
            (mine_held if is_held_back(ex.text, percent) else mine_train).append(item)
        if not mine_train and mine_held:
            mine_train.append(mine_held.pop(0))
        train.extend(mine_train)
        held.extend(mine_held)
    return tuple(train), tuple(held)


def load_jsonl(path: Path) -> tuple[LabelledExample, ...]:
    """Read a labelled set: one JSON object per line with ``text`` and ``intent``.

    Optional keys: ``slots`` (object), ``dialect``; others are ignored.

    Raises:
        InputError: unreadable file, bad JSON, or a line without text/intent.
    """
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise InputError(f"cannot read labelled data {path}: {e.strerror}") from e
    out: list[LabelledExample] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as e:
            raise InputError(f"{path}:{n}: not JSON ({e.msg})") from e
        if not isinstance(obj, dict) or not isinstance(obj.get("text"), str):
            raise InputError(f"{path}:{n}: each line needs a string 'text'")
        if not isinstance(obj.get("intent"), str):
            raise InputError(f"{path}:{n}: each line needs a string 'intent'")
        slots = obj.get("slots")
        dialect = obj.get("dialect")
        out.append(
            LabelledExample(
                text=obj["text"],
                intent=obj["intent"],
                slots=MappingProxyType(dict(slots)) if isinstance(slots, dict) else None,
                dialect=dialect if isinstance(dialect, str) else None,
            )
        )
    return tuple(out)


def texts_and_labels(
    examples: Sequence[LabelledExample],
) -> tuple[list[str], list[str]]:
    """Split examples into parallel lists of texts and intent codes."""
    return [e.text for e in examples], [e.intent for e in examples]
