"""Customer profiles: the shipped demo data and validation of a bad file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.errors import ConfigError
from voice_agent.risk.profiles import CustomerDirectory, CustomerProfile


@pytest.fixture(scope="module")
def directory() -> CustomerDirectory:
    return CustomerDirectory.load()


def test_shipped_demo_customers(directory: CustomerDirectory) -> None:
    assert {"demo-elderly-01", "demo-elderly-02", "demo-adult-01"} <= set(directory.ids())
    elderly = directory.get("demo-elderly-01")
    assert isinstance(elderly, CustomerProfile)
    assert elderly.age >= 60 and min(elderly.past_transfers) >= 1000
    assert max(elderly.past_transfers) <= 5000
    shanghai = directory.get("demo-elderly-02")
    assert shanghai is not None and shanghai.age >= 80 and shanghai.dialect == "shanghainese"
    adult = directory.get("demo-adult-01")
    assert adult is not None and adult.age < 60 and max(adult.past_transfers) == 80000


def test_payee_for_relation_fills_the_sons_account(directory: CustomerDirectory) -> None:
    son = directory.payee_for_relation("demo-elderly-01", "儿子")
    assert son is not None
    assert son.name == "张伟" and son.bank == "工商银行"
    assert son.account.isdigit() and len(son.account) == 19
    assert directory.payee_for_relation("demo-elderly-01", "女儿") is not None
    assert directory.payee_for_relation("demo-elderly-01", "孙子") is None
    assert directory.payee_for_relation("nobody", "儿子") is None


def test_unknown_or_missing_customer_is_none(directory: CustomerDirectory) -> None:
    assert directory.get("nobody") is None
    assert directory.get(None) is None


def test_profiles_are_frozen(directory: CustomerDirectory) -> None:
    profile = directory.get("demo-adult-01")
    assert profile is not None
    with pytest.raises(AttributeError):
        profile.age = 20  # type: ignore[misc]


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "customers.json"
    path.write_text(json.dumps(data, ensure_ascii=False), "utf-8")
    return path


def test_bad_account_names_file_and_key(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        {"customers": [{"customer_id": "x", "name": "甲", "age": 70, "past_transfers": [100],
                        "payees": [{"name": "乙", "relation": "儿子", "account": "123"}]}]},
    )  # fmt: skip
    with pytest.raises(ConfigError) as err:
        CustomerDirectory.load(path)
    assert str(path) in str(err.value) and "payees[0].account" in str(err.value)


def test_unknown_key_lists_valid_keys(tmp_path: Path) -> None:
    path = _write(tmp_path, {"customers": [{"customer_id": "x", "age": 70, "birthday": "1950"}]})
    with pytest.raises(ConfigError) as err:
        CustomerDirectory.load(path)
    assert "birthday" in str(err.value) and "past_transfers" in str(err.value)


def test_not_json_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "customers.json"
    path.write_text("{not json", "utf-8")
    with pytest.raises(ConfigError, match=r"customers\.json"):
        CustomerDirectory.load(path)


def test_duplicate_customer_id_is_refused(tmp_path: Path) -> None:
    rec = {"customer_id": "x", "name": "甲", "age": 70}
    with pytest.raises(ConfigError, match="duplicate"):
        CustomerDirectory.load(_write(tmp_path, {"customers": [rec, rec]}))
