"""One way to load and check a data file the product or risk team edits.

A data file is parsed once with its line numbers, then validated by a
pydantic model that describes its shape. Every problem is reported at once,
each with the file, the line, where in the file (``media.card.words``) and,
when there is a closed set, the valid choices, the way ``frontdesk intents
check`` reports a catalog: a reviewer fixes a file in one pass.

Two kinds of file:

* a document (YAML, or JSON, which YAML reads too): :func:`load_data`, or
  :func:`parse_data` when the loader has checks of its own to add (a name
  defined twice, a set used before it is defined), reported the same way
  through :meth:`Parsed.issue`;
* a file of rows, one record a line (a TSV, JSON lines, a list of
  accounts): the loader splits the lines and :func:`validate_rows` checks
  each record, every problem at ``file:line``.

Closed sets that come from data (flag codes, topics) use :func:`one_of`,
so an unknown value lists the valid ones like a ``Literal`` does. This is
the one place that formats these errors.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Generic, TypeVar, get_args

import yaml
from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError
from pydantic_core import PydanticCustomError

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
        where = f"{self.where}: " if self.where else ""  # "": the whole line is the place
        valid = f" (valid: {', '.join(self.choices)})" if self.choices else ""
        return f"{at}: {where}{self.message}{valid}"


class DataFileError(ConfigError):
    """A data file failed validation; ``issues`` lists every problem."""

    def __init__(self, source: str, issues: Sequence[DataIssue]) -> None:
        self.source = source
        self.issues = list(issues)
        super().__init__(f"{len(issues)} problem(s) in {source}: " + "; ".join(map(str, issues)))


def read_text(path: Path | None, package: str, name: str, what: str) -> tuple[str, str]:
    """Return ``(text, where)`` for ``path``, or the shipped ``<package>/data/<name>`` when None.

    Args:
        path: a configured file, or None for the copy shipped in the package.
        package: the package the shipped copy lives in (``voice_agent.risk``).
        name: the shipped file's name under the package's ``data/``.
        what: what the file is, for the error message ("rules file", "blacklist").

    Raises:
        ConfigError: the file cannot be read; the message starts with its name.
    """
    if path is None:
        where = f"{package.replace('.', '/')}/data/{name}"
        try:
            return (resources.files(package) / "data" / name).read_text(encoding="utf-8"), where
        except (OSError, UnicodeDecodeError) as exc:
            raise ConfigError(f"{where}: cannot read the shipped {what}") from exc
    where = str(path)
    try:
        return Path(path).read_text(encoding="utf-8"), where
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{where}: cannot read {what}: {exc}") from exc


def _not_bool(value: Any) -> Any:
    # YAML reads yes/no/true as booleans, which pydantic would take as 1 and 0.
    if isinstance(value, bool):
        raise ValueError("must be a number, not true/false")
    return value


#: A number in a data file (an int or a float, never true/false).
Number = Annotated[float, BeforeValidator(_not_bool)]


def one_of(choices: Sequence[str], what: str) -> AfterValidator:
    """A validator for a closed set that comes from data (``Annotated[str, one_of(...)]``).

    An unknown value is reported as ``unknown <what> 'x'`` with the valid
    choices, as a ``Literal`` would be; it also works on dict keys.
    """
    valid = tuple(choices)

    def check(value: str) -> str:
        if value not in valid:
            raise PydanticCustomError(
                "one_of", f"unknown {what} '{{value}}'", {"value": value, "choices": valid}
            )
        return value

    return AfterValidator(check)


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
    """The parsed YAML (or JSON) and the line of each key/item path in it.

    Raises:
        DataFileError: not YAML or JSON (with the line of the syntax error).
    """
    if source.endswith(".json"):
        try:  # YAML would take some broken JSON; the file's own syntax decides
            json.loads(text)
        except json.JSONDecodeError as e:
            issue = DataIssue(source, e.lineno, "file", f"JSON syntax error: {e.msg}")
            raise DataFileError(source, [issue]) from e
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


def where_of(path: Path_) -> str:
    """A path as a reader writes it: ``flags.prize_fraud.scripts[0].any``."""
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out or "top level"


def line_of(lines: Mapping[Path_, int], path: Path_) -> int | None:
    """The line of the deepest part of ``path`` the file actually has."""
    return next((lines[path[:i]] for i in range(len(path), -1, -1) if path[:i] in lines), None)


def _issues(
    error: ValidationError,
    model: type[BaseModel],
    source: str,
    lines: Mapping[Path_, int],
    line: int | None = None,
) -> list[DataIssue]:
    """Pydantic's errors as issues; ``line`` places them all (a row), else ``lines`` does."""
    out: list[DataIssue] = []
    for err in error.errors():
        # "[key]" marks an error in a dict key: the key itself is the place.
        loc: Path_ = tuple(p for p in err["loc"] if p != "[key]")
        choices: tuple[str, ...] = ()
        kind = err["type"]
        ctx = err.get("ctx") or {}
        if kind in ("extra_forbidden", "missing"):
            choices = _field_names(model, loc[:-1])
        elif kind in ("literal_error", "enum"):
            expected = str(ctx.get("expected", ""))
            choices = tuple(
                c.strip().strip("'\"") for c in expected.replace(" or ", ",").split(",")
            )
            choices = tuple(c for c in choices if c)
        elif kind == "one_of":
            choices = tuple(ctx["choices"])
        message = {"extra_forbidden": "unknown key", "missing": "missing key"}.get(kind, err["msg"])
        if kind == "value_error":  # a validator's own words, without pydantic's prefix
            message = str(ctx.get("error", message))
        at = line if line is not None else line_of(lines, loc)
        out.append(DataIssue(source, at, where_of(loc), message, choices))
    return out


@dataclass(frozen=True)
class Parsed(Generic[M]):
    """A validated document and where each part of it was, for the loader's own checks."""

    data: M
    source: str
    lines: Mapping[Path_, int]

    def issue(self, path: Path_, message: str, choices: Iterable[str] = ()) -> DataIssue:
        """A problem at ``path`` (``("flags", "loan_fraud", "cues", 0)``), placed on its line."""
        return DataIssue(
            self.source, line_of(self.lines, path), where_of(path), message, tuple(choices)
        )


def parse_data(model: type[M], text: str, source: str) -> Parsed[M]:
    """Like :func:`load_data`, keeping the line map for the loader's own checks.

    Raises:
        DataFileError: every problem, each with file, line, path and choices.
    """
    data, lines = parse_yaml(text, source)
    try:
        return Parsed(model.model_validate(data), source, lines)
    except ValidationError as e:
        raise DataFileError(source, _issues(e, model, source, lines)) from e


def load_data(model: type[M], text: str, source: str) -> M:
    """Parse ``text`` (YAML) and validate it as ``model``.

    Args:
        model: the file's shape (a :class:`DataModel`).
        text: the file's contents.
        source: the file's name, for messages.

    Raises:
        DataFileError: every problem, each with file, line, path and choices.
    """
    return parse_data(model, text, source).data


def data_lines(
    text: str, comment: str | None = "#", inline: bool = True
) -> Iterator[tuple[int, str]]:
    """The 1-based number and text of each line that holds data.

    Blank lines are skipped, and so are comments: everything after
    ``comment``, or (``inline=False``) only lines that start with it. None:
    comments are not allowed, as in JSON lines.
    """
    for number, line in enumerate(text.splitlines(), start=1):
        if comment is not None:
            if inline:
                line = line.split(comment, 1)[0]
            elif line.lstrip().startswith(comment):
                continue
        if line.strip():
            yield number, line


def validate_rows(
    model: type[M], rows: Iterable[tuple[int, Any]], source: str, issues: list[DataIssue]
) -> list[tuple[int, M]]:
    """Validate each ``(line, record)`` row as ``model``; add every problem to ``issues``.

    The rows that passed come back with their lines; the caller raises
    :class:`DataFileError` with ``issues`` (its own included) when any.
    """
    out: list[tuple[int, M]] = []
    for line, record in rows:
        try:
            out.append((line, model.model_validate(record)))
        except ValidationError as e:
            issues.extend(_issues(e, model, source, {}, line))
    return out


def json_rows(text: str, source: str, issues: list[DataIssue]) -> Iterator[tuple[int, Any]]:
    """Each line of a JSON-lines file, parsed; a line that is not JSON becomes an issue."""
    for line, raw in data_lines(text, comment=None):
        try:
            yield line, json.loads(raw)
        except json.JSONDecodeError as e:
            issues.append(DataIssue(source, line, "", f"not valid JSON: {e.msg}"))
