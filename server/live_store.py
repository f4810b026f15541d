"""Write-ahead live calls: no call is lost to a dead process or a database outage.

After every finished turn a live call's case-so-far is written to the
``live_calls`` table (status ``interrupted``, handoff_reason
``system_interrupted``); when the call hands over, the real case is stored
and the row deleted in one transaction, so a call ends in the queue exactly
once. Rows whose server died become cases: at that server's next start-up
(same host, its process gone) or, on any server, once their heartbeat is
older than ``server.live_call_stale_s`` (a node that never came back).

When the database refuses a write (PostgreSQL restarting), the write goes
to a local spool (``data_dir/spool``) and the call goes on; a sweeper
replays the spool every ``server.live_sweep_s``. A case still unsaved after
``server.db_retry_s`` is logged once at ERROR (the alert), and stays in the
spool, retried until it is stored: a failure is loud, never a silent loss.

Each finished turn's recording travels the same way (issue 9): it is
stored with the checkpoint (``recordings``, keyed by case id and turn,
before the case row exists), and a spooled checkpoint or case carries its
turns' Opus bytes (base64), so an interrupted or replayed case keeps them.
"""

from __future__ import annotations

import base64
import binascii
import contextlib
import datetime as dt
import json
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from server.db import CaseRow, LiveCallRow, utcnow
from server.recordings import add_recordings, add_turn_audio, turn_audio
from server.repository import add_case
from voice_agent.case import Case

log = logging.getLogger("server.live_store")

SPOOL_DIR = "spool"
RECOVERED_REASON = "the server stopped mid-call; recovered from the last finished turn"


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _interrupted(data: dict[str, Any]) -> dict[str, Any]:
    return {**data, "status": "interrupted", "handoff_reason": "system_interrupted"}


def _audio_json(audio: Mapping[int, bytes]) -> dict[str, str]:
    """Turn recordings for a spool file (JSON): turn index → base64 Opus."""
    return {str(turn): base64.b64encode(data).decode("ascii") for turn, data in audio.items()}


def _audio_of(record: Mapping[str, Any], path: Path | None = None) -> dict[int, bytes]:
    """The turn recordings of a spool record; a damaged entry is logged and skipped."""
    audio: dict[int, bytes] = {}
    for turn, text in (record.get("audio") or {}).items():
        try:
            audio[int(turn)] = base64.b64decode(text, validate=True)
        except (ValueError, TypeError, binascii.Error):
            log.error("spool file %s: recording of turn %r is damaged; left out", path, turn)
    return audio


class LiveCallStore:
    """Checkpoints, final saves, the spool and recovery, for one server process.

    Args:
        sessions: the app's sessionmaker.
        data_dir: where the spool lives.
        alert_after_s: how long a case may stay unsaved before the ERROR alert.
        stale_s: a live call not heartbeated this long belongs to a dead server.
    """

    def __init__(
        self,
        sessions: Callable[[], Session],
        data_dir: Path,
        *,
        alert_after_s: float = 60.0,
        stale_s: float = 60.0,
    ) -> None:
        self.sessions = sessions
        self.spool = data_dir / SPOOL_DIR
        self.alert_after_s = alert_after_s
        self.stale_s = stale_s
        self.instance = uuid.uuid4().hex
        self.host = socket.gethostname()
        self.pid = os.getpid()
        self._alerted: set[str] = set()

    # ---- the call's hooks (blocking: called in a worker thread) -----------------

    def checkpoint(self, case: Case) -> None:
        """Write the case-so-far of a call in progress (keyed by its case id)."""
        data = _interrupted(case.to_json())
        try:
            with self.sessions() as session:
                self._upsert_live(session, data)
                add_recordings(session, case)  # the finished turns' audio, written ahead
                session.commit()
        except SQLAlchemyError as exc:
            record = self._live_record(data, turn_audio(case))
            self._spool_write(f"live-{case.case_id}.json", record)
            log.warning("database unavailable; checkpoint of %s spooled: %s", case.case_id, exc)
            return
        (self.spool / f"live-{case.case_id}.json").unlink(missing_ok=True)

    def save(self, case: Case) -> None:
        """Store a finished call's case and end its write-ahead row, in one transaction.

        A database error spools the case (it is retried by :meth:`flush`); the
        call is never failed for it.
        """
        data = case.to_json()
        if data.get("handoff_reason") == "system_interrupted":
            data["status"] = "interrupted"
        try:
            with self.sessions() as session:
                self._store_final(session, data)
                add_recordings(session, case)  # each turn's audio (issue 9)
                session.commit()
        except SQLAlchemyError as exc:
            record = {
                "data": data,
                "first_failed": time.time(),
                "audio": _audio_json(turn_audio(case)),
            }
            self._spool_write(f"case-{case.case_id}.json", record)
            log.warning(
                "database unavailable; case %s kept in %s and retried: %s",
                case.case_id,
                self.spool,
                exc,
            )
        (self.spool / f"live-{case.case_id}.json").unlink(missing_ok=True)

    # ---- sweeper work --------------------------------------------------------------

    def flush(self) -> int:
        """Replay spooled writes; returns how many cases are still unsaved."""
        unsaved = 0
        for path in sorted(self.spool.glob("case-*.json")):
            record = self._spool_read(path)
            if record is None:
                continue
            try:
                with self.sessions() as session:
                    self._store_final(session, record["data"])
                    add_turn_audio(session, record["data"]["case_id"], _audio_of(record, path))
                    session.commit()
            except SQLAlchemyError as exc:
                unsaved += 1
                self._alert_if_overdue(path.stem, record, exc)
                continue
            path.unlink(missing_ok=True)
            if path.stem in self._alerted:
                log.error("RESOLVED: %s is stored in the queue after the outage", path.stem)
                self._alerted.discard(path.stem)
            else:
                log.info("%s stored after the database came back", path.stem)
        for path in sorted(self.spool.glob("live-*.json")):
            record = self._spool_read(path)
            if record is None or record.get("instance") != self.instance:
                continue  # a previous process's call: recover() makes it a case
            try:
                with self.sessions() as session:
                    self._upsert_live(session, record["data"])
                    add_turn_audio(session, record["data"]["case_id"], _audio_of(record, path))
                    session.commit()
            except SQLAlchemyError:
                continue
            path.unlink(missing_ok=True)
        return unsaved

    def heartbeat(self) -> None:
        """Mark this process's calls as alive (so no other server recovers them)."""
        with self.sessions() as session:
            session.execute(
                update(LiveCallRow)
                .where(LiveCallRow.instance == self.instance)
                .values(heartbeat_at=utcnow())
            )
            session.commit()

    def recover(self) -> list[str]:
        """Turn calls of dead servers into interrupted cases; returns their case ids.

        Spooled final cases are stored first (a call that ended during an
        outage is not also recovered as interrupted); then this host's
        spooled checkpoints of earlier processes; then rows of dead processes
        on this host and rows of any server that stopped heartbeating.
        """
        self.flush()
        recovered: list[str] = []
        for path in sorted(self.spool.glob("live-*.json")):
            record = self._spool_read(path)
            if record is None or record.get("instance") == self.instance:
                continue
            if self._recover_one(record["data"], audio=_audio_of(record, path)):
                recovered.append(record["data"]["case_id"])
            path.unlink(missing_ok=True)
        stale = utcnow() - dt.timedelta(seconds=self.stale_s)
        with self.sessions() as session:
            rows = session.execute(
                select(LiveCallRow.case_id, LiveCallRow.host, LiveCallRow.pid)
                .where(LiveCallRow.instance != self.instance)
                .order_by(LiveCallRow.started_at)
            ).all()
            stale_ids = set(
                session.scalars(
                    select(LiveCallRow.case_id).where(
                        LiveCallRow.instance != self.instance, LiveCallRow.heartbeat_at < stale
                    )
                )
            )
        for case_id, host, pid in rows:
            dead_here = host == self.host and (pid == self.pid or not _pid_alive(pid))
            if not (dead_here or case_id in stale_ids):
                continue
            with self.sessions() as session:
                row = session.get(LiveCallRow, case_id)
                if row is None:  # another server recovered it first
                    continue
                if self._recover_one(row.data, session):
                    recovered.append(case_id)
        if recovered:
            log.warning(
                "recovered %d call(s) cut off by a stopped server: %s",
                len(recovered),
                ", ".join(recovered),
            )
        return recovered

    # ---- internals -----------------------------------------------------------------

    def _recover_one(
        self,
        data: dict[str, Any],
        session: Session | None = None,
        *,
        audio: Mapping[int, bytes] | None = None,
    ) -> bool:
        """Store a dead call's snapshot as an interrupted case (with ``audio``, from the spool)."""
        data = _interrupted(data)
        with contextlib.ExitStack() as stack:
            if session is None:
                session = stack.enter_context(self.sessions())
            try:
                new = session.get(CaseRow, data["case_id"]) is None
                if new:
                    add_case(session, data, reason=RECOVERED_REASON)
                add_turn_audio(session, data["case_id"], audio or {})
                session.execute(delete(LiveCallRow).where(LiveCallRow.case_id == data["case_id"]))
                session.commit()
            except SQLAlchemyError:
                session.rollback()
                log.warning("could not recover call %s yet", data["case_id"], exc_info=True)
                return False
        return new

    def _upsert_live(self, session: Session, data: dict[str, Any]) -> None:
        now = utcnow()
        row = session.get(LiveCallRow, data["case_id"])
        if row is None:
            session.add(
                LiveCallRow(
                    case_id=data["case_id"],
                    customer_id=data.get("customer_id"),
                    scenario=data.get("scenario"),
                    instance=self.instance,
                    host=self.host,
                    pid=self.pid,
                    turns=len(data.get("transcript") or []),
                    data=data,
                    started_at=now,
                    updated_at=now,
                    heartbeat_at=now,
                )
            )
            return
        row.data = data
        row.turns = len(data.get("transcript") or [])
        row.instance, row.host, row.pid = self.instance, self.host, self.pid
        row.updated_at = row.heartbeat_at = now

    def _store_final(self, session: Session, data: dict[str, Any]) -> None:
        """Insert the case, or replace the interrupted one another server recovered."""
        case_id = data["case_id"]
        existing = session.get(CaseRow, case_id)
        if existing is None:
            add_case(session, data)
        elif existing.status == "interrupted" and data.get("status") != "interrupted":
            # Recovered as stale during an outage, yet the call went on: the
            # finished case replaces the snapshot (same case id: still one case).
            session.delete(existing)
            session.flush()
            add_case(session, data, reason="the call finished after it was recovered")
        session.execute(delete(LiveCallRow).where(LiveCallRow.case_id == case_id))

    def _live_record(self, data: dict[str, Any], audio: Mapping[int, bytes]) -> dict[str, Any]:
        return {
            "instance": self.instance,
            "host": self.host,
            "pid": self.pid,
            "data": data,
            "audio": _audio_json(audio),
        }

    def _spool_write(self, name: str, record: dict[str, Any]) -> None:
        self.spool.mkdir(parents=True, exist_ok=True)
        tmp = self.spool / f".{name}.tmp"
        with tmp.open("w", encoding="utf-8") as f:
            json.dump(record, f, ensure_ascii=False)
            f.flush()
            os.fsync(f.fileno())
        tmp.replace(self.spool / name)

    def _spool_read(self, path: Path) -> dict[str, Any] | None:
        try:
            record: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            log.error("unreadable spool file %s: left in place for a person to look at", path)
            return None
        return record

    def _alert_if_overdue(self, name: str, record: dict[str, Any], exc: Exception) -> None:
        waited = time.time() - float(record.get("first_failed", time.time()))
        if waited >= self.alert_after_s and name not in self._alerted:
            self._alerted.add(name)
            log.error(
                "ALERT: %s NOT in the tellers' queue after %.0f s of database errors (%s); "
                "it is kept in %s and retried until the database takes it",
                name,
                waited,
                exc,
                self.spool,
            )
