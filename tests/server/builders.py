"""Build real Case objects for server tests, without audio or models.

The queue's behaviour (ordering, masking, corrections) depends only on what
a Case holds, so tests construct exactly the cases they need from the
pipeline's own dataclasses.
"""

from __future__ import annotations

import datetime as dt

from dialects.types import Normalised
from intents.types import IntentPrediction, Slots, SlotValue
from voice_agent.case import Case, Form, FormField, TranscriptSegment
from voice_agent.risk.types import RiskAssessment, RiskFlag
from voice_agent.understanding import Understanding

SHANGHAI = dt.timezone(dt.timedelta(hours=8))
ACCOUNT = "6222021234567890123"


def make_case(
    case_id: str,
    *,
    risk_level: str = "none",
    risk_score: float = 0.0,
    minutes_ago: float = 1.0,
    intent: str = "transfer",
    amount: int | None = 50000,
    account: str | None = None,
    text: str = "阿拉要汇五万块钞票拨阿拉儿子",
    normalized: str = "我们要汇五万块钱给我们儿子",
    flags: tuple[RiskFlag, ...] = (),
    customer_id: str | None = "demo-elderly-01",
) -> Case:
    """A transfer-like case created ``minutes_ago`` with the given risk."""
    created = dt.datetime.now(SHANGHAI) - dt.timedelta(minutes=minutes_ago)
    values = []
    fields: dict[str, FormField] = {}
    if amount is not None:
        values.append(SlotValue("amount", amount, "五万块", 3, 6))
        fields["amount"] = FormField(amount, 0.9, "speech", "五万块")
    if account is not None:
        values.append(SlotValue("payee_account", account, account, 0, len(account)))
        fields["payee_account"] = FormField(account, 0.9, "speech", account)
    if not flags and risk_level != "none":
        flags = (RiskFlag("large_amount", "transaction", "五万块", "核实资金用途与收款人关系"),)
    understanding = Understanding(
        normalised=Normalised(text, normalized, "shanghainese", 0.9),
        intent=IntentPrediction(intent, 0.8),
        slots=Slots(tuple(values)),
        risk=RiskAssessment(risk_level, risk_score, flags),
    )
    missing = () if account else ("payee_account",)
    return Case(
        case_id=case_id,
        created_at=created.isoformat(timespec="seconds"),
        customer_id=customer_id,
        scenario=None,
        audio_seconds=3.5,
        transcript=(TranscriptSegment(0.2, 3.4, text, normalized),),
        understanding=understanding,
        form=Form(intent, fields, missing),
        summary=f"客户来电：{normalized}",
        timings_ms={"total": 900},
    )
