"""The admin's staff list over a real server (``GET /api/admin/staff``), SQLite and PostgreSQL.

It feeds the console's 员工 tab: every account with role, languages, last
login and activity, the languages the server supports, and the latest
audited account changes. Only admins may read it; the read is audited, and
a bad languages change is refused with the valid ones named and stores
nothing.
"""

from __future__ import annotations

import httpx

from server.auth import LANGUAGES, create_user
from server.deps import SESSION_COOKIE

from .conftest import Live


def _staff(live: Live, headers: dict[str, str]) -> httpx.Response:
    return httpx.get(f"{live.url}/api/admin/staff", headers=headers)


def test_only_admins_read_the_staff_list(live: Live) -> None:
    admin = live.staff("root", "admin")
    others = {role: live.staff(f"x-{role}", role) for role in ("teller", "supervisor", "product")}
    assert _staff(live, {}).status_code == 401
    stale = httpx.get(f"{live.url}/api/admin/staff", cookies={SESSION_COOKIE: "no-such-token"})
    assert stale.status_code == 401
    for role, headers in others.items():
        r = _staff(live, headers)
        assert r.status_code == 403, (role, r.text)
        assert "admin" in r.json()["error"]
    r = _staff(live, admin)
    assert r.status_code == 200, r.text
    # Only the admin's read is audited; the refused ones are not reads.
    assert [a for a in live.audit() if a[1] == "staff.listed"] == [("root", "staff.listed")]


def test_the_list_says_role_languages_last_login_and_who_is_online(live: Live) -> None:
    admin = live.staff("root", "admin")
    li = live.staff("li", "teller")
    with live.app.state.sessions() as session:
        create_user(session, "wang", "teller", "never logged in x", ["mandarin", "shanghainese"])
    data = _staff(live, admin).json()
    assert [lang["code"] for lang in data["languages"]] == list(LANGUAGES)
    names = {lang["code"]: lang["name"] for lang in data["languages"]}
    assert names["shanghainese"] == "上海话"
    assert all(name != code for code, name in names.items())  # every language has a name
    staff = {member["username"]: member for member in data["staff"]}
    assert set(staff) == {"root", "li", "wang"}
    assert staff["li"]["role"] == "teller" and staff["li"]["languages"] == ["mandarin"]
    li_login = staff["li"]["last_login_at"]
    assert li_login and staff["li"]["online"] is True
    assert staff["root"]["online"] is True  # the admin asking is logged in
    assert staff["wang"]["languages"] == ["mandarin", "shanghainese"]
    assert staff["wang"]["last_login_at"] is None
    assert staff["wang"]["last_seen_at"] is None and staff["wang"]["online"] is False
    # li logs out: still a last login, no longer online.
    assert httpx.post(f"{live.url}/api/logout", headers=li).status_code == 200
    staff = {member["username"]: member for member in _staff(live, admin).json()["staff"]}
    assert staff["li"]["last_login_at"] == li_login
    assert staff["li"]["online"] is False and staff["li"]["last_seen_at"] is None


def test_a_languages_change_shows_in_the_list_and_its_changes(live: Live) -> None:
    admin = live.staff("root", "admin")
    live.staff("li", "teller")
    r = httpx.patch(
        f"{live.url}/api/admin/users/li",
        json={"languages": ["mandarin", "shanghainese"]},
        headers=admin,
    )
    assert r.status_code == 200, r.text
    data = _staff(live, admin).json()
    staff = {member["username"]: member for member in data["staff"]}
    assert staff["li"]["languages"] == ["mandarin", "shanghainese"]
    change = data["changes"][0]
    assert change["actor"] == "root" and change["action"] == "user.languages"
    assert change["before"] == {"username": "li", "languages": ["mandarin"]}
    assert change["after"] == {"username": "li", "languages": ["mandarin", "shanghainese"]}


def test_a_bad_languages_change_names_the_valid_ones_and_stores_nothing(live: Live) -> None:
    admin = live.staff("root", "admin")
    live.staff("li", "teller")
    bodies: list[dict[str, list[str]]] = [{"languages": ["klingon"]}, {"languages": []}]
    for body in bodies:
        r = httpx.patch(f"{live.url}/api/admin/users/li", json=body, headers=admin)
        assert r.status_code == 422, r.text
        assert "shanghainese" in r.json()["error"]
    missing = httpx.patch(
        f"{live.url}/api/admin/users/nobody", json={"languages": ["mandarin"]}, headers=admin
    )
    assert missing.status_code == 404
    data = _staff(live, admin).json()
    assert {m["username"]: m["languages"] for m in data["staff"]}["li"] == ["mandarin"]
    assert data["changes"] == []
    assert not [a for a in live.audit() if a[1] == "user.languages"]
