"""One loader for the teams' data files: every problem, with file, line and choices."""

from __future__ import annotations

from typing import Annotated, Literal

import pytest

from models.datafile import (
    DataFileError,
    DataIssue,
    DataModel,
    Number,
    data_lines,
    json_rows,
    load_data,
    one_of,
    parse_data,
    validate_rows,
)


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


class _Row(DataModel):
    code: Annotated[str, one_of(("a", "b"), "code")]
    count: Number


def test_rows_are_checked_one_by_one_at_their_lines() -> None:
    text = "# comment\na 1\n\nz 2  # trailing\nb yes\n"
    issues: list[DataIssue] = []
    rows = (
        (n, dict(zip(("code", "count"), line.split(), strict=True))) for n, line in data_lines(text)
    )
    good = validate_rows(_Row, rows, "x.txt", issues)
    assert [(n, r.code, r.count) for n, r in good] == [(2, "a", 1.0)]
    assert [(i.line, i.where, i.choices) for i in issues] == [
        (4, "code", ("a", "b")),
        (5, "count", ()),
    ]
    assert str(issues[0]) == "x.txt:4: code: unknown code 'z' (valid: a, b)"


def test_a_number_is_never_a_boolean() -> None:
    issues: list[DataIssue] = []
    validate_rows(_Row, [(1, {"code": "a", "count": True})], "x.txt", issues)
    assert [(i.line, i.message) for i in issues] == [(1, "must be a number, not true/false")]


def test_json_lines_name_the_line_that_is_not_json() -> None:
    issues: list[DataIssue] = []
    rows = list(json_rows('{"code": "a", "count": 1}\n{nope\n', "x.jsonl", issues))
    assert rows == [(1, {"code": "a", "count": 1})]
    assert str(issues[0]).startswith("x.jsonl:2: not valid JSON")


def test_a_json_document_reports_json_syntax_with_its_line() -> None:
    with pytest.raises(DataFileError) as info:
        load_data(_File, '{"version": 1,\n "kind": }\n', "x.json")
    assert info.value.issues[0].line == 2
    assert "JSON syntax error" in str(info.value)


def test_dict_keys_and_list_items_are_placed_and_named() -> None:
    class _Keys(DataModel):
        flags: dict[Annotated[str, one_of(("x", "y"), "flag")], tuple[int, ...]]

    text = "flags:\n  x: [1, 2]\n  q: [3]\n  y:\n    - 4\n    - five\n"
    with pytest.raises(DataFileError) as info:
        load_data(_Keys, text, "k.yaml")
    issues = {i.where: i for i in info.value.issues}
    assert issues["flags.q"].line == 3 and issues["flags.q"].choices == ("x", "y")
    assert issues["flags.y[1]"].line == 6


def test_a_loader_adds_its_own_checks_on_the_same_lines() -> None:
    parsed = parse_data(_File, GOOD, "x.yaml")
    issue = parsed.issue(("media", "card", "words", 0), "defined twice", ("卡",))
    assert str(issue) == "x.yaml:5: media.card.words[0]: defined twice (valid: 卡)"
