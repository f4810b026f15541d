"""A broken risk data file names the file, the line, the key and the valid choices.

One test per file the risk team edits (rules.yaml, its semantic section,
customers.json, blacklist.txt, fraud_examples.yaml, everyday_calls.jsonl):
every problem in the file is reported at once, each on the line a reviewer
must fix, through the one loader (:mod:`models.datafile`).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.datafile import DataFileError, DataIssue
from voice_agent.risk.engine import RiskEngine
from voice_agent.risk.model import ALL_FLAGS, FRAUD_FLAGS
from voice_agent.risk.profiles import CustomerDirectory
from voice_agent.risk.semantic_data import (
    EVERYDAY_TOPICS,
    load_everyday,
    load_examples,
    load_semantic_config,
)
from voice_agent.risk.types import RISK_LEVELS

DATA = Path(__file__).resolve().parents[2] / "voice_agent" / "risk" / "data"


def _line_of(text: str, needle: str, after: int = 0) -> int:
    """The 1-based line where ``needle`` first occurs after line ``after``."""
    for n, line in enumerate(text.splitlines(), start=1):
        if n > after and needle in line:
            return n
    raise AssertionError(needle)


def _issues(error: pytest.ExceptionInfo[DataFileError]) -> dict[str, DataIssue]:
    return {issue.where: issue for issue in error.value.issues}


def test_rules_file_problems_come_with_line_and_choices(tmp_path: Path) -> None:
    text = (DATA / "rules.yaml").read_text("utf-8")
    ask = _line_of(text, "    ask: ", _line_of(text, "  fraud:", _line_of(text, "levels:")))
    weight = _line_of(text, "weight:", _line_of(text, "  large_amount:"))
    broken = (
        text.replace("\n  safe_account:\n", "\n  safe_acount:\n", 1)
        .replace(text.splitlines()[ask - 1], "    ask: critical")
        .replace(text.splitlines()[weight - 1], "    weight: heavy")
    )
    path = tmp_path / "rules.yaml"
    path.write_text(broken, "utf-8")
    with pytest.raises(DataFileError) as info:
        RiskEngine.load(rules_path=path)
    issues = _issues(info)
    typo = issues["flags.safe_acount"]
    assert typo.line == _line_of(broken, "  safe_acount:")
    assert typo.choices == ALL_FLAGS and typo.message == "unknown key"
    assert issues["flags.safe_account"].message == "missing key"
    level = issues["levels.fraud.ask"]
    assert level.line == ask and level.choices == RISK_LEVELS and "critical" in level.message
    assert issues["flags.large_amount.weight"].line == weight
    assert f"{path}:{ask}: levels.fraud.ask: unknown level 'critical'" in str(info.value)


def test_an_undefined_term_set_is_placed_on_its_line(tmp_path: Path) -> None:
    text = (DATA / "rules.yaml").read_text("utf-8")
    broken = text.replace('"@loan_words"', '"@loan_wrods"', 1)
    path = tmp_path / "rules.yaml"
    path.write_text(broken, "utf-8")
    with pytest.raises(DataFileError) as info:
        RiskEngine.load(rules_path=path)
    (issue,) = info.value.issues
    assert issue.line == _line_of(broken, "@loan_wrods")
    assert "unknown term set '@loan_wrods'" in issue.message
    assert "@loan_words" in issue.choices and "@authority" in issue.choices


def test_semantic_section_problems_come_with_line_and_choices(tmp_path: Path) -> None:
    text = (DATA / "rules.yaml").read_text("utf-8")
    semantic = _line_of(text, "semantic:")
    line = _line_of(text, "loan_fraud:", semantic)
    broken = text.replace(text.splitlines()[line - 1], "    loan_fruad: 0.5")
    path = tmp_path / "rules.yaml"
    path.write_text(broken, "utf-8")
    with pytest.raises(DataFileError) as info:
        load_semantic_config(path)
    issue = _issues(info)["semantic.thresholds.loan_fruad"]
    assert issue.line == line and issue.choices == FRAUD_FLAGS


def test_customers_file_problems_come_with_line_and_choices(tmp_path: Path) -> None:
    path = tmp_path / "customers.json"
    path.write_text(
        '{"customers": [\n'
        '  {"customer_id": "a", "age": 70},\n'
        '  {"customer_id": "b", "age": 70, "birthday": "1950",\n'
        '   "payees": [{"name": "乙", "account": "123"}]},\n'
        '  {"customer_id": "a", "age": "old"}\n'
        "]}\n",
        "utf-8",
    )
    with pytest.raises(DataFileError) as info:
        CustomerDirectory.load(path)
    issues = _issues(info)
    assert issues["customers[1].birthday"].line == 3
    assert "past_transfers" in issues["customers[1].birthday"].choices
    assert issues["customers[1].payees[0].account"].line == 4
    assert "not a 16-19 digit account" in issues["customers[1].payees[0].account"].message
    assert issues["customers[2].age"].line == 5
    path.write_text(path.read_text("utf-8").replace('"age": "old"', '"age": 71'), "utf-8")
    path.write_text(path.read_text("utf-8").replace('"birthday": "1950",', ""), "utf-8")
    path.write_text(path.read_text("utf-8").replace('"123"', '"6222021001012345678"'), "utf-8")
    with pytest.raises(DataFileError) as info:
        CustomerDirectory.load(path)
    (duplicate,) = info.value.issues
    assert duplicate.where == "customers[2].customer_id" and duplicate.line == 5


def test_blacklist_names_every_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "blacklist.txt"
    path.write_text("# header\n6212260200123456789  # ok\n12345\n\n62122602001234567890\n", "utf-8")
    with pytest.raises(DataFileError) as info:
        RiskEngine.load(blacklist_path=path)
    assert [(i.line, i.where) for i in info.value.issues] == [(3, "account"), (5, "account")]
    assert f"{path}:5: account: '62122602001234567890' is not" in str(info.value)


def test_fraud_examples_problems_come_with_line_and_choices(tmp_path: Path) -> None:
    text = (DATA / "fraud_examples.yaml").read_text("utf-8")
    broken = text.replace("\n  safe_account:\n", "\n  safe_acount:\n", 1) + "extra: 1\n"
    path = tmp_path / "fraud_examples.yaml"
    path.write_text(broken, "utf-8")
    with pytest.raises(DataFileError) as info:
        load_examples(path)
    issues = _issues(info)
    assert issues["flags.safe_acount"].line == _line_of(broken, "  safe_acount:")
    assert issues["flags.safe_acount"].choices == FRAUD_FLAGS
    assert issues["extra"].line == len(broken.splitlines())
    assert issues["extra"].choices == ("version", "catalog", "flags", "legitimate")


def test_everyday_rows_are_each_checked(tmp_path: Path) -> None:
    good = {"text": "快递到了", "topic": "delivery", "dialect": "mandarin", "split": "train"}
    rows = [
        {**good, "source": "hand"},
        {**good, "source": "hand", "topic": "weather"},
        {**good, "source": "hand", "split": "dev", "mood": "calm"},
    ]
    path = tmp_path / "everyday_calls.jsonl"
    path.write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n{broken\n", "utf-8"
    )
    with pytest.raises(DataFileError) as info:
        load_everyday(path)
    got = [(i.line, i.where, i.choices) for i in info.value.issues]
    assert got == [
        (2, "topic", EVERYDAY_TOPICS),
        (3, "split", ("train", "test")),
        (3, "mood", ("text", "topic", "dialect", "split", "source")),
        (4, "", ()),
    ]
