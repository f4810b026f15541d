"""A catalog from documents (file name → YAML text), as the server's database keeps it.

One validator for files and documents: the same file/line/choices errors,
and a catalog's documents give back an equal catalog.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.catalog import Catalog, CatalogError, IntentDraft, check_documents, shipped_catalog_dir
from models.errors import ConfigError

ORIGIN = Path("database:catalog@v7")


def test_documents_round_trip_the_shipped_catalog() -> None:
    shipped = Catalog.load()
    documents = shipped.to_documents()
    for name, text in documents.items():
        assert (shipped_catalog_dir() / name).read_text(encoding="utf-8") == text
    again = Catalog.from_documents(ORIGIN, documents)
    assert again.to_documents() == documents
    assert again.content_hash() == shipped.content_hash()
    assert again.codes == shipped.codes
    assert again.spec("transfer").path == ORIGIN / "transfer.yaml"
    assert again.scenarios.keys() == shipped.scenarios.keys()


def test_a_bad_document_is_reported_like_a_bad_file() -> None:
    documents = Catalog.load().to_documents()
    documents["card_loss.yaml"] = documents["card_loss.yaml"].replace(
        "slots:", "slots: [card_colour]\nold_slots:", 1
    )
    with pytest.raises(CatalogError) as err:
        Catalog.from_documents(ORIGIN, documents)
    issues = err.value.issues
    unknown = next(i for i in issues if "card_colour" in i.message)
    assert unknown.file == ORIGIN / "card_loss.yaml"
    assert unknown.line is not None and "amount" in unknown.choices
    assert any(i.message == "unknown key 'old_slots'" for i in issues)
    assert check_documents(ORIGIN, documents) == list(issues)


def test_a_document_name_must_be_a_plain_yaml_file_name() -> None:
    documents = Catalog.load().to_documents()
    documents["../escape.yaml"] = documents.pop("card_loss.yaml")
    messages = [str(i) for i in check_documents(ORIGIN, documents)]
    assert any("plain NAME.yaml" in m for m in messages)
    assert any("taxonomy intent 'card_loss' missing" in m for m in messages)


def test_pure_edits_leave_the_original_alone() -> None:
    catalog = Catalog.from_documents(ORIGIN, Catalog.load().to_documents())
    edited = catalog.with_example("card_loss", "老伴的存折也寻不着了 #急")
    assert "老伴的存折也寻不着了 #急" in [e.text for e in edited.spec("card_loss").examples]
    assert "老伴的存折也寻不着了 #急" not in [e.text for e in catalog.spec("card_loss").examples]
    # The document keeps its comments: only a line was added.
    before, after = catalog.document("card_loss"), edited.document("card_loss")
    assert len(after.splitlines()) == len(before.splitlines()) + 1
    assert set(before.splitlines()) <= set(after.splitlines())
    with pytest.raises(ConfigError, match="conflicts with"):
        catalog.with_example("balance_inquiry", catalog.spec("card_loss").examples[0].text)

    draft = IntentDraft(
        code="card_loss",
        name="挂失补办",
        description="卡或存折丢了。",
        examples=("我的卡丢了", "存折找不到了"),
        scenarios={"card_missing": {"greeting": "您好，是要挂失吗？"}},
    )
    replaced = catalog.with_intent(draft, replace=True)
    assert replaced.spec("card_loss").name == "挂失补办"
    assert replaced.spec("card_loss").scenarios["card_missing"].greeting == "您好，是要挂失吗？"
    assert replaced.document("card_loss").startswith("# card_loss: edited through the product")
    assert catalog.spec("card_loss").name != "挂失补办"
    with pytest.raises(ConfigError, match="unknown intent 'bill_payment'"):
        catalog.with_intent(
            IntentDraft("bill_payment", "生活缴费", "交费", ("我要交电费",)), replace=True
        )
