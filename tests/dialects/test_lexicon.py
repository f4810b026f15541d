"""Loading and validating lexicon files (dialects/lexicon.py)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from dialects.lexicon import CATEGORIES, KINDS, STRENGTHS, load_lexicon
from dialects.normaliser import DialectNormaliser
from models.datafile import DataFileError
from models.errors import ConfigError

HEADER = "wu\tmandarin\tcategory\tstrength\tkind\tcontext\tevidence\n"


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "lexicon.tsv"
    path.write_text("# a small test lexicon\n" + HEADER + body, encoding="utf-8")
    return path


def test_shipped_lexicon_loads_and_is_frozen() -> None:
    lexicon = load_lexicon()
    assert len(lexicon.entries) >= 100
    first = lexicon.entries[0]
    with pytest.raises(dataclasses.FrozenInstanceError):
        first.wu = "x"  # type: ignore[misc]
    kinds = {e.kind for e in lexicon.entries}
    assert kinds == set(KINDS)
    assert {e.strength for e in lexicon.entries} == set(STRENGTHS)
    by_wu = {e.wu: e for e in lexicon.entries}
    assert by_wu["阿拉"].replacement == "我们"
    assert by_wu["阿拉"].strong
    assert not by_wu["讲"].strong and by_wu["讲"].context.dialect
    assert by_wu["超票"].kind == "asr_homophone"


def test_every_weak_lexicon_word_is_guarded_by_context() -> None:
    # A weak word is ordinary Mandarin too; applied without any context it
    # would rewrite Mandarin callers' sentences.
    unguarded = [
        e.wu
        for e in load_lexicon().entries
        if not e.strong and e.kind == "lexicon" and e.context.source == "-"
    ]
    assert unguarded == []


def test_custom_lexicon_is_used(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "@who\t我|侬\n"
        "侬\t你\tpronoun\tstrong\tlexicon\t-\tU\n"
        "拨\t给\tprep\tweak\tlexicon\tdialect;next=@who\tU\n",
    )
    normaliser = DialectNormaliser.load(path)
    assert normaliser.normalise("侬拨我").normalized_text == "你给我"
    assert normaliser.normalise("拨打电话").normalized_text == "拨打电话"
    assert normaliser.lexicon.source == str(path)


@pytest.mark.parametrize(
    ("row", "expected"),
    [
        ("侬\t你\tpronoun\tstrong\n", "expected 7 tab-separated columns"),
        ("侬\t你\tpronon\tstrong\tlexicon\t-\tU\n", ", ".join(CATEGORIES)),
        ("侬\t你\tpronoun\tmedium\tlexicon\t-\tU\n", "strong, weak"),
        ("侬\t你\tpronoun\tstrong\thomophone\t-\tU\n", "lexicon, asr_homophone"),
        ("侬/农\t你\tpronoun\tstrong\tlexicon\t-\tU\n", "rows of their own"),
        ("侬\t你\tpronoun\tstrong\tlexicon\tbefore=好\tU\n", "dialect, next=..."),
        ("侬\t你\tpronoun\tstrong\tlexicon\tnext=@people\tU\n", "unknown word class @people"),
        ("侬\t你\tpronoun\tstrong\tlexicon\t-\t\n", "evidence is empty"),
        ("侬\t你/\tpronoun\tstrong\tlexicon\t-\tU\n", "alternatives separated by '/'"),
    ],
)
def test_bad_row_names_file_line_and_choices(tmp_path: Path, row: str, expected: str) -> None:
    path = _write(tmp_path, "阿拉\t我们\tpronoun\tstrong\tlexicon\t-\tU\n" + row)
    with pytest.raises(ConfigError) as info:
        DialectNormaliser.load(path)
    message = str(info.value)
    assert f"{path}:4: " in message, message
    assert expected in message


def test_duplicate_row_names_both_lines(tmp_path: Path) -> None:
    row = "侬\t你\tpronoun\tstrong\tlexicon\t-\tU\n"
    path = _write(tmp_path, row + row)
    with pytest.raises(ConfigError, match=r"lexicon\.tsv:4: .*repeats line 3"):
        load_lexicon(path)


def test_missing_header_is_reported(tmp_path: Path) -> None:
    path = tmp_path / "lexicon.tsv"
    path.write_text("侬\t你\tpronoun\tstrong\tlexicon\t-\tU\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"lexicon\.tsv:1: the first row must be the .*header"):
        load_lexicon(path)


def test_unreadable_file_is_a_config_error(tmp_path: Path) -> None:
    missing = tmp_path / "nope.tsv"
    with pytest.raises(ConfigError, match=r"nope\.tsv: cannot read") as info:
        load_lexicon(missing)
    assert isinstance(info.value.__cause__, OSError)


def test_every_bad_row_is_reported_at_once_with_its_line_and_choices(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        "阿拉\t我们\tpronoun\tstrong\tlexicon\t-\tU\n"  # line 3: fine
        "侬\t你\tpronon\tstrong\tlexicon\t-\tU\n"  # line 4: category
        "# a comment between rows\n"
        "伊\t他\tpronoun\tstrong\tlexicon\tnext=@nobody\tU\n"  # line 6: word class
        "@who\t我||侬\n",  # line 7: empty member
    )
    with pytest.raises(DataFileError) as info:
        load_lexicon(path)
    issues = info.value.issues
    assert [(i.source, i.line, i.where) for i in issues] == [
        (str(path), 7, ""),
        (str(path), 4, "category"),
        (str(path), 6, "context"),
    ]
    assert issues[1].choices == CATEGORIES
    assert "unknown word class @nobody" in issues[2].message
