"""Recording → teller case, end to end: real Whisper on the committed fixtures.

Per-clip assertions check what must always hold (the contract's fields, a
transcript inside the clip, timings); accuracy is asserted over the whole
set with the bounds the issue sets for unseen recordings, so one ASR slip
does not fail CI but a real regression does.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.errors import InputError
from voice_agent.case import Case
from voice_agent.service import FrontDesk, build_frontdesk
from voice_agent.settings import Settings

AUDIO = Path(__file__).resolve().parent.parent / "data" / "audio"
LABELS = [json.loads(line) for line in (AUDIO / "fixtures.jsonl").read_text("utf-8").splitlines()]
SPEECH = [row for row in LABELS if row["kind"] == "speech"]
SUPPORTING = {"secrecy_pressure", "third_party_instruction"}


@pytest.fixture(scope="module")
def desk(tmp_path_factory: pytest.TempPathFactory) -> FrontDesk:
    return build_frontdesk(Settings(data_dir=tmp_path_factory.mktemp("handle")), load_asr=True)


@pytest.fixture(scope="module")
def cases(desk: FrontDesk) -> dict[str, Case]:
    return {
        row["file"]: desk.handle_audio(AUDIO / row["file"], customer_id="demo-elderly-01")
        for row in SPEECH
    }


@pytest.mark.parametrize("row", SPEECH, ids=[r["file"] for r in SPEECH])
def test_every_case_has_the_contract_fields(row: dict, cases: dict[str, Case]) -> None:
    case = cases[row["file"]]
    out = case.to_json()
    for key in (
        "case_id", "created_at", "customer_id", "audio_seconds", "transcript", "text",
        "normalized_text", "dialect", "intent", "slots", "risk", "form", "summary",
        "timings_ms",
    ):  # fmt: skip
        assert key in out, key
    assert out["case_id"].startswith("c_")
    assert out["created_at"].endswith("+08:00")
    assert abs(out["audio_seconds"] - row["duration_s"]) < 0.1
    assert out["transcript"], "speech fixture produced no transcript"
    for seg in out["transcript"]:
        assert 0.0 <= seg["start"] < seg["end"] <= row["duration_s"] + 0.05
    # The VAD finds the speech inside the silence padding the fixture was made with.
    assert out["transcript"][0]["start"] <= row["speech_start_s"] + 0.3
    assert out["transcript"][-1]["end"] >= row["speech_end_s"] - 0.3
    assert set(out["timings_ms"]) >= {"decode", "vad", "asr", "understand", "total"}
    assert out["form"]["type"] == out["intent"]["code"]
    assert out["summary"].startswith("客户") and "风险" in out["summary"]


def test_intent_accuracy_over_fixtures(cases: dict[str, Case]) -> None:
    right = [r["file"] for r in SPEECH if cases[r["file"]].understanding.intent.code == r["intent"]]
    wrong = {
        r["file"]: cases[r["file"]].understanding.intent.code
        for r in SPEECH
        if r["file"] not in right
    }
    assert len(right) / len(SPEECH) >= 0.85, wrong


def test_amounts_over_fixtures(cases: dict[str, Case]) -> None:
    with_amount = [r for r in SPEECH if r["amount"] is not None]
    got = {
        r["file"]: cases[r["file"]].understanding.slots.as_dict().get("amount") for r in with_amount
    }
    right = [r for r in with_amount if got[r["file"]] == r["amount"]]
    assert len(right) / len(with_amount) >= 0.8, got


def test_fraud_recall_and_false_alarms(cases: dict[str, Case]) -> None:
    def fraud_codes(case: Case) -> set[str]:
        return {f.code for f in case.understanding.risk.flags if f.category == "fraud"}

    fraud = [r for r in SPEECH if r["fraud"]]
    legit = [r for r in SPEECH if not r["fraud"]]
    missed = [r["file"] for r in fraud if not fraud_codes(cases[r["file"]])]
    alarms = [r["file"] for r in legit if fraud_codes(cases[r["file"]]) - SUPPORTING]
    assert len(missed) <= 0.2 * len(fraud), missed
    assert len(alarms) <= 0.1 * len(legit), alarms


def test_safe_account_call_is_high_risk_with_the_customers_words(cases: dict[str, Case]) -> None:
    case = cases["fraud_safe_account.ogg"]
    assert case.understanding.risk.level == "high"
    flag = next(f for f in case.understanding.risk.flags if f.code == "safe_account")
    assert flag.evidence and flag.evidence in case.understanding.normalised.text
    assert flag.advice


def test_transfer_to_son_fills_form_from_profile(cases: dict[str, Case]) -> None:
    case = cases["transfer_50k.wav"]
    assert case.understanding.intent.code == "transfer"
    assert case.form.fields["amount"].value == 50000
    assert case.form.fields["amount"].source == "speech"
    # demo-elderly-01's profile knows the son's account: the teller confirms it.
    assert case.form.fields["payee_account"].source == "customer_profile"
    assert case.form.missing == ()
    assert "5万元" in case.summary


def test_shanghainese_recording_is_normalised(cases: dict[str, Case]) -> None:
    case = cases["wu_transfer.wav"]
    assert case.understanding.normalised.dialect == "shanghainese"
    assert case.understanding.intent.code == "transfer"


@pytest.mark.parametrize("name", ["near_silence.wav", "noise_only.wav"])
def test_silence_or_noise_is_a_clear_error_or_a_repeat(desk: FrontDesk, name: str) -> None:
    """No speech must never become a confident intent."""
    try:
        case = desk.handle_audio(AUDIO / name)
    except InputError as exc:
        assert "no speech" in str(exc)
    else:
        assert case.needs_repeat
        assert case.understanding.intent.confidence < 0.5


def test_bad_bytes_are_a_clear_error(desk: FrontDesk, tmp_path: Path) -> None:
    bad = tmp_path / "call.wav"
    bad.write_bytes(b"RIFF\x00\x00garbage" * 10)
    with pytest.raises(InputError):
        desk.handle_audio(bad)


def test_unclear_speech_is_understood_only_tentatively(desk: FrontDesk) -> None:
    """Words ASR judged unclear give a capped intent and keep their fraud cues."""
    from voice_agent.case import TranscriptSegment
    from voice_agent.casebuilder import TENTATIVE_CONFIDENCE

    text = "公安局的人让我把钱转到安全账户"
    seg = TranscriptSegment(0.3, 3.0, text, text, unclear=True)
    case = desk.case_for([seg], "demo-elderly-01", None, 3.5)
    assert case.needs_repeat
    assert case.understanding.intent.confidence <= TENTATIVE_CONFIDENCE
    assert case.understanding.risk.level == "high"
    assert case.summary.startswith("客户语音不清")
