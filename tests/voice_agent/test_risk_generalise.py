"""Fraud judgement that generalises (issue 12): structural asks, scripts told to the hook.

The sentences are written for these tests in words of their own; none is
copied from the blind sets (tests/data/text/blind*_calls.jsonl), which
measure the system. Each positive has a look-alike that must stay below
medium, so a rule that fires on everything fails here.
"""

from __future__ import annotations

import pytest

from dialects.types import MANDARIN, Normalised
from intents.types import Slots
from voice_agent.risk.engine import RiskEngine
from voice_agent.risk.semantic import SemanticDetector
from voice_agent.risk.types import RiskAssessment, RiskInput

SUPPORTING = {"secrecy_pressure", "third_party_instruction"}
RAISED = ("medium", "high")


@pytest.fixture(scope="module")
def engine() -> RiskEngine:
    return RiskEngine.load(detector=SemanticDetector.load())


def assess(engine: RiskEngine, *turns: str) -> RiskAssessment:
    """The call's risk after each turn, as the live call folds it."""
    history: list[str] = []
    out = []
    for text in turns:
        said = Normalised(text=text, normalized_text=text, dialect=MANDARIN, confidence=1.0)
        out.append(engine.assess(RiskInput(said, "transfer", Slots(), history=tuple(history))))
        history.append(text)
    return engine.merge(out)


@pytest.mark.parametrize(
    "text",
    [
        # someone else wants money moved, in words no cue lists verbatim
        "那个人说我的手续还差一步，要再补八千块才能办好",
        "对方开口问我借三万，说下个礼拜就还",
        "他叫我把定期提前取出来，打到他给的户头里",
        "电话里那个人要我把钱汇到他们的账户上先查一查",
        # credentials and screens
        "客服说退款给我要手机上收到的那个数字",
        "那个人叫我把屏幕分享给他看，他来教我操作",
    ],
)
def test_a_third_partys_ask_is_heard(engine: RiskEngine, text: str) -> None:
    a = assess(engine, text)
    assert a.fraud.ask, (text, a.fraud)


@pytest.mark.parametrize(
    "text",
    [
        # the caller's own request to the bank, not someone else's ask
        "我要汇三万五给我女儿，她在国外读书",
        "我想转两万给我儿子，他住院要交押金",
        # told NOT to send money, or to pay a bill at the official counter
        "儿媳妇打电话说学费她交好了，叫我不要再转钱给她",
        "电信打电话说话费欠了二十块，让我去营业厅交",
        # the bank's own app prompting for the code
        "我自己在手机银行上转账，系统让我输验证码",
        "我儿子说手机银行帮我开好了，叫我自己试试转账",
    ],
)
def test_own_requests_and_official_prompts_are_not_a_scam(engine: RiskEngine, text: str) -> None:
    a = assess(engine, text)
    assert a.level not in RAISED, (text, a.level, a.flags, a.fraud.ask)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("一个电话说我的养老金账户出了漏洞，钱随时会被划走", "safe_account"),
        ("有个人说他是市公安局的，说我的手机号参与了一起洗钱", "impersonate_authority"),
        ("对方说我涉及一个跨境赌博的案件，在查我", "impersonate_authority"),
        ("有人打电话说我买的奶粉出了问题，要给我双倍赔钱", "impersonate_service"),
        ("有个电话说可以帮我贷二十万，不看征信", "loan_fraud"),
        ("电话里说我征信上有污点，他们有门路给我洗掉", "credit_repair"),
        ("一个短信说我被选为幸运用户，可以领一辆小轿车", "prize_fraud"),
        ("有个电话说我外孙女被他们抓走了，不给钱就不放人", "kidnapping_hoax"),
        ("群里有个老师天天发收益截图，说跟着他一个月翻三倍", "investment_fraud"),
    ],
)
def test_a_scam_told_only_to_its_hook_is_a_script(
    engine: RiskEngine, text: str, code: str
) -> None:
    """taxonomy.md: a known scam script counts for medium even before the ask."""
    a = assess(engine, text)
    assert a.level in RAISED and a.fraud.script, (text, a.level, a.fraud)
    assert code in {f.code for f in a.flags}, (text, a.flags)


@pytest.mark.parametrize(
    "text",
    [
        "快递员打电话说包裹放在楼下驿站，让我有空去拿",
        "医院打电话说体检报告出来了，让我下周带着片子去复查",  # 片子 is pian zi, like 骗子
        "我刚才自己改密码，来了个验证码，我自己输进去了",  # 输进 is shu jin, like 赎金
        "我不知道是啥，每个月有个自动扣费，帮我看看",  # 知道是 / 导师
        "你们银行打电话说我的定期到期了，让我来柜台办一下转存",
        "派出所打电话说我丢的钱包找到了，让我去拿",
        "保险公司打电话说车险快到期了，问我要不要续保",
        "在超市抽奖抽到一桶油，要去服务台领",
    ],
)
def test_everyday_calls_stay_below_medium_without_a_fraud_type(
    engine: RiskEngine, text: str
) -> None:
    a = assess(engine, text)
    strong = {f.code for f in a.flags if f.category == "fraud"} - SUPPORTING
    assert a.level not in RAISED and not strong, (text, a.level, a.flags)


def test_a_story_in_two_breaths_is_one_scam(engine: RiskEngine) -> None:
    """The pretext in turn 1, the ask in turn 2: medium on the turn that completes it."""
    first = assess(engine, "我外甥换了个微信加我，说他在外地出差")
    assert first.level not in RAISED
    both = assess(engine, "我外甥换了个微信加我，说他在外地出差", "让我先帮他垫两万块给他朋友")
    assert both.level in RAISED
    assert "impersonate_acquaintance" in {f.code for f in both.flags}
    assert {p.turn for p in both.fraud.pretext} == {0} and {p.turn for p in both.fraud.ask} == {1}
