"""Load and validate the Shanghainese→Mandarin lexicon (dialects/data/lexicon.tsv).

The lexicon is data the product team edits, so it is validated once at
start-up and every mistake is reported with the file, the line and the valid
choices; the normaliser then works only with the frozen values built here.
The file format is described in the TSV's header comments and in
dialects/README.md.
"""

from __future__ import annotations

from dataclasses import dataclass
from importlib import resources
from pathlib import Path

from models.errors import ConfigError

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


def shipped_lexicon_text() -> str:
    """The text of the lexicon shipped as package data."""
    return resources.files("dialects").joinpath("data/lexicon.tsv").read_text(encoding="utf-8")


def load_lexicon(path: Path | None = None) -> Lexicon:
    """Read and validate a lexicon file.

    Args:
        path: a lexicon TSV; None loads the one shipped with the package.

    Raises:
        ConfigError: the file cannot be read or a row is invalid; the message
            names the file, the line and the valid choices.
    """
    if path is None:
        return parse_lexicon(shipped_lexicon_text(), "dialects/data/lexicon.tsv")
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read the dialect lexicon: {exc}") from exc
    return parse_lexicon(text, str(path))


def parse_lexicon(text: str, source: str) -> Lexicon:
    """Parse and validate lexicon TSV text.

    Args:
        text: the file's contents.
        source: the file name used in error messages.

    Raises:
        ConfigError: a row is invalid; the message names ``source`` and the line.
    """
    header_seen = False
    classes: dict[str, tuple[str, ...]] = {}
    raw_rows: list[tuple[int, list[str]]] = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        line = raw.rstrip("\r\n")
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        cells = [c.strip() for c in line.split("\t")]
        where = f"{source}:{lineno}"
        if not header_seen:
            if tuple(cells) != COLUMNS:
                raise ConfigError(
                    f"{where}: the first row must be the tab-separated header "
                    f"{' '.join(COLUMNS)!r}, got {line!r}"
                )
            header_seen = True
            continue
        if cells[0].startswith("@"):
            name, members = _parse_class(cells, where)
            if name in classes:
                raise ConfigError(f"{where}: word class @{name} is defined twice")
            classes[name] = members
            continue
        raw_rows.append((lineno, cells))
    if not header_seen:
        raise ConfigError(f"{source}: no header row {' '.join(COLUMNS)!r}; is this a lexicon?")

    entries: list[LexiconEntry] = []
    seen: dict[tuple[str, str], int] = {}
    for lineno, cells in raw_rows:
        where = f"{source}:{lineno}"
        entry = _parse_row(cells, where, lineno, classes)
        key = (entry.wu, entry.context.source)
        if key in seen:
            raise ConfigError(
                f"{where}: {entry.wu!r} with context {entry.context.source!r} "
                f"repeats line {seen[key]}"
            )
        seen[key] = lineno
        entries.append(entry)
    if not entries:
        raise ConfigError(f"{source}: the lexicon has no entries")
    return Lexicon(source=source, entries=tuple(entries), classes=tuple(classes.items()))


def _parse_class(cells: list[str], where: str) -> tuple[str, tuple[str, ...]]:
    name = cells[0][1:]
    if not name.isidentifier():
        raise ConfigError(f"{where}: word class name {cells[0]!r} must be @ and a plain name")
    if len(cells) < 2 or not cells[1]:
        raise ConfigError(f"{where}: word class {cells[0]} needs its members, e.g. 我|你|侬")
    members = tuple(m.strip() for m in cells[1].split("|"))
    if any(not m for m in members):
        raise ConfigError(f"{where}: word class {cells[0]} has an empty member")
    return name, members


def _parse_row(
    cells: list[str], where: str, lineno: int, classes: dict[str, tuple[str, ...]]
) -> LexiconEntry:
    if len(cells) != len(COLUMNS):
        raise ConfigError(
            f"{where}: expected {len(COLUMNS)} tab-separated columns "
            f"({', '.join(COLUMNS)}), got {len(cells)}"
        )
    wu, mandarin, category, strength, kind, context, evidence = cells
    _check_word(wu, "wu", where)
    alternatives = tuple(a.strip() for a in mandarin.split("/"))
    if not alternatives or any(not a for a in alternatives):
        raise ConfigError(f"{where}: mandarin {mandarin!r} needs alternatives separated by '/'")
    _check_choice(category, "category", CATEGORIES, where)
    _check_choice(strength, "strength", STRENGTHS, where)
    _check_choice(kind, "kind", KINDS, where)
    if not evidence:
        raise ConfigError(f"{where}: evidence is empty; give a source code (U if unverified)")
    return LexiconEntry(
        wu=wu,
        mandarin=alternatives,
        category=category,
        strength=strength,
        kind=kind,
        context=_parse_context(context, where, classes),
        evidence=tuple(e.strip() for e in evidence.split(",") if e.strip()),
        line=lineno,
    )


def _check_word(word: str, column: str, where: str) -> None:
    bad = sorted(set(word) & _FORBIDDEN_IN_WORD)
    if not word or bad:
        raise ConfigError(
            f"{where}: {column} {word!r} must be one written form without "
            f"{' '.join(sorted(_FORBIDDEN_IN_WORD - {' ', chr(9)}))} or spaces; "
            "put variants on rows of their own"
        )


def _check_choice(value: str, column: str, choices: tuple[str, ...], where: str) -> None:
    if value not in choices:
        raise ConfigError(f"{where}: {column} {value!r} is not one of {', '.join(choices)}")


def _parse_context(text: str, where: str, classes: dict[str, tuple[str, ...]]) -> ContextRule:
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
            raise ConfigError(
                f"{where}: context condition {token!r} is not one of "
                f"{', '.join(k + ('...' if k.endswith('=') else '') for k in CONTEXT_KEYS)}"
            )
        if key in lists:
            raise ConfigError(f"{where}: context condition {key}= is given twice")
        lists[key] = _expand_items(value, where, classes)
    return ContextRule(
        source=text,
        dialect=dialect,
        next=lists.get("next", ()),
        not_next=lists.get("not_next", ()),
        prev=lists.get("prev", ()),
        not_prev=lists.get("not_prev", ()),
    )


def _expand_items(value: str, where: str, classes: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
    items: list[str] = []
    for item in (i.strip() for i in value.split("|")):
        if not item:
            raise ConfigError(f"{where}: context list {value!r} has an empty item")
        if item.startswith("@"):
            members = classes.get(item[1:])
            if members is None:
                defined = ", ".join("@" + n for n in classes) or "none"
                raise ConfigError(
                    f"{where}: unknown word class {item}; defined in this file: {defined}"
                )
            items.extend(members)
        else:
            items.append(item)
    return tuple(dict.fromkeys(items))
