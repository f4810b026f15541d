"""DialectNormaliser on the labelled utterances in tests/data/text/dialect_labels.jsonl.

The set is half Shanghainese (Wu words, banking requests, fraud reports and
Whisper's near-homophones of Wu words) and half Mandarin, including sentences
whose words are also Wu words (寻找, 老年卡, 讲座, 拨打, 伊利, 一道) that the
normaliser must leave alone.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pytest

from dialects.normaliser import DialectNormaliser
from dialects.types import MANDARIN, SHANGHAINESE


@dataclass(frozen=True)
class Labelled:
    text: str
    dialect: str
    normalized: str | None


def _load_labels(path: Path) -> list[Labelled]:
    rows = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            obj = json.loads(line)
            rows.append(Labelled(obj["text"], obj["dialect"], obj.get("normalized")))
    return rows


LABELS = _load_labels(Path(__file__).parents[1] / "data" / "text" / "dialect_labels.jsonl")


@pytest.fixture(scope="module")
def normaliser() -> DialectNormaliser:
    return DialectNormaliser.load()


def test_label_set_is_large_and_balanced() -> None:
    counts = {d: sum(1 for r in LABELS if r.dialect == d) for d in (MANDARIN, SHANGHAINESE)}
    assert len(LABELS) >= 60
    assert set(r.dialect for r in LABELS) == {MANDARIN, SHANGHAINESE}
    assert abs(counts[MANDARIN] - counts[SHANGHAINESE]) <= len(LABELS) // 10


def test_detection_accuracy_on_labelled_set(normaliser: DialectNormaliser) -> None:
    wrong = [r.text for r in LABELS if normaliser.normalise(r.text).dialect != r.dialect]
    accuracy = 1 - len(wrong) / len(LABELS)
    assert accuracy >= 0.9, f"accuracy {accuracy:.3f}; misclassified: {wrong}"


@pytest.mark.parametrize(
    "row", [r for r in LABELS if r.normalized is not None], ids=lambda r: r.text
)
def test_normalised_form_matches_label(normaliser: DialectNormaliser, row: Labelled) -> None:
    assert normaliser.normalise(row.text).normalized_text == row.normalized


@pytest.mark.parametrize("row", [r for r in LABELS if r.dialect == MANDARIN], ids=lambda r: r.text)
def test_mandarin_is_returned_unchanged(normaliser: DialectNormaliser, row: Labelled) -> None:
    result = normaliser.normalise(row.text)
    assert result.dialect == MANDARIN
    assert result.normalized_text == row.text
    assert result.replacements == ()
    assert 0.5 <= result.confidence <= 1.0


def test_contract_example(normaliser: DialectNormaliser) -> None:
    result = normaliser.normalise("阿拉要汇五万块钞票拨阿拉儿子")
    assert result.text == "阿拉要汇五万块钞票拨阿拉儿子"
    assert result.normalized_text == "我们要汇五万块钱给我们儿子"
    assert result.dialect == SHANGHAINESE
    assert result.confidence >= 0.9
    assert result.markers == ("阿拉", "钞票", "拨")


def test_replacement_offsets_point_into_original(normaliser: DialectNormaliser) -> None:
    for row in LABELS:
        result = normaliser.normalise(row.text)
        ends = [0]
        for r in result.replacements:
            assert row.text[r.start : r.end] == r.original
            assert r.start >= ends[-1], "replacements overlap or are out of order"
            assert r.kind in ("lexicon", "asr_homophone")
            ends.append(r.end)


def test_asr_homophones_are_marked_as_such(normaliser: DialectNormaliser) -> None:
    result = normaliser.normalise("农好，我要查一下我的超票")
    kinds = {r.original: r.kind for r in result.replacements}
    assert kinds == {"农": "asr_homophone", "超票": "asr_homophone"}
    assert result.normalized_text == "你好，我要查一下我的钱"


@pytest.mark.parametrize(
    "text",
    ["农业银行", "我在农村信用社开过户", "农民工工资卡", "农行的卡", "农历新年"],
)
def test_nong_stays_when_it_means_farming(normaliser: DialectNormaliser, text: str) -> None:
    assert normaliser.normalise(text).normalized_text == text


@pytest.mark.parametrize(
    ("text", "kept"),
    [
        ("阿拉伊拉讲要寻找老年卡", "寻找"),
        ("阿拉想去听讲座", "讲座"),
        ("侬介绍一下定期", "介绍"),
        ("侬要拨打客服电话", "拨打"),
        ("阿拉欢喜吃辣椒", "辣椒"),
        ("侬买伊利牛奶伐", "伊利"),
        ("阿拉要脱离危险", "脱离"),
        ("侬办一张老年卡", "老年卡"),
        ("阿拉一个人来个", "一个人"),
    ],
)
def test_mandarin_words_survive_inside_shanghainese(
    normaliser: DialectNormaliser, text: str, kept: str
) -> None:
    result = normaliser.normalise(text)
    assert result.dialect == SHANGHAINESE
    assert kept in result.normalized_text


def test_more_markers_give_more_confidence(normaliser: DialectNormaliser) -> None:
    one = normaliser.normalise("我想问一下今朝利率是多少")
    many = normaliser.normalise("阿拉今朝想问问侬利钿有几化")
    assert one.dialect == many.dialect == SHANGHAINESE
    assert 0.5 < one.confidence < many.confidence <= 1.0


def test_empty_text_is_mandarin(normaliser: DialectNormaliser) -> None:
    result = normaliser.normalise("")
    assert (result.normalized_text, result.dialect, result.replacements) == ("", MANDARIN, ())


@pytest.mark.parametrize(
    ("text", "mandarin"),
    [
        (
            "下半天有人打电话讲伊是公安局个，要我把钞票转到安全账户",
            "下午有人打电话说他是公安局个，要我把钱转到安全账户",
        ),
        (
            "隔壁邻居讲伊个存单到期了，叫我陪伊一道去问问利息",
            "隔壁邻居说他的存单到期了，叫我陪他一起去问问利息",
        ),
    ],
)
def test_weak_words_alone_make_a_long_utterance_shanghainese(
    normaliser: DialectNormaliser, text: str, mandarin: str
) -> None:
    """Three or more weak Wu words of different classes, no strong marker."""
    strong = {e.wu for e in normaliser.lexicon.entries if e.strong}
    assert not any(word in text for word in strong), "the sentence must hold weak words only"
    result = normaliser.normalise(text)
    assert result.dialect == SHANGHAINESE
    assert result.normalized_text == mandarin


@pytest.mark.parametrize(
    "text",
    [
        # 讲, 老 and 晓得: southern Mandarin habits, two word classes only
        "他讲这个产品老好了，我也晓得有风险",
        "老王讲他个人觉得这个理财老稳了，我也晓得",
        # three classes (讲, 老早, 钞票) but too thinly spread over a long sentence
        "我跟柜员讲了好几遍，这张新卡要本人带身份证到柜台去激活才行，"
        "他说伊利的股东大会老早就开过了，这个钞票的事情以后再说",
        # 个 and 讲 in their Mandarin senses
        "这个老师讲课讲得很好，我一个人来听的",
    ],
)
def test_mandarin_with_a_few_weak_words_stays_mandarin(
    normaliser: DialectNormaliser, text: str
) -> None:
    result = normaliser.normalise(text)
    assert result.dialect == MANDARIN
    assert result.normalized_text == text
