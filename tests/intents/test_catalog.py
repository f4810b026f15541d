"""The intent catalog: loading, every kind of validation error, editing, the check command."""

from __future__ import annotations

import argparse
from pathlib import Path

import pytest

from intents.catalog import Catalog, CatalogError, CatalogIssue, check_catalog
from intents.taxonomy import INTENT_CODES, SLOT_CODES
from models.errors import ConfigError
from server.cli_intents import add_intents_commands, run_intents
from tests.intents.catalog_factory import INTENTS, write_catalog
from voice_agent.settings import Settings


@pytest.fixture()
def catalog_dir(tmp_path: Path) -> Path:
    return write_catalog(tmp_path / "catalog")


def _rewrite(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def _only(issues: list[CatalogIssue]) -> CatalogIssue:
    assert len(issues) == 1, [str(i) for i in issues]
    return issues[0]


def test_valid_catalog_loads_every_intent(catalog_dir: Path) -> None:
    catalog = Catalog.load(catalog_dir)
    assert set(catalog.intents) == set(INTENT_CODES)
    assert len(catalog.examples()) == sum(len(v[3]) for v in INTENTS.values())
    transfer = catalog.spec("transfer")
    assert transfer.required == (("amount",), ("payee_account", "payee_name"))
    assert transfer.prompts["amount"] == "请问您要转多少钱？"
    assert transfer.path == catalog_dir / "transfer.yaml"
    first = transfer.examples[0]
    lines = transfer.path.read_text(encoding="utf-8").splitlines()
    assert first.text in lines[first.line - 1]


def test_spec_of_unknown_code_lists_valid_codes(catalog_dir: Path) -> None:
    with pytest.raises(ConfigError) as err:
        Catalog.load(catalog_dir).spec("tranfser")
    assert "tranfser" in str(err.value)
    assert "transfer" in str(err.value) and "card_loss" in str(err.value)


def test_shipped_catalog_is_valid() -> None:
    assert check_catalog() == []
    assert set(INTENT_CODES) <= set(Catalog.load().intents)


def test_yaml_syntax_error_names_the_line(catalog_dir: Path) -> None:
    path = catalog_dir / "card_loss.yaml"
    _rewrite(path, "- 我要挂失\n", "- 我要挂失\n  bad: [unclosed\n")
    issue = _only(check_catalog(catalog_dir))
    assert issue.file == path
    assert issue.line is not None and issue.line > 1
    assert "YAML" in issue.message


def test_unknown_and_missing_keys(catalog_dir: Path) -> None:
    path = catalog_dir / "balance_inquiry.yaml"
    _rewrite(path, "description:", "desc:")
    issues = check_catalog(catalog_dir)
    messages = [i.message for i in issues]
    assert "unknown key 'desc'" in messages
    assert "missing key 'description'" in messages
    unknown = next(i for i in issues if i.message == "unknown key 'desc'")
    assert "description" in unknown.choices and unknown.line == 4


def test_wrong_type(catalog_dir: Path) -> None:
    path = catalog_dir / "balance_inquiry.yaml"
    _rewrite(path, "slots: []", "slots: amount")
    issue = _only(check_catalog(catalog_dir))
    assert "'slots' must be a list" in issue.message
    assert issue.choices == SLOT_CODES


def test_code_must_equal_file_stem(catalog_dir: Path) -> None:
    _rewrite(catalog_dir / "card_loss.yaml", "code: card_loss", "code: card_lost")
    issue = _only(check_catalog(catalog_dir))
    assert "card_lost" in issue.message and "card_loss.yaml" in issue.message
    assert issue.line == 2


def test_unknown_slot_code_lists_valid_ones(catalog_dir: Path) -> None:
    _rewrite(catalog_dir / "time_deposit.yaml", "- term_months\nrequired", "- term\nrequired")
    issues = check_catalog(catalog_dir)
    unknown = next(i for i in issues if "unknown slot code 'term'" in i.message)
    assert unknown.choices == SLOT_CODES
    assert "valid: amount, payee_name" in str(unknown)
    # term_months is now required but not declared, and has a prompt: both reported
    assert any("required slot 'term_months'" in i.message for i in issues)
    assert any("prompt for slot 'term_months'" in i.message for i in issues)


def test_prompt_for_slot_not_in_intent(catalog_dir: Path) -> None:
    _rewrite(catalog_dir / "card_loss.yaml", "prompts:\n", "prompts:\n  amount: 多少钱？\n")
    issue = _only(check_catalog(catalog_dir))
    assert "prompt for slot 'amount'" in issue.message
    assert issue.choices == ("medium",)


def test_duplicate_example_within_an_intent(catalog_dir: Path) -> None:
    path = catalog_dir / "card_loss.yaml"
    _rewrite(path, "- 我要挂失\n", "- 我要挂失\n- 我要挂失。\n")
    issue = _only(check_catalog(catalog_dir))
    assert "duplicate example" in issue.message
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[issue.line - 1] == "- 我要挂失。"  # type: ignore[operator]
    assert f"line {issue.line - 1}" in issue.message  # type: ignore[operator]


def test_same_example_in_two_intents_names_both_files(catalog_dir: Path) -> None:
    _rewrite(catalog_dir / "balance_inquiry.yaml", "- 余额是多少\n", "- 余额是多少\n- 我要挂失\n")
    issue = _only(check_catalog(catalog_dir))
    assert "conflicts" in issue.message
    text = str(issue)
    assert "balance_inquiry.yaml" in text and "card_loss.yaml" in text
    assert issue.line is not None


def test_missing_taxonomy_intent_and_extra_intent_allowed(catalog_dir: Path) -> None:
    (catalog_dir / "pension_inquiry.yaml").unlink()
    extra = (catalog_dir / "speak_to_teller.yaml").read_text(encoding="utf-8")
    extra = extra.replace("speak_to_teller", "wealth_products").replace("人工", "理财产品")
    (catalog_dir / "wealth_products.yaml").write_text(extra, encoding="utf-8")
    _rewrite(catalog_dir / "wealth_products.yaml", "- 请帮我接柜台\n", "- 买点理财\n")
    issue = _only([i for i in check_catalog(catalog_dir) if "conflicts" not in i.message])
    assert "pension_inquiry" in issue.message and issue.file == catalog_dir


def test_load_raises_config_error_with_all_issues(catalog_dir: Path) -> None:
    _rewrite(catalog_dir / "card_loss.yaml", "code: card_loss", "code: card_lost")
    (catalog_dir / "pension_inquiry.yaml").unlink()
    with pytest.raises(CatalogError) as err:
        Catalog.load(catalog_dir)
    assert isinstance(err.value, ConfigError)
    assert len(err.value.issues) == 2
    assert "card_loss.yaml" in str(err.value) and "\n" not in str(err.value)


def test_content_hash_ignores_layout_but_not_content(catalog_dir: Path) -> None:
    before = Catalog.load(catalog_dir).content_hash()
    path = catalog_dir / "card_loss.yaml"
    path.write_text("# reordered\n\n" + path.read_text(encoding="utf-8"), encoding="utf-8")
    assert Catalog.load(catalog_dir).content_hash() == before
    _rewrite(path, "- 我要挂失\n", "- 我要挂失\n- 卡丢在公交车上了\n")
    assert Catalog.load(catalog_dir).content_hash() != before


def test_add_example_keeps_the_file_valid_and_commented(catalog_dir: Path) -> None:
    catalog = Catalog.load(catalog_dir)
    n = len(catalog.spec("card_loss").examples)
    path = catalog.add_example("card_loss", "老伴的存折也寻不着了: 一道挂失 #急")
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# card_loss\n")
    reloaded = Catalog.load(catalog_dir).spec("card_loss")
    assert len(reloaded.examples) == n + 1
    assert reloaded.examples[-1].text == "老伴的存折也寻不着了: 一道挂失 #急"
    assert catalog.spec("card_loss").examples[-1].text == reloaded.examples[-1].text


def test_add_example_refuses_a_conflict_and_restores_the_file(catalog_dir: Path) -> None:
    catalog = Catalog.load(catalog_dir)
    path = catalog.spec("balance_inquiry").path
    before = path.read_text(encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        catalog.add_example("balance_inquiry", "我要挂失")
    assert "card_loss" in str(err.value)
    assert path.read_text(encoding="utf-8") == before


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_intents_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["intents", *argv])


def test_check_command_prints_ok_or_issues(
    catalog_dir: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run_intents(_args("check", str(catalog_dir)), settings) == 0
    n = len(Catalog.load(catalog_dir).examples())
    assert capsys.readouterr().out == f"OK: 13 intents, {n} examples\n"

    _rewrite(catalog_dir / "transfer.yaml", "- payee_bank\n", "- payee_bnak\n")
    assert run_intents(_args("check", str(catalog_dir)), settings) == 2
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 1
    assert lines[0].startswith(f"{catalog_dir / 'transfer.yaml'}:")
    assert "payee_bnak" in lines[0] and "(valid: amount, payee_name" in lines[0]


def test_templates_default_when_absent_and_render(catalog_dir: Path) -> None:
    spec = Catalog.load(catalog_dir).spec("card_loss")
    # No readback/summary in the file: the intent still gets both.
    assert spec.readback.render({"name": "挂失", "medium": "存折"}, sep="，") == "挂失，介质存折"
    assert spec.summary.render({"name": "挂失"}) == "咨询挂失"


def test_template_with_an_unknown_placeholder_names_the_valid_ones(catalog_dir: Path) -> None:
    _rewrite(
        catalog_dir / "card_loss.yaml", "examples:", 'readback: ["{name}", "{amount}"]\nexamples:'
    )
    issue = _only(check_catalog(catalog_dir))
    assert issue.file.name == "card_loss.yaml"
    assert issue.line is not None
    assert "unknown placeholder {amount}" in issue.message
    assert issue.choices == ("name", "medium")


def test_template_part_must_be_text(catalog_dir: Path) -> None:
    _rewrite(catalog_dir / "card_loss.yaml", "examples:", "summary: [要求, 3]\nexamples:")
    issue = _only(check_catalog(catalog_dir))
    assert "bad part 3" in issue.message


def test_scenario_declared_twice_or_expecting_an_unknown_intent(catalog_dir: Path) -> None:
    block = (
        "scenarios:\n  password_locked:\n    greeting: 您好\n    also_expected: [nope]\nexamples:"
    )
    _rewrite(catalog_dir / "card_loss.yaml", "examples:", block)
    _rewrite(
        catalog_dir / "password_reset.yaml",
        "examples:",
        "scenarios:\n  password_locked:\n    greeting: 您好\nexamples:",
    )
    messages = [i.message for i in check_catalog(catalog_dir)]
    assert any("unknown intent 'nope'" in m for m in messages), messages
    assert any("scenario 'password_locked' also declared" in m for m in messages), messages


def test_shipped_scenarios_are_the_contract_ones() -> None:
    scenarios = Catalog.load().scenarios
    assert set(scenarios) == {"password_locked", "transfer_over_limit", "limit_adjustment"}
    assert scenarios["transfer_over_limit"].intent == "transfer"
    assert "limit_adjustment" in scenarios["transfer_over_limit"].also_expected
