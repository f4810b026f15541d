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
def test_a_scam_told_only_to_its_hook_is_a_script(engine: RiskEngine, text: str, code: str) -> None:
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


# ------------------------------------------------- warnings, checks, reports


@pytest.mark.parametrize(
    "turns",
    [
        # a lesson about scams, retold: the tactics are the lesson's examples
        ("社区民警上周来给我们上课，说让你把钱转到安全账户的全是骗子，我听了就放心了",),
        ("银行大堂经理提醒我们，冒充公检法的骗子会叫你转账，我记下来了",),
        ("居委会请警察来讲反诈骗的课，", "讲那种说你中了大奖要先交手续费的都是骗局"),
        ("电视台的人说公安不会打电话让人转钱到什么账户",),
        # the caller did not comply
        ("有人打电话说我涉嫌洗钱，叫我转到安全账户，我没理他，直接挂了",),
        # checked with the family, or a relative beside the caller
        ("我侄子说他换了新号码，我打给我姐姐问过了，确实是他换的",),
        ("老伴坐在我旁边帮我登录手机银行，验证码是他帮我输的",),
        ("送快递的小哥在我家门口要取件码，我给他看了短信",),
        # 报警 and 骗子 without the caller losing anything
        ("小区物业上门装报警器，说不收钱的",),
        ("我以为是骗子打来的，后来一问是我女儿的同事，她帮我付了快递费",),
    ],
)
def test_warnings_checks_and_presence_stay_below_medium(
    engine: RiskEngine, turns: tuple[str, ...]
) -> None:
    a = assess(engine, *turns)
    assert a.level not in RAISED, (turns, a.level, a.flags, a.fraud)
    assert "fraud_reported" not in {f.code for f in a.flags}, (turns, a.flags)


def test_a_warning_names_what_defused_the_tactics(engine: RiskEngine) -> None:
    a = assess(engine, "派出所的警察来做宣传，说叫你转到安全账户的侪是骗子")
    assert a.level == "low", (a.level, a.flags)
    assert {p.kind for p in a.fraud.defused} == {"warning"}, a.fraud.defused
    assert "safe_account" in {f.code for f in a.flags}  # still a note for the teller


@pytest.mark.parametrize(
    ("turns", "level"),
    [
        # cheated despite the lecture: the caller's own report counts
        (("听过反诈讲座的，可我还是被骗了，", "他叫我转到安全账户，我转了五万"), "high"),
        (("我报了警，那个骗子把我三万块转走了",), "high"),
        # the same words as the look-alikes, without the check or the lesson
        (("说是我侄子换了新号码，急着要借两万块，叫我先打到他同学卡上",), "medium"),
        (("有个人说是快递公司的，包裹丢了要理赔，叫我把验证码报给他",), "medium"),
        # 还没转: the caller has not sent it yet and may be about to
        (("有人说我涉嫌洗钱，叫我转到安全账户，我还没转",), "high"),
    ],
)
def test_scams_still_count_next_to_the_look_alikes(
    engine: RiskEngine, turns: tuple[str, ...], level: str
) -> None:
    a = assess(engine, *turns)
    assert RAISED.index(a.level) >= RAISED.index(level), (turns, a.level, a.flags, a.fraud)
    assert not a.fraud.defused or "fraud_reported" in {f.code for f in a.flags}


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("有个电话说可以贷款给我，不查征信，当天到账", "loan_fraud"),
        ("平台说贷款审核通过了，要先付一千块利息才肯放", "loan_fraud"),
        ("网上聊了半年的那个男的说要来找我，跟我结婚", "romance_fraud"),
        ("跟我聊天的那个外国人说寄给我的礼物被扣在海关了", "romance_fraud"),
        ("群里有人讲在家做兼职一天好赚三百块", "task_rebate"),
        ("短信通知我中奖了，是什么幸运用户", "prize_fraud"),
        ("有人打电话说我的电脑被黑了，要远程帮我处理", "remote_control"),
    ],
)
def test_more_scripts_told_only_to_the_hook(engine: RiskEngine, text: str, code: str) -> None:
    a = assess(engine, text)
    assert a.level in RAISED, (text, a.level, a.flags)
    assert code in {f.code for f in a.flags}, (text, a.flags)


@pytest.mark.parametrize(
    "text",
    [
        "我孙女在网上认识了男朋友，下个月结婚",
        "每天跟老伴在公园聊天，说以后一起养老",
        "女儿天天跟我视频聊天，说周末来看我",
        "我想问问你们银行的贷款，利息低不低，当天能到账吗",
        "我自己买彩票中了两百块",
        "孙子在网上做兼职，一天赚一百多",
    ],
)
def test_look_alikes_of_the_new_scripts_stay_below_medium(engine: RiskEngine, text: str) -> None:
    a = assess(engine, text)
    assert a.level not in RAISED, (text, a.level, a.flags)
