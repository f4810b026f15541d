"""The installed ``frontdesk`` command, run as a real subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
FRONTDESK = Path(sys.executable).parent / "frontdesk"
UNDERSTANDING_KEYS = {"text", "normalized_text", "dialect", "intent", "slots", "risk"}
CASE_KEYS = UNDERSTANDING_KEYS | {
    "case_id", "created_at", "customer_id", "audio_seconds", "transcript", "form",
    "summary", "timings_ms",
}  # fmt: skip


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """One data dir for the module, so the classifier is trained once."""
    data = tmp_path_factory.mktemp("cli-data")
    return {**os.environ, "FRONTDESK_DATA_DIR": str(data)}


def run(
    env: dict[str, str], *args: str, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(FRONTDESK), *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=env,
        cwd=ROOT,
        timeout=600,
    )


def test_understand_text_prints_contract_json_with_unescaped_chinese(env: dict[str, str]) -> None:
    proc = run(env, "understand", "阿拉要汇五万块钞票拨阿拉儿子")
    assert proc.returncode == 0, proc.stderr
    assert "阿拉" in proc.stdout  # not \\u-escaped
    out = json.loads(proc.stdout)
    assert out.keys() >= UNDERSTANDING_KEYS
    assert out["dialect"]["code"] == "shanghainese"
    assert "阿拉" in out["dialect"]["markers"]
    assert out["intent"]["code"] == "transfer"
    assert out["slots"]["amount"] == 50000
    assert out["slots"]["payee_relation"] == "儿子"
    assert any(f["code"] == "large_amount" for f in out["risk"]["flags"])


def test_understand_jsonl_keeps_order_and_reports_bad_lines(env: dict[str, str]) -> None:
    lines = [
        "我的银行卡丢了",
        json.dumps(
            {"text": "我要查一下余额", "customer_id": "demo-elderly-01"}, ensure_ascii=False
        ),
        '{"text": "broken',
        json.dumps({"no_text": 1}),
        "公安局的人让我把钱转到安全账户",
    ]
    proc = run(env, "understand", "--jsonl", stdin="\n".join(lines) + "\n")
    assert proc.returncode == 2
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert len(out) == 5
    assert out[0]["intent"]["code"] == "card_loss"
    assert out[1]["intent"]["code"] == "balance_inquiry"
    assert "malformed JSON" in out[2]["error"]
    assert "text" in out[3]["error"]
    assert out[4]["risk"]["level"] == "high"
    assert "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 2


@pytest.mark.parametrize(
    "args",
    [("understand",), ("understand", "x", "--jsonl"), ("handle",), ("nonsense",)],
)
def test_bad_usage_exits_2_with_one_line(env: dict[str, str], args: tuple[str, ...]) -> None:
    proc = run(env, *args)
    assert proc.returncode == 2
    assert len(proc.stderr.strip().splitlines()) == 1
    assert "Traceback" not in proc.stderr


def test_help_lists_the_contract_commands(env: dict[str, str]) -> None:
    proc = run(env, "--help")
    assert proc.returncode == 0
    for command in ("understand", "handle", "serve", "intents"):
        assert command in proc.stdout


def test_handle_prints_one_case_per_file_and_goes_on_after_a_bad_one(
    env: dict[str, str], tmp_path: Path
) -> None:
    audio = ROOT / "tests" / "data" / "audio"
    broken = tmp_path / "broken.mp3"
    broken.write_bytes(b"ID3 this is not really an mp3")
    files = [audio / "card_loss.wav", broken, tmp_path / "missing.wav", audio / "pension.ogg"]
    proc = run(env, "handle", *map(str, files), "--customer-id", "demo-elderly-01")
    assert proc.returncode == 2
    assert "Traceback" not in proc.stderr
    out = [json.loads(line) for line in proc.stdout.splitlines()]
    assert [o["file"] for o in out] == [str(f) for f in files]
    good = [out[0], out[3]]
    for case in good:
        assert case.keys() >= CASE_KEYS
        assert "error" not in case
        assert case["customer_id"] == "demo-elderly-01"
    assert out[0]["intent"]["code"] == "card_loss"
    assert out[3]["intent"]["code"] == "pension_inquiry"
    for bad in (out[1], out[2]):
        assert bad.keys() >= CASE_KEYS  # Case-shaped, so consumers can zip by position
        assert bad["error"]
    assert "missing.wav" in out[2]["error"]
    assert len(proc.stderr.strip().splitlines()) == 2
