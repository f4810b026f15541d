"""One loader for the teams' data files: every problem, with file, line and choices."""

from __future__ import annotations

from typing import Literal

import pytest

from models.datafile import DataFileError, DataModel, load_data


class _Medium(DataModel):
    words: tuple[str, ...]


class _File(DataModel):
    version: Literal[1]
    kind: Literal["card", "passbook"]
    media: dict[str, _Medium]


GOOD = "version: 1\nkind: card\nmedia:\n  card:\n    words: [卡]\n"


def test_a_valid_file_loads() -> None:
    loaded = load_data(_File, GOOD, "x.yaml")
    assert loaded.media["card"].words == ("卡",)


def test_every_problem_names_file_line_where_and_choices() -> None:
    text = "version: 2\nkind: cheque\nmedia:\n  card:\n    wrods: [卡]\nextra: 1\n"
    with pytest.raises(DataFileError) as info:
        load_data(_File, text, "x.yaml")
    issues = {i.where: i for i in info.value.issues}
    assert issues["version"].line == 1
    assert issues["kind"].line == 2 and issues["kind"].choices == ("card", "passbook")
    assert issues["media.card.wrods"].line == 5
    assert issues["media.card.wrods"].message == "unknown key"
    assert issues["media.card.words"].message == "missing key"
    assert issues["media.card.words"].choices == ("words",)
    assert issues["extra"].line == 6
    assert issues["extra"].choices == ("version", "kind", "media")
    assert "x.yaml:2: kind:" in str(info.value)


def test_yaml_syntax_error_names_the_line() -> None:
    with pytest.raises(DataFileError) as info:
        load_data(_File, "version: 1\nkind: [card\n", "x.yaml")
    assert info.value.issues[0].line is not None
    assert "YAML syntax error" in str(info.value)
