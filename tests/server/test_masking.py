"""Account numbers never reach log lines in full."""

from __future__ import annotations

import logging

import pytest

from server.masking import AccountMaskingFilter, install_log_masking, mask_account, mask_accounts_in


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("卡号6222021234567890123转账", "卡号**** 0123转账"),
        ("6222021234567890 and 62220212345678901234", "**** 7890 and 62220212345678901234"),
        ("amount 50000, phone 13812345678", "amount 50000, phone 13812345678"),
    ],
)
def test_only_16_to_19_digit_runs_are_masked(text: str, masked: str) -> None:
    assert mask_accounts_in(text) == masked


def test_short_values_are_masked_completely() -> None:
    assert mask_account("1234") == "****"
    assert mask_account("6222 0212 3456 7890") == "**** 7890"


def test_log_lines_are_masked_in_message_and_args(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO)
    install_log_masking()
    logging.getLogger("server.test").info("case for %s: %s", "6222021234567890123", 50000)
    # uvicorn's access formatter unpacks args: they must stay a tuple.
    record = caplog.records[-1]
    assert record.args == ("**** 0123", 50000)
    assert "6222021234567890123" not in caplog.text
    assert "**** 0123" in caplog.text
    for handler in logging.getLogger().handlers:
        handler.filters = [f for f in handler.filters if not isinstance(f, AccountMaskingFilter)]
