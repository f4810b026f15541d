"""The transformers backend, for real, on a tiny randomly initialised BERT.

The test builds its own checkpoint (2 layers, hidden 32, a character vocab
from the catalog) with save_pretrained, so nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from intents.catalog import Catalog
from intents.dataset import catalog_split
from intents.features import clean
from intents.store import ModelStore
from intents.training import load_or_bootstrap, train
from intents.transformer_backend import TransformerIntentClassifier
from models.errors import ModelError
from tests.intents.catalog_factory import write_catalog

transformers = pytest.importorskip("transformers")


def _identity(text: str) -> str:
    return text


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> Catalog:
    return Catalog.load(write_catalog(tmp_path_factory.mktemp("catalog")))


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory, catalog: Catalog) -> Path:
    directory = tmp_path_factory.mktemp("tiny-bert")
    chars = sorted({ch for e in catalog.examples() for ch in clean(e.text)})
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *chars]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n", encoding="utf-8")
    transformers.BertTokenizer(str(directory / "vocab.txt")).save_pretrained(str(directory))
    config = transformers.BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    transformers.BertForSequenceClassification(config).save_pretrained(str(directory))
    return directory


def test_fine_tunes_predicts_saves_and_loads(
    tmp_path: Path, catalog: Catalog, checkpoint: Path
) -> None:
    train_split, held = catalog_split(catalog)
    texts, labels = [e.text for e in train_split], [e.intent for e in train_split]
    model = TransformerIntentClassifier(checkpoint, epochs=25, learning_rate=3e-3)
    model.fit(texts, labels)
    assert model.losses[-1] < 0.5 * model.losses[0]  # it learned
    train_acc = sum(model.predict(t).code == y for t, y in zip(texts, labels, strict=True))
    assert train_acc / len(texts) > 0.5  # far above chance (1/13)
    pred = model.predict(held[0].text)
    assert pred.code in catalog.intents and len(pred.alternatives) == 3
    assert pred.drivers == ()

    model.save(tmp_path)
    loaded = TransformerIntentClassifier.load(tmp_path)
    assert loaded.classes == model.classes
    for e in held[:5]:
        assert loaded.predict(e.text).code == model.predict(e.text).code

    first = TransformerIntentClassifier(checkpoint, epochs=2)
    first.fit(texts[:32], labels[:32])
    again = TransformerIntentClassifier(checkpoint, epochs=2)
    again.fit(texts[:32], labels[:32])
    assert again.losses == first.losses  # fixed seed: reproducible


def test_stored_and_gated_like_any_backend(
    tmp_path: Path, catalog: Catalog, checkpoint: Path
) -> None:
    store = ModelStore(tmp_path / "models")
    sparse = train(catalog, (), store, "sparse", _identity)
    assert sparse.accepted
    # Default fine-tuning (4 epochs at 5e-5) of a random tiny model learns
    # little: it must be refused against the better sparse model...
    refused = train(catalog, (), store, "transformers", _identity, checkpoint=checkpoint)
    assert not refused.accepted and store.current_version() == "v0001"
    assert refused.candidate_metrics["macro_f1"] < sparse.candidate_metrics["macro_f1"]
    # ...and stored, loadable and evaluated when forced.
    forced = train(catalog, (), store, "transformers", _identity, force=True, checkpoint=checkpoint)
    assert forced.accepted and forced.version == "v0002"
    assert store.meta("v0002").backend == "transformers"
    assert store.meta("v0002").checkpoint == str(checkpoint)
    current = store.load_current()
    assert isinstance(current, TransformerIntentClassifier)
    assert current.predict("我要挂失").code in catalog.intents
    same = load_or_bootstrap(store.root, catalog, "transformers", _identity, checkpoint)
    assert same.version == "v0002"


def test_missing_checkpoint_is_a_model_error(tmp_path: Path) -> None:
    model = TransformerIntentClassifier(tmp_path / "nowhere")
    with pytest.raises(ModelError, match="nowhere"):
        model.fit(["我要挂失", "余额多少"], ["card_loss", "balance_inquiry"])
