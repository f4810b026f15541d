"""The customer view: what a caller, or the service that uploaded a call, may see.

contract.md: ``case_id``, ``status``, the intent code and name, the
read-back sentence and the form fields with account numbers masked to the
last four digits. Never the risk assessment, fraud or transaction flags,
profile facts (age, past amounts, payees' full accounts) or the teller's
advice: a scammer coaching a victim must not learn what the bank noticed.

This is a projection at the server's edge, by allow-list: the call's own
events and cases keep everything (the teller console reads them from the
database); whatever leaves towards a caller passes through here, and a key
this module does not know is dropped, not passed on.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from server.masking import mask_account, mask_accounts_in

#: Chinese digits as read back or transcribed (幺 and 两 are spoken digits too).
_CN_DIGIT_RUN = re.compile(r"[零〇一二三四五六七八九幺两]{8,}")
#: Why the dialogue speaks or hands over, as a caller may see it. ``risk`` is
#: not here on purpose: it would tell a scammer the fraud detector fired.
SAFE_REASONS = frozenset(
    {
        "greeting", "ask_intent", "missing_slot", "repeat", "unclear", "readback", "deny",
        "out_of_scope", "complete", "teller_request", "unclear_limit", "caller_hangup",
        "disconnected", "dialect_speech", "recording", "invite_more",
    }
)  # fmt: skip
#: What a risk handoff (or any reason not above) is called towards the caller.
GENERIC_HANDOFF = "handoff"
_FIELD_ORDER = ("amount", "term_months", "payee_name", "payee_relation", "payee_bank")


def mask_text(text: str) -> str:
    """Mask account-like digit runs, Arabic (16–19) or spoken Chinese (8+)."""
    masked = mask_accounts_in(text)
    return _CN_DIGIT_RUN.sub(lambda m: "****" + m.group(0)[-4:], masked)


def _field_value(code: str, value: Any) -> Any:
    if value is None:
        return None
    if code == "payee_account":
        return mask_account(str(value))
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    return mask_text(str(value))


def form_view(form: Mapping[str, Any] | None) -> dict[str, Any]:
    """A form with values (masked) and sources only: no evidence, no profile extras."""
    form = form or {}
    fields = form.get("fields") or {}
    return {
        "type": form.get("type"),
        "fields": {
            str(code): {
                "value": _field_value(str(code), (f or {}).get("value")),
                "source": (f or {}).get("source"),
            }
            for code, f in fields.items()
        },
        "missing": [str(m) for m in form.get("missing") or []],
    }


def read_back(intent_name: str, form: Mapping[str, Any]) -> str:
    """One sentence with the values the teller will act on, accounts masked."""
    fields = form.get("fields") or {}
    values = {code: (f or {}).get("value") for code, f in fields.items()}
    parts = []
    labels = {
        "amount": "金额{}元",
        "term_months": "存期{}个月",
        "payee_name": "收款人{}",
        "payee_relation": "收款人是您{}",
        "payee_bank": "{}",
    }
    for code in _FIELD_ORDER:
        if values.get(code) is not None:
            if code == "payee_relation" and values.get("payee_name") is not None:
                continue
            parts.append(labels[code].format(_field_value(code, values[code])))
    if values.get("payee_account"):
        parts.append(f"账号尾号{mask_account(str(values['payee_account']))[-4:]}")
    return intent_name + ("：" + "，".join(parts) if parts else "") + "。"


def case_view(case: Mapping[str, Any], intent_names: Mapping[str, str]) -> dict[str, Any]:
    """The customer view of a Case (contract.md)."""
    intent = case.get("intent") or {}
    code = str(intent.get("code") or "out_of_scope")
    name = intent_names.get(code, code)
    form = form_view(case.get("form"))
    return {
        "case_id": case.get("case_id"),
        "status": case.get("status", "open"),
        "intent": {"code": code, "name": name},
        "read_back": mask_text(str(case.get("read_back") or "")) or read_back(name, form),
        "form": form,
    }


def _reason(reason: Any, *, default: str | None) -> str | None:
    return reason if reason in SAFE_REASONS else default


def event_view(event: Mapping[str, Any], intent_names: Mapping[str, str]) -> dict[str, Any]:
    """The customer view of one live-call event.

    Known events keep their documented keys (strings masked); an unknown
    event keeps only its scalar values, so a field added inside the call
    later (a risk score, a profile fact) never reaches the caller by default.
    """
    kind = event.get("type")
    if kind == "transcript":
        return {
            "type": kind,
            "text": mask_text(str(event.get("text") or "")),
            "normalized_text": mask_text(str(event.get("normalized_text") or "")),
            "unclear": bool(event.get("unclear")),
        }
    if kind == "prompt":
        out: dict[str, Any] = {
            "type": kind,
            "text": mask_text(str(event.get("text") or "")),
            "slot": event.get("slot"),
        }
        reason = _reason(event.get("reason"), default=None)
        if reason:
            out["reason"] = reason
        return out
    if kind == "confirm":
        return {
            "type": kind,
            "text": mask_text(str(event.get("text") or "")),
            "form": form_view(event.get("form")),
        }
    if kind == "case":
        case = event.get("case") or {}
        return {
            "type": kind,
            "text": mask_text(str(event.get("text") or "")),
            "reason": _reason(event.get("reason"), default=GENERIC_HANDOFF),
            "case": case_view(case, intent_names) if case else {},
        }
    out = {"type": kind}
    for key, value in event.items():
        if key in ("risk", "flags", "advice", "profile", "case", "form", "customer_id"):
            continue
        if isinstance(value, str):
            out[key] = mask_text(value)
        elif value is None or isinstance(value, bool | int | float):
            out[key] = value
    return out
