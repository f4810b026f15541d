"""The learned fraud-cue detector, alone and inside the risk engine.

The paraphrases below are written for these tests and are not in
fraud_examples.yaml, so they check generalisation, not memory.
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
from voice_agent.risk.model import FRAUD_FLAGS
from voice_agent.risk.semantic import (
    SemanticDetector,
    clauses,
    load_examples,
    load_semantic_config,
)
from voice_agent.risk.types import RiskInput

SUPPORTING = {"secrecy_pressure", "third_party_instruction"}
EXAMPLES = Path(__file__).resolve().parents[2] / "voice_agent" / "risk" / "data"

PARAPHRASES = {
    "safe_account": "他说我卡里的钞票要换个稳当的地方放，叫我打到他讲的那个账号",
    "impersonate_authority": "有个自称公按的人讲我名下的卡卷进了洗钱的事",
    "impersonate_service": "克服打电话讲我开了保障服务，勿关掉要每月扣钱",
    "impersonate_acquaintance": "孙子换了个号码打来，讲闯了祸急要三万",
    "investment_fraud": "群里的老师讲跟着伊买，一个月能赚三成",
    "loan_fraud": "网上借款讲要先交一笔保证金才能到账",
    "credit_repair": "对方讲我以前的学生贷没销掉，影响征性",
    "task_rebate": "网上点赞做任务，讲要先垫钱才能返",
    "romance_fraud": "网上认得的男朋友讲寄了礼物，卡在海关要交钱",
    "remote_control": "伊叫阿拉装个软件，伊在那头帮我操作手机",
    "prize_fraud": "电话里讲阿拉是幸运顾客，奖品是一台电脑，寄过来前要付一笔钞票",
    "kidnapping_hoax": "一个男人讲阿拉孙子勒伊手里，勿拿钞票来就勿放人",
    "secrecy_pressure": "他讲勿要跟屋里人讲，今朝一定要办掉",
    "third_party_instruction": "有个人电话里叫我今天来银行把钱转出去",
    "fraud_reported": "我上了人家的当，钱没了",
}
# Scam stories whose shape the rules see (a pretext in the first turn, an
# ask in the second) but whose type their cues miss; only the model names it.
RULES_MISS = {
    "safe_account": ("有个陌生人打电话给我", PARAPHRASES["safe_account"]),
}
HARD_NEGATIVES = ("我儿子要结婚，转五万给他", "我想把限额调低，怕被骗")


@pytest.fixture(scope="module")
def detector() -> SemanticDetector:
    return SemanticDetector.load()


@pytest.fixture(scope="module")
def engine(detector: SemanticDetector) -> RiskEngine:
    return RiskEngine.load(detector=detector)


def said(text: str) -> Normalised:
    return Normalised(text=text, normalized_text=text, dialect=MANDARIN, confidence=1.0)


def fraud_codes(engine: RiskEngine, utterance: Normalised, intent: str = "transfer") -> set[str]:
    a = engine.assess(RiskInput(utterance, intent, Slots()))
    return {f.code for f in a.flags if f.category == "fraud"}


def test_paraphrase_of_every_flag_reaches_its_threshold(detector: SemanticDetector) -> None:
    assert set(PARAPHRASES) == set(FRAUD_FLAGS)
    for code, text in PARAPHRASES.items():
        assert detector.score(text)[code] >= detector.thresholds[code], (code, text)


def test_model_adds_flags_the_rules_miss_with_clause_evidence(engine: RiskEngine) -> None:
    rules_only = RiskEngine.load()
    for code, (first, text) in RULES_MISS.items():
        turn = RiskInput(said(text), "transfer", Slots(), history=(first,))
        assert code not in {f.code for f in rules_only.assess(turn).flags}
        flag = next(f for f in engine.assess(turn).flags if f.code == code)
        assert flag.cue.startswith("model:") and 0 < float(flag.cue[6:]) <= 1
        whole = f"{first}。{text}"
        assert flag.evidence in clauses(whole) or flag.evidence == whole


@pytest.mark.parametrize(
    "text",
    [
        "阿拉儿子换了新手机号，伊当面告诉我个",  # a pretext, but nothing asked
        "我儿子下个月结婚，我想转五万块给他做酒席",  # money moves, but no scam around it
        "女儿在国外读书要交学费，我要汇三万五给她",  # the caller's own transfer, not an ask
        "我儿子住院开刀，医院要交押金，我要转两万给他",
        "外孙女在国外读书，打视频说下学期学费她爸妈交过了，叫我别操心",
    ],
)
def test_model_adds_nothing_without_the_shape_of_a_scam(engine: RiskEngine, text: str) -> None:
    a = engine.assess(RiskInput(said(text), "transfer", Slots()))
    assert not [f for f in a.flags if f.cue.startswith("model:")], a.flags
    assert a.level in ("none", "low"), (a.level, a.flags)


def test_model_gives_a_third_partys_ask_its_storyline(engine: RiskEngine) -> None:
    """Someone else asks, no rule flag or pretext: the model names the story; level medium."""
    text = PARAPHRASES["remote_control"]  # 伊叫阿拉装个软件，伊在那头帮我操作手机
    a = engine.assess(RiskInput(said(text), "transfer", Slots()))
    model = {f.code: f for f in a.flags if f.cue.startswith("model:")}
    assert "remote_control" in model and a.fraud.ask
    # the model's flag is context, never a high-harm tactic: medium, not high
    assert a.level == "medium" and a.fraud.level == "medium"


@pytest.mark.parametrize(
    ("text", "code"),
    [
        # an ask the rules hear, a scam type only the model names
        ("一个女的说她是台湾来的，想跟我结伴养老，让我先打两万块给她", "romance_fraud"),
        ("有个人说我在他们那里买的保险到期了要退钱，让我先转五百块激活账户", "impersonate_service"),
    ],
)
def test_model_names_the_scam_type_the_rules_left_unnamed(
    engine: RiskEngine, text: str, code: str
) -> None:
    a = engine.assess(RiskInput(said(text), "transfer", Slots()))
    assert a.level in ("medium", "high"), (a.level, a.flags)
    named = next(f for f in a.flags if f.code == code)
    assert named.cue.startswith("model:")


def test_hard_negatives_raise_no_fraud_flag(engine: RiskEngine) -> None:
    for text in HARD_NEGATIVES:
        assert not fraud_codes(engine, said(text)) - SUPPORTING, text


def test_rule_flags_keep_their_cue_words(engine: RiskEngine) -> None:
    a = engine.assess(RiskInput(said("他们叫我把钱转到安全账户"), "transfer", Slots()))
    flag = next(f for f in a.flags if f.code == "safe_account")
    assert not flag.cue.startswith("model:") and a.level == "high"


def test_scores_cover_every_flag_as_probabilities(detector: SemanticDetector) -> None:
    scores = detector.score(said("阿拉想查查养老金到了伐"))
    assert set(scores) == set(FRAUD_FLAGS) and all(0 <= p <= 1 for p in scores.values())


def test_combined_recall_and_false_alarms_on_dev_utterances(
    engine: RiskEngine, data_dir: Path
) -> None:
    rows = [
        json.loads(line)
        for line in (data_dir / "text" / "dev_utterances.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    normaliser = DialectNormaliser.load()
    fraud = [r for r in rows if r["fraud"]]
    legit = [r for r in rows if not r["fraud"]]
    assert len(fraud) >= 40 and len(legit) >= 100

    def flagged(r: dict[str, object]) -> set[str]:
        return fraud_codes(engine, normaliser.normalise(str(r["text"])), str(r["intent"]))

    recall = sum(1 for r in fraud if flagged(r)) / len(fraud)
    false_alarms = sum(1 for r in legit if flagged(r) - SUPPORTING) / len(legit)
    assert recall >= 0.9
    assert false_alarms <= 0.1


# ------------------------------------------------------------ data and config errors


def test_shipped_examples_have_enough_of_each_flag() -> None:
    training = load_examples()
    for code in FRAUD_FLAGS:
        assert training.positives(code) >= 25, code
    assert sum(1 for lab in training.labels if not lab) >= 200


def test_unknown_flag_in_examples_names_file_and_valid_codes(tmp_path: Path) -> None:
    raw = yaml.safe_load((EXAMPLES / "fraud_examples.yaml").read_text("utf-8"))
    raw["flags"]["safe_acount"] = ["x"]
    path = tmp_path / "fraud_examples.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError) as err:
        load_examples(path)
    message = str(err.value)
    assert str(path) in message and "safe_acount" in message
    assert all(code in message for code in FRAUD_FLAGS)


def test_bad_threshold_is_a_config_error_naming_the_key(tmp_path: Path) -> None:
    raw = yaml.safe_load((EXAMPLES / "rules.yaml").read_text("utf-8"))
    raw["semantic"]["thresholds"]["loan_fraud"] = 1.5
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match=r"rules\.yaml.*semantic\.thresholds\.loan_fraud"):
        load_semantic_config(path)
    del raw["semantic"]["thresholds"]["loan_fraud"]
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    with pytest.raises(ConfigError, match="loan_fraud"):
        SemanticDetector.load(rules_path=path)
    RiskEngine.load(rules_path=path)  # the rules themselves still load
