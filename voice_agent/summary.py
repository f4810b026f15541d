"""The one-line Chinese summary a teller reads in three seconds.

What the customer wants, the amounts, what is missing, the risk and why —
in that order, because that is the order a teller acts in. What the request
part says is the intent's ``summary`` template in the catalog, so an intent
the product team adds gets a summary without a code change.
"""

from __future__ import annotations

from collections.abc import Mapping

from intents.taxonomy import SLOT_NAMES
from intents.templates import Template
from voice_agent.case import Form
from voice_agent.risk.types import RiskAssessment
from voice_agent.wording import written_values

LEVEL_ZH = {"none": "无", "low": "低", "medium": "中", "high": "高"}


def request_text(template: Template, intent_name: str, form: Form) -> str:
    """What the customer asks for (要求向儿子转账5万元), from the catalog template."""
    values = written_values({k: f.value for k, f in form.fields.items()}, intent_name)
    return template.render(values)


def summarise(
    template: Template,
    intent_name: str,
    form: Form,
    risk: RiskAssessment,
    flag_names: Mapping[str, str],
    dialect: str,
    *,
    scenario_note: str = "",
    needs_repeat: bool = False,
    out_of_scope: bool = False,
) -> str:
    """Compose the teller's summary.

    Args:
        template: the intent's summary template (catalog).
        intent_name: its Chinese name from the catalog.
        form: the filled form (amounts, payee, what is missing).
        risk: the call's risk level and flags.
        flag_names: Chinese names of the flag codes, from the risk rules.
        dialect: ``shanghainese`` adds a note so the teller can switch language.
        scenario_note: why the app sent the customer here (转账超限), if it said.
        needs_repeat: the speech was unclear; the teller should ask again.
        out_of_scope: nothing banking was recognised.
    """
    request = request_text(template, intent_name, form)
    if needs_repeat and out_of_scope:
        head = "客户语音不清，未能识别诉求，请与客户确认。"
    elif needs_repeat:
        head = f"客户语音不清，疑似{request}，请与客户确认。"
    else:
        note = f"（{scenario_note}）" if scenario_note else ""
        head = f"客户{note}来电{request}。"
    if dialect == "shanghainese":
        head += "客户讲上海话。"
    missing = "、".join(SLOT_NAMES.get(m, m) for m in form.missing)
    tail = f"{missing}未提供。" if missing else ""
    reasons = "、".join(dict.fromkeys(flag_names.get(f.code, f.code) for f in risk.flags))
    risk_txt = f"风险：{LEVEL_ZH.get(risk.level, risk.level)}"
    risk_txt += f"（{reasons}）。" if reasons else "。"
    return head + tail + risk_txt
