"""Each turn's audio kept with its case: store, play (audited), purge after retention.

The audio arrives on the Case (``TranscriptSegment.audio``, OGG/Opus from
voice_agent.recording) and is stored in the same transaction as the case.
Only staff fetch it (the route checks the role), every fetch is written to
the audit trail, and ``frontdesk recordings purge`` deletes recordings older
than ``recordings.retention_days``: the case, its transcript and its audit
trail stay.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.db import AuditEntry, CaseRow, RecordingRow, utcnow
from server.errors import NotFoundError
from voice_agent.case import Case
from voice_agent.recording import MIME_TYPE


def add_recordings(session: Session, case: Case) -> int:
    """Add the case's turn audio to the session (not committed); returns how many.

    Turns already stored (a case saved twice) are left as they are.
    """
    now = utcnow()
    count = 0
    stored = set(recording_turns(session, case.case_id)) if case.transcript else set()
    for turn, segment in enumerate(case.transcript):
        if segment.audio and turn not in stored:
            session.add(
                RecordingRow(
                    case_id=case.case_id,
                    turn=turn,
                    mime_type=MIME_TYPE,
                    data=segment.audio,
                    created_at=now,
                )
            )
            count += 1
    return count


def _audit(session: Session, actor: str, action: str, case_id: str, after: dict[str, Any]) -> None:
    # As repository.append_audit (which imports this module for save_case).
    session.add(AuditEntry(case_id=case_id, actor=actor, action=action, after=after, at=utcnow()))


def recording_turns(session: Session, case_id: str) -> list[int]:
    """The turns of a case that still have audio."""
    rows = session.scalars(
        select(RecordingRow.turn).where(RecordingRow.case_id == case_id).order_by(RecordingRow.turn)
    )
    return list(rows)


def play_recording(session: Session, case_id: str, turn: int, *, actor: str) -> tuple[bytes, str]:
    """One turn's audio for a member of staff; the playback is audited.

    Raises:
        NotFoundError: no such case, or no audio for that turn (never kept,
            or deleted after the retention period).
    """
    if session.get(CaseRow, case_id) is None:
        raise NotFoundError(f"no case {case_id!r}")
    row = session.scalar(
        select(RecordingRow).where(RecordingRow.case_id == case_id, RecordingRow.turn == turn)
    )
    if row is None:
        raise NotFoundError(f"case {case_id} has no recording of turn {turn}")
    _audit(session, actor, "recording.played", case_id, {"turn": turn})
    session.commit()
    return row.data, row.mime_type


def purge_recordings(
    session: Session, retention_days: float, *, now: dt.datetime | None = None, actor: str = "cli"
) -> dict[str, Any]:
    """Delete recordings older than ``retention_days``; cases are never touched.

    Returns:
        ``{"deleted": n, "cases": k, "before": iso}``; each case that lost
        audio gets an audit entry.
    """
    cutoff = (now or utcnow()) - dt.timedelta(days=retention_days)
    old = session.execute(
        select(RecordingRow.case_id, RecordingRow.turn).where(RecordingRow.created_at < cutoff)
    ).all()
    by_case: dict[str, list[int]] = {}
    for case_id, turn in old:
        by_case.setdefault(case_id, []).append(turn)
    session.execute(delete(RecordingRow).where(RecordingRow.created_at < cutoff))
    for case_id, turns in by_case.items():
        _audit(
            session,
            actor,
            "recording.purged",
            case_id,
            {"turns": sorted(turns), "retention_days": retention_days},
        )
    session.commit()
    return {"deleted": len(old), "cases": len(by_case), "before": cutoff.isoformat() + "Z"}
