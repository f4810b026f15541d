"""The case repository on a real database: queue order, masking, corrections,
decisions and their audit entries (SQLite and PostgreSQL)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from intents.taxonomy import INTENT_NAMES
from server.admin import add_user, load_accepted_corrections
from server.auth import authenticate
from server.db import make_engine, make_sessionmaker
from server.errors import ConflictError, InvalidChoiceError, NotFoundError
from server.repository import (
    accepted_corrections,
    audit_trail,
    case_detail,
    correct_case,
    decide_case,
    list_corrections,
    list_queue,
    mark_disconnected,
    queue_version,
    review_correction,
    save_case,
)
from tests.server.builders import ACCOUNT, make_case
from voice_agent.settings import ServerSettings, Settings

REQUIRED = {
    "transfer": (("amount",), ("payee_account", "payee_name")),
    "balance_inquiry": (),
    "time_deposit": (("amount",), ("term_months",)),
}


def test_queue_puts_risky_first_then_longest_waiting(db: Session) -> None:
    cases = [
        make_case("c_low_new", risk_level="low", risk_score=0.2, minutes_ago=1),
        make_case("c_none_old", risk_level="none", risk_score=0.0, minutes_ago=30),
        make_case("c_high", risk_level="high", risk_score=0.9, minutes_ago=2),
        make_case("c_low_old", risk_level="low", risk_score=0.2, minutes_ago=10),
        make_case("c_medium", risk_level="medium", risk_score=0.5, minutes_ago=3),
        make_case("c_high_more", risk_level="high", risk_score=0.95, minutes_ago=1),
    ]
    for case in cases:
        save_case(db, case)
    order = [item["case_id"] for item in list_queue(db, INTENT_NAMES)]
    assert order == ["c_high_more", "c_high", "c_medium", "c_low_old", "c_low_new", "c_none_old"]


def test_queue_item_masks_account_and_names_intent(db: Session) -> None:
    save_case(db, make_case("c_acc", risk_level="medium", risk_score=0.5, account=ACCOUNT))
    [item] = list_queue(db, INTENT_NAMES)
    assert item["payee_account"] == f"**** {ACCOUNT[-4:]}"
    assert ACCOUNT not in str(item)
    assert item["intent_name"] == "转账汇款"
    assert item["amount"] == 50000
    assert item["flags"] == ["large_amount"]
    assert item["waiting_seconds"] >= 60
    # The detail page keeps the full number for the teller.
    detail = case_detail(db, "c_acc")
    assert detail["case"]["form"]["fields"]["payee_account"]["value"] == ACCOUNT


def test_closed_cases_leave_the_open_queue(db: Session) -> None:
    save_case(db, make_case("c_a"))
    save_case(db, make_case("c_b"))
    decide_case(db, "c_a", actor="teller", decision="accept", reason=None)
    assert [c["case_id"] for c in list_queue(db, INTENT_NAMES)] == ["c_b"]
    everything = list_queue(db, INTENT_NAMES, include_closed=True)
    assert {c["case_id"]: c["status"] for c in everything} == {"c_a": "accepted", "c_b": "open"}


def test_correction_updates_form_audits_and_queues_a_pending_correction(db: Session) -> None:
    save_case(db, make_case("c_fix", amount=50000))
    detail = correct_case(
        db,
        "c_fix",
        actor="teller",
        required_by_intent=REQUIRED,
        fields={"amount": "5000", "payee_account": ACCOUNT},
        reason="客户说的是五千",
    )
    fields = detail["case"]["form"]["fields"]
    assert fields["amount"] == {
        "value": 5000,
        "confidence": 1.0,
        "source": "teller",
        "evidence": "",
    }
    assert fields["payee_account"]["value"] == ACCOUNT
    assert detail["case"]["form"]["missing"] == []
    entry = detail["audit"][-1]
    assert entry["action"] == "case.corrected"
    assert entry["before"]["fields"]["amount"]["value"] == 50000
    assert entry["after"]["fields"]["amount"]["value"] == 5000
    assert entry["reason"] == "客户说的是五千"
    [pending] = list_corrections(db, "pending")
    assert pending["text"] == "阿拉要汇五万块钞票拨阿拉儿子"
    assert pending["normalized_text"] == "我们要汇五万块钱给我们儿子"
    assert pending["slots"] == {"amount": 5000, "payee_account": ACCOUNT}


def test_intent_correction_recomputes_missing_and_second_edit_reuses_correction(
    db: Session,
) -> None:
    save_case(db, make_case("c_int", intent="transfer"))
    detail = correct_case(
        db, "c_int", actor="teller", required_by_intent=REQUIRED, intent="time_deposit"
    )
    assert detail["case"]["intent"]["code"] == "time_deposit"
    assert detail["case"]["intent"]["source"] == "teller"
    assert detail["case"]["form"]["type"] == "time_deposit"
    assert detail["case"]["form"]["missing"] == ["term_months"]
    correct_case(
        db, "c_int", actor="teller", required_by_intent=REQUIRED, fields={"term_months": 12}
    )
    [pending] = list_corrections(db, "pending")
    assert pending["intent"] == "time_deposit"
    assert pending["slots"] == {"amount": 50000, "term_months": 12}
    assert list_queue(db, INTENT_NAMES)[0]["intent"] == "time_deposit"


@pytest.mark.parametrize(
    ("kwargs", "names"),
    [
        ({"intent": "wire_money"}, ["transfer", "balance_inquiry", "time_deposit"]),
        ({"fields": {"sum": 5}}, ["amount", "payee_account", "medium"]),
        ({"fields": {"medium": "phone"}}, ["card", "passbook", "mobile_banking"]),
        ({"fields": {"payee_account": "1234"}}, ["16–19"]),
        ({"fields": {"amount": "five"}}, ["whole number"]),
        ({}, ["nothing to change"]),
    ],
)
def test_invalid_corrections_are_refused_with_the_valid_choices(
    db: Session, kwargs: dict[str, object], names: list[str]
) -> None:
    save_case(db, make_case("c_bad"))
    with pytest.raises(InvalidChoiceError) as info:
        correct_case(db, "c_bad", actor="teller", required_by_intent=REQUIRED, **kwargs)  # type: ignore[arg-type]
    for name in names:
        assert name in str(info.value)
    # Nothing changed and nothing was audited.
    assert [e["action"] for e in audit_trail(db, "c_bad")] == ["case.created"]
    assert list_corrections(db, "pending") == []


def test_decisions_need_reasons_and_are_final(db: Session) -> None:
    save_case(db, make_case("c_dec"))
    with pytest.raises(InvalidChoiceError, match="reason is required"):
        decide_case(db, "c_dec", actor="teller", decision="reject", reason="  ")
    with pytest.raises(InvalidChoiceError, match="accept, reject, escalate"):
        decide_case(db, "c_dec", actor="teller", decision="approve", reason="x")
    detail = decide_case(db, "c_dec", actor="teller", decision="escalate", reason="疑似诈骗")
    assert detail["status"] == "escalated"
    assert detail["decision"]["reason"] == "疑似诈骗"
    detail = decide_case(
        db, "c_dec", actor="supervisor", decision="reject", reason="确认诈骗", role="supervisor"
    )
    assert detail["case"]["status"] == "rejected"
    with pytest.raises(ConflictError):
        decide_case(db, "c_dec", actor="teller", decision="accept", reason=None)
    actions = [(e["action"], e["before"], e["after"]) for e in audit_trail(db, "c_dec")]
    assert actions[1:] == [
        ("case.escalate", {"status": "open"}, {"status": "escalated"}),
        ("case.reject", {"status": "escalated"}, {"status": "rejected"}),
    ]


def test_unknown_case_is_not_found(db: Session) -> None:
    with pytest.raises(NotFoundError, match="c_missing"):
        case_detail(db, "c_missing")


def test_reviewed_corrections_feed_training(db: Session) -> None:
    save_case(db, make_case("c_r1"))
    save_case(db, make_case("c_r2", text="我要查余额", normalized="我要查余额"))
    correct_case(db, "c_r1", actor="t", required_by_intent=REQUIRED, fields={"amount": 5000})
    correct_case(db, "c_r2", actor="t", required_by_intent=REQUIRED, intent="balance_inquiry")
    first, second = list_corrections(db, "pending")
    review_correction(db, first["id"], actor="product", decision="accept")
    review_correction(db, second["id"], actor="product", decision="reject")
    with pytest.raises(ConflictError):
        review_correction(db, first["id"], actor="product", decision="reject")
    assert accepted_corrections(db) == [
        {
            "text": "阿拉要汇五万块钞票拨阿拉儿子",
            "normalized_text": "我们要汇五万块钱给我们儿子",
            "intent": "transfer",
            "slots": {"amount": 5000},
        }
    ]
    assert [e["action"] for e in audit_trail(db, "c_r2")][-1] == "correction.reject"


def test_queue_version_changes_on_every_change(db: Session) -> None:
    v0 = queue_version(db)
    save_case(db, make_case("c_v"))
    v1 = queue_version(db)
    mark_disconnected(db, "c_v")
    v2 = queue_version(db)
    assert len({v0, v1, v2}) == 3
    assert list_queue(db, INTENT_NAMES)[0]["disconnected"] is True


def test_admin_hooks_add_users_and_read_accepted_corrections(db_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, server=ServerSettings(database_url=db_url))
    password = add_user(settings, "zhang", "teller")
    with pytest.raises(InvalidChoiceError, match="teller, supervisor, product, admin"):
        add_user(settings, "li", "manager", "long enough pass")
    with pytest.raises(InvalidChoiceError, match="already taken"):
        add_user(settings, "zhang", "admin", "long enough pass")
    engine = make_engine(db_url)
    with make_sessionmaker(engine)() as session:
        assert authenticate(session, "zhang", password).role == "teller"
        save_case(session, make_case("c_adm"))
        correct_case(
            session, "c_adm", actor="zhang", required_by_intent=REQUIRED, intent="transfer"
        )
        [pending] = list_corrections(session, "pending")
        review_correction(session, pending["id"], actor="p", decision="accept")
    engine.dispose()
    assert [c["intent"] for c in load_accepted_corrections(settings)] == ["transfer"]
