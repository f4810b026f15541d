"""Each turn's audio kept with its case: store, play (audited), purge after retention.

The audio arrives on the Case (``TranscriptSegment.audio``, OGG/Opus from
voice_agent.recording) and is stored in the same transaction as the case,
or earlier: a live call writes each finished turn's audio ahead with its
checkpoint (server.live_store), and the outage spool carries it too.
Only staff fetch it (the route checks the role), every fetch is written to
the audit trail, and ``frontdesk recordings purge`` deletes recordings older
than ``recordings.retention_days``: the case, its transcript and its audit
trail stay.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from server.db import AuditEntry, CaseRow, RecordingRow, utcnow
from server.errors import NotFoundError
from voice_agent.case import Case
from voice_agent.recording import MIME_TYPE


def turn_audio(case: Case) -> dict[int, bytes]:
    """The case's turn recordings by turn index (turns without audio left out)."""
    return {turn: seg.audio for turn, seg in enumerate(case.transcript) if seg.audio}


def add_recordings(session: Session, case: Case) -> int:
    """Add the case's turn audio to the session (not committed); returns how many.

    Turns already stored (a case saved twice, or a turn written ahead by a
    live call's checkpoint) are left as they are.
    """
    return add_turn_audio(session, case.case_id, turn_audio(case))


def add_turn_audio(session: Session, case_id: str, audio: Mapping[int, bytes]) -> int:
    """Add turn recordings of ``case_id`` not stored yet (not committed); returns how many.

    Keyed by case id and turn, not by a case row: a live call's turns are
    written ahead before its case exists, so that a call cut off by a dead
    process or replayed from the outage spool keeps its audio (issue 9).
    """
    if not audio:
        return 0
    now = utcnow()
    stored = set(recording_turns(session, case_id))
    count = 0
    for turn, data in sorted(audio.items()):
        if turn not in stored:
            session.add(
                RecordingRow(
                    case_id=case_id, turn=turn, mime_type=MIME_TYPE, data=data, created_at=now
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
