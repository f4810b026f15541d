"""A small, complete intent catalog written into a temporary directory.

Tests of the catalog, classifier, evaluation and training must not depend
on the shipped catalog's exact content (the product team edits it), so they
build this one: every taxonomy intent, ten or so examples each, Mandarin
and Shanghainese, written as real YAML files.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from intents.taxonomy import INTENT_NAMES

# code → (slots, required, prompts, examples)
INTENTS: dict[str, tuple[list[str], list[object], dict[str, str], list[str]]] = {
    "transfer": (
        ["amount", "payee_name", "payee_relation", "payee_account", "payee_bank"],
        ["amount", {"any_of": ["payee_account", "payee_name"]}],
        {"amount": "请问您要转多少钱？", "payee_account": "请问对方的卡号是多少？"},
        [
            "我想给我儿子转点钱",
            "帮我转五万块给我女儿",
            "我要汇款给我孙子",
            "给房东打三千块房租",
            "我要转账到工商银行的卡上",
            "把一万块钱转给张建国",
            "我想往别人卡里打钱",
            "阿拉要汇五万块钞票拨阿拉儿子",
            "帮我拨两千块钞票拨囡儿",
            "转两万给我老伴",
            "我要给亲戚汇一笔钱",
            "汇钱到建设银行账户",
        ],
    ),
    "balance_inquiry": (
        [],
        [],
        {},
        [
            "我卡里还有多少钱",
            "帮我查一下余额",
            "我的存折上还剩多少",
            "查查我账户里的钱",
            "我想知道卡上余额",
            "阿拉卡里还有几钿",
            "账上还有多少钱啊",
            "我存了多少钱你帮我看看",
            "余额是多少",
            "侬帮我看看卡里有几钿",
        ],
    ),
    "transaction_history": (
        [],
        [],
        {},
        [
            "帮我打一下最近的交易明细",
            "这个月的流水给我看看",
            "卡上多了一笔扣款是什么",
            "我想查最近几笔交易记录",
            "打印一下存折明细",
            "上个月花了哪些钱",
            "有一笔钱不知道是哪里扣的",
            "我要对账单",
            "最近有什么进出账",
            "阿拉卡上有一笔钞票勿晓得哪能扣脱的",
        ],
    ),
    "time_deposit": (
        ["amount", "term_months"],
        ["amount", "term_months"],
        {"amount": "请问您要存多少钱？", "term_months": "请问您想存多久？"},
        [
            "我想存个定期",
            "五万块存一年定期",
            "定期存款到期了要续存",
            "存三年定期利息多少",
            "帮我把活期转成定期",
            "我要存十万定期两年",
            "定期利率现在多少",
            "阿拉想存定期三年",
            "把这笔钱存成半年定期",
            "到期的定期帮我转存",
        ],
    ),
    "password_reset": (
        ["medium"],
        ["medium"],
        {"medium": "请问是银行卡、存折还是手机银行的密码？"},
        [
            "我忘记密码了",
            "银行卡密码输错被锁了",
            "我要重置密码",
            "存折密码想不起来了",
            "手机银行登录密码忘了",
            "密码锁住了怎么办",
            "帮我改一下密码",
            "阿拉密码忘记脱了",
            "密码输了三次错了",
            "我想把卡的密码重新设一下",
        ],
    ),
    "card_loss": (
        ["medium"],
        ["medium"],
        {"medium": "请问丢的是银行卡还是存折？"},
        [
            "我的银行卡丢了",
            "我要挂失",
            "存折找不到了要挂失",
            "卡被偷了赶紧帮我挂失",
            "钱包丢了卡也在里面",
            "我的社保卡不见了",
            "帮我把卡冻结挂失",
            "阿拉卡落脱了",
            "存折掉了怎么办",
            "我要挂失存折",
        ],
    ),
    "limit_adjustment": (
        ["amount"],
        ["amount"],
        {"amount": "请问您想把限额调到多少？"},
        [
            "我要提高转账限额",
            "把每天的限额调到五万",
            "转账额度不够要调高",
            "手机银行限额太低了",
            "帮我把限额调低一点",
            "单笔限额能调到多少",
            "我想改一下转账额度",
            "阿拉要调高限额",
            "限额提到十万",
            "每日转账上限改一下",
        ],
    ),
    "pension_inquiry": (
        [],
        [],
        {},
        [
            "我的养老金到账了吗",
            "这个月退休金发了没有",
            "养老金什么时候发",
            "退休工资到了没有",
            "查一下养老金有多少",
            "阿拉退休工资到了伐",
            "养老金今年涨了多少",
            "我的退休金怎么还没到",
            "养老钱哪天打到卡上",
            "帮我看看养老金进账没有",
        ],
    ),
    "card_activation": (
        ["medium"],
        ["medium"],
        {"medium": "请问要激活的是哪张卡？"},
        [
            "我的新卡要激活",
            "补办的卡怎么激活",
            "社保卡激活一下",
            "敬老卡要开通",
            "新卡拿到了还不能用",
            "帮我激活银行卡",
            "换的新卡要启用",
            "阿拉新卡要激活",
            "卡寄到了要怎么激活",
            "激活我的借记卡",
        ],
    ),
    "mobile_banking_help": (
        [],
        [],
        {},
        [
            "手机银行怎么用",
            "我想开通手机银行",
            "手机上登不进去银行app",
            "教我用手机银行转账",
            "手机银行怎么下载",
            "app登录不了",
            "手机银行的指纹怎么设置",
            "阿拉勿会用手机银行",
            "手机银行界面看不懂",
            "怎么在手机上查账",
        ],
    ),
    "report_fraud": (
        [],
        [],
        {},
        [
            "我被骗了",
            "我好像上当受骗了",
            "有人骗了我的钱能追回来吗",
            "我给骗子转了钱",
            "我要报案我被诈骗了",
            "钱被骗走了怎么办",
            "我觉得刚才那个电话是骗子",
            "阿拉被骗脱钞票了",
            "被人骗了两万块",
            "我要举报诈骗电话",
        ],
    ),
    "speak_to_teller": (
        [],
        [],
        {},
        [
            "我要找人工",
            "转人工服务",
            "让柜员跟我说",
            "我想跟真人讲话",
            "叫个工作人员来",
            "我听不懂要人工",
            "找个经理跟我说",
            "阿拉要寻人工",
            "有没有人能帮我",
            "请帮我接柜台",
        ],
    ),
    "out_of_scope": (
        [],
        [],
        {},
        [
            "今天天气怎么样",
            "帮我叫个出租车",
            "附近有什么好吃的饭店",
            "我想买菜",
            "医院几点开门",
            "你会唱歌吗",
            "帮我订一张火车票",
            "今朝夜饭吃啥",
            "我家猫跑丢了",
            "电视机坏了谁来修",
        ],
    ),
}


def write_catalog(directory: Path, intents: dict[str, list[str]] | None = None) -> Path:
    """Write the catalog into ``directory``; ``intents`` overrides examples per code."""
    directory.mkdir(parents=True, exist_ok=True)
    for code, (slots, required, prompts, examples) in INTENTS.items():
        doc: dict[str, object] = {
            "code": code,
            "name": INTENT_NAMES[code],
            "description": f"{INTENT_NAMES[code]}的请求。",
            "slots": slots,
            "required": required,
            "prompts": prompts,
            "examples": (intents or {}).get(code, examples),
        }
        text = yaml.safe_dump(doc, allow_unicode=True, sort_keys=False)
        (directory / f"{code}.yaml").write_text(f"# {code}\n{text}", encoding="utf-8")
    return directory
