"""Form filling and the teller's summary, on hand-built stage values."""

from __future__ import annotations

import pytest

from intents.catalog import Catalog
from intents.templates import Template
from intents.types import Slots, SlotValue
from voice_agent.form import build_form, missing_fields
from voice_agent.risk.types import RiskAssessment, RiskFlag
from voice_agent.summary import summarise
from voice_agent.wording import format_amount

TRANSFER_REQUIRED = (("amount",), ("payee_account", "payee_name"))


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


def _summary(catalog: Catalog, code: str) -> Template:
    return catalog.intents[code].summary


def _slots(**values: int | str) -> Slots:
    return Slots(tuple(SlotValue(k, v, str(v), 0, 1, 0.9) for k, v in values.items()))


def test_transfer_without_payee_reports_first_of_any_of_group() -> None:
    form = build_form(
        "transfer", _slots(amount=50000, payee_relation="儿子"), TRANSFER_REQUIRED, 0.97
    )
    assert form.type == "transfer"
    assert form.fields["amount"].value == 50000
    assert form.fields["amount"].source == "speech"
    assert form.missing == ("payee_account",)


def test_payee_name_alone_satisfies_the_payee_group() -> None:
    form = build_form("transfer", _slots(amount=800, payee_name="张建国"), TRANSFER_REQUIRED, 0.9)
    assert form.missing == ()


def test_profile_fills_payee_but_never_overrides_speech() -> None:
    profile = Slots(
        (
            SlotValue("payee_name", "张伟", "", 0, 0, 0.8),
            SlotValue("payee_account", "6222020200112233445", "", 0, 0, 0.8),
        )
    )
    form = build_form(
        "transfer",
        _slots(amount=50000, payee_relation="儿子", payee_name="张小伟"),
        TRANSFER_REQUIRED,
        0.9,
        profile=profile,
    )
    assert form.fields["payee_account"].source == "customer_profile"
    assert form.fields["payee_name"].value == "张小伟"
    assert form.fields["payee_name"].source == "speech"
    assert form.missing == ()


def test_low_intent_confidence_lowers_field_confidence() -> None:
    sure = build_form("transfer", _slots(amount=100), TRANSFER_REQUIRED, 1.0)
    unsure = build_form("transfer", _slots(amount=100), TRANSFER_REQUIRED, 0.2)
    assert unsure.fields["amount"].confidence < sure.fields["amount"].confidence


def test_missing_fields_after_teller_edit() -> None:
    form = build_form("time_deposit", _slots(amount=20000), (("amount",), ("term_months",)), 0.9)
    assert form.missing == ("term_months",)
    assert missing_fields(dict(form.fields), (("amount",),)) == ()


def test_amount_formatting() -> None:
    assert format_amount(50000) == "5万元"
    assert format_amount(12000) == "1.2万元"
    assert format_amount(2500) == "2500元"
    assert format_amount(12345) == "12345元"


def test_summary_says_request_missing_and_risk_with_reason(catalog: Catalog) -> None:
    form = build_form(
        "transfer", _slots(amount=50000, payee_relation="儿子"), TRANSFER_REQUIRED, 0.97
    )
    risk = RiskAssessment(
        level="low",
        score=0.2,
        flags=(RiskFlag("large_amount", "transaction", "五万块", "核实资金用途"),),
    )
    text = summarise(
        _summary(catalog, "transfer"),
        "转账汇款",
        form,
        risk,
        {"large_amount": "大额转账"},
        "mandarin",
    )
    assert text == "客户来电要求向儿子转账5万元。收款账号未提供。风险：低（大额转账）。"


def test_summary_for_unclear_speech_and_dialect(catalog: Catalog) -> None:
    form = build_form("out_of_scope", Slots(), (), 0.0)
    text = summarise(
        _summary(catalog, "out_of_scope"),
        "其他",
        form,
        RiskAssessment(),
        {},
        "shanghainese",
        needs_repeat=True,
        out_of_scope=True,
    )
    assert text.startswith("客户语音不清")
    assert "上海话" in text
    assert text.endswith("风险：无。")


def test_summary_for_unclear_speech_names_the_tentative_request(catalog: Catalog) -> None:
    form = build_form("card_loss", _slots(medium="card"), (("medium",),), 0.3)
    text = summarise(
        _summary(catalog, "card_loss"),
        "挂失",
        form,
        RiskAssessment(),
        {},
        "mandarin",
        needs_repeat=True,
    )
    assert text.startswith("客户语音不清，疑似要求办理银行卡挂失")
    assert "请与客户确认" in text


def test_summary_template_of_an_intent_without_one_names_the_intent() -> None:
    from intents.templates import default_summary

    form = build_form("pension_inquiry", Slots(), (), 0.9)
    text = summarise(default_summary(), "养老金查询", form, RiskAssessment(), {}, "mandarin")
    assert text == "客户来电咨询养老金查询。风险：无。"


def test_scenario_note_comes_from_the_catalog(catalog: Catalog) -> None:
    note = catalog.scenarios["transfer_over_limit"].teller_note
    form = build_form("transfer", _slots(amount=800, payee_name="张建国"), TRANSFER_REQUIRED, 0.9)
    text = summarise(
        _summary(catalog, "transfer"),
        "转账汇款",
        form,
        RiskAssessment(),
        {},
        "mandarin",
        scenario_note=note,
    )
    assert text.startswith(f"客户（{note}）来电要求向张建国转账800元。")
