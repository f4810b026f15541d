"""Cases, the audit trail and corrections: every read and write of the queue.

Routes call these functions with a SQLAlchemy session; nothing here knows
about HTTP. Each change to a case appends an audit entry in the same
transaction, so a case and its history never disagree. The queue order is a
database query (risk rank, score, age), which is what lets several servers
share one PostgreSQL queue.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from intents.taxonomy import MEDIUM_VALUES, SLOT_CODES
from server.customer_view import mask_text
from server.db import (
    CASE_STATUSES,
    CORRECTION_STATUSES,
    RISK_RANK,
    AuditEntry,
    CaseRow,
    Correction,
    utcnow,
)
from server.errors import ConflictError, ForbiddenError, InvalidChoiceError, NotFoundError
from server.masking import mask_account
from server.recordings import add_recordings
from server.routing import case_dialect
from voice_agent.case import Case

DECISIONS = {"accept": "accepted", "reject": "rejected", "escalate": "escalated"}
#: Decided cases are frozen: no edits, no second decision.
FINAL_STATUSES = ("accepted", "rejected")
#: Who may decide an escalated case (never the one who escalated it).
CHECKER_ROLES = ("supervisor", "admin")
#: Fields whose change by a teller bars that teller from accepting a high-risk case.
MONEY_FIELDS = ("amount", "payee_account", "payee_name", "payee_relation", "payee_bank")
SYSTEM_ACTOR = "system"
#: Statuses listed in the open queue.
OPEN_STATUSES = ("open", "escalated", "interrupted")
_INT_SLOTS = ("amount", "term_months")


def iso(value: dt.datetime | None) -> str | None:
    """A stored (naive UTC) timestamp as ISO 8601 with its zone."""
    return None if value is None else value.replace(tzinfo=dt.UTC).isoformat()


def _to_utc(text: str) -> dt.datetime:
    try:
        value = dt.datetime.fromisoformat(text)
    except ValueError as exc:
        raise InvalidChoiceError(f"created_at {text!r} is not an ISO 8601 time") from exc
    if value.tzinfo is not None:
        value = value.astimezone(dt.UTC).replace(tzinfo=None)
    return value


def append_audit(
    session: Session,
    *,
    actor: str,
    action: str,
    case_id: str | None = None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> None:
    """Append one audit entry (the only write the audit log ever gets)."""
    session.add(
        AuditEntry(
            case_id=case_id,
            actor=actor,
            action=action,
            before=before,
            after=after,
            reason=reason,
            at=utcnow(),
        )
    )


def audit_trail(session: Session, case_id: str) -> list[dict[str, Any]]:
    """Every audit entry of ``case_id``, oldest first."""
    rows = session.scalars(
        select(AuditEntry).where(AuditEntry.case_id == case_id).order_by(AuditEntry.id)
    )
    return [audit_json(r) for r in rows]


def audit_json(entry: AuditEntry) -> dict[str, Any]:
    """One audit entry as the API shows it (``schemas.AuditEntry``)."""
    return {
        "id": entry.id,
        "case_id": entry.case_id,
        "actor": entry.actor,
        "action": entry.action,
        "before": entry.before,
        "after": entry.after,
        "reason": entry.reason,
        "at": iso(entry.at),
    }


def save_case(session: Session, case: Case) -> None:
    """Store a new case in the queue (status from the case, normally ``open``) and commit."""
    add_case(session, case.to_json())
    add_recordings(session, case)
    session.commit()


def add_case(session: Session, data: dict[str, Any], *, reason: str | None = None) -> None:
    """Add a case (its Case JSON) and its audit entry to the session, without committing.

    ``reason`` goes into the audit entry (e.g. why a call was recovered).
    """
    risk = data["risk"]
    status = data.get("status", "open")
    if status not in CASE_STATUSES:
        raise InvalidChoiceError(
            f"case status {status!r}; valid statuses: {', '.join(CASE_STATUSES)}"
        )
    now = utcnow()
    session.add(
        CaseRow(
            case_id=data["case_id"],
            created_at=_to_utc(data["created_at"]),
            customer_id=data.get("customer_id"),
            scenario=data.get("scenario"),
            status=status,
            risk_level=risk["level"],
            risk_rank=RISK_RANK.get(risk["level"], 0),
            risk_score=float(risk["score"]),
            intent=data["intent"]["code"],
            data=data,
            disconnected=bool(data.get("disconnected", False)),
            updated_at=now,
        )
    )
    append_audit(
        session,
        actor=SYSTEM_ACTOR,
        action="case.created",
        case_id=data["case_id"],
        after={"status": status, "intent": data["intent"]["code"], "risk": risk["level"]},
        reason=reason,
    )


def _load(session: Session, case_id: str, *, for_update: bool = False) -> CaseRow:
    query = select(CaseRow).where(CaseRow.case_id == case_id)
    if for_update:
        # Two tellers on two servers editing one case take turns.
        query = query.with_for_update()
    row = session.scalar(query)
    if row is None:
        raise NotFoundError(f"no case {case_id!r}")
    return row


def _field_value(data: Mapping[str, Any], code: str) -> Any:
    field = data.get("form", {}).get("fields", {}).get(code)
    if field is not None:
        return field.get("value")
    return data.get("slots", {}).get(code)


def queue_item(row: CaseRow, intent_names: Mapping[str, str], now: dt.datetime) -> dict[str, Any]:
    """One line of the teller queue; the payee account is masked to its last four."""
    data = row.data
    account = _field_value(data, "payee_account")
    return {
        "case_id": row.case_id,
        "created_at": data.get("created_at") or iso(row.created_at),
        "waiting_seconds": max(0, int((now - row.created_at).total_seconds())),
        "customer_id": row.customer_id,
        "scenario": row.scenario,
        "intent": row.intent,
        "intent_name": intent_names.get(row.intent, row.intent),
        "risk_level": row.risk_level,
        "risk_score": row.risk_score,
        "flags": [f["code"] for f in data.get("risk", {}).get("flags", [])],
        "summary": data.get("summary", ""),
        "amount": _field_value(data, "amount"),
        "payee_account": mask_account(str(account)) if account else None,
        "status": row.status,
        "disconnected": row.disconnected,
        # A dialect heard in the audio: routed to tellers who speak it (server.routing).
        "dialect": case_dialect(data),
    }


def list_queue(
    session: Session, intent_names: Mapping[str, str], *, include_closed: bool = False
) -> list[dict[str, Any]]:
    """The teller queue: calls cut off by a server stop first (the caller waits for a
    callback), then risky first (high > medium > low > none, then score), then oldest.

    Escalated cases stay in the queue (marked by their status) until a senior
    teller accepts or rejects them: an escalation must never drop out of sight.
    """
    interrupted_first = sql_case((CaseRow.status == "interrupted", 0), else_=1)
    query = select(CaseRow).order_by(
        interrupted_first,
        CaseRow.risk_rank.desc(),
        CaseRow.risk_score.desc(),
        CaseRow.created_at.asc(),
    )
    if not include_closed:
        query = query.where(CaseRow.status.in_(OPEN_STATUSES))
    now = utcnow()
    return [queue_item(r, intent_names, now) for r in session.scalars(query)]


def queue_version(session: Session) -> str:
    """A value that changes whenever any case is added or changed (for the event stream)."""
    count, latest = session.execute(select(func.count(), func.max(CaseRow.updated_at))).one()
    return f"{count}:{iso(latest) or ''}"


def _decision(row: CaseRow) -> dict[str, Any] | None:
    if row.decided_at is None:
        return None
    decision = next((k for k, v in DECISIONS.items() if v == row.status), row.status)
    return {
        "decision": decision,
        "status": row.status,
        "reason": row.decision_reason,
        "by": row.decided_by,
        "at": iso(row.decided_at),
    }


def open_case(session: Session, case_id: str, *, actor: str) -> dict[str, Any]:
    """A case's detail for a member of staff, auditing that they opened it.

    Raises:
        NotFoundError: no such case.
    """
    _load(session, case_id)
    append_audit(session, actor=actor, action="case.opened", case_id=case_id)
    session.commit()
    return case_detail(session, case_id)


def case_detail(session: Session, case_id: str) -> dict[str, Any]:
    """A case for its detail page: full Case JSON (account unmasked), status, audit, decision.

    Raises:
        NotFoundError: no such case.
    """
    row = _load(session, case_id)
    return {
        "case": row.data,
        "status": row.status,
        "disconnected": row.disconnected,
        "audit": audit_trail(session, case_id),
        "decision": _decision(row),
    }


def _check_slot_value(code: str, value: Any) -> int | str | None:
    """Validate a teller's value for ``code``; None removes the field."""
    if value is None:
        return None
    if code in _INT_SLOTS:
        if isinstance(value, bool) or not isinstance(value, int | str):
            raise InvalidChoiceError(f"{code} must be a whole number, got {value!r}")
        try:
            number = int(value)
        except ValueError as exc:
            raise InvalidChoiceError(f"{code} must be a whole number, got {value!r}") from exc
        if number <= 0:
            raise InvalidChoiceError(f"{code} must be positive, got {number}")
        return number
    if not isinstance(value, str | int) or isinstance(value, bool):
        raise InvalidChoiceError(f"{code} must be text, got {value!r}")
    text = str(value).strip()
    if code == "payee_account":
        digits = text.replace(" ", "")
        if not (digits.isdigit() and 16 <= len(digits) <= 19):
            raise InvalidChoiceError("payee_account must be a 16–19 digit account number")
        return digits
    if code == "medium" and text not in MEDIUM_VALUES:
        raise InvalidChoiceError(
            f"unknown medium {text!r}; valid values: {', '.join(MEDIUM_VALUES)}"
        )
    if not text or len(text) > 200:
        raise InvalidChoiceError(f"{code} must be 1–200 characters")
    return text


def _missing(fields: Mapping[str, Any], required: Sequence[Sequence[str]]) -> list[str]:
    # Same rule as voice_agent.form: a required group is satisfied by any of its slots.
    return [g[0] for g in required if g and not any(code in fields for code in g)]


def _transcript_text(data: Mapping[str, Any], key: str) -> str:
    segments = data.get("transcript") or []
    joined = "".join(s.get(key, "") for s in segments)
    return joined or data.get(key, "") or ""


def correct_case(
    session: Session,
    case_id: str,
    *,
    actor: str,
    required_by_intent: Mapping[str, Sequence[Sequence[str]]],
    intent: str | None = None,
    fields: Mapping[str, Any] | None = None,
    reason: str | None = None,
) -> dict[str, Any]:
    """Apply a teller's correction of intent and/or form fields, audit it, and
    queue it (as a pending correction) for product staff to review.

    Args:
        session: database session (committed here).
        case_id: the case to correct.
        actor: the teller's username.
        required_by_intent: the catalog's intents (its keys are the valid
            codes) and their required slot groups, to recompute ``missing``.
        intent: the corrected intent code, or None to keep it.
        fields: slot code → corrected value (None removes the field).
        reason: why, shown in the audit trail.

    Returns:
        The updated case detail (as :func:`case_detail`).

    Raises:
        NotFoundError: no such case.
        InvalidChoiceError: unknown intent or slot code (the message lists
            the valid ones) or an invalid value.
    """
    fields = dict(fields or {})
    if intent is None and not fields:
        raise InvalidChoiceError("nothing to change: give an intent and/or fields")
    if intent is not None and intent not in required_by_intent:
        raise InvalidChoiceError(
            f"unknown intent {intent!r}; valid intents: {', '.join(required_by_intent)}"
        )
    unknown = [code for code in fields if code not in SLOT_CODES]
    if unknown:
        raise InvalidChoiceError(
            f"unknown slot {', '.join(map(repr, unknown))}; valid slots: {', '.join(SLOT_CODES)}"
        )
    values = {code: _check_slot_value(code, v) for code, v in fields.items()}

    row = _load(session, case_id, for_update=True)
    if row.status in FINAL_STATUSES:
        raise ConflictError(
            f"case {case_id} is {row.status} by {row.decided_by}: decided cases cannot be changed"
        )
    data = copy.deepcopy(row.data)
    form = data.setdefault("form", {"type": row.intent, "fields": {}, "missing": []})
    form_fields: dict[str, Any] = form.setdefault("fields", {})
    before: dict[str, Any] = {"fields": {}, "missing": list(form.get("missing", []))}
    after: dict[str, Any] = {"fields": {}}

    if intent is not None:
        before["intent"] = data["intent"]["code"]
        after["intent"] = intent
        if intent != data["intent"]["code"]:
            data["intent"] = {
                "code": intent,
                "confidence": 1.0,
                "alternatives": data["intent"].get("alternatives", []),
                "drivers": [],
                "source": "teller",
                "original": data["intent"]["code"],
            }
        form["type"] = intent
    for code, value in values.items():
        before["fields"][code] = copy.deepcopy(form_fields.get(code))
        if value is None:
            form_fields.pop(code, None)
            after["fields"][code] = None
        else:
            form_fields[code] = {
                "value": value,
                "confidence": 1.0,
                "source": "teller",
                "evidence": "",
            }
            after["fields"][code] = form_fields[code]
    new_intent = data["intent"]["code"]
    form["missing"] = _missing(form_fields, required_by_intent.get(new_intent, ()))
    after["missing"] = form["missing"]

    row.data = data
    row.intent = new_intent
    row.updated_at = utcnow()
    append_audit(
        session,
        actor=actor,
        action="case.corrected",
        case_id=case_id,
        before=before,
        after=after,
        reason=reason,
    )
    _upsert_correction(session, data, actor)
    session.commit()
    return case_detail(session, case_id)


def _upsert_correction(session: Session, data: Mapping[str, Any], actor: str) -> None:
    """One pending correction per case: a second edit updates it instead of adding noise."""
    slots = dict(data.get("slots", {}))
    for code, field in data.get("form", {}).get("fields", {}).items():
        slots[code] = field["value"]
    for code in list(slots):
        if code not in data.get("form", {}).get("fields", {}):
            # The teller removed it from the form: it was not really said.
            slots.pop(code)
    pending = session.scalar(
        select(Correction).where(
            Correction.case_id == data["case_id"], Correction.status == "pending"
        )
    )
    if pending is None:
        pending = Correction(case_id=data["case_id"], status="pending", created_at=utcnow())
        session.add(pending)
    pending.text = _transcript_text(data, "text")
    pending.normalized_text = _transcript_text(data, "normalized_text")
    pending.intent = data["intent"]["code"]
    pending.slots = slots
    pending.created_by = actor


def _changed_money_fields(session: Session, case_id: str, actor: str) -> list[str]:
    """The amount/payee fields ``actor`` changed on the case, from its audit trail."""
    changed: list[str] = []
    rows = session.scalars(
        select(AuditEntry).where(
            AuditEntry.case_id == case_id,
            AuditEntry.actor == actor,
            AuditEntry.action == "case.corrected",
        )
    )
    for entry in rows:
        fields = (entry.after or {}).get("fields") or {}
        changed += [code for code in MONEY_FIELDS if code in fields and code not in changed]
    return changed


def _check_maker_checker(
    session: Session, row: CaseRow, *, actor: str, role: str, decision: str, reason: str | None
) -> None:
    """The four-eyes rules; raises ForbiddenError or InvalidChoiceError."""
    if row.status == "escalated":
        if decision == "escalate":
            raise ConflictError(f"case {row.case_id} is already escalated")
        if role not in CHECKER_ROLES:
            raise ForbiddenError("an escalated case is decided by a supervisor")
        if actor == row.decided_by:
            raise ForbiddenError("you escalated this case: another supervisor must decide it")
    if decision != "accept" or row.risk_level != "high":
        return
    if reason is None:
        raise InvalidChoiceError("a reason is required to accept a high-risk case")
    changed = _changed_money_fields(session, row.case_id, actor)
    if changed:
        raise ForbiddenError(
            f"you changed {', '.join(changed)} of this high-risk case: "
            "another teller or a supervisor must accept it (or escalate it)"
        )


def decide_case(
    session: Session,
    case_id: str,
    *,
    actor: str,
    decision: str,
    reason: str | None,
    role: str = "teller",
) -> dict[str, Any]:
    """Accept, reject or escalate a case, with its audit entry.

    Maker–checker: an escalated case is decided by a supervisor other than
    the one who escalated it; accepting a high-risk case needs a reason,
    and not from a teller who changed its amount or payee.

    Raises:
        NotFoundError: no such case.
        InvalidChoiceError: unknown decision, or no reason for reject,
            escalate or accepting a high-risk case.
        ConflictError: the case was already accepted or rejected (frozen).
        ForbiddenError: a maker–checker rule forbids this actor.
    """
    if decision not in DECISIONS:
        raise InvalidChoiceError(
            f"unknown decision {decision!r}; valid decisions: {', '.join(DECISIONS)}"
        )
    reason = (reason or "").strip() or None
    if decision in ("reject", "escalate") and reason is None:
        raise InvalidChoiceError(f"a reason is required to {decision} a case")
    row = _load(session, case_id, for_update=True)
    if row.status in FINAL_STATUSES:
        raise ConflictError(f"case {case_id} is already {row.status} by {row.decided_by}")
    _check_maker_checker(session, row, actor=actor, role=role, decision=decision, reason=reason)
    before = {"status": row.status}
    now = utcnow()
    row.status = DECISIONS[decision]
    row.decision_reason = reason
    row.decided_by = actor
    row.decided_at = now
    row.updated_at = now
    row.data = {**row.data, "status": row.status}
    append_audit(
        session,
        actor=actor,
        action=f"case.{decision}",
        case_id=case_id,
        before=before,
        after={"status": row.status},
        reason=reason,
    )
    session.commit()
    return case_detail(session, case_id)


def mark_disconnected(session: Session, case_id: str, disconnected: bool = True) -> None:
    """Record that the customer hung up (or came back) while the case waits."""
    row = _load(session, case_id, for_update=True)
    if row.disconnected == disconnected:
        return
    row.disconnected = disconnected
    row.data = {**row.data, "disconnected": disconnected}
    row.updated_at = utcnow()
    append_audit(
        session,
        actor=SYSTEM_ACTOR,
        action="case.disconnected" if disconnected else "case.reconnected",
        case_id=case_id,
        before={"disconnected": not disconnected},
        after={"disconnected": disconnected},
    )
    session.commit()


def _correction_json(c: Correction) -> dict[str, Any]:
    return {
        "id": c.id,
        "case_id": c.case_id,
        "text": c.text,
        "normalized_text": c.normalized_text,
        "intent": c.intent,
        "slots": c.slots,
        "status": c.status,
        "created_by": c.created_by,
        "reviewed_by": c.reviewed_by,
        "created_at": iso(c.created_at),
        "reviewed_at": iso(c.reviewed_at),
    }


def masked_correction(c: dict[str, Any]) -> dict[str, Any]:
    """A correction as product staff see it: account numbers masked everywhere."""
    slots = dict(c["slots"])
    if slots.get("payee_account"):
        slots["payee_account"] = mask_account(str(slots["payee_account"]))
    slots = {k: mask_text(v) if isinstance(v, str) else v for k, v in slots.items()}
    return {
        **c,
        "text": mask_text(c["text"]),
        "normalized_text": mask_text(c["normalized_text"]),
        "slots": slots,
    }


def list_corrections(
    session: Session, status: str | None = "pending", *, masked: bool = False
) -> list[dict[str, Any]]:
    """Corrections with ``status`` (None: all), oldest first; ``masked`` hides accounts."""
    if status is not None and status not in CORRECTION_STATUSES:
        raise InvalidChoiceError(
            f"unknown status {status!r}; valid statuses: {', '.join(CORRECTION_STATUSES)}"
        )
    query = select(Correction).order_by(Correction.id)
    if status is not None:
        query = query.where(Correction.status == status)
    rows = [_correction_json(c) for c in session.scalars(query)]
    return [masked_correction(c) for c in rows] if masked else rows


def review_correction(
    session: Session, correction_id: int, *, actor: str, decision: str
) -> dict[str, Any]:
    """Accept or reject a pending correction (audited under its case).

    Raises:
        NotFoundError: no such correction.
        InvalidChoiceError: decision is not accept or reject.
        ConflictError: it was already reviewed.
    """
    statuses = {"accept": "accepted", "reject": "rejected"}
    if decision not in statuses:
        raise InvalidChoiceError(f"unknown decision {decision!r}; valid decisions: accept, reject")
    c = session.scalar(select(Correction).where(Correction.id == correction_id).with_for_update())
    if c is None:
        raise NotFoundError(f"no correction {correction_id}")
    if c.status != "pending":
        raise ConflictError(f"correction {correction_id} is already {c.status}")
    c.status = statuses[decision]
    c.reviewed_by = actor
    c.reviewed_at = utcnow()
    append_audit(
        session,
        actor=actor,
        action=f"correction.{decision}",
        case_id=c.case_id,
        before={"correction": correction_id, "status": "pending"},
        after={"correction": correction_id, "status": c.status, "intent": c.intent},
    )
    session.commit()
    return _correction_json(c)


def accepted_corrections(session: Session) -> list[dict[str, Any]]:
    """Reviewed-and-accepted corrections, for ``frontdesk intents train``.

    Each is ``{"text", "normalized_text", "intent", "slots"}``; train on
    ``normalized_text`` (the classifier sees Mandarin), keep ``text`` for review.
    """
    rows = session.scalars(
        select(Correction).where(Correction.status == "accepted").order_by(Correction.id)
    )
    return [
        {
            "text": c.text,
            "normalized_text": c.normalized_text,
            "intent": c.intent,
            "slots": dict(c.slots),
        }
        for c in rows
    ]
