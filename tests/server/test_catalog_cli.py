"""``frontdesk intents export|import|check`` on the database catalog (SQLite and PostgreSQL).

Export writes the same YAML files as the shipped catalog; export → load
gives an equal catalog; an edited export imports as the next version; a bad
directory is refused with every problem listed and nothing stored.
"""

from __future__ import annotations

import io
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from intents.catalog import Catalog, shipped_catalog_dir
from intents.classifier import LinearIntentClassifier
from intents.store import ModelMeta, ModelStore
from server import catalog_store, intent_models
from server.cli import run
from server.cli_intents import VERSION_FILE
from server.db import (
    CatalogDocumentRow,
    CatalogVersionRow,
    IntentModelRow,
    make_engine,
    make_sessionmaker,
    migrate,
    utcnow,
)
from voice_agent.service import FrontDesk
from voice_agent.settings import ServerSettings, Settings


def _cli(settings: Settings, *argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = run(list(argv), settings=settings, out=out)
    return code, out.getvalue()


def _settings(tmp_path: Path, db_url: str) -> Settings:
    return Settings(
        data_dir=tmp_path / "data",
        server=ServerSettings(database_url=db_url, create_demo_accounts=False),
    )


@contextmanager
def _session(settings: Settings) -> Iterator[Session]:
    engine = make_engine(settings.database_url)
    try:
        with make_sessionmaker(engine)() as session:
            yield session
    finally:
        engine.dispose()


def test_export_import_round_trip(tmp_path: Path, db_url: str) -> None:
    settings = _settings(tmp_path, db_url)
    out_dir = tmp_path / "export"
    code, out = _cli(settings, "intents", "export", str(out_dir))
    assert code == 0, out
    assert out.startswith("exported catalog v1 (13 intents, by seed)")
    shipped = sorted(p.name for p in shipped_catalog_dir().glob("*.yaml"))
    assert sorted(p.name for p in out_dir.glob("*.yaml")) == shipped
    for name in shipped:  # byte for byte: comments and layout survive the database
        assert (out_dir / name).read_bytes() == (shipped_catalog_dir() / name).read_bytes()
    assert (
        Catalog.load(out_dir).to_documents()
        == catalog_store.database_catalog(settings).catalog.to_documents()
    )
    assert (out_dir / ".catalog-version").read_text(encoding="utf-8") == "1\n"

    # A reviewer's edit in git: one example more, and a new intent file.
    path = out_dir / "transfer.yaml"
    path.write_text(
        path.read_text(encoding="utf-8") + "  - 帮我往我孙子卡里打两千块\n", encoding="utf-8"
    )
    (out_dir / "bill_payment.yaml").write_text(
        "code: bill_payment\nname: 生活缴费\ndescription: 交水电煤气费。\n"
        "examples:\n  - 我要交电费\n  - 帮我交一下煤气费\n",
        encoding="utf-8",
    )
    code, out = _cli(settings, "intents", "import", str(out_dir), "--note", "review #12")
    assert code == 0, out
    assert out.startswith("imported") and "catalog v2 (changed: bill_payment, transfer)" in out
    current = catalog_store.database_catalog(settings)
    assert current.version == 2 and current.note == "review #12"
    assert "帮我往我孙子卡里打两千块" in [e.text for e in current.catalog.spec("transfer").examples]

    # Export → load gives the equal catalog; importing it again changes nothing.
    again = tmp_path / "again"
    assert _cli(settings, "intents", "export", str(again))[0] == 0
    assert Catalog.load(again).to_documents() == current.catalog.to_documents()
    assert Catalog.load(again).content_hash() == current.catalog.content_hash()
    code, out = _cli(settings, "intents", "import", str(again))
    assert code == 0 and out.startswith(f"no change: {again} equals catalog v2"), out

    # Dropping the added intent's file removes it in the next version.
    (again / "bill_payment.yaml").unlink()
    code, out = _cli(settings, "intents", "import", str(again))
    assert code == 0 and "v3" in out and "removed: bill_payment" in out, out
    code, out = _cli(settings, "intents", "check")
    assert code == 0 and out.startswith("OK: 13 intents") and "(database catalog v3)" in out
    # An export over the old one takes the removed intent's file away.
    assert _cli(settings, "intents", "export", str(out_dir))[0] == 0
    assert not (out_dir / "bill_payment.yaml").exists()


def test_import_over_a_newer_edit_is_refused(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = _settings(tmp_path, db_url)
    exported = tmp_path / "export"
    assert _cli(settings, "intents", "export", str(exported))[0] == 0  # v1
    # Meanwhile a product user adds an example to transfer in the console (v2).
    with _session(settings) as session:
        catalog_store.edit(
            session,
            settings,
            lambda c: c.with_example("transfer", "帮我把钱打给我儿媳妇"),
            author="alice",
            note="example",
            code="transfer",
            base_revision=1,
        )
    # The reviewer's export (v1) also changes transfer: refused, nothing stored.
    transfer = exported / "transfer.yaml"
    transfer.write_text(
        transfer.read_text(encoding="utf-8").replace("转账汇款", "转账", 1), encoding="utf-8"
    )
    capsys.readouterr()
    code, _ = _cli(settings, "intents", "import", str(exported))
    assert code == 2
    err = capsys.readouterr().err
    assert "changed in the database since export v1: transfer (v2)" in err
    current = catalog_store.database_catalog(settings)
    assert current.version == 2 and current.catalog.spec("transfer").name == "转账汇款"

    # Left as exported, transfer keeps alice's example; card_loss takes the review's.
    shutil.copy(shipped_catalog_dir() / "transfer.yaml", transfer)
    card = exported / "card_loss.yaml"
    card.write_text(card.read_text(encoding="utf-8") + "  - 社保卡找不到了\n", encoding="utf-8")
    code, out = _cli(settings, "intents", "import", str(exported))
    assert code == 0 and "catalog v3 (changed: card_loss)" in out, out
    current = catalog_store.database_catalog(settings)
    assert "帮我把钱打给我儿媳妇" in [e.text for e in current.catalog.spec("transfer").examples]

    # A directory that was not exported must say so; --force makes it the
    # whole catalog, over alice's example (the operator's explicit choice).
    (exported / VERSION_FILE).unlink()
    code, _ = _cli(settings, "intents", "import", str(exported))
    assert code == 2 and "no .catalog-version" in capsys.readouterr().err
    code, out = _cli(settings, "intents", "import", "--force", str(exported))
    assert code == 0 and "catalog v4 (changed: transfer)" in out, out
    current = catalog_store.database_catalog(settings)
    assert "帮我把钱打给我儿媳妇" not in [e.text for e in current.catalog.spec("transfer").examples]


def test_bad_import_stores_nothing(tmp_path: Path, db_url: str) -> None:
    settings = _settings(tmp_path, db_url)
    before = catalog_store.database_catalog(settings)
    bad = tmp_path / "bad"
    shutil.copytree(shipped_catalog_dir(), bad)
    (bad / "card_loss.yaml").write_text(
        (bad / "card_loss.yaml").read_text(encoding="utf-8").replace("slots:", "slotz:", 1),
        encoding="utf-8",
    )
    (bad / "transfer.yaml").write_text("code: transfer\nname: [unclosed\n", encoding="utf-8")
    code, out = _cli(settings, "intents", "import", "--force", str(bad))
    assert code == 2
    assert f"{bad / 'card_loss.yaml'}:" in out and "unknown key 'slotz'" in out
    assert f"{bad / 'transfer.yaml'}:" in out and "YAML syntax error" in out
    after = catalog_store.database_catalog(settings)
    assert after.version == before.version == 1
    assert after.catalog.to_documents() == before.catalog.to_documents()


def test_seed_keeps_an_older_install_s_edited_copy(tmp_path: Path, db_url: str) -> None:
    settings = _settings(tmp_path, db_url)
    legacy = settings.data_dir / "catalog"  # where earlier releases kept console edits
    shutil.copytree(shipped_catalog_dir(), legacy, ignore=shutil.ignore_patterns("*.md"))
    Catalog.load(legacy).add_example("card_loss", "老伴的存折也寻不着了")
    current = catalog_store.database_catalog(settings)
    assert current.version == 1 and current.note == f"seeded from {legacy}"
    assert "老伴的存折也寻不着了" in [e.text for e in current.catalog.spec("card_loss").examples]


def test_a_version_this_release_refuses_can_be_exported_and_fixed(
    tmp_path: Path, db_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    """As after an upgrade whose validator is stricter: export, fix, import --force."""
    settings = _settings(tmp_path, db_url)
    catalog_store.database_catalog(settings)  # v1, seeded
    broken = "code: card_loss\nname: [unclosed\n"
    with _session(settings) as session:
        session.add(
            CatalogVersionRow(
                version=2, created_at=utcnow(), author="old", note="n", content_hash="0" * 64
            )
        )
        session.flush()
        session.add(
            CatalogDocumentRow(
                code="card_loss", version=2, file_name="card_loss.yaml", document=broken
            )
        )
        session.commit()
    capsys.readouterr()
    code, _ = _cli(settings, "intents", "check")
    assert code == 2
    err = capsys.readouterr().err
    assert "database:catalog@v2/card_loss.yaml:3: YAML syntax error" in err
    assert "frontdesk intents export DIR" in err  # how to get out of it
    out_dir = tmp_path / "export"
    code, out = _cli(settings, "intents", "export", str(out_dir))
    assert code == 0 and out.startswith("exported catalog v2"), out
    assert (out_dir / "card_loss.yaml").read_text(encoding="utf-8") == broken
    shutil.copy(shipped_catalog_dir() / "card_loss.yaml", out_dir / "card_loss.yaml")
    code, out = _cli(settings, "intents", "import", "--force", str(out_dir))
    assert code == 0 and "catalog v3 (changed: card_loss)" in out, out
    assert catalog_store.database_catalog(settings).catalog.to_documents() == (
        Catalog.load().to_documents()
    )


def test_train_and_rollback_tell_the_database_which_model_is_live(
    tmp_path: Path, db_url: str, frontdesk: FrontDesk
) -> None:
    settings = _settings(tmp_path, db_url)
    model = frontdesk.understander.classifier  # a real trained model, stored twice
    assert isinstance(model, LinearIntentClassifier)
    engine = make_engine(settings.database_url)
    migrate(engine)
    try:
        sessions = make_sessionmaker(engine)
        store = ModelStore(settings.intent_model_dir, intent_models.recorder(sessions))
        meta = ModelMeta("", model.backend, "0" * 64, 807, 0, {"accuracy": 0.9})
        store.save(model, meta)
        store.save(model, meta, make_current=False)  # stored, not live
        with sessions() as session:
            assert intent_models.current_version(session) == "v0001"
            assert session.get(IntentModelRow, "v0002") is not None
        store.set_current("v0002")
        with sessions() as session:
            assert intent_models.current_version(session) == "v0002"
        code, out = _cli(settings, "intents", "rollback")
        assert code == 0 and "current intent model: v0001" in out, out
        with sessions() as session:
            assert intent_models.current_version(session) == "v0001"
            row = session.get(IntentModelRow, "v0001")
            assert row is not None and row.metrics == {"accuracy": 0.9}
    finally:
        engine.dispose()
