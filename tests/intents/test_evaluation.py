"""Evaluation reports: consistent figures, slots and dialects, deterministic files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from intents.catalog import Catalog
from intents.classifier import LinearIntentClassifier
from intents.dataset import LabelledExample, catalog_split, load_jsonl
from intents.evaluation import EvalReport, evaluate
from intents.report import write_report
from intents.slots import SlotExtractor
from models.errors import InputError
from tests.intents.catalog_factory import write_catalog


def _identity(text: str) -> str:
    return text


def _dialect(text: str) -> str:
    return "shanghainese" if "阿拉" in text else "mandarin"


@pytest.fixture(scope="module")
def setup(tmp_path_factory: pytest.TempPathFactory) -> tuple[LinearIntentClassifier, list]:
    catalog = Catalog.load(write_catalog(tmp_path_factory.mktemp("catalog")))
    train, held = catalog_split(catalog)
    model = LinearIntentClassifier("sparse")
    model.fit([e.text for e in train], [e.intent for e in train])
    extra = [
        LabelledExample(
            "帮我转五千块给我女儿", "transfer", {"amount": 5000, "payee_relation": "女儿"}
        ),
        LabelledExample("阿拉要挂失存折", "card_loss", {"medium": "passbook"}, "shanghainese"),
        LabelledExample("今天天气怎么样啊", "out_of_scope", {}),
    ]
    return model, [*held, *extra]


def _report(setup: tuple[LinearIntentClassifier, list]) -> EvalReport:
    model, examples = setup
    return evaluate(model, examples, _identity, _dialect, SlotExtractor.load())


def test_figures_are_consistent(setup: tuple[LinearIntentClassifier, list]) -> None:
    report = _report(setup)
    _model, examples = setup
    assert report.n == len(examples)
    right = sum(o.gold == o.predicted for o in report.outcomes)
    assert report.accuracy == pytest.approx(right / report.n)
    assert sum(m.support for m in report.per_intent) == report.n
    assert sum(map(sum, report.confusion)) == report.n
    diagonal = sum(report.confusion[i][i] for i in range(len(report.labels)))
    assert diagonal == right
    assert report.macro_f1 == pytest.approx(
        sum(m.f1 for m in report.per_intent) / len(report.per_intent)
    )
    assert sum(report.confidence.correct) == right
    assert sum(report.confidence.wrong) == report.n - right
    assert 0.0 <= report.confidence.ece <= 1.0
    assert sum(g.n for g in report.per_dialect) == report.n
    assert {g.name for g in report.per_dialect} <= {"mandarin", "shanghainese"}
    assert report.slot_support == 3 and report.slot_accuracy is not None
    for c in report.worst_confusions:
        assert c.gold != c.predicted and 1 <= len(c.examples) <= c.count
        assert all(
            any(o.text == t and o.gold == c.gold for o in report.outcomes) for t in c.examples
        )


def test_a_perfect_and_a_hopeless_classifier() -> None:
    class Always:
        def __init__(self, code: str) -> None:
            self.code = code

        def predict(self, text: str):  # type: ignore[no-untyped-def]
            from intents.types import IntentPrediction

            return IntentPrediction(self.code, 0.9)

    data = [LabelledExample("a", "transfer"), LabelledExample("b", "card_loss")]
    report = evaluate(Always("transfer"), data, _identity, _dialect)
    assert report.accuracy == 0.5
    transfer = next(m for m in report.per_intent if m.code == "transfer")
    assert (transfer.precision, transfer.recall) == (0.5, 1.0)
    assert report.worst_confusions[0].gold == "card_loss"
    assert report.worst_confusions[0].examples == ("b",)


def test_report_files_are_deterministic(
    tmp_path: Path, setup: tuple[LinearIntentClassifier, list]
) -> None:
    first = write_report(_report(setup), tmp_path / "one")
    second = write_report(_report(setup), tmp_path / "two")
    one, two = tmp_path / "one", tmp_path / "two"
    assert (one / "report.json").read_bytes() == (two / "report.json").read_bytes()
    for name in ("confusion.png", "confidence.png"):
        assert (one / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    page = first.read_text(encoding="utf-8")
    assert second.exists() and "data:image/png;base64," in page and "<table>" in page
    data = json.loads((one / "report.json").read_text(encoding="utf-8"))
    assert data["n"] == _report(setup).n
    assert {"per_intent", "confusion", "worst_confusions", "per_dialect"} <= set(data)


def test_load_jsonl(tmp_path: Path) -> None:
    path = tmp_path / "dev.jsonl"
    path.write_text(
        '{"text": "我要挂失", "intent": "card_loss", "slots": {"medium": "card"}, '
        '"dialect": "mandarin"}\n\n{"text": "余额多少", "intent": "balance_inquiry"}\n',
        encoding="utf-8",
    )
    first, second = load_jsonl(path)
    assert first.slots == {"medium": "card"} and first.dialect == "mandarin"
    assert second.slots is None and second.dialect is None
    path.write_text('{"text": "缺意图"}\n', encoding="utf-8")
    with pytest.raises(InputError, match=r"dev\.jsonl:1"):
        load_jsonl(path)
