"""The staff side over real HTTP: login throttling and audit, passwords, sessions,
and the maker–checker rules on cases (SQLite and PostgreSQL)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from server.auth import create_user
from server.errors import InvalidChoiceError
from server.repository import save_case
from tests.server.builders import ACCOUNT, make_case
from tests.server.conftest import PASSWORD, Live, StartLive, session_token

# ---- login -----------------------------------------------------------------------------


def _login(live: Live, username: str, password: str) -> httpx.Response:
    return httpx.post(f"{live.url}/api/login", json={"username": username, "password": password})


def test_five_failures_lock_the_account_for_the_window_right_password_or_not(
    live: Live,
) -> None:
    live.staff("wang", "teller")
    live.staff("li", "teller")
    for _ in range(5):
        assert _login(live, "wang", "not the password!").status_code == 401
    r = _login(live, "wang", PASSWORD)
    assert r.status_code == 429
    assert 0 < int(r.headers["retry-after"]) <= 15 * 60
    assert "set-cookie" not in r.headers
    # Another account is not affected.
    assert _login(live, "li", PASSWORD).status_code == 200
    actions = [a for actor, a in live.audit() if actor == "wang"]
    assert actions.count("auth.login_failed") == 5
    assert actions[-1] == "auth.login_throttled"


def test_unknown_accounts_lock_the_same_way(live: Live) -> None:
    codes = [_login(live, "nobody", f"guess number {i}").status_code for i in range(6)]
    assert codes == [401] * 5 + [429]


def test_one_address_cannot_flood_the_login(start_live: StartLive) -> None:
    live = start_live(login_per_ip_per_minute=3)
    codes = [_login(live, f"user{i}", "whatever password").status_code for i in range(4)]
    assert codes == [401, 401, 401, 429]


def test_logins_logouts_and_failures_are_audited(live: Live) -> None:
    headers = live.staff("wang", "teller")
    assert _login(live, "wang", "wrong password!!").status_code == 401
    assert httpx.post(f"{live.url}/api/logout", headers=headers).status_code == 200
    assert httpx.get(f"{live.url}/api/me", headers=headers).status_code == 401
    assert [a for actor, a in live.audit() if actor == "wang"] == [
        "auth.login",
        "auth.login_failed",
        "auth.logout",
    ]


def test_login_sets_a_secure_httponly_cookie_and_keeps_the_token_out_of_the_body(
    live: Live,
) -> None:
    live.staff("wang", "teller")
    r = _login(live, "wang", PASSWORD)
    cookie = r.headers["set-cookie"].lower()
    assert "secure" in cookie and "httponly" in cookie and "samesite=strict" in cookie
    assert session_token(r) not in r.text
    assert "token" not in r.json()


# ---- passwords and sessions -----------------------------------------------------------


def test_passwords_have_at_least_12_characters(live: Live) -> None:
    with live.app.state.sessions() as session, pytest.raises(InvalidChoiceError, match="12"):
        create_user(session, "short", "teller", "elevenchars")


def test_users_add_reads_the_password_from_stdin(live: Live) -> None:
    """The real ``frontdesk`` process, the password piped into its standard input."""
    frontdesk = str(Path(sys.executable).parent / "frontdesk")
    env = {
        **os.environ,
        "FRONTDESK_DATA_DIR": str(live.settings.data_dir),
        "FRONTDESK_SERVER__DATABASE_URL": live.settings.database_url,
    }
    secret = "a long stdin password"
    argv = ["users", "add", "zhou", "teller", "--languages", "mandarin,shanghainese"]
    done = subprocess.run(
        [frontdesk, *argv, "--password-stdin"],
        input=secret + "\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert secret not in done.stdout + done.stderr
    r = _login(live, "zhou", secret)
    assert r.json()["user"]["languages"] == ["mandarin", "shanghainese"]
    short = subprocess.run(
        [frontdesk, "users", "add", "wu", "teller", "--password-stdin"],
        input="too short\n",
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert short.returncode == 2
    assert "12" in short.stderr


def test_password_change_ends_every_session(live: Live) -> None:
    headers = live.staff("wang", "teller")
    url = f"{live.url}/api/password"
    wrong = {"old_password": "not my password", "new_password": "a new long password"}
    assert httpx.post(url, json=wrong, headers=headers).status_code == 401
    short = {"old_password": PASSWORD, "new_password": "short"}
    assert httpx.post(url, json=short, headers=headers).status_code == 422
    good = {"old_password": PASSWORD, "new_password": "a new long password"}
    assert httpx.post(url, json=good, headers=headers).status_code == 200
    assert httpx.get(f"{live.url}/api/me", headers=headers).status_code == 401
    assert _login(live, "wang", PASSWORD).status_code == 401
    assert _login(live, "wang", "a new long password").status_code == 200


def test_an_idle_session_ends(start_live: StartLive) -> None:
    live = start_live(session_idle_minutes=1 / 60)  # one second
    headers = live.staff("wang", "teller")
    assert httpx.get(f"{live.url}/api/me", headers=headers).status_code == 200
    time.sleep(2.5)
    assert httpx.get(f"{live.url}/api/me", headers=headers).status_code == 401


def test_an_admin_revokes_every_session_of_a_user(live: Live) -> None:
    laptop = live.staff("wang", "teller")
    phone = {"Authorization": f"Bearer {session_token(_login(live, 'wang', PASSWORD))}"}
    admin = live.staff("root", "admin")
    url = f"{live.url}/api/users/wang/sessions/revoke"
    assert httpx.post(url, headers=laptop).status_code == 403
    r = httpx.post(url, headers=admin)
    assert r.json() == {"revoked": 2}
    for headers in (laptop, phone):
        assert httpx.get(f"{live.url}/api/me", headers=headers).status_code == 401
    assert httpx.get(f"{live.url}/api/me", headers=admin).status_code == 200


# ---- maker–checker -----------------------------------------------------------------------


def _store(live: Live, *cases: object) -> None:
    with live.app.state.sessions() as session:
        for case in cases:
            save_case(session, case)  # type: ignore[arg-type]


def _decide(
    live: Live, case_id: str, headers: dict[str, str], decision: str, reason: str = ""
) -> httpx.Response:
    body = {"decision": decision, "reason": reason or None}
    return httpx.post(f"{live.url}/api/cases/{case_id}/decision", json=body, headers=headers)


def test_decided_cases_are_frozen(live: Live) -> None:
    teller = live.staff("wang", "teller")
    _store(live, make_case("c_done"))
    assert _decide(live, "c_done", teller, "accept").status_code == 200
    r = httpx.patch(f"{live.url}/api/cases/c_done", json={"fields": {"amount": 1}}, headers=teller)
    assert r.status_code == 409
    assert "decided cases cannot be changed" in r.json()["error"]
    assert _decide(live, "c_done", teller, "reject", "改主意").status_code == 409


def test_escalations_are_decided_by_another_supervisor(live: Live) -> None:
    teller = live.staff("wang", "teller")
    sup_a = live.staff("chen", "supervisor")
    sup_b = live.staff("zhao", "supervisor")
    _store(live, make_case("c_esc", risk_level="medium", risk_score=0.5))
    _store(live, make_case("c_esc2", risk_level="medium", risk_score=0.5))
    assert _decide(live, "c_esc", teller, "escalate", "拿不准").status_code == 200
    r = _decide(live, "c_esc", teller, "accept", "我自己批")
    assert r.status_code == 403
    assert "supervisor" in r.json()["error"]
    assert _decide(live, "c_esc", sup_b, "accept", "已核实").status_code == 200
    # A supervisor who escalated cannot decide their own escalation either.
    assert _decide(live, "c_esc2", sup_a, "escalate", "请复核").status_code == 200
    assert _decide(live, "c_esc2", sup_a, "accept", "自己批").status_code == 403
    assert _decide(live, "c_esc2", sup_b, "reject", "诈骗").status_code == 200


def test_accepting_a_high_risk_case_needs_a_reason(live: Live) -> None:
    teller = live.staff("wang", "teller")
    _store(live, make_case("c_high", risk_level="high", risk_score=0.9))
    r = _decide(live, "c_high", teller, "accept")
    assert r.status_code == 422
    assert "high-risk" in r.json()["error"]
    assert _decide(live, "c_high", teller, "accept", "已电话核实本人").status_code == 200


def test_a_teller_who_changed_the_payee_of_a_high_risk_case_cannot_accept_it(
    live: Live,
) -> None:
    maker = live.staff("wang", "teller")
    checker = live.staff("li", "teller")
    _store(live, make_case("c_pay", risk_level="high", risk_score=0.9, account=ACCOUNT))
    r = httpx.patch(
        f"{live.url}/api/cases/c_pay",
        json={"fields": {"payee_account": "6222029999999999999"}, "reason": "客户改口"},
        headers=maker,
    )
    assert r.status_code == 200, r.text
    r = _decide(live, "c_pay", maker, "accept", "核实过了")
    assert r.status_code == 403
    assert "payee_account" in r.json()["error"]
    assert _decide(live, "c_pay", checker, "accept", "二次核实").status_code == 200


def test_product_staff_see_corrections_masked_and_opening_a_case_is_audited(
    live: Live,
) -> None:
    teller = live.staff("wang", "teller")
    product = live.staff("pm", "product")
    said = f"转到{ACCOUNT}这个账户"
    _store(live, make_case("c_m", account=ACCOUNT, text=said, normalized=said))
    r = httpx.patch(
        f"{live.url}/api/cases/c_m", json={"fields": {"payee_relation": "女儿"}}, headers=teller
    )
    assert r.status_code == 200
    r = httpx.get(f"{live.url}/api/corrections", headers=product)
    [c] = r.json()["corrections"]
    assert ACCOUNT not in r.text
    assert c["slots"]["payee_account"] == "**** 0123"
    assert "**** 0123" in c["text"]
    # The teller's detail is unmasked, and their look at it is in the audit log.
    detail = httpx.get(f"{live.url}/api/cases/c_m", headers=teller).json()
    assert detail["case"]["form"]["fields"]["payee_account"]["value"] == ACCOUNT
    assert ("wang", "case.opened") in live.audit()
