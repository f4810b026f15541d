"""Hide account numbers wherever the server shows or logs them.

The masking rule itself is :func:`voice_agent.wording.mask_account` (one
rule for the read-back, the queue, the caller's view and the logs).

A 16–19 digit run is a card or account number (taxonomy.md: payee_account).
Tellers need the full number only on a case's detail page; queue lists and
log files keep the last four digits, enough to tell accounts apart.
"""

from __future__ import annotations

import logging
import re
from typing import Any

from voice_agent.wording import mask_account

ACCOUNT_RE = re.compile(r"(?<!\d)\d{16,19}(?!\d)")


def mask_accounts_in(text: str) -> str:
    """Replace every 16–19 digit run in ``text`` by its masked form."""
    return ACCOUNT_RE.sub(lambda m: mask_account(m.group(0)), text)


def _mask_arg(arg: Any) -> Any:
    return mask_accounts_in(arg) if isinstance(arg, str) else arg


class AccountMaskingFilter(logging.Filter):
    """A logging filter that masks account numbers in the message and its args.

    Arguments are masked one by one rather than merged into the message,
    because some formatters (uvicorn's access log) unpack ``record.args``.
    """

    def filter(self, record: logging.LogRecord) -> bool:
        """Mask ``record`` in place; never drops a record."""
        if isinstance(record.msg, str):
            record.msg = mask_accounts_in(record.msg)
        if isinstance(record.args, tuple):
            record.args = tuple(_mask_arg(a) for a in record.args)
        elif isinstance(record.args, dict):
            record.args = {k: _mask_arg(v) for k, v in record.args.items()}
        return True


_LOGGERS = ("", "uvicorn", "uvicorn.error", "uvicorn.access", "server")


def install_log_masking() -> None:
    """Attach the masking filter to every handler of the server's loggers.

    Filters on a logger do not see records propagated from child loggers;
    filters on handlers see every record they write, so handlers it is.
    Installing twice is harmless.
    """
    for name in _LOGGERS:
        for handler in logging.getLogger(name).handlers:
            if not any(isinstance(f, AccountMaskingFilter) for f in handler.filters):
                handler.addFilter(AccountMaskingFilter())
