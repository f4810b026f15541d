"""The fraud judgement's structure: pretext / ask / pressure, scripts, the whole call.

taxonomy.md "Risk level": a pretext alone, or that a call happened, is at
most low; medium needs an ask that moves money or credentials; high needs
such an ask with a high-harm tactic or a known scam script (or
blacklisted_payee / fraud_reported); known scripts count even at the pretext.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dialects.normaliser import DialectNormaliser
from dialects.types import MANDARIN, Normalised
from intents.types import Slots
from models.errors import ConfigError
from voice_agent.risk.engine import RiskEngine
from voice_agent.risk.merge import merge_risk
from voice_agent.risk.semantic import SemanticDetector
from voice_agent.risk.semantic_data import EVERYDAY_TOPICS, load_everyday
from voice_agent.risk.types import RISK_LEVELS, RiskAssessment, RiskInput

SUPPORTING = {"secrecy_pressure", "third_party_instruction"}
DATA = Path(__file__).resolve().parents[2] / "voice_agent" / "risk" / "data"


@pytest.fixture(scope="module")
def engine() -> RiskEngine:
    return RiskEngine.load(detector=SemanticDetector.load(with_catalog=False))


def said(text: str) -> Normalised:
    return Normalised(text=text, normalized_text=text, dialect=MANDARIN, confidence=1.0)


def call(engine: RiskEngine, *turns: str, intent: str = "out_of_scope") -> RiskAssessment:
    """The last turn's assessment, each turn carrying the earlier ones as history."""
    a = RiskAssessment()
    for i, text in enumerate(turns):
        a = engine.assess(RiskInput(said(text), intent, Slots(), history=turns[:i]))
    return a


# ------------------------------------------------------------------ levels


@pytest.mark.parametrize(
    "text",
    [
        "有个自称公安局的人打电话给我",  # authority pretext
        "说是京东客服，讲我的订单有问题",  # service pretext
        "我孙子说他换了新号码",  # acquaintance pretext
        "昨天有个人打电话给我",  # a call happened
        "刚才接到一个电话，说我的外卖订单已经记录，三十分钟送到",
    ],
)
def test_pretext_alone_is_at_most_low(engine: RiskEngine, text: str) -> None:
    a = call(engine, text)
    assert RISK_LEVELS.index(a.level) <= RISK_LEVELS.index("low"), a
    assert "ask" in a.fraud.missing


def test_pretext_shows_as_a_part_with_the_customers_words(engine: RiskEngine) -> None:
    text = "有个自称公安局的人打电话给我"
    a = call(engine, text)
    assert a.fraud.pretext and a.fraud.pretext[0].kind == "authority"
    assert a.fraud.pretext[0].evidence in text
    assert a.fraud.missing == ("ask", "pressure")


@pytest.mark.parametrize(
    "text",
    [
        "说是京东客服，要我先交两千块保证金才能退款",
        "网上认识的男朋友叫我给他转两万块",
        "那个理财顾问讲回报高，让我转四万进去",
    ],
)
def test_ask_that_moves_money_makes_medium(engine: RiskEngine, text: str) -> None:
    a = call(engine, text)
    assert a.level == "medium", (a.level, a.flags, a.fraud)
    assert a.fraud.ask and a.fraud.ask[0].evidence in text


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("公安局的人讲我涉嫌洗钱，叫我把存款转到安全账户", "safe_account"),
        ("对方自称警察，说我涉案，让我把钱转到他们指定的账户", "impersonate_authority"),
        ("电话里的人说你儿子在我手上，叫我马上打十万块过去", "kidnapping_hoax"),
        ("客服叫我下载会议软件开屏幕共享，再把验证码告诉他", "remote_control"),
        ("他说我中了特等奖，要先交五千块手续费才能领", "prize_fraud"),  # script + ask
    ],
)
def test_ask_with_high_harm_tactic_or_script_makes_high(
    engine: RiskEngine, text: str, code: str
) -> None:
    a = call(engine, text)
    assert a.has(code) and a.level == "high", (a.level, a.flags)


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("他说我中了特等奖", "prize_fraud"),
        ("说我的包裹被海关扣了，里面有违禁品", "impersonate_authority"),
        ("你儿子在我手上", "kidnapping_hoax"),
        ("群里的老师说跟着他买稳赚不赔", "investment_fraud"),
    ],
)
def test_known_script_counts_even_at_the_pretext(engine: RiskEngine, text: str, code: str) -> None:
    a = call(engine, text)
    assert a.fraud.script == code and a.level == "medium", (a.level, a.fraud)


def test_fraud_flag_without_ask_is_a_note(engine: RiskEngine) -> None:
    a = call(engine, "网上认识了一个男朋友，他是个军人")
    assert a.has("romance_fraud") and a.level == "low"


# ----------------------------------------------------------- across turns


def test_story_told_over_two_turns_completes_on_the_second(engine: RiskEngine) -> None:
    first = "我孙子用一个新号码打电话给我"
    second = "他说出了车祸，要我先打两万块给他"
    one = call(engine, first)
    two = call(engine, first, second)
    assert RISK_LEVELS.index(one.level) <= RISK_LEVELS.index("low")
    assert RISK_LEVELS.index(two.level) >= RISK_LEVELS.index("medium")
    assert two.has("impersonate_acquaintance")
    assert two.fraud.pretext[0].turn == 0 and two.fraud.ask[0].turn == 1
    assert two.fraud.ask[0].evidence in second


def test_story_told_over_three_turns_reaches_high(engine: RiskEngine) -> None:
    turns = ("刚才有个电话", "对方说他是公安局的，说我的卡涉嫌洗钱", "叫我把钱转到一个安全账户")
    levels = [call(engine, *turns[: i + 1]).level for i in range(3)]
    assert levels[-1] == "high"
    assert RISK_LEVELS.index(levels[0]) <= RISK_LEVELS.index("low")


def test_an_innocent_turn_after_a_scam_keeps_the_call_high(engine: RiskEngine) -> None:
    a = call(engine, "他们叫我把钱转到安全账户", "对的")
    assert a.level == "high" and a.has("safe_account")


def test_merge_risk_unites_flags_and_parts(engine: RiskEngine) -> None:
    first = call(engine, "我孙子换了新号码")
    second = call(engine, "他叫我给他转两万块")
    merged = merge_risk(first, second)
    assert merged.level == max(first.level, second.level, key=RISK_LEVELS.index)
    assert merged.fraud.pretext and merged.fraud.ask
    assert "pretext" not in merged.fraud.missing and "ask" not in merged.fraud.missing
    assert merge_risk(merged, merged) == merged


def test_risk_json_keeps_its_shape_and_adds_fraud(engine: RiskEngine) -> None:
    out = call(engine, "他们叫我把钱转到安全账户").to_json()
    assert set(out) == {"level", "score", "flags", "fraud"}
    assert set(out["flags"][0]) == {"code", "category", "evidence", "advice"}
    assert set(out["fraud"]) == {"pretext", "ask", "pressure", "missing", "script", "level"}
    assert out["fraud"]["script"] == "safe_account"


# -------------------------------------------------------- everyday negatives


def test_everyday_corpus_is_large_varied_and_split() -> None:
    rows = load_everyday()
    assert len(rows) >= 600
    assert {r.topic for r in rows} == set(EVERYDAY_TOPICS)
    assert {r.dialect for r in rows} == {"mandarin", "shanghainese"}
    test = [r for r in rows if r.split == "test"]
    assert 0.1 <= len(test) / len(rows) <= 0.3


def test_held_out_everyday_calls_raise_no_alarm(engine: RiskEngine) -> None:
    normaliser = DialectNormaliser.load()
    rows = [r for r in load_everyday() if r.split == "test"]
    medium = flagged = 0
    for r in rows:
        a = engine.assess(RiskInput(normaliser.normalise(r.text), "out_of_scope", Slots()))
        medium += a.level in ("medium", "high")
        flagged += bool({f.code for f in a.flags if f.category == "fraud"} - SUPPORTING)
    assert medium / len(rows) <= 0.03
    assert flagged / len(rows) <= 0.10


# ------------------------------------------------------------ data errors


def test_everyday_file_errors_name_file_line_and_choices(tmp_path: Path) -> None:
    path = tmp_path / "everyday_calls.jsonl"
    good = {"text": "快递到了", "topic": "delivery", "dialect": "mandarin", "split": "train"}
    bad = {**good, "topic": "weather", "source": "hand"}
    path.write_text(
        json.dumps({**good, "source": "hand"}, ensure_ascii=False)
        + "\n"
        + json.dumps(bad, ensure_ascii=False)
        + "\n",
        "utf-8",
    )
    with pytest.raises(ConfigError) as err:
        load_everyday(path)
    message = str(err.value)
    assert f"{path}:2: topic: unknown topic 'weather'" in message
    assert all(topic in message for topic in EVERYDAY_TOPICS)
    path.write_text("{not json\n", "utf-8")
    with pytest.raises(ConfigError, match=r"everyday_calls\.jsonl:1: not valid JSON"):
        load_everyday(path)


def _rules() -> dict[str, object]:
    raw = yaml.safe_load((DATA / "rules.yaml").read_text("utf-8"))
    assert isinstance(raw, dict)
    return raw


def test_unknown_part_names_file_and_valid_parts(tmp_path: Path) -> None:
    raw = _rules()
    parts = raw["parts"]
    assert isinstance(parts, dict)
    parts["pretence"] = parts["pretext"]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError) as err:
        RiskEngine.load(rules_path=path)
    message = str(err.value)
    assert str(path) in message and "parts.pretence" in message
    assert all(p in message for p in ("pretext", "ask", "pressure"))


def test_high_harm_must_be_fraud_flags(tmp_path: Path) -> None:
    raw = _rules()
    levels = raw["levels"]
    assert isinstance(levels, dict)
    levels["fraud"]["high_harm"] = ["safe_account", "large_amount"]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match=r"levels\.fraud\.high_harm\[1\].*large_amount"):
        RiskEngine.load(rules_path=path)


def test_bad_script_pattern_names_the_flag(tmp_path: Path) -> None:
    raw = _rules()
    flags = raw["flags"]
    assert isinstance(flags, dict)
    flags["prize_fraud"]["scripts"] = [{"every": ["中奖"]}]
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match=r"flags\.prize_fraud\.scripts\[0\]\.every.*any, all"):
        RiskEngine.load(rules_path=path)
