"""Versioned store, gated training, rollback, corrections, and the train/eval commands."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import pytest

from intents.catalog import Catalog
from intents.dataset import LabelledExample, catalog_split
from intents.store import ModelStore
from intents.training import load_or_bootstrap, train
from models.errors import ModelError
from server.cli_intents import add_intents_commands, run_intents
from tests.intents.catalog_factory import write_catalog
from voice_agent.settings import Settings, UnderstandingSettings


def _identity(text: str) -> str:
    return text


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return Catalog.load(write_catalog(tmp_path_factory.mktemp("catalog")))


def _poisoned(catalog: Catalog) -> list[LabelledExample]:
    """A bad batch of 'corrections': every training sentence, relabelled wrongly, thrice."""
    codes = list(catalog.intents)
    train_split, _held = catalog_split(catalog)
    wrong = [
        LabelledExample(e.text, codes[(codes.index(e.intent) + 1) % len(codes)])
        for e in train_split
    ]
    return wrong * 3


def test_bootstrap_trains_v0001_once(tmp_path: Path, catalog: Catalog) -> None:
    store_dir = tmp_path / "models"
    model = load_or_bootstrap(store_dir, catalog, "sparse", _identity)
    assert model.version == "v0001"
    assert model.predict("我要挂失存折").model_version == "v0001"
    meta = json.loads((store_dir / "v0001" / "meta.json").read_text(encoding="utf-8"))
    assert meta["backend"] == "sparse"
    assert meta["catalog_hash"] == catalog.content_hash()
    assert meta["n_examples"] == len(catalog_split(catalog)[0])
    assert meta["n_corrections"] == 0
    assert 0.0 < meta["metrics"]["macro_f1"] <= 1.0 and meta["created_at"]
    again = load_or_bootstrap(store_dir, catalog, "sparse", _identity)
    assert again.version == "v0001" and ModelStore(store_dir).versions() == ["v0001"]


def test_gate_refuses_worse_force_overrides_rollback_restores(
    tmp_path: Path, catalog: Catalog
) -> None:
    store = ModelStore(tmp_path / "models")
    first = train(catalog, (), store, "sparse", _identity)
    assert first.accepted and first.version == "v0001" and first.current_metrics is None

    refused = train(catalog, _poisoned(catalog), store, "sparse", _identity)
    assert not refused.accepted
    assert "refused" in refused.reason
    assert refused.candidate_metrics["macro_f1"] < refused.current_metrics["macro_f1"]  # type: ignore[index]
    assert store.current_version() == "v0001" and store.versions() == ["v0001"]

    forced = train(catalog, _poisoned(catalog), store, "sparse", _identity, force=True)
    assert forced.accepted and "forced" in forced.reason
    assert store.current_version() == "v0002"
    assert store.meta("v0002").n_corrections == len(_poisoned(catalog))

    assert store.rollback() == "v0001"
    assert store.load_current().version == "v0001"  # type: ignore[union-attr]
    with pytest.raises(ModelError, match="oldest"):
        store.rollback()


def test_retraining_with_the_same_data_is_accepted(tmp_path: Path, catalog: Catalog) -> None:
    store = ModelStore(tmp_path / "models")
    train(catalog, (), store, "sparse", _identity)
    again = train(catalog, (), store, "sparse", _identity)
    assert again.accepted and "not worse" in again.reason and again.version == "v0002"


def test_corrections_change_a_prediction(tmp_path: Path, catalog: Catalog) -> None:
    store = ModelStore(tmp_path / "models")
    text = "敬老卡的乘车次数用完了"
    before = load_or_bootstrap(store.root, catalog, "sparse", _identity).predict(text)
    target = "card_activation" if before.code != "card_activation" else "speak_to_teller"
    corrections = [LabelledExample(text, target, {})]
    result = train(catalog, corrections, store, "sparse", _identity)
    assert result.accepted, result.reason
    after = store.load_current()
    assert after is not None and after.predict(text).code == target


def test_corrections_for_unknown_intents_are_left_out(tmp_path: Path, catalog: Catalog) -> None:
    store = ModelStore(tmp_path / "models")
    result = train(catalog, [LabelledExample("买基金", "wealth")], store, "sparse", _identity)
    assert result.accepted and store.meta(result.version or "").n_corrections == 0
    assert "wealth" not in store.load_current().classes  # type: ignore[union-attr]


def test_corrupt_model_is_a_model_error(tmp_path: Path, catalog: Catalog) -> None:
    store_dir = tmp_path / "models"
    load_or_bootstrap(store_dir, catalog, "sparse", _identity)
    (store_dir / "v0001" / "model.pkl").write_bytes(b"not a pickle")
    with pytest.raises(ModelError, match="rollback"):
        ModelStore(store_dir).load_current()


def _args(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    add_intents_commands(parser.add_subparsers(dest="command"))
    return parser.parse_args(["intents", *argv])


def test_train_eval_rollback_commands(
    tmp_path: Path, catalog: Catalog, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(
        data_dir=tmp_path / "data",
        understanding=UnderstandingSettings(catalog_dir=catalog.directory),
    )
    data = tmp_path / "extra.jsonl"
    data.write_text(
        json.dumps(
            {"text": "阿拉要挂失存折", "intent": "card_loss", "slots": {"medium": "passbook"}},
            ensure_ascii=False,
        )
        + "\n",
        encoding="utf-8",
    )
    assert run_intents(_args("train", "--data", str(data)), settings) == 0
    assert capsys.readouterr().out.startswith("ACCEPTED: there was no current model")

    def loader() -> list[LabelledExample]:
        return _poisoned(catalog)

    assert run_intents(_args("train"), settings, corrections_loader=loader) == 0
    assert capsys.readouterr().out.startswith("REFUSED: refused, worse")

    out_dir = tmp_path / "report"
    assert run_intents(_args("eval", "--data", str(data), "--out", str(out_dir)), settings) == 0
    line = capsys.readouterr().out
    assert line.startswith("v0001: accuracy") and "report.html" in line
    assert {p.name for p in out_dir.iterdir()} == {
        "report.json",
        "report.html",
        "confusion.png",
        "confidence.png",
    }

    assert run_intents(_args("rollback"), settings) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "oldest" in err

    assert run_intents(_args("eval", "--data", str(tmp_path / "missing.jsonl")), settings) == 2
    assert "missing.jsonl" in capsys.readouterr().err
