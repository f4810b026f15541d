"""Call tokens: who a live call is for, decided by the bank, never by the caller.

The bank's back end (with a service key) or ``frontdesk call-token`` mints
a short-lived token bound to one customer and scenario; the customer page
hands it over in the call's first frame. A token is
``base64url(payload) "." base64url(HMAC-SHA256(secret, payload))``; the
payload holds the customer id, scenario, expiry and a random id. The secret
comes from settings (``server.call_token_secret``, which servers sharing a
database must share) or a random one kept in ``data_dir/call-token.key``.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import hmac
import json
import os
import secrets
import time
from dataclasses import dataclass
from pathlib import Path

from server.errors import AuthError, InvalidChoiceError
from voice_agent.settings import Settings

SECRET_FILE = "call-token.key"
MAX_CUSTOMER_ID = 128
#: contract.md's scenarios; the catalog may declare more (``Catalog.scenarios``).
CONTRACT_SCENARIOS = ("password_locked", "transfer_over_limit", "limit_adjustment")


def scenario_codes(catalog: object) -> tuple[str, ...]:
    """The scenario codes a token or upload may name: the catalog's, else the contract's."""
    declared = getattr(catalog, "scenarios", None)
    return tuple(declared) if declared else CONTRACT_SCENARIOS


@dataclass(frozen=True)
class CallGrant:
    """What a valid token allows: one call for this customer, for this reason."""

    customer_id: str
    scenario: str | None
    expires_at: float


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def load_secret(settings: Settings) -> bytes:
    """The signing secret: from settings, else the data dir's key file (made once, mode 600)."""
    if settings.server.call_token_secret:
        return settings.server.call_token_secret.encode()
    path: Path = settings.data_dir / SECRET_FILE
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        fd: int | None
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            fd = None  # another server process made it first: every process uses that one
        if fd is not None:
            with os.fdopen(fd, "w", encoding="ascii") as f:
                f.write(secrets.token_hex(32))
    return path.read_text(encoding="ascii").strip().encode()


def mint(
    secret: bytes,
    customer_id: str,
    scenario: str | None,
    ttl_s: int,
    valid_scenarios: tuple[str, ...],
    *,
    max_ttl_s: int = 3600,
) -> tuple[str, CallGrant]:
    """A signed token for one call of ``customer_id``.

    Raises:
        InvalidChoiceError: empty or overlong customer id, unknown scenario
            (the message lists the valid ones), or a ttl out of range.
    """
    customer_id = customer_id.strip()
    if not customer_id or len(customer_id) > MAX_CUSTOMER_ID:
        raise InvalidChoiceError(f"customer_id must be 1–{MAX_CUSTOMER_ID} characters")
    if scenario is not None and scenario not in valid_scenarios:
        raise InvalidChoiceError(
            f"unknown scenario {scenario!r}; valid scenarios: {', '.join(valid_scenarios)}"
        )
    if not 1 <= ttl_s <= max_ttl_s:
        raise InvalidChoiceError(f"ttl_s must be between 1 and {max_ttl_s} seconds")
    expires = int(time.time() + ttl_s)
    payload = {"sub": customer_id, "scn": scenario, "exp": expires, "jti": secrets.token_urlsafe(9)}
    body = _b64(json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode())
    signature = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    return f"{body}.{signature}", CallGrant(customer_id, scenario, float(expires))


def verify(secret: bytes, token: object) -> CallGrant:
    """The grant of a valid, unexpired token.

    Raises:
        AuthError: not a string, malformed, wrongly signed or expired.
    """
    if not isinstance(token, str) or "." not in token or len(token) > 1024:
        raise AuthError("a valid call token is required")
    body, _, signature = token.partition(".")
    expected = _b64(hmac.new(secret, body.encode(), hashlib.sha256).digest())
    if not hmac.compare_digest(signature.encode(), expected.encode()):
        raise AuthError("a valid call token is required")
    try:
        payload = json.loads(_unb64(body))
        grant = CallGrant(str(payload["sub"]), payload.get("scn"), float(payload["exp"]))
    except (ValueError, KeyError, TypeError, binascii.Error) as exc:
        raise AuthError("a valid call token is required") from exc
    if grant.expires_at < time.time():
        raise AuthError("the call token has expired")
    return grant


def expires_iso(grant: CallGrant) -> str:
    """The grant's expiry as ISO 8601 UTC."""
    return dt.datetime.fromtimestamp(grant.expires_at, dt.UTC).isoformat(timespec="seconds")
