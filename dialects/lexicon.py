"""Load and validate the Shanghainese→Mandarin lexicon (dialects/data/lexicon.tsv).

The lexicon is data the product team edits, so it is validated once at
start-up and every mistake is reported with the file, the line and the valid
choices; the normaliser then works only with the frozen values built here.
The file format is described in the TSV's header comments and in
dialects/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator

from models.datafile import (
    DataFileError,
    DataIssue,
    DataModel,
    data_lines,
    one_of,
    read_text,
    validate_rows,
)

COLUMNS = ("wu", "mandarin", "category", "strength", "kind", "context", "evidence")
CATEGORIES = (
    "pronoun",
    "question",
    "demonstrative",
    "negation",
    "verb",
    "adverb",
    "adj",
    "particle",
    "prep",
    "conj",
    "time",
    "money",
    "risk",
    "noun",
    "relation",
    "phrase",
)
STRENGTHS = ("strong", "weak")
KINDS = ("lexicon", "asr_homophone")
CONTEXT_KEYS = ("dialect", "next=", "not_next=", "prev=", "not_prev=")
BOUNDARY = "$"
"""List item meaning start/end of text, punctuation or white space."""

_FORBIDDEN_IN_WORD = set("/|;=@$()（） \t")


@dataclass(frozen=True)
class ContextRule:
    """When a lexicon entry may be applied at a match.

    Weak entries are ordinary Mandarin words too (个, 老, 讲), so they are only
    applied where their surroundings make the Wu reading certain; the rule is
    checked against the *original* text so results do not depend on the order
    of replacements.

    Attributes:
        source: the rule as written in the file (``-`` for none).
        dialect: apply only in an utterance that already has a strong marker.
        next: the text after the match must start with one of these (empty: any).
        not_next: ... must not start with any of these.
        prev: the text before the match must end with one of these (empty: any).
        not_prev: ... must not end with any of these.
    """

    source: str = "-"
    dialect: bool = False
    next: tuple[str, ...] = ()
    not_next: tuple[str, ...] = ()
    prev: tuple[str, ...] = ()
    not_prev: tuple[str, ...] = ()

    def allows(self, text: str, start: int, end: int, in_dialect: bool) -> bool:
        """Whether the entry may replace ``text[start:end]``.

        Args:
            text: the whole original utterance.
            start: offset of the match.
            end: end offset (exclusive) of the match.
            in_dialect: whether the utterance already has a strong marker.
        """
        if self.dialect and not in_dialect:
            return False
        if self.next and not any(_follows(text, end, w) for w in self.next):
            return False
        if any(_follows(text, end, w) for w in self.not_next):
            return False
        if self.prev and not any(_precedes(text, start, w) for w in self.prev):
            return False
        return not any(_precedes(text, start, w) for w in self.not_prev)


def _is_boundary(ch: str) -> bool:
    # Punctuation and spaces end a clause; letters, digits and Han characters do not.
    return not ch.isalnum()


def _follows(text: str, end: int, word: str) -> bool:
    if word == BOUNDARY:
        return end >= len(text) or _is_boundary(text[end])
    return text.startswith(word, end)


def _precedes(text: str, start: int, word: str) -> bool:
    if word == BOUNDARY:
        return start == 0 or _is_boundary(text[start - 1])
    return text.endswith(word, 0, start)


@dataclass(frozen=True)
class LexiconEntry:
    """One row of the lexicon: a Wu form and its Mandarin meaning.

    Attributes:
        wu: the Wu word, or Whisper's near-homophone of one (超票).
        mandarin: Mandarin alternatives; the first is the replacement.
        category: part of speech or topic (pronoun, money, risk ...).
        strength: ``strong`` marks Shanghainese on its own; ``weak`` is also Mandarin.
        kind: ``lexicon`` (a Wu word) or ``asr_homophone``.
        context: when the entry may be applied.
        evidence: source codes the pair was checked against (see the TSV header).
        line: 1-based line number in the lexicon file, for error messages.
    """

    wu: str
    mandarin: tuple[str, ...]
    category: str
    strength: str
    kind: str
    context: ContextRule
    evidence: tuple[str, ...]
    line: int

    @property
    def replacement(self) -> str:
        """The Mandarin text that replaces ``wu``."""
        return self.mandarin[0]

    @property
    def strong(self) -> bool:
        """Whether this entry alone marks an utterance as Shanghainese."""
        return self.strength == "strong"


@dataclass(frozen=True)
class Lexicon:
    """All entries of one lexicon file, in file order.

    Attributes:
        source: the file the entries came from (for messages and reports).
        entries: the entries in file order (order breaks ties between forms
            of equal length).
        classes: the word classes (name, members) the context rules used.
    """

    source: str
    entries: tuple[LexiconEntry, ...]
    classes: tuple[tuple[str, tuple[str, ...]], ...] = ()


def _one_form(word: str) -> str:
    bad = sorted(set(word) & _FORBIDDEN_IN_WORD)
    if not word or bad:
        allowed = " ".join(sorted(_FORBIDDEN_IN_WORD - {" ", chr(9)}))
        raise ValueError(
            f"{word!r} must be one written form without {allowed} or spaces; "
            "put variants on rows of their own"
        )
    return word


def _split_alternatives(value: Any) -> Any:
    return tuple(a.strip() for a in value.split("/")) if isinstance(value, str) else value


def _alternatives(value: tuple[str, ...]) -> tuple[str, ...]:
    if not value or any(not a for a in value):
        raise ValueError(f"{'/'.join(value)!r} needs alternatives separated by '/'")
    return value


def _evidence(value: str) -> str:
    if not value:
        raise ValueError("evidence is empty; give a source code (U if unverified)")
    return value


class _Row(DataModel):
    """One lexicon row as written; the context is read against the file's word classes."""

    wu: Annotated[str, AfterValidator(_one_form)]
    mandarin: Annotated[
        tuple[str, ...], BeforeValidator(_split_alternatives), AfterValidator(_alternatives)
    ]
    category: Annotated[str, one_of(CATEGORIES, "category")]
    strength: Annotated[str, one_of(STRENGTHS, "strength")]
    kind: Annotated[str, one_of(KINDS, "kind")]
    context: str
    evidence: Annotated[str, AfterValidator(_evidence)]


def load_lexicon(path: Path | None = None) -> Lexicon:
    """Read and validate a lexicon file.

    Args:
        path: a lexicon TSV; None loads the one shipped with the package.

    Raises:
        ConfigError: the file cannot be read or rows are invalid; every
            problem is named with the file, the line and the valid choices.
    """
    text, source = read_text(path, "dialects", "lexicon.tsv", "the dialect lexicon")
    return parse_lexicon(text, source)


def parse_lexicon(text: str, source: str) -> Lexicon:
    """Parse and validate lexicon TSV text.

    Args:
        text: the file's contents.
        source: the file name used in error messages.

    Raises:
        ConfigError: rows are invalid; every problem names ``source`` and the line.
    """
    issues: list[DataIssue] = []
    lines = [
        (n, [c.strip() for c in line.split("\t")])
        for n, line in data_lines(text, "#", inline=False)
    ]
    if not lines or tuple(lines[0][1]) != COLUMNS:
        line, got = lines[0] if lines else (None, [])
        message = (
            f"the first row must be the tab-separated header {' '.join(COLUMNS)!r}, "
            f"got {chr(9).join(got)!r}; is this a lexicon?"
        )
        raise DataFileError(source, [DataIssue(source, line, "", message)])
    classes: dict[str, tuple[str, ...]] = {}
    rows: list[tuple[int, dict[str, str]]] = []
    for n, cells in lines[1:]:
        if cells[0].startswith("@"):
            _word_class(cells, DataIssue(source, n, "", ""), classes, issues)
        elif len(cells) != len(COLUMNS):
            message = (
                f"expected {len(COLUMNS)} tab-separated columns ({', '.join(COLUMNS)}), "
                f"got {len(cells)}"
            )
            issues.append(DataIssue(source, n, "", message))
        else:
            rows.append((n, dict(zip(COLUMNS, cells, strict=True))))

    entries: list[LexiconEntry] = []
    seen: dict[tuple[str, str], int] = {}
    for n, row in validate_rows(_Row, rows, source, issues):
        at = DataIssue(source, n, "context", "")
        context = _parse_context(row.context, at, classes, issues)
        key = (row.wu, context.source)
        if key in seen:
            message = f"{row.wu!r} with context {context.source!r} repeats line {seen[key]}"
            issues.append(DataIssue(source, n, "", message))
        seen.setdefault(key, n)
        entries.append(
            LexiconEntry(
                wu=row.wu,
                mandarin=row.mandarin,
                category=row.category,
                strength=row.strength,
                kind=row.kind,
                context=context,
                evidence=tuple(e.strip() for e in row.evidence.split(",") if e.strip()),
                line=n,
            )
        )
    if not entries and not issues:
        issues.append(DataIssue(source, None, "", "the lexicon has no entries"))
    if issues:
        raise DataFileError(source, issues)
    return Lexicon(source=source, entries=tuple(entries), classes=tuple(classes.items()))


def _word_class(
    cells: list[str],
    at: DataIssue,
    classes: dict[str, tuple[str, ...]],
    issues: list[DataIssue],
) -> None:
    """Read an ``@name<TAB>a|b|c`` row into ``classes``; note what is wrong with it."""
    name = cells[0][1:]
    members = tuple(m.strip() for m in cells[1].split("|")) if len(cells) > 1 else ()
    if not name.isidentifier():
        message = f"word class name {cells[0]!r} must be @ and a plain name"
    elif not members or members == ("",):
        message = f"word class {cells[0]} needs its members, e.g. 我|你|侬"
    elif any(not m for m in members):
        message = f"word class {cells[0]} has an empty member"
    elif name in classes:
        message = f"word class @{name} is defined twice"
    else:
        classes[name] = members
        return
    issues.append(DataIssue(at.source, at.line, "", message))


def _parse_context(
    text: str, at: DataIssue, classes: dict[str, tuple[str, ...]], issues: list[DataIssue]
) -> ContextRule:
    """The context column as a rule; a problem is noted at ``at`` and the rule left empty."""

    def fail(message: str) -> ContextRule:
        issues.append(DataIssue(at.source, at.line, at.where, message))
        return ContextRule()

    if text in ("", "-"):
        return ContextRule()
    dialect = False
    lists: dict[str, tuple[str, ...]] = {}
    for token in (t.strip() for t in text.split(";")):
        if token == "dialect":
            dialect = True
            continue
        key, sep, value = token.partition("=")
        if not sep or f"{key}=" not in CONTEXT_KEYS:
            valid = ", ".join(k + ("..." if k.endswith("=") else "") for k in CONTEXT_KEYS)
            return fail(f"condition {token!r} is not one of {valid}")
        if key in lists:
            return fail(f"condition {key}= is given twice")
        items: list[str] = []
        for item in (i.strip() for i in value.split("|")):
            if not item:
                return fail(f"list {value!r} has an empty item")
            if item.startswith("@"):
                members = classes.get(item[1:])
                if members is None:
                    defined = ", ".join("@" + n for n in classes) or "none"
                    return fail(f"unknown word class {item}; defined in this file: {defined}")
                items.extend(members)
            else:
                items.append(item)
        lists[key] = tuple(dict.fromkeys(items))
    return ContextRule(
        source=text,
        dialect=dialect,
        next=lists.get("next", ()),
        not_next=lists.get("not_next", ()),
        prev=lists.get("prev", ()),
        not_prev=lists.get("not_prev", ()),
    )
