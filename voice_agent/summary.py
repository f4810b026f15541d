"""The one-line Chinese summary a teller reads in three seconds.

What the customer wants, the amounts, what is missing, the risk and why —
in that order, because that is the order a teller acts in.
"""

from __future__ import annotations

from collections.abc import Mapping

from voice_agent.case import Form
from voice_agent.risk.types import RiskAssessment

LEVEL_ZH = {"none": "无", "low": "低", "medium": "中", "high": "高"}

SLOT_ZH = {
    "amount": "金额",
    "payee_name": "收款人姓名",
    "payee_relation": "收款人关系",
    "payee_account": "收款账号",
    "payee_bank": "收款银行",
    "term_months": "存期",
    "medium": "介质",
}

MEDIUM_ZH = {"card": "银行卡", "passbook": "存折", "mobile_banking": "手机银行"}

SCENARIO_ZH = {
    "password_locked": "（手机银行密码被锁）",
    "transfer_over_limit": "（转账超限）",
    "limit_adjustment": "（调整限额）",
}


def format_amount(yuan: int) -> str:
    """5万元, 1.2万元, 2500元: how tellers write amounts on a note."""
    if yuan >= 10_000:
        wan = yuan / 10_000
        return f"{wan:g}万元" if wan == round(wan, 2) else f"{yuan}元"
    return f"{yuan}元"


def _field(form: Form, code: str) -> str | int | None:
    f = form.fields.get(code)
    return f.value if f is not None else None


def _request(intent: str, intent_name: str, form: Form) -> str:
    amount = _field(form, "amount")
    amount_txt = format_amount(amount) if isinstance(amount, int) else ""
    payee = _field(form, "payee_relation") or _field(form, "payee_name") or ""
    medium = _field(form, "medium")
    medium_txt = MEDIUM_ZH.get(str(medium), "") if medium else ""
    term = _field(form, "term_months")
    if intent == "transfer":
        to = f"向{payee}" if payee else ""
        return f"要求{to}转账{amount_txt}"
    if intent == "time_deposit":
        term_txt = f"{term}个月" if isinstance(term, int) else ""
        return f"要求办理{term_txt}定期存款{amount_txt}"
    if intent == "limit_adjustment":
        return f"要求调整转账限额{('至' + amount_txt) if amount_txt else ''}"
    if intent in ("password_reset", "card_loss", "card_activation"):
        return f"要求办理{medium_txt}{intent_name}"
    if intent == "speak_to_teller":
        return "要求转人工服务"
    if intent == "report_fraud":
        return "报告可能被骗"
    if intent == "out_of_scope":
        return "所说内容不属于银行业务"
    return f"咨询{intent_name}"


def summarise(
    intent: str,
    intent_name: str,
    form: Form,
    risk: RiskAssessment,
    flag_names: Mapping[str, str],
    dialect: str,
    scenario: str | None = None,
    needs_repeat: bool = False,
) -> str:
    """Compose the teller's summary.

    Args:
        intent: the intent code.
        intent_name: its Chinese name from the catalog.
        form: the filled form (amounts, payee, what is missing).
        risk: the call's risk level and flags.
        flag_names: Chinese names of the flag codes, from the risk rules.
        dialect: ``shanghainese`` adds a note so the teller can switch language.
        scenario: why the app sent the customer here, if it said.
        needs_repeat: the speech was unclear; the teller should ask again.
    """
    if needs_repeat and intent == "out_of_scope":
        head = "客户语音不清，未能识别诉求，请与客户确认。"
    elif needs_repeat:
        head = f"客户语音不清，疑似{_request(intent, intent_name, form)}，请与客户确认。"
    else:
        head = (
            f"客户{SCENARIO_ZH.get(scenario or '', '')}来电{_request(intent, intent_name, form)}。"
        )
    if dialect == "shanghainese":
        head += "客户讲上海话。"
    missing = "、".join(SLOT_ZH.get(m, m) for m in form.missing)
    tail = f"{missing}未提供。" if missing else ""
    reasons = "、".join(dict.fromkeys(flag_names.get(f.code, f.code) for f in risk.flags))
    risk_txt = f"风险：{LEVEL_ZH.get(risk.level, risk.level)}"
    risk_txt += f"（{reasons}）。" if reasons else "。"
    return head + tail + risk_txt
