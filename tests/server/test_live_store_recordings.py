"""Turn recordings survive the outage spool and a dead process (issue 9, left out before).

The write-ahead store (server.live_store) runs on its own throwaway
PostgreSQL cluster, which is stopped and started under it. The audio is
real: committed fixture recordings encoded to Opus as a live call does.
A checkpoint stores its finished turns' audio before the case row exists;
a checkpoint or case written while the database is down carries its audio
in the spool; a later process recovers or replays it, and staff can play
every turn. A damaged recording in a spool file is left out with an error
in the log, never losing the case.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pytest

from server.db import CaseRow, LiveCallRow, make_engine, make_sessionmaker, migrate
from server.live_store import LiveCallStore
from server.recordings import play_recording, recording_turns
from tests.server.builders import make_case
from tests.server.pg_cluster import PgCluster, require_postgres
from tests.server.server_process import AUDIO
from voice_agent.audio import decode_audio
from voice_agent.case import Case, TranscriptSegment
from voice_agent.recording import decode_opus, encode_opus

CLIPS = ("transfer_50k", "balance", "card_loss")


@pytest.fixture()
def cluster() -> Iterator[PgCluster]:
    require_postgres()
    pg = PgCluster()
    engine = make_engine(pg.url)
    migrate(engine)
    engine.dispose()
    yield pg
    pg.destroy()


@pytest.fixture(scope="module")
def clips() -> list[tuple[float, bytes]]:
    """(seconds, Opus bytes) of real recordings, as the live call encodes a turn."""
    out = []
    for name in CLIPS:
        path = next(p for p in AUDIO.iterdir() if p.stem == name)
        audio = decode_audio(path, max_seconds=60)
        out.append((audio.duration_s, encode_opus(audio.samples)))
    return out


def _store(url: str, data_dir: Path) -> LiveCallStore:
    # As the app builds it (pre-ping, 5 s connect timeout): a stopped cluster fails fast.
    return LiveCallStore(
        make_sessionmaker(make_engine(url)), data_dir, alert_after_s=0.0, stale_s=3600
    )


def _call(case_id: str, clips: list[tuple[float, bytes]], turns: int) -> Case:
    """A live call's case after ``turns`` finished turns, each with its audio."""
    base = make_case(case_id)
    segments = tuple(
        TranscriptSegment(float(i), float(i) + seconds, f"第{i}句", f"第{i}句", audio=opus)
        for i, (seconds, opus) in enumerate(clips[:turns])
    )
    return replace(base, transcript=segments)


def _assert_playable(store: LiveCallStore, case_id: str, clips: list[tuple[float, bytes]]) -> None:
    with store.sessions() as session:
        assert session.get(CaseRow, case_id) is not None
        assert recording_turns(session, case_id) == list(range(len(clips)))
        for turn, (seconds, _opus) in enumerate(clips):
            data, mime = play_recording(session, case_id, turn, actor="teller")
            assert mime == "audio/ogg"
            heard = len(decode_opus(data)) / 16_000
            assert abs(heard - seconds) < 0.1, (turn, heard, seconds)


def test_a_checkpoint_writes_its_turns_audio_ahead(
    cluster: PgCluster, tmp_path: Path, clips: list[tuple[float, bytes]]
) -> None:
    store = _store(cluster.url, tmp_path)
    store.checkpoint(_call("c_ahead", clips, 1))
    with store.sessions() as session:
        assert session.get(CaseRow, "c_ahead") is None  # no case yet: the call goes on
        assert recording_turns(session, "c_ahead") == [0]
    store.checkpoint(_call("c_ahead", clips, 2))
    store.save(replace(_call("c_ahead", clips, 3), status="open", handoff_reason="complete"))
    _assert_playable(store, "c_ahead", clips[:3])  # each turn once, none lost


def test_a_spooled_checkpoint_keeps_its_audio_when_the_process_dies(
    cluster: PgCluster, tmp_path: Path, clips: list[tuple[float, bytes]]
) -> None:
    first = _store(cluster.url, tmp_path)
    first.checkpoint(_call("c_dead", clips, 1))  # turn 0 reaches the database
    cluster.stop()
    first.checkpoint(_call("c_dead", clips, 2))  # turn 1 only reaches the spool
    spooled = json.loads((tmp_path / "spool" / "live-c_dead.json").read_text())
    assert sorted(spooled["audio"]) == ["0", "1"]
    # The process dies here; the database comes back; the next process starts.
    cluster.start()
    second = _store(cluster.url, tmp_path)
    assert second.recover() == ["c_dead"]
    with second.sessions() as session:
        row = session.get(CaseRow, "c_dead")
        assert row is not None and row.status == "interrupted"
        assert session.query(LiveCallRow).count() == 0
    _assert_playable(second, "c_dead", clips[:2])
    assert not list((tmp_path / "spool").glob("live-*.json"))


def test_a_spooled_case_is_replayed_with_its_audio(
    cluster: PgCluster, tmp_path: Path, clips: list[tuple[float, bytes]]
) -> None:
    store = _store(cluster.url, tmp_path)
    cluster.stop()
    store.checkpoint(_call("c_outage", clips, 1))
    store.save(replace(_call("c_outage", clips, 2), status="open", handoff_reason="complete"))
    assert store.flush() == 1  # still down: kept, not lost
    cluster.start()
    assert store.flush() == 0
    _assert_playable(store, "c_outage", clips[:2])
    assert not list((tmp_path / "spool").iterdir())


def test_a_damaged_recording_in_the_spool_is_left_out_and_the_case_kept(
    cluster: PgCluster,
    tmp_path: Path,
    clips: list[tuple[float, bytes]],
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = _store(cluster.url, tmp_path)
    cluster.stop()
    store.save(replace(_call("c_damaged", clips, 2), status="open", handoff_reason="complete"))
    path = tmp_path / "spool" / "case-c_damaged.json"
    record = json.loads(path.read_text())
    record["audio"]["1"] = "not base64 at all!"
    path.write_text(json.dumps(record))
    cluster.start()
    with caplog.at_level(logging.ERROR, logger="server.live_store"):
        assert store.flush() == 0
    assert "recording of turn '1' is damaged" in caplog.text
    _assert_playable(store, "c_damaged", clips[:1])
    with store.sessions() as session:
        assert recording_turns(session, "c_damaged") == [0]
