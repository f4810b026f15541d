"""One way to load and check a data file the product or risk team edits.

A data file (YAML) is parsed once with its line numbers, then validated by
a pydantic model that describes its shape. Every problem is reported at
once, each with the file, the line, where in the file (``media.card.words``)
and, when there is a closed set, the valid choices, the way ``frontdesk
intents check`` reports a catalog: a reviewer fixes a file in one pass.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, TypeVar, get_args

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from models.errors import ConfigError

M = TypeVar("M", bound=BaseModel)
Path_ = tuple[str | int, ...]


class DataModel(BaseModel):
    """Base for data-file models: frozen, and unknown keys are errors (typos)."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class DataIssue:
    """One problem in a data file."""

    source: str
    line: int | None
    where: str
    message: str
    choices: tuple[str, ...] = ()

    def __str__(self) -> str:
        at = f"{self.source}:{self.line}" if self.line else self.source
        valid = f" (valid: {', '.join(self.choices)})" if self.choices else ""
        return f"{at}: {self.where}: {self.message}{valid}"


class DataFileError(ConfigError):
    """A data file failed validation; ``issues`` lists every problem."""

    def __init__(self, source: str, issues: list[DataIssue]) -> None:
        self.source = source
        self.issues = issues
        super().__init__(f"{len(issues)} problem(s) in {source}: " + "; ".join(map(str, issues)))


def _lines(node: yaml.Node, path: Path_, out: dict[Path_, int]) -> None:
    """Record the 1-based line of every key and item under ``node``."""
    out[path] = int(node.start_mark.line) + 1
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            child = (*path, str(key.value))
            out[child] = int(key.start_mark.line) + 1
            _lines(value, child, out)
            out[child] = int(key.start_mark.line) + 1
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _lines(item, (*path, i), out)


def parse_yaml(text: str, source: str) -> tuple[Any, Mapping[Path_, int]]:
    """The parsed YAML and the line of each key/item path in it.

    Raises:
        DataFileError: not YAML (with the line of the syntax error).
    """
    try:
        data = yaml.safe_load(text)
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        raise DataFileError(
            source, [DataIssue(source, line, "file", f"YAML syntax error: {e.problem}")]
        ) from e
    except yaml.YAMLError as e:
        raise DataFileError(source, [DataIssue(source, None, "file", f"YAML error: {e}")]) from e
    lines: dict[Path_, int] = {}
    if root is not None:
        _lines(root, (), lines)
    return data, lines


def _model_in(annotation: Any) -> tuple[type[BaseModel] | None, bool]:
    """The model an annotation holds, and whether it sits inside a dict/list/tuple."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation, False
    for arg in get_args(annotation):
        found, _ = _model_in(arg)
        if found is not None:
            return found, True
    return None, False


def _field_names(model: type[BaseModel], path: Path_) -> tuple[str, ...]:
    """The keys the model accepts at ``path`` (for unknown/missing key errors)."""
    current: type[BaseModel] | None = model
    skip = False  # the next part is a dict key or list index, not a field
    for part in path:
        if skip:
            skip = False
            continue
        if current is None or isinstance(part, int):
            return ()
        field = current.model_fields.get(str(part))
        if field is None:
            return ()
        current, skip = _model_in(field.annotation)
    return tuple(current.model_fields) if current is not None and not skip else ()


def _issues(
    error: ValidationError, model: type[BaseModel], source: str, lines: Mapping[Path_, int]
) -> list[DataIssue]:
    out: list[DataIssue] = []
    for err in error.errors():
        loc: Path_ = tuple(err["loc"])
        # The line of the deepest part of the path the file actually has.
        line = next((lines[loc[:i]] for i in range(len(loc), -1, -1) if loc[:i] in lines), None)
        where = ".".join(str(p) for p in loc) or "top level"
        choices: tuple[str, ...] = ()
        kind = err["type"]
        if kind in ("extra_forbidden", "missing"):
            choices = _field_names(model, loc[:-1])
        elif kind in ("literal_error", "enum"):
            expected = str((err.get("ctx") or {}).get("expected", ""))
            choices = tuple(
                c.strip().strip("'\"") for c in expected.replace(" or ", ",").split(",")
            )
            choices = tuple(c for c in choices if c)
        message = {"extra_forbidden": "unknown key", "missing": "missing key"}.get(kind, err["msg"])
        out.append(DataIssue(source, line, where, message, choices))
    return out


def load_data(model: type[M], text: str, source: str) -> M:
    """Parse ``text`` (YAML) and validate it as ``model``.

    Args:
        model: the file's shape (a :class:`DataModel`).
        text: the file's contents.
        source: the file's name, for messages.

    Raises:
        DataFileError: every problem, each with file, line, path and choices.
    """
    data, lines = parse_yaml(text, source)
    try:
        return model.model_validate(data)
    except ValidationError as e:
        raise DataFileError(source, _issues(e, model, source, lines)) from e
