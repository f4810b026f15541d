"""Guards on the shipped intent catalog's content and on our labelled dev set.

The loader (intents.catalog) checks that a catalog is well formed; these tests
check that the catalog we ship is rich enough to train on, and that the dev
set stays an honest stand-in for the bank's unseen test set: its sentences
must never leak into the training examples, or every score we report lies.
They read the files with PyYAML directly so a loader bug cannot hide a content
problem (and vice versa).
"""

from __future__ import annotations

import json
from collections import Counter
from importlib.resources import files
from pathlib import Path
from typing import Any

import pytest
import yaml

# The public vocabulary of ../shared/docs/taxonomy.md. Spelled out here on purpose: the
# test must fail if a catalog file or a dev label drifts from the spec.
TAXONOMY_INTENTS = frozenset(
    {
        "transfer",
        "balance_inquiry",
        "transaction_history",
        "time_deposit",
        "password_reset",
        "card_loss",
        "limit_adjustment",
        "pension_inquiry",
        "card_activation",
        "mobile_banking_help",
        "report_fraud",
        "speak_to_teller",
        "out_of_scope",
    }
)
SLOT_CODES = frozenset(
    {
        "amount",
        "payee_name",
        "payee_relation",
        "payee_account",
        "payee_bank",
        "term_months",
        "medium",
    }
)
MEDIA = frozenset({"card", "passbook", "mobile_banking"})
FRAUD_FLAGS = frozenset(
    {
        "safe_account",
        "impersonate_authority",
        "impersonate_service",
        "impersonate_acquaintance",
        "investment_fraud",
        "loan_fraud",
        "credit_repair",
        "task_rebate",
        "romance_fraud",
        "remote_control",
        "prize_fraud",
        "kidnapping_hoax",
        "secrecy_pressure",
        "third_party_instruction",
        "fraud_reported",
    }
)
DIALECTS = frozenset({"mandarin", "shanghainese"})

MIN_EXAMPLES = 45
MIN_OUT_OF_SCOPE = 70
MIN_DEV_LINES = 260
MIN_FLAG_COVERAGE = 2

CATALOG_DIR = Path(str(files("intents") / "catalog"))


def _load_catalog() -> dict[str, dict[str, Any]]:
    """Every catalog file, keyed by file stem."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(CATALOG_DIR.glob("*.yaml")):
        with path.open(encoding="utf-8") as fh:
            out[path.stem] = yaml.safe_load(fh)
    return out


@pytest.fixture(scope="module")
def catalog() -> dict[str, dict[str, Any]]:
    """The shipped catalog as plain YAML data."""
    return _load_catalog()


@pytest.fixture(scope="module")
def dev_rows(data_dir: Path) -> list[dict[str, Any]]:
    """tests/data/text/dev_utterances.jsonl, one dict per line."""
    path = data_dir / "text" / "dev_utterances.jsonl"
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def _required_codes(item: Any) -> list[str]:
    """Slot codes named by one ``required`` item (a code or ``{any_of: [...]}``)."""
    if isinstance(item, str):
        return [item]
    assert isinstance(item, dict), f"required item must be a code or any_of: {item!r}"
    assert set(item) == {"any_of"}, f"unknown keys in required item: {item!r}"
    return list(item["any_of"])


def test_every_taxonomy_intent_has_a_file(catalog: dict[str, dict[str, Any]]) -> None:
    assert set(catalog) >= TAXONOMY_INTENTS, sorted(TAXONOMY_INTENTS - set(catalog))
    for stem, data in catalog.items():
        assert data["code"] == stem, f"{stem}.yaml declares code {data['code']!r}"


def test_slots_required_and_prompts_are_consistent(
    catalog: dict[str, dict[str, Any]],
) -> None:
    for code, data in catalog.items():
        slots = set(data["slots"])
        assert slots <= SLOT_CODES, f"{code}.yaml: unknown slots {sorted(slots - SLOT_CODES)}"
        for item in data["required"]:
            missing = set(_required_codes(item)) - slots
            assert not missing, f"{code}.yaml: required {sorted(missing)} not in slots"
        prompts = data["prompts"] or {}
        assert set(prompts) == slots, f"{code}.yaml: prompts must cover exactly its slots"
        assert all(isinstance(p, str) and p.strip() for p in prompts.values()), code
        assert isinstance(data["name"], str) and data["name"].strip(), code
        assert isinstance(data["description"], str) and data["description"].strip(), code


def test_required_slots_follow_the_taxonomy(catalog: dict[str, dict[str, Any]]) -> None:
    # taxonomy.md's "required slots for the form" column.
    expected: dict[str, list[Any]] = {
        "transfer": ["amount", {"any_of": ["payee_account", "payee_name"]}],
        "time_deposit": ["amount", "term_months"],
        "password_reset": ["medium"],
        "card_loss": ["medium"],
        "card_activation": ["medium"],
        "limit_adjustment": ["amount"],
    }
    for code in TAXONOMY_INTENTS:
        assert (catalog[code]["required"] or []) == expected.get(code, []), code


def test_each_intent_has_enough_examples(catalog: dict[str, dict[str, Any]]) -> None:
    for code, data in catalog.items():
        floor = MIN_OUT_OF_SCOPE if code == "out_of_scope" else MIN_EXAMPLES
        examples = data["examples"]
        assert len(examples) >= floor, f"{code}.yaml: {len(examples)} examples < {floor}"
        assert all(isinstance(e, str) and e.strip() for e in examples), code


def test_no_duplicate_examples_within_or_across_intents(
    catalog: dict[str, dict[str, Any]],
) -> None:
    seen: dict[str, str] = {}
    clashes = []
    for code, data in catalog.items():
        for example in data["examples"]:
            text = example.strip()
            if text in seen:
                clashes.append((text, seen[text], code))
            seen[text] = code
    assert not clashes, clashes


def test_dev_set_never_appears_in_the_catalog(
    catalog: dict[str, dict[str, Any]], dev_rows: list[dict[str, Any]]
) -> None:
    examples = {e.strip() for data in catalog.values() for e in data["examples"]}
    leaked = [row["text"] for row in dev_rows if row["text"].strip() in examples]
    assert not leaked, leaked


def test_dev_set_has_no_duplicates(dev_rows: list[dict[str, Any]]) -> None:
    counts = Counter(row["text"] for row in dev_rows)
    assert [t for t, n in counts.items() if n > 1] == []


def test_dev_labels_use_valid_codes(
    catalog: dict[str, dict[str, Any]], dev_rows: list[dict[str, Any]]
) -> None:
    assert len(dev_rows) >= MIN_DEV_LINES
    for row in dev_rows:
        text = row["text"]
        assert set(row) == {"text", "intent", "dialect", "slots", "fraud", "fraud_flags"}, text
        assert row["intent"] in TAXONOMY_INTENTS, text
        assert row["dialect"] in DIALECTS, text
        flags = row["fraud_flags"]
        assert set(flags) <= FRAUD_FLAGS, text
        assert len(set(flags)) == len(flags), text
        assert row["fraud"] is bool(flags), text
        slots = row["slots"]
        # Labels name only slots the intent's form uses, so slot scores compare
        # like with like.
        assert set(slots) <= set(catalog[row["intent"]]["slots"]), text
        for code, value in slots.items():
            if code in {"amount", "term_months"}:
                assert type(value) is int and value > 0, text
            elif code == "medium":
                assert value in MEDIA, text
            elif code == "payee_account":
                assert value.isdigit() and 16 <= len(value) <= 19, text
            else:
                assert isinstance(value, str) and value.strip(), text


def test_dev_set_covers_every_intent_and_fraud_flag(dev_rows: list[dict[str, Any]]) -> None:
    intents = Counter(row["intent"] for row in dev_rows)
    assert set(intents) == TAXONOMY_INTENTS
    flags = Counter(flag for row in dev_rows for flag in row["fraud_flags"])
    thin = {f: flags[f] for f in FRAUD_FLAGS if flags[f] < MIN_FLAG_COVERAGE}
    assert not thin, thin


def test_dev_set_mixes_dialects_fraud_and_look_alikes(dev_rows: list[dict[str, Any]]) -> None:
    n = len(dev_rows)
    shanghainese = sum(row["dialect"] == "shanghainese" for row in dev_rows)
    fraud = sum(row["fraud"] for row in dev_rows)
    assert shanghainese / n >= 0.35, f"{shanghainese}/{n} Shanghainese"
    assert fraud >= 50, f"only {fraud} fraud cases"
    # Legitimate requests must outnumber fraud cases, or the set rewards a
    # classifier that cries wolf at every elderly caller.
    assert n - fraud > fraud
    # "I was scammed" is its own intent; a scam in progress keeps the intent
    # the customer asked for (taxonomy.md), so the two labels go together.
    for row in dev_rows:
        reported = "fraud_reported" in row["fraud_flags"]
        assert reported == (row["intent"] == "report_fraud"), row["text"]
