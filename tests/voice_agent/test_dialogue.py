"""The dialogue policy, turn by turn, on the shipped intent catalog.

Understandings are built by hand here so each test controls exactly what
the caller "said"; the live call (tests/server/test_ws.py) runs the same
policy on real speech through the real stages.
"""

from __future__ import annotations

import pytest

from dialects.types import MANDARIN, Normalised
from intents.catalog import Catalog
from intents.numerals import to_capital_yuan
from intents.types import IntentPrediction, IntentScore, Slots, SlotValue
from models.errors import InputError
from voice_agent.dialogue import (
    Dialogue,
    DialogueState,
    DialogueStep,
    scenario_scripts,
)
from voice_agent.risk.merge import merge_risk
from voice_agent.risk.types import RiskAssessment, RiskFlag
from voice_agent.understanding import Understanding
from voice_agent.wording import speak_digits

SCENARIO_CODES = tuple(Catalog.load().scenarios)


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return Catalog.load()


@pytest.fixture()
def dialogue(catalog: Catalog) -> Dialogue:
    return Dialogue(catalog.intents, scenarios=scenario_scripts(catalog.scenarios))


def said(
    text: str,
    intent: str = "out_of_scope",
    confidence: float = 0.9,
    slots: dict[str, int | str] | None = None,
    risk: RiskAssessment | None = None,
    alternatives: tuple[IntentScore, ...] = (),
) -> Understanding:
    """An Understanding of ``text`` as the stages would hand it over."""
    values = tuple(
        SlotValue(code=k, value=v, evidence=str(v), start=0, end=len(str(v)))
        for k, v in (slots or {}).items()
    )
    return Understanding(
        normalised=Normalised(text=text, normalized_text=text, dialect=MANDARIN, confidence=0.9),
        intent=IntentPrediction(code=intent, confidence=confidence, alternatives=alternatives),
        slots=Slots(values),
        risk=risk or RiskAssessment(),
    )


def run(
    dialogue: Dialogue, *turns: Understanding | None, scenario: str | None = None
) -> list[DialogueStep]:
    steps = [dialogue.start(scenario)]
    for turn in turns:
        steps.append(dialogue.step(steps[-1].state, turn))
    return steps


def test_missing_required_slots_are_asked_one_at_a_time(
    dialogue: Dialogue, catalog: Catalog
) -> None:
    prompts = catalog.intents["transfer"].prompts
    steps = run(dialogue, said("我要转账", "transfer"), said("五万", slots={"amount": 50000}))
    assert steps[1].event.kind == "prompt"
    assert steps[1].event.slot == "amount"
    assert steps[1].event.text == prompts["amount"]
    # The next any-of group (payee_account | payee_name) asks for its first code.
    assert steps[2].event.slot == catalog.intents["transfer"].required[1][0]
    assert steps[2].state.intent == "transfer"
    assert steps[2].state.slots.as_dict() == {"amount": 50000}


def test_short_answer_does_not_change_a_fixed_intent(dialogue: Dialogue) -> None:
    steps = run(
        dialogue,
        said("我要转账", "transfer"),
        said("五万", "time_deposit", confidence=0.8, slots={"amount": 50000}),
    )
    assert steps[-1].state.intent == "transfer"


def test_complete_request_is_read_back_in_capital_amount_and_digit_by_digit(
    dialogue: Dialogue,
) -> None:
    steps = run(
        dialogue,
        said(
            "转五万给张建国，卡号6222021234567895678",
            "transfer",
            slots={"amount": 50000, "payee_name": "张建国", "payee_account": "6222021234567895678"},
        ),
    )
    event = steps[-1].event
    assert event.kind == "confirm"
    assert "伍万元整" in event.text
    assert "张建国" in event.text
    assert "尾号五六七八" in event.text
    assert steps[-1].state.awaiting == "confirm"


@pytest.mark.parametrize("answer", ["对", "是的", "没错", "好的"])
def test_confirmation_hands_the_case_over(dialogue: Dialogue, answer: str) -> None:
    steps = run(
        dialogue,
        said("转两千给张建国", "transfer", slots={"amount": 2000, "payee_name": "张建国"}),
        said(answer + "。", "out_of_scope", confidence=0.3),
    )
    assert steps[-1].event.kind == "case"
    assert steps[-1].event.reason == "complete"
    assert steps[-1].state.finished


@pytest.mark.parametrize("answer", ["不对", "不是"])
def test_denial_asks_what_to_change_and_reads_back_the_correction(
    dialogue: Dialogue, answer: str
) -> None:
    steps = run(
        dialogue,
        said("转两千给张建国", "transfer", slots={"amount": 2000, "payee_name": "张建国"}),
        said(answer, "out_of_scope", confidence=0.3),
        said("是三万", "transfer", confidence=0.4, slots={"amount": 30000}),
        said("对的"),
    )
    assert steps[2].event.kind == "prompt"
    assert steps[2].event.reason == "deny"
    assert steps[3].event.kind == "confirm"
    assert to_capital_yuan(30000) in steps[3].event.text
    assert to_capital_yuan(2000) not in steps[3].event.text
    assert steps[4].event.kind == "case"
    assert steps[4].state.slots.as_dict()["amount"] == 30000


@pytest.mark.parametrize("ask", ["请再说一遍", "我没听清", "啥？"])
def test_repeat_request_repeats_the_last_prompt(dialogue: Dialogue, ask: str) -> None:
    steps = run(dialogue, said("我要转账", "transfer"), said(ask))
    assert steps[2].event.kind == "prompt"
    assert steps[2].event.reason == "repeat"
    assert steps[2].event.text == steps[1].event.text


def test_question_word_inside_a_request_is_not_a_repeat_request(dialogue: Dialogue) -> None:
    steps = run(dialogue, said("我卡里还有啥钱，帮我查一下余额", "balance_inquiry"))
    assert steps[-1].event.reason != "repeat"
    assert steps[-1].state.intent == "balance_inquiry"


def test_unclear_turns_repeat_then_hand_over_on_the_third(dialogue: Dialogue) -> None:
    steps = run(dialogue, said("我要转账", "transfer"), None, None, None)
    assert [s.event.reason for s in steps[2:]] == ["unclear", "unclear", "unclear_limit"]
    assert steps[2].event.text == steps[1].event.text
    assert steps[-1].event.kind == "case"


# 人公贵人 is how Whisper base heard 人工柜员 in tests/data/audio/teller.wav.
@pytest.mark.parametrize("ask", ["帮我转人工", "我要找人工", "叫个柜员来", "我要找人公贵人说话"])
def test_teller_request_hands_over_at_once(dialogue: Dialogue, ask: str) -> None:
    steps = run(dialogue, said("我要转账", "transfer"), said(ask))
    assert steps[-1].event.kind == "case"
    assert steps[-1].event.reason == "teller_request"


def test_high_fraud_risk_hands_over_calmly_with_the_flags(dialogue: Dialogue) -> None:
    flag = RiskFlag("safe_account", "fraud", "安全账户", "核实是否有人指使转账")
    steps = run(
        dialogue,
        said("警察让我把钱转到安全账户", "transfer", risk=RiskAssessment("high", 0.9, (flag,))),
    )
    event = steps[-1].event
    assert event.kind == "case"
    assert event.reason == "risk"
    assert event.flags == (flag,)
    # Calm, not an accusation: the caller is not told they are being scammed.
    assert "诈骗" not in event.text and "骗" not in event.text


def test_risk_accumulates_across_turns(dialogue: Dialogue) -> None:
    low = RiskFlag("large_amount", "transaction", "五万", "核实用途")
    high = RiskFlag("impersonate_authority", "fraud", "公安", "核实是否有人指使")
    steps = run(
        dialogue,
        said(
            "转五万", "transfer", slots={"amount": 50000}, risk=RiskAssessment("low", 0.2, (low,))
        ),
        said("公安让我转的", risk=RiskAssessment("high", 0.9, (high,))),
    )
    assert steps[-1].state.risk.level == "high"
    assert steps[-1].state.risk.flags == (low, high)
    assert steps[-1].event.flags == (high,)


def test_merge_risk_keeps_the_highest_level_and_every_flag_once() -> None:
    a = RiskFlag("secrecy_pressure", "fraud", "别告诉家里人", "")
    b = RiskFlag("large_amount", "transaction", "五万", "")
    merged = merge_risk(RiskAssessment("medium", 0.5, (a,)), RiskAssessment("low", 0.2, (a, b)))
    assert merged.level == "medium"
    assert merged.score == 0.5
    assert merged.flags == (a, b)


def test_speak_digits() -> None:
    assert speak_digits("1234") == "一二三四"
    assert speak_digits("9050") == "九零五零"


def test_scenario_greeting_for_transfer_over_limit(dialogue: Dialogue) -> None:
    step = dialogue.start("transfer_over_limit")
    assert step.event.kind == "prompt"
    assert step.event.text == "您好，您的转账超过了限额，请问您要转多少钱、转给谁？"


@pytest.mark.parametrize("scenario", SCENARIO_CODES)
def test_every_scenario_greets_differently_from_a_plain_call(
    dialogue: Dialogue, scenario: str
) -> None:
    assert dialogue.start(scenario).event.text != dialogue.start(None).event.text


def test_scenario_biases_an_unsure_prediction_toward_its_intents(dialogue: Dialogue) -> None:
    unsure = said(
        "帮我把额度弄高点",
        "card_activation",
        confidence=0.35,
        alternatives=(IntentScore("limit_adjustment", 0.3),),
    )
    plain = run(dialogue, unsure)
    biased = run(dialogue, unsure, scenario="limit_adjustment")
    assert plain[-1].state.intent is None
    assert biased[-1].state.intent == "limit_adjustment"


def test_details_only_answer_to_the_over_limit_greeting_is_a_transfer(
    dialogue: Dialogue,
) -> None:
    steps = run(
        dialogue,
        said("五万，给张建国", confidence=0.2, slots={"amount": 50000, "payee_name": "张建国"}),
        scenario="transfer_over_limit",
    )
    assert steps[-1].state.intent == "transfer"
    assert steps[-1].event.kind == "confirm"


def test_confident_limit_request_replaces_the_assumed_transfer(dialogue: Dialogue) -> None:
    steps = run(
        dialogue,
        said("我想把限额调高到十万", "limit_adjustment", 0.85, slots={"amount": 100000}),
        scenario="transfer_over_limit",
    )
    assert steps[-1].state.intent == "limit_adjustment"
    assert "新限额" + to_capital_yuan(100000) in steps[-1].event.text


def test_intent_without_required_slots_hands_over_directly(dialogue: Dialogue) -> None:
    steps = run(dialogue, said("我想查一下余额", "balance_inquiry"))
    assert steps[-1].event.kind == "case"
    assert steps[-1].event.reason == "complete"


def test_unknown_scenario_is_refused_with_the_valid_choices(dialogue: Dialogue) -> None:
    with pytest.raises(InputError, match="transfer_over_limit"):
        dialogue.start("lost_phone")


def test_finished_call_stays_finished(dialogue: Dialogue) -> None:
    steps = run(dialogue, said("转人工"))
    again = dialogue.step(steps[-1].state, said("我要转账", "transfer"))
    assert again.event.kind == "case"
    assert again.state.finished
    assert again.state.awaiting == steps[-1].state.awaiting == "done"
    assert again.state.intent == steps[-1].state.intent
    # A recording goes on after the point a live call hands over: the teller
    # still gets every word of it.
    assert again.state.history == ("转人工", "我要转账")
    assert isinstance(again.state, DialogueState)


def test_payee_named_by_relation_is_read_back_from_the_profile(catalog: Catalog) -> None:
    """An elderly caller is not asked to recite a 19-digit account the bank knows."""
    from voice_agent.form import KnownPayeeFacts

    known = {"儿子": KnownPayeeFacts(name="张伟", account="6222020200112233445", bank="工商银行")}
    dialogue = Dialogue(
        catalog.intents, scenarios=scenario_scripts(catalog.scenarios), payee_lookup=known.get
    )
    steps = run(
        dialogue,
        said("我要给我儿子转五万", "transfer", slots={"amount": 50000, "payee_relation": "儿子"}),
    )
    event = steps[1].event
    assert event.kind == "confirm"
    assert "张伟" in event.text and "三四四五" in event.text and "伍万元整" in event.text
    # A relation the profile does not know is still asked for.
    steps = run(
        dialogue,
        said("转五万给我侄子", "transfer", slots={"amount": 50000, "payee_relation": "侄子"}),
    )
    assert steps[1].event.kind == "prompt"
    assert steps[1].event.slot == "payee_account"


def _note(code: str = "impersonate_acquaintance") -> RiskAssessment:
    """A fraud pretext only: a note for the teller, nothing asked yet."""
    return RiskAssessment("low", 0.2, (RiskFlag(code, "fraud", "换了新号码", "核实"),))


def test_a_turn_that_only_sets_the_scene_invites_the_caller_to_go_on(
    dialogue: Dialogue,
) -> None:
    """有人打电话说是我儿子 must not end the call before the caller says what was asked."""
    steps = run(dialogue, said("我儿子打电话来说换了新号码", "transfer", 0.6, risk=_note()))
    assert steps[1].event.kind == "prompt"
    assert steps[1].event.reason == "invite_more"
    assert not steps[1].state.finished
    # The next turn is handled as usual (here, a plain transfer).
    steps.append(dialogue.step(steps[-1].state, said("转三万", slots={"amount": 30000})))
    assert steps[2].event.reason == "missing_slot"


def test_a_scam_told_in_two_turns_hands_over_before_asking_for_money(
    dialogue: Dialogue,
) -> None:
    high = RiskAssessment("high", 0.9, (RiskFlag("kidnapping_hoax", "fraud", "出车祸", "核实"),))
    steps = run(
        dialogue,
        said("我儿子打电话来说换了新号码", "transfer", 0.6, risk=_note()),
        said("他说出了车祸要我马上打钱", "transfer", 0.8, risk=high),
    )
    assert [s.event.reason for s in steps[1:]] == ["invite_more", "risk"]
    assert steps[2].event.kind == "case"
    assert all(s.event.slot is None for s in steps)


def test_medium_risk_read_back_says_a_teller_will_check(dialogue: Dialogue) -> None:
    medium = RiskAssessment(
        "medium", 0.5, (RiskFlag("third_party_instruction", "fraud", "对方让我", "核实"),)
    )
    steps = run(
        dialogue,
        said(
            "对方让我转五万给张建国",
            "transfer",
            slots={"amount": 50000, "payee_name": "张建国"},
            risk=medium,
        ),
        said("对的"),
    )
    assert steps[1].event.kind == "confirm"
    assert dialogue.phrases.teller_will_check in steps[1].event.text
    # Confirmed, but with a fraud cue at medium: the teller has it for the risk.
    assert steps[2].event.reason == "risk"
    assert dialogue.phrases.teller_will_check in steps[2].event.text


def test_unclear_words_keep_their_fraud_cues_but_fill_nothing(dialogue: Dialogue) -> None:
    high = RiskAssessment(
        "high",
        0.9,
        (
            RiskFlag("safe_account", "fraud", "安全账户", "核实"),
            RiskFlag("large_amount", "transaction", "五万", "核实"),
        ),
    )
    start = dialogue.start(None)
    step = dialogue.step(
        start.state,
        said("安全账户五万", "transfer", 0.7, slots={"amount": 50000}, risk=high),
        unclear=True,
    )
    assert step.event.reason == "unclear"
    assert step.state.slots.as_dict() == {}
    assert {f.code for f in step.state.risk.flags} == {"safe_account"}
    assert step.state.tentative and step.state.prediction is not None


def test_readback_follows_the_catalog_template(catalog: Catalog) -> None:
    """An intent's read-back is data: change the template, the sentence changes."""
    from dataclasses import replace as dc_replace

    from intents.templates import Template, TemplatePart

    spec = catalog.intents["time_deposit"]
    custom = dc_replace(
        spec,
        readback=Template((TemplatePart(("存{term_months}",)), TemplatePart(("共{amount}",)))),
    )
    dialogue = Dialogue({**catalog.intents, "time_deposit": custom})
    steps = run(
        dialogue,
        said("存一年定期五万", "time_deposit", slots={"amount": 50000, "term_months": 12}),
    )
    last = steps[-1].event
    if last.kind == "prompt":  # the catalog may also require the medium
        steps.append(dialogue.step(steps[-1].state, said("存折", slots={"medium": "passbook"})))
        last = steps[-1].event
    assert last.kind == "confirm"
    assert last.text == "跟您核对一下：存一年，共伍万元整。对吗？"


# -- dialect speech (issue 9): the recogniser cannot read the caller's dialect --


def test_first_dialect_speech_turn_hands_over_without_asking_to_repeat(
    dialogue: Dialogue,
) -> None:
    start = dialogue.start()
    step = dialogue.step(
        start.state, said("银行柜台的普通话对话对话", "transfer", 0.95), dialect_speech=True
    )
    assert step.event.kind == "case"
    assert step.event.reason == "dialect_speech"
    assert step.event.text == dialogue.phrases.handoff_dialect
    assert "上海话" in step.event.text and len(step.event.text) <= 20  # one short sentence
    assert step.state.unclear_turns == 0  # never asked to repeat
    # Nothing confident is made up from words the system judged unreadable.
    assert step.state.tentative and step.state.intent is None
    assert not step.state.slots.values


def test_dialect_speech_keeps_no_fraud_alarm_from_unreadable_words(dialogue: Dialogue) -> None:
    flag = RiskFlag("safe_account", "fraud", "安全账户", "核实是否有人指使转账")
    turn = said("安全账户安全账户", "transfer", risk=RiskAssessment("high", 0.9, (flag,)))
    step = dialogue.step(dialogue.start().state, turn, dialect_speech=True)
    assert step.event.reason == "dialect_speech"
    assert step.state.risk.level == "none" and not step.state.risk.flags


def test_dialect_speech_after_clear_mandarin_still_hands_over(dialogue: Dialogue) -> None:
    first = run(dialogue, said("我要转账", "transfer"))[-1]
    step = dialogue.step(first.state, said("啥个啥个"), dialect_speech=True)
    assert step.event.reason == "dialect_speech"
    assert step.state.intent == "transfer"  # what was clearly heard stays


def test_unclear_mandarin_is_not_dialect_speech(dialogue: Dialogue) -> None:
    step = dialogue.step(dialogue.start().state, said("嗯嗯"), unclear=True)
    assert step.event.reason == "unclear"


def test_a_medium_scam_with_an_ask_hands_over_instead_of_collecting_the_transfer(
    dialogue: Dialogue,
) -> None:
    from voice_agent.risk.types import FraudJudgement, PartEvidence

    asked = RiskAssessment(
        "medium",
        0.5,
        (RiskFlag("loan_fraud", "fraud", "先交保证金", "核实"),),
        FraudJudgement(ask=(PartEvidence("ask", "fee", "先交五千块保证金"),), level="medium"),
    )
    steps = run(dialogue, said("要我先交五千块保证金才能放款", "transfer", 0.8, risk=asked))
    assert steps[1].event.kind == "case"
    assert steps[1].event.reason == "risk"
    # Medium without an ask (a known script only) does not hand over by itself.
    script = RiskAssessment(
        "medium",
        0.5,
        (RiskFlag("prize_fraud", "fraud", "中了特等奖", "核实"),),
        FraudJudgement(script="prize_fraud", level="medium"),
    )
    steps = run(dialogue, said("他说我中了特等奖", "out_of_scope", 0.6, risk=script))
    assert steps[1].event.reason == "invite_more"
