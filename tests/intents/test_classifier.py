"""The intent classifier: accuracy on held-back text, ASR homophones, the API's shape."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from intents.catalog import Catalog
from intents.classifier import (
    LinearIntentClassifier,
    decide,
    fit_temperature,
    load_classifier,
    make_classifier,
    softmax,
    tune_floor,
)
from intents.dataset import catalog_split, is_held_back
from intents.features import clean, features_with_spans
from intents.taxonomy import INTENT_CODES, OUT_OF_SCOPE
from models.errors import ConfigError
from tests.intents.catalog_factory import write_catalog


@pytest.fixture(scope="module")
def shipped() -> Catalog:
    return Catalog.load()


@pytest.fixture(scope="module")
def sparse_model(shipped: Catalog) -> LinearIntentClassifier:
    train, _held = catalog_split(shipped)
    model = LinearIntentClassifier("sparse")
    model.fit([e.text for e in train], [e.intent for e in train])
    return model


HOMOPHONES = ("挂施", "存者", "定器")


@pytest.fixture(scope="module")
def model_without_homophones(shipped: Catalog) -> LinearIntentClassifier:
    """Trained without any sentence holding the ASR misspellings tested below."""
    train, _held = catalog_split(shipped)
    kept = [e for e in train if not any(h in e.text for h in HOMOPHONES)]
    model = LinearIntentClassifier("sparse")
    model.fit([e.text for e in kept], [e.intent for e in kept])
    return model


def test_split_is_stable_and_about_a_fifth(shipped: Catalog) -> None:
    train, held = catalog_split(shipped)
    assert catalog_split(shipped) == (train, held)
    assert 0.12 < len(held) / (len(train) + len(held)) < 0.28
    assert {e.text for e in train}.isdisjoint({e.text for e in held})
    assert all(is_held_back(e.text) for e in held)
    assert {e.intent for e in train} == set(shipped.intents)


def test_held_back_accuracy_beats_threshold(
    shipped: Catalog, sparse_model: LinearIntentClassifier
) -> None:
    _train, held = catalog_split(shipped)
    correct = sum(sparse_model.predict(e.text).code == e.intent for e in held)
    assert correct / len(held) >= 0.88, f"{correct}/{len(held)}"


@pytest.mark.parametrize(
    ("asr_text", "intent", "homophone", "word", "drives"),
    [
        ("我的银行卡丢了要挂施", "card_loss", "挂施", "挂失", True),
        # 存折 is not what makes this a password reset (密码 is), so it need not drive it
        ("存者的密码想不起来了", "password_reset", "存者", "存折", False),
        ("我想把这笔钱存个定器", "time_deposit", "定器", "定期", True),
    ],
)
def test_asr_homophones_are_understood(
    shipped: Catalog,
    model_without_homophones: LinearIntentClassifier,
    asr_text: str,
    intent: str,
    homophone: str,
    word: str,
    drives: bool,
) -> None:
    # The misspelling is not in this model's training data (see the fixture):
    # only the pinyin features can link it to the correct word.
    assert any(word in e.text for e in shipped.examples())
    pred = model_without_homophones.predict(asr_text)
    assert pred.code == intent
    assert all(d in clean(asr_text) for d in pred.drivers)
    if drives:
        assert any(set(d) & set(homophone) for d in pred.drivers), pred.drivers


def test_prediction_shape(sparse_model: LinearIntentClassifier) -> None:
    text = "帮我查一下卡里还有多少钱"
    pred = sparse_model.predict(text)
    assert pred.code in INTENT_CODES
    assert 0.0 < pred.confidence <= 1.0
    assert len(pred.alternatives) == 3
    codes = [a.code for a in pred.alternatives]
    assert pred.code not in codes and len(set(codes)) == 3
    confs = [a.confidence for a in pred.alternatives]
    assert confs == sorted(confs, reverse=True) and confs[0] <= pred.confidence
    assert pred.confidence + sum(confs) <= 1.0 + 1e-9
    assert pred.drivers and all(d in clean(text) for d in pred.drivers)


def test_features_map_back_to_characters() -> None:
    feats = features_with_spans("挂施！")
    assert ("c:挂施", 0, 2) in feats
    assert ("p:gua_shi", 0, 2) in feats
    assert ("p:gua_shi", 0, 2) in features_with_spans("挂失")


def test_temperature_and_floor_tuning() -> None:
    classes = ("a", OUT_OF_SCOPE)
    # Over-confident scores that are right only 3 times in 4 want T > 1.
    scores = np.array([[6.0, 0.0]] * 4)
    assert fit_temperature(scores, classes, ["a", "a", "a", OUT_OF_SCOPE]) > 1.0
    proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.2], [0.35, 0.3]])
    floor = tune_floor(proba, classes, ["a", "a", OUT_OF_SCOPE, OUT_OF_SCOPE])
    assert 0.35 < floor <= 0.5
    assert tune_floor(proba, ("a", "b"), ["a", "a", "b", "b"]) == 0.0  # no OOS class
    assert np.allclose(softmax(np.array([[1.0, 1.0]])), [[0.5, 0.5]])


def test_below_the_floor_becomes_out_of_scope() -> None:
    classes = ("balance_inquiry", "card_loss", OUT_OF_SCOPE, "transfer")
    pred = decide(np.array([0.3, 0.25, 0.2, 0.25]), classes, floor=0.4, version="v0001")
    assert pred.code == OUT_OF_SCOPE
    assert pred.confidence == pytest.approx(0.7)
    assert pred.alternatives[0].code == "balance_inquiry"
    assert pred.model_version == "v0001"
    sure = decide(np.array([0.7, 0.1, 0.1, 0.1]), classes, floor=0.4, version="")
    assert sure.code == "balance_inquiry"


def test_off_topic_is_out_of_scope(sparse_model: LinearIntentClassifier) -> None:
    assert sparse_model.predict("小区门口新开了一家理发店").code == OUT_OF_SCOPE


def test_save_and_load_give_the_same_predictions(
    tmp_path: Path, sparse_model: LinearIntentClassifier
) -> None:
    sparse_model.save(tmp_path)
    loaded = load_classifier(tmp_path, "sparse")
    for text in ("阿拉要汇五万块钞票拨阿拉儿子", "我要找人工"):
        assert loaded.predict(text) == sparse_model.predict(text)


def test_unknown_backend_lists_valid_ones() -> None:
    with pytest.raises(ConfigError) as err:
        make_classifier("bert")
    assert "sparse" in str(err.value) and "transformers" in str(err.value)
    with pytest.raises(ConfigError):
        make_classifier("transformers")  # needs a checkpoint


def test_e5_backends_train_and_predict(tmp_path: Path) -> None:
    catalog = Catalog.load(write_catalog(tmp_path / "catalog"))
    train, held = catalog_split(catalog)
    for backend in ("e5", "sparse+e5"):
        model = make_classifier(backend)
        model.fit([e.text for e in train], [e.intent for e in train])
        preds = [model.predict(e.text) for e in held]
        assert all(p.code in catalog.intents for p in preds)
        accuracy = sum(p.code == e.intent for p, e in zip(preds, held, strict=True)) / len(held)
        assert accuracy >= 0.6, (backend, accuracy)
