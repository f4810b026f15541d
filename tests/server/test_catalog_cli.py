"""``frontdesk intents export|import|check`` on the database catalog (SQLite and PostgreSQL).

Export writes the same YAML files as the shipped catalog; export → load
gives an equal catalog; an edited export imports as the next version; a bad
directory is refused with every problem listed and nothing stored.
"""

from __future__ import annotations

import io
import shutil
from pathlib import Path

from intents.catalog import Catalog, shipped_catalog_dir
from server import catalog_store
from server.cli import run
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
    code, out = _cli(settings, "intents", "import", str(bad))
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
