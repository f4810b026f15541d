"""The risk engine on hand-built utterances: fraud cues, levels, transactions.

Inputs are built by hand (Normalised, Slots) so these tests exercise only
the risk engine and its shipped rules, not the dialect or intent layers.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml

from dialects.types import MANDARIN, SHANGHAINESE, Normalised, Replacement
from intents.types import Slots, SlotValue
from models.errors import ConfigError
from voice_agent.risk.engine import RiskEngine
from voice_agent.risk.model import ALL_FLAGS, FRAUD_FLAGS
from voice_agent.risk.types import RISK_LEVELS, RiskAssessment, RiskInput

SUPPORTING = ("secrecy_pressure", "third_party_instruction")
BLACKLISTED = "6212260200123456789"  # first entry of the shipped blacklist.txt
SON_ACCOUNT = "6222021001012345678"  # demo-elderly-01's son in customers.json


@pytest.fixture(scope="module")
def engine() -> RiskEngine:
    return RiskEngine.load()


def said(
    text: str, normalized: str | None = None, replacements: tuple[Replacement, ...] = ()
) -> Normalised:
    """An utterance; with ``normalized`` it is Shanghainese normalised to Mandarin."""
    if normalized is None:
        return Normalised(text=text, normalized_text=text, dialect=MANDARIN, confidence=1.0)
    return Normalised(text, normalized, SHANGHAINESE, 0.9, replacements)


def slot(code: str, value: int | str, evidence: str, text: str = "") -> SlotValue:
    start = max(text.find(evidence), 0)
    return SlotValue(code, value, evidence, start, start + len(evidence))


def assess(
    engine: RiskEngine,
    utterance: Normalised,
    intent: str = "transfer",
    slots: tuple[SlotValue, ...] = (),
    customer_id: str | None = None,
    history: tuple[str, ...] = (),
    history_intents: tuple[str, ...] = (),
) -> RiskAssessment:
    return engine.assess(
        RiskInput(utterance, intent, Slots(slots), customer_id, history, history_intents)
    )


def fraud_codes(a: RiskAssessment) -> set[str]:
    return {f.code for f in a.flags if f.category == "fraud"}


# (flag, [positives: plain Mandarin, Shanghainese (text, normalised), ASR homophone], negatives)
CASES: list[tuple[str, list[str | tuple[str, str]], list[str]]] = [
    (
        "safe_account",
        [
            "对方要求我把钱先转到他们的安全账号上保管几天",
            ("伊拉叫阿拉拿钞票全部转到清查账户", "他们叫我们把钱全部转到清查账户"),
            "他说这是国家的安全帐号，钱放在里面不会丢",  # 帐号 for 账号
        ],
        ["我想查一下我的账户安不安全", "帮我把钱转到我自己的存折上"],
    ),
    (
        "impersonate_authority",
        [
            "自称是公安局的，说我的医保卡涉嫌违法套现，要我配合调查",
            (
                "有个警察打电话拨阿拉，讲阿拉个账户搭洗钞票有关系",
                "有个警察打电话给我们，说我们的账户和洗钱有关系",
            ),
            "检查院打电话说我有一张传票没签收",  # 检查院 for 检察院
        ],
        [
            "警察帮我找回了手机，我来改一下手机银行的绑定",
            "我去派出所报了身份证丢失，现在补办银行卡",
        ],
    ),
    (
        "impersonate_service",
        [
            "有人说他是京东客服，我的白条要关闭，让我按他说的操作",
            (
                "快递公司个人讲阿拉个包裹落脱了，要赔拨阿拉",
                "快递公司的人说我们的包裹丢了，要赔给我们",
            ),
            "抖音克服说我开了会员，每个月扣八百，要帮我关掉",  # 克服 for 客服
        ],
        ["我网购的退款什么时候到账", "怎么取消手机银行的短信服务"],
    ),
    (
        "impersonate_acquaintance",
        [
            "我侄子用一个新号码打给我，说在外面跟人打架了要赔人家钱",
            (
                "阿拉孙子讲伊换了只新号头，要阿拉先打两万块拨伊",
                "我们孙子说他换了个新号码，要我们先打两万块给他",
            ),
            "老板微信上让我先给供应商打宽",  # 打宽 for 打款
        ],
        ["我儿子要结婚，给他转五万", "孙子换了手机号码，我想登记一下新号码"],
    ),
    (
        "investment_fraud",
        [
            "那个群的老师说这个股票下个月能涨三倍",
            ("伊拉讲买迭只养老产品稳赚勿赔", "他们说买这个养老产品稳赚不赔"),
            "有个投资项目说是稳赚不陪",  # 陪 for 赔
        ],
        ["定期存款利息是多少", "我想买点国债，稳妥一点"],
    ),
    (
        "loan_fraud",
        [
            "网贷平台说我的流水不够，要先转一万验资才能放款",
            (
                "借款个人讲要先付一笔保证金，钞票再打拨阿拉",
                "借款的人说要先付一笔保证金，钱再打给我们",
            ),
            "贷款要先交保正金",  # 保正 for 保证
        ],
        ["我想问一下房贷提前还款要不要手续费", "我的贷款这个月扣款了吗"],
    ),
    (
        "credit_repair",
        [
            "有个人说我以前的网贷没还清，征信上有记录，交三千块就能消除",
            ("伊讲阿拉个征信有问题，要付钞票拨伊修一修", "他说我们的征信有问题，要付钱给他修一修"),
            "说是能帮我修复正信",  # 正信 for 征信
        ],
        ["我想打印一份征信报告", "信用卡逾期了会不会影响我以后贷款"],
    ),
    (
        "task_rebate",
        [
            "网上说在家点赞就能赚钱，要先交押金才能接任务",
            ("做一单返拨阿拉百分之五，要先垫钞票", "做一单返给我们百分之五，要先垫钱"),
            "他们叫我刷丹赚钱",  # 刷丹 for 刷单
        ],
        ["我帮儿子垫付了医药费，想查一下扣款", "我想做个兼职，银行招人吗"],
    ),
    (
        "romance_fraud",
        [
            "我在婚恋网站上认识一个医生，他说要借钱给他母亲看病",
            (
                "网浪向认得个女朋友，伊讲要拨伊打钞票买飞机票",
                "网上认识的女朋友，她说要给她打钱买飞机票",
            ),
            "网上的男朋友说他寄给我的包裹要交关水",  # 关水 for 关税
        ],
        ["我女儿在国外，我要给她汇生活费", "我在网上认识了一个书法老师，想报个班"],
    ),
    (
        "remote_control",
        [
            "他叫我手机上装个向日葵，说能帮我把钱退回来",
            ("伊叫阿拉拿验证码报拨伊", "他叫我们把验证码报给他"),
            "对方让我开屏目共享",  # 屏目 for 屏幕
        ],
        ["我手机收不到验证码，能不能帮我看看", "我想下载你们银行的app"],
    ),
    (
        "prize_fraud",
        [
            "对方说我中奖了，领奖要先交三千块手续费",
            ("伊讲阿拉中了特等奖，一部轿车", "他说我们中了特等奖，一部轿车"),
            "说我抽中了一等奖，要先交个人所得税才能领",
        ],
        ["超市说我积分可以换一桶油", "我去彩票站买了两张体彩"],
    ),
    (
        "kidnapping_hoax",
        [
            "电话里那个人说你儿子在我手上，拿十万块来",
            (
                "有人打电话讲阿拉孙子出车祸了，要先打两万块手术费",
                "有人打电话说我们孙子出车祸了，要先打两万块手术费",
            ),
            "对方讲我外孙被抓起来了，要交保释金",
        ],
        ["我儿子住院了，我去医院交了押金", "孙子出去旅游了，我给他转点零花钱"],
    ),
    (
        "secrecy_pressure",
        [
            "他交代我千万不能告诉我老伴",
            ("伊讲勿要告诉屋里向人", "他说不要告诉家里人"),
            "要我宝密，一定要今天之内办好",  # 宝密 for 保密
        ],
        ["帮我把卡挂失", "我想改一下密码"],
    ),
    (
        "third_party_instruction",
        [
            "有个陌生人打电话叫我来银行开通网银",
            ("电话里向讲要阿拉来调额度", "电话里面说要我们来调额度"),
            "接到一个通值，要我来转账",  # 通值 for 通知
        ],
        ["我自己想来存个定期", "我想把养老金转到老伴的卡上"],
    ),
    (
        "fraud_reported",
        [
            "我上了骗子的当，钱都转走了",
            ("阿拉拨伊骗了三万块", "我们被他骗了三万块"),
            "我受片了，钱能拦住吗",  # 受片 for 受骗
        ],
        ["我想把限额调低，怕被骗", "老伴提醒我小心别被骗"],
    ),
]


def _as_normalised(p: str | tuple[str, str]) -> Normalised:
    return said(p) if isinstance(p, str) else said(p[0], p[1])


@pytest.mark.parametrize(
    ("code", "phrase"),
    [pytest.param(code, p, id=f"{code}-{i}") for code, pos, _ in CASES for i, p in enumerate(pos)],
)
def test_fraud_cue_fires_on_varied_phrasings(
    engine: RiskEngine, code: str, phrase: str | tuple[str, str]
) -> None:
    utterance = _as_normalised(phrase)
    a = assess(engine, utterance)
    assert code in fraud_codes(a), [(f.code, f.evidence) for f in a.flags]
    flag = next(f for f in a.flags if f.code == code)
    assert flag.evidence and flag.evidence in utterance.text
    assert flag.advice and flag.name


@pytest.mark.parametrize(
    ("code", "phrase"),
    [pytest.param(code, n, id=f"{code}-{i}") for code, _, neg in CASES for i, n in enumerate(neg)],
)
def test_hard_negative_does_not_fire(engine: RiskEngine, code: str, phrase: str) -> None:
    a = assess(engine, said(phrase))
    assert code not in fraud_codes(a), [(f.code, f.evidence, f.cue) for f in a.flags]


def test_every_fraud_flag_has_cases() -> None:
    assert {c for c, _, _ in CASES} == set(FRAUD_FLAGS)


@pytest.mark.parametrize("text", ["我儿子要结婚 转五万给他", "我想把限额调低 怕被骗"])
def test_taxonomy_hard_negatives_raise_no_fraud_flag(engine: RiskEngine, text: str) -> None:
    amount = (slot("amount", 50000, "五万", text),) if "五万" in text else ()
    intent = "transfer" if amount else "limit_adjustment"
    a = assess(engine, said(text), intent=intent, slots=amount)
    assert fraud_codes(a) == set()


# ------------------------------------------------------------------ levels


@pytest.mark.parametrize(
    ("text", "code"),
    [
        ("他们让我把存款转到安全账户", "safe_account"),
        ("法院的人说我涉嫌洗钱，叫我把钱转到他们指定的账户", "impersonate_authority"),
        ("有人打电话说我儿子在他手上，叫我马上打五万块过去", "kidnapping_hoax"),
        ("对方叫我下载向日葵，开了屏幕共享", "remote_control"),
        ("我被人骗了五万块", "fraud_reported"),
    ],
)
def test_each_high_fraud_flag_makes_level_high(engine: RiskEngine, text: str, code: str) -> None:
    # taxonomy.md: high = an ask that moves money or credentials with a
    # high-harm tactic (or fraud_reported / blacklisted_payee alone).
    a = assess(engine, said(text))
    assert a.has(code)
    assert a.level == "high"


def test_blacklisted_payee_makes_level_high_with_masked_evidence(engine: RiskEngine) -> None:
    text = f"转两千到{BLACKLISTED}"
    slots = (
        slot("amount", 2000, "两千", text),
        slot("payee_account", BLACKLISTED, BLACKLISTED, text),
    )
    a = assess(engine, said(text), slots=slots)
    flag = next(f for f in a.flags if f.code == "blacklisted_payee")
    assert a.level == "high"
    assert flag.evidence.endswith(BLACKLISTED[-4:])
    assert BLACKLISTED not in flag.evidence  # the full number never reaches the screen


def test_lone_supporting_cue_stays_below_medium(engine: RiskEngine) -> None:
    a = assess(engine, said("他说这件事要保密"), intent="balance_inquiry")
    assert fraud_codes(a) == {"secrecy_pressure"}
    assert RISK_LEVELS.index(a.level) < RISK_LEVELS.index("medium")


def test_supporting_cue_with_large_amount_is_at_least_medium(engine: RiskEngine) -> None:
    text = "有人打电话叫我转五万块过去"
    a = assess(engine, said(text), slots=(slot("amount", 50000, "五万块", text),))
    assert a.has("third_party_instruction") and a.has("large_amount")
    assert RISK_LEVELS.index(a.level) >= RISK_LEVELS.index("medium")


def test_investment_fraud_alone_is_at_least_medium(engine: RiskEngine) -> None:
    a = assess(engine, said("朋友拉我进了一个炒股群，说稳赚不赔"), intent="out_of_scope")
    assert a.has("investment_fraud")
    assert RISK_LEVELS.index(a.level) >= RISK_LEVELS.index("medium")


def test_no_flags_means_level_none(engine: RiskEngine) -> None:
    a = assess(engine, said("我的养老金到账了吗"), intent="pension_inquiry")
    assert a.flags == () and a.level == "none" and a.score == 0.0


# ------------------------------------------------------------- transaction


def test_large_amount_at_threshold_quotes_slot_evidence(engine: RiskEngine) -> None:
    text = "转五万块给张伟"
    a = assess(engine, said(text), slots=(slot("amount", 50000, "五万块", text),))
    flag = next(f for f in a.flags if f.code == "large_amount")
    assert flag.evidence == "五万块"
    below = assess(engine, said("转四万九"), slots=(slot("amount", 49000, "四万九"),))
    assert not below.has("large_amount")


def test_unusual_amount_depends_on_the_customers_history(engine: RiskEngine) -> None:
    text = "转两万给儿子"
    slots = (slot("amount", 20000, "两万", text), slot("payee_relation", "儿子", "儿子", text))
    elderly = assess(engine, said(text), slots=slots, customer_id="demo-elderly-01")
    adult = assess(engine, said(text), slots=slots, customer_id="demo-adult-01")
    usual = assess(
        engine, said("转三千给儿子"), slots=(slot("amount", 3000, "三千"),),
        customer_id="demo-elderly-01",
    )  # fmt: skip
    assert elderly.has("unusual_amount")
    assert not adult.has("unusual_amount")
    assert not usual.has("unusual_amount")


def test_new_payee_versus_known_payee(engine: RiskEngine) -> None:
    known_rel = (slot("amount", 1000, "一千"), slot("payee_relation", "儿子", "儿子"))
    known_acct = (slot("amount", 1000, "一千"), slot("payee_account", SON_ACCOUNT, SON_ACCOUNT))
    new_rel = (slot("amount", 1000, "一千"), slot("payee_relation", "孙子", "孙子"))
    new_acct = (slot("amount", 1000, "一千"), slot("payee_account", "6222000011112222333", "x"))
    cid = "demo-elderly-01"
    assert not assess(engine, said("转一千给儿子"), slots=known_rel, customer_id=cid).has(
        "new_payee"
    )
    assert not assess(engine, said("转一千"), slots=known_acct, customer_id=cid).has("new_payee")
    assert assess(engine, said("转一千给孙子"), slots=new_rel, customer_id=cid).has("new_payee")
    flag = next(
        f
        for f in assess(engine, said("转一千"), slots=new_acct, customer_id=cid).flags
        if f.code == "new_payee"
    )
    assert flag.evidence.endswith("2333") and "6222000011112222333" not in flag.evidence
    # Without a profile there is nothing to compare with.
    assert not assess(engine, said("转一千给孙子"), slots=new_rel).has("new_payee")


def test_limit_raise_together_with_transfer(engine: RiskEngine) -> None:
    text = "先把限额调高，再转五万给我儿子"
    a = assess(engine, said(text), intent="limit_adjustment")
    flag = next(f for f in a.flags if f.code == "limit_raise_before_transfer")
    assert flag.evidence in text and "限额" in flag.evidence


def test_limit_raise_then_transfer_in_a_later_turn(engine: RiskEngine) -> None:
    first = "我要把转账限额提高到十万"
    a = assess(
        engine, said("转八万给这个账户"), history=(first,), history_intents=("limit_adjustment",)
    )
    assert a.has("limit_raise_before_transfer")
    lowered = assess(
        engine, said("转八万给这个账户"), history=("把限额调低一点",),
        history_intents=("limit_adjustment",),
    )  # fmt: skip
    assert not lowered.has("limit_raise_before_transfer")


def test_limit_raise_alone_is_not_flagged(engine: RiskEngine) -> None:
    a = assess(engine, said("我想把每天的转账限额提高到十万"), intent="limit_adjustment")
    assert not a.has("limit_raise_before_transfer")


# ---------------------------------------------------------------- customer


def test_elderly_flag_from_profile_age(engine: RiskEngine) -> None:
    slots = (slot("amount", 1000, "一千"),)
    old = assess(engine, said("转一千"), slots=slots, customer_id="demo-elderly-01")
    young = assess(engine, said("转一千"), slots=slots, customer_id="demo-adult-01")
    flag = next(f for f in old.flags if f.code == "elderly")
    assert "72" in flag.evidence and flag.category == "customer"
    assert not young.has("elderly")


def test_repeated_attempts_from_history_or_words(engine: RiskEngine) -> None:
    third = assess(engine, said("再转一次"), history=("转一万", "转一万"),
                   history_intents=("transfer", "limit_adjustment"))  # fmt: skip
    second = assess(engine, said("再转一次"), history=("转一万",), history_intents=("transfer",))
    words = assess(engine, said("这是我第三次来转账了"))
    assert third.has("repeated_attempts")
    assert not second.has("repeated_attempts")
    assert words.has("repeated_attempts")


# ---------------------------------------------------------------- evidence


def test_evidence_maps_normalised_match_back_to_original_words(engine: RiskEngine) -> None:
    reps = (
        Replacement("阿拉", "我们", 0, 2, "lexicon", "pronoun"),
        Replacement("拨", "被", 2, 3, "lexicon", "grammar"),
    )
    for replacements in (reps, ()):  # via the replacements, then via a character diff
        u = said("阿拉拨人家骗了", "我们被人家骗了", replacements)
        flag = next(f for f in assess(engine, u).flags if f.code == "fraud_reported")
        assert flag.evidence in u.text and "拨人家骗" in flag.evidence


def test_evidence_of_every_fraud_flag_is_the_customers_own_words(engine: RiskEngine) -> None:
    for _, positives, _ in CASES:
        for p in positives:
            u = _as_normalised(p)
            for f in assess(engine, u).flags:
                if f.category == "fraud":
                    assert f.evidence in u.text


# -------------------------------------------------------------- whole call


def test_merge_unites_turns_and_keeps_the_highest_level(engine: RiskEngine) -> None:
    t1 = assess(engine, said("这件事不能告诉我儿子"), intent="out_of_scope")
    text = "转六万"
    t2 = assess(engine, said(text), slots=(slot("amount", 60000, "六万", text),))
    t3 = assess(engine, said("法院的人说我涉嫌洗钱，要我把钱转到安全账户"), intent="out_of_scope")
    call = engine.merge([t1, t2])
    assert call.has("secrecy_pressure") and call.has("large_amount")
    assert RISK_LEVELS.index(call.level) >= RISK_LEVELS.index("medium")
    merged = engine.merge([t1, t2, t3, t1])
    codes = [f.code for f in merged.flags]
    assert len(codes) == len(set(codes)) and merged.level == "high"


def test_assess_call_equals_merge_of_turns(engine: RiskEngine) -> None:
    turns = [
        RiskInput(said("我想查余额"), "balance_inquiry", Slots()),
        RiskInput(said("我被人骗了"), "report_fraud", Slots(), history=("我想查余额",),
                  history_intents=("balance_inquiry",)),
    ]  # fmt: skip
    assert engine.assess_call(turns) == engine.merge([engine.assess(t) for t in turns])


# ------------------------------------------------------------ labelled set


def test_fraud_recall_and_false_alarms_on_labelled_set(engine: RiskEngine, data_dir: Path) -> None:
    rows = [
        json.loads(line)
        for line in (data_dir / "text" / "fraud_labels.jsonl").read_text("utf-8").splitlines()
        if line.strip()
    ]
    fraud = [r for r in rows if r["fraud_flags"]]
    legit = [r for r in rows if not r["fraud_flags"]]
    assert len(fraud) >= 45 and len(legit) >= 35
    # prize_fraud and kidnapping_hoax came later; CASES and the blind sets cover them.
    assert {c for r in fraud for c in r["fraud_flags"]} >= set(FRAUD_FLAGS) - {
        "prize_fraud",
        "kidnapping_hoax",
    }

    def flagged(r: dict[str, object]) -> set[str]:
        dialect = MANDARIN if r["text"] == r["normalized_text"] else SHANGHAINESE
        u = Normalised(str(r["text"]), str(r["normalized_text"]), dialect, 1.0)
        return fraud_codes(assess(engine, u))

    recalled = sum(1 for r in fraud if flagged(r))
    false_alarms = sum(1 for r in legit if flagged(r) - set(SUPPORTING))
    assert recalled / len(fraud) >= 0.9
    assert false_alarms / len(legit) <= 0.1


# ------------------------------------------------------------ config errors


def _shipped_rules() -> dict[str, object]:
    path = Path(__file__).resolve().parents[2] / "voice_agent" / "risk" / "data" / "rules.yaml"
    return yaml.safe_load(path.read_text("utf-8"))


def _write(tmp_path: Path, raw: dict[str, object]) -> Path:
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), "utf-8")
    return path


def test_shipped_rules_define_every_taxonomy_flag(engine: RiskEngine) -> None:
    assert set(engine.rules.flags) == set(ALL_FLAGS)


def test_unknown_flag_code_names_file_and_valid_codes(tmp_path: Path) -> None:
    raw = _shipped_rules()
    flags = raw["flags"]
    assert isinstance(flags, dict)
    flags["safe_acount"] = flags["safe_account"]
    path = _write(tmp_path, raw)
    with pytest.raises(ConfigError) as err:
        RiskEngine.load(rules_path=path)
    message = str(err.value)
    assert str(path) in message and "safe_acount" in message
    assert all(code in message for code in ALL_FLAGS)


def test_bad_level_names_file_and_valid_levels(tmp_path: Path) -> None:
    raw = _shipped_rules()
    levels = raw["levels"]
    assert isinstance(levels, dict)
    fraud = levels["fraud"]
    assert isinstance(fraud, dict)
    fraud["ask"] = "critical"
    path = _write(tmp_path, raw)
    with pytest.raises(ConfigError) as err:
        RiskEngine.load(rules_path=path)
    message = str(err.value)
    assert str(path) in message and "levels.fraud.ask" in message and "critical" in message
    assert all(level in message for level in RISK_LEVELS)


def test_unknown_term_set_and_bad_yaml_are_config_errors(tmp_path: Path) -> None:
    raw = _shipped_rules()
    flags = raw["flags"]
    assert isinstance(flags, dict)
    flags["loan_fraud"]["cues"] = [{"all": ["@no_such_set", "@loan_words"]}]
    with pytest.raises(ConfigError, match="@no_such_set"):
        RiskEngine.load(rules_path=_write(tmp_path, raw))
    broken = tmp_path / "broken.yaml"
    broken.write_text("flags: [unclosed", "utf-8")
    with pytest.raises(ConfigError, match=r"broken\.yaml"):
        RiskEngine.load(rules_path=broken)


def test_bad_blacklist_line_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "blacklist.txt"
    path.write_text("# ok\n6212260200123456789\n12345\n", "utf-8")
    with pytest.raises(
        ConfigError, match=r"blacklist\.txt:3: account: .12345. is not a 16-19 digit"
    ):
        RiskEngine.load(blacklist_path=path)
