"""Risk rules: loading and validating rules.yaml and the payee blacklist.

The risk team edits ``data/rules.yaml``; this module turns it into frozen,
precompiled rules (:mod:`voice_agent.risk.model`) once at start-up. Its
shape is :class:`RulesFile` (pydantic, loaded by :mod:`models.datafile`),
so a file it cannot trust (unknown flag code, bad level, missing key, a term
set used before it is defined) is refused with every problem at once, each
with the file, the line, the key and the valid choices. Each term's
toneless pinyin is computed here, once, so matching
(:mod:`voice_agent.risk.matching`) never calls pypinyin on rule words.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    StrictBool,
    StrictInt,
    StringConstraints,
    create_model,
    model_validator,
)

from models.datafile import (
    DataFileError,
    DataIssue,
    DataModel,
    Number,
    Parsed,
    Path_,
    data_lines,
    one_of,
    parse_data,
    read_text,
    validate_rows,
)
from models.text import phrase_pinyin
from voice_agent.risk.model import (
    ALL_FLAGS,
    CUSTOMER_FLAGS,
    FLAG_CATEGORY,
    FRAUD_FLAGS,
    TRANSACTION_FLAGS,
    Combination,
    CueSet,
    FlagRule,
    FraudLevels,
    LevelPolicy,
    PartRules,
    Pattern,
    RuleSet,
    Term,
    TransactionRules,
)
from voice_agent.risk.profiles import AccountNumber
from voice_agent.risk.types import RISK_LEVELS

__all__ = ["RulesFile", "load_blacklist", "load_rules"]


# ------------------------------------------------------------------ the shape


def _term_text(value: str) -> str:
    if value in ("@", "="):
        raise ValueError(f"a term must be a word after {value!r}")
    return value


def _as_group(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
# A phrasing, "=phrasing" (characters only) or "@set" (a named set of them).
_TermText = Annotated[_Text, AfterValidator(_term_text)]
# A term or a list of terms: one word from it must occur.
_Group = Annotated[tuple[_TermText, ...], BeforeValidator(_as_group), Field(min_length=1)]
_Level = Annotated[str, one_of(RISK_LEVELS, "level")]
_Code = Annotated[str, one_of(ALL_FLAGS, "flag code")]
_FraudCode = Annotated[str, one_of(FRAUD_FLAGS, "fraud flag code")]
_Intents = tuple[_Text, ...]


class _Pattern(DataModel):
    """``{any: [...]}`` or ``{all: [group, group, ...], within: N}``."""

    any: Annotated[tuple[_TermText, ...], Field(min_length=1)] | None = None
    all: Annotated[tuple[_Group, ...], Field(min_length=2)] | None = None
    within: Annotated[StrictInt, Field(ge=1)] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> _Pattern:
        if (self.any is None) == (self.all is None):
            raise ValueError("give exactly one of 'any' or 'all'")
        return self


_Patterns = tuple[_Pattern, ...]


class _CueSet(DataModel):
    cues: Annotated[_Patterns, Field(min_length=1)]
    not_within: _Patterns = ()
    not_if: _Patterns = ()


class _Flag(DataModel):
    name: _Text
    weight: Annotated[Number, Field(ge=0, lt=1)]
    advice: _Text
    enabled: StrictBool = True


class _FraudFlag(_Flag, _CueSet):
    category: Literal["fraud"]
    scripts: _Patterns = ()


class _LargeAmount(DataModel):
    threshold: StrictInt
    intents: _Intents


class _UnusualAmount(DataModel):
    max_multiple: Number
    median_multiple: Number
    min_past_transfers: StrictInt
    intents: _Intents


class _NewPayee(DataModel):
    intents: _Intents


class _NoParams(DataModel):
    pass


# "raise" is a Python keyword: the model is made so the file's key stays "raise".
_LIMIT_RAISE_FIELDS: dict[str, Any] = {
    "limit_intents": (_Intents, ...),
    "transfer_intents": (_Intents, ...),
    "raise": (_CueSet, ...),
    "lower": (_CueSet, ...),
    "transfer": (_CueSet, ...),
}
_LimitRaise = create_model("_LimitRaise", __base__=DataModel, **_LIMIT_RAISE_FIELDS)


class _Elderly(DataModel):
    min_age: StrictInt
    intents: _Intents
    with_fraud_flags: StrictBool


class _Repeated(DataModel):
    min_earlier: StrictInt
    intents: _Intents
    cues: _CueSet


# The parameters each transaction or customer flag takes.
_PARAMS: dict[str, type[DataModel]] = {
    "large_amount": _LargeAmount,
    "unusual_amount": _UnusualAmount,
    "new_payee": _NewPayee,
    "blacklisted_payee": _NoParams,
    "limit_raise_before_transfer": _LimitRaise,
    "elderly": _Elderly,
    "repeated_attempts": _Repeated,
}
assert set(_PARAMS) == set(TRANSACTION_FLAGS + CUSTOMER_FLAGS)


def _flag_model(code: str) -> type[DataModel]:
    """The shape of one flag's entry: its category fixed, its own parameters."""
    if FLAG_CATEGORY[code] == "fraud":
        return _FraudFlag
    params = _PARAMS[code]
    fields: dict[str, Any] = {
        "category": (Annotated[str, one_of((FLAG_CATEGORY[code],), "category")], ...),
        "params": (params, params() if not params.model_fields else ...),
    }
    return create_model(f"_Flag_{code}", __base__=_Flag, **fields)


# One key per flag code of taxonomy.md, each required: a missing or
# misspelt code is named with the valid ones.
_FLAG_FIELDS: dict[str, Any] = {code: (_flag_model(code), ...) for code in ALL_FLAGS}
_Flags = create_model("_Flags", __base__=DataModel, **_FLAG_FIELDS)


_Codes = Annotated[tuple[_Code, ...], Field(min_length=1)]


class _Combination(DataModel):
    any_of: Annotated[
        tuple[Annotated[tuple[_Code, ...], Field(min_length=1)], ...], Field(min_length=1)
    ]
    min_level: _Level


class _FraudLevels(DataModel):
    high_harm: tuple[_FraudCode, ...]
    note: _Level
    script: _Level
    ask: _Level
    ask_high_harm: _Level


class _Levels(DataModel):
    thresholds: Annotated[dict[_Level, Annotated[Number, Field(gt=0, le=1)]], Field(min_length=1)]
    high_flags: tuple[_Code, ...] = ()
    supporting_cues: tuple[_FraudCode, ...] = ()
    combinations: tuple[_Combination, ...] = ()
    fraud: _FraudLevels


_Kinds = Annotated[dict[str, _CueSet], Field(min_length=1)]


class _Parts(DataModel):
    pretext: _Kinds
    ask: _Kinds
    pressure: _Kinds
    # what takes the tactics out of the level: a warning heard, a request checked
    defuse: dict[str, _CueSet] = Field(default_factory=dict)


class RulesFile(DataModel):
    """The shape of ``rules.yaml`` (validated with file, line and choices)."""

    version: Literal[1] = 1
    pinyin_min_chars: Annotated[StrictInt, Field(ge=1)] = 2
    terms: dict[str, Annotated[tuple[_TermText, ...], Field(min_length=1)]] = Field(
        default_factory=dict
    )
    parts: _Parts
    flags: _Flags  # type: ignore[valid-type]
    levels: _Levels
    # The learned detector's thresholds; voice_agent.risk.semantic_data validates them.
    semantic: Any = None


# ---------------------------------------------------------------- compiling


class _Compiler:
    """Turns the validated file into matching terms; notes every problem it finds."""

    def __init__(self, parsed: Parsed[RulesFile]) -> None:
        self.parsed = parsed
        self.pinyin_min_chars = parsed.data.pinyin_min_chars
        self.sets: dict[str, tuple[Term, ...]] = {}
        self.terms: dict[tuple[str, bool], Term] = {}
        self.issues: list[DataIssue] = []

    def fail(self, path: Path_, message: str, choices: Sequence[str] = ()) -> None:
        self.issues.append(self.parsed.issue(path, message, choices))

    def term(self, raw: str, path: Path_) -> tuple[Term, ...]:
        if raw.startswith("@"):
            if raw[1:] not in self.sets:
                self.fail(path, f"unknown term set {raw!r}", ["@" + s for s in self.sets])
                return ()
            return self.sets[raw[1:]]
        chars_only = raw.startswith("=")
        text = (raw[1:] if chars_only else raw).lower()
        cached = self.terms.get((text, chars_only))
        if cached is not None:
            return (cached,)
        pinyin, syllables = "", 0
        if not chars_only and len(text) >= self.pinyin_min_chars:
            syl = phrase_pinyin(text)
            # Latin words (app) match by characters only.
            same_length = len(syl) == len(text) and not text.isascii()
            if same_length and all(s.isalpha() and s.isascii() for s in syl):
                pinyin, syllables = " " + " ".join(syl) + " ", len(syl)
        made = Term(text, pinyin, syllables)
        self.terms[(text, chars_only)] = made
        return (made,)

    def group(self, items: Sequence[str], path: Path_) -> tuple[Term, ...]:
        out: list[Term] = []
        for i, item in enumerate(items):
            for t in self.term(item, (*path, i)):
                if t not in out:
                    out.append(t)
        return tuple(out)

    def pattern(self, p: _Pattern, path: Path_) -> Pattern:
        if p.any is not None:
            return Pattern((self.group(p.any, (*path, "any")),), p.within)
        groups = p.all or ()
        return Pattern(
            tuple(self.group(g, (*path, "all", i)) for i, g in enumerate(groups)), p.within
        )

    def patterns(self, ps: Sequence[_Pattern], path: Path_) -> tuple[Pattern, ...]:
        return tuple(self.pattern(p, (*path, i)) for i, p in enumerate(ps))

    def cueset(self, c: _CueSet, path: Path_) -> CueSet:
        return CueSet(
            self.patterns(c.cues, (*path, "cues")),
            self.patterns(c.not_within, (*path, "not_within")),
            self.patterns(c.not_if, (*path, "not_if")),
        )


def load_rules(path: Path | None = None) -> RuleSet:
    """Load, validate and compile a rules file; None loads the shipped rules.yaml.

    Raises:
        ConfigError: the file cannot be read or parsed, or keys are invalid;
            every problem is named with the file, the line, the key and the
            valid choices.
    """
    text, where = read_text(path, "voice_agent.risk", "rules.yaml", "rules file")
    parsed = parse_data(RulesFile, text, where)
    f = parsed.data
    ld = _Compiler(parsed)
    for name, items in f.terms.items():  # in file order, so a set may use an earlier one
        ld.sets[name] = ld.group(items, ("terms", name))

    flags: dict[str, FlagRule] = {}
    for code in ALL_FLAGS:
        spec = getattr(f.flags, code)
        key: Path_ = ("flags", code)
        if isinstance(spec, _FraudFlag):
            cueset = ld.cueset(spec, key)
            # A script is matched like a cue, with the flag's own hard negatives.
            scripts = CueSet(
                ld.patterns(spec.scripts, (*key, "scripts")), cueset.not_within, cueset.not_if
            )
        else:
            cueset = scripts = CueSet()
        flags[code] = FlagRule(
            code, spec.category, spec.name, float(spec.weight), spec.advice, spec.enabled,
            cueset, scripts,
        )  # fmt: skip

    transaction = _transaction(ld, f.flags)
    levels = _levels(ld, f.levels, {c: r.weight for c, r in flags.items()})
    kinds = {
        part: {k: ld.cueset(c, ("parts", part, k)) for k, c in getattr(f.parts, part).items()}
        for part in ("pretext", "ask", "pressure", "defuse")
    }
    parts = PartRules(kinds["pretext"], kinds["ask"], kinds["pressure"], kinds["defuse"])
    if ld.issues:
        raise DataFileError(where, ld.issues)
    return RuleSet(where, flags, transaction, levels, parts, tuple(ld.terms.values()))


def _transaction(ld: _Compiler, flags: Any) -> TransactionRules:
    def p(code: str) -> Any:
        return getattr(flags, code).params

    def at(code: str, *rest: str) -> Path_:
        return ("flags", code, "params", *rest)

    lr, ra, ua = p("limit_raise_before_transfer"), p("repeated_attempts"), p("unusual_amount")
    return TransactionRules(
        large_threshold=p("large_amount").threshold,
        large_intents=p("large_amount").intents,
        unusual_max_multiple=float(ua.max_multiple),
        unusual_median_multiple=float(ua.median_multiple),
        unusual_min_past=ua.min_past_transfers,
        unusual_intents=ua.intents,
        new_payee_intents=p("new_payee").intents,
        limit_intents=lr.limit_intents,
        limit_transfer_intents=lr.transfer_intents,
        limit_raise=ld.cueset(getattr(lr, "raise"), at("limit_raise_before_transfer", "raise")),
        limit_lower=ld.cueset(lr.lower, at("limit_raise_before_transfer", "lower")),
        transfer_words=ld.cueset(lr.transfer, at("limit_raise_before_transfer", "transfer")),
        elderly_min_age=p("elderly").min_age,
        elderly_intents=p("elderly").intents,
        elderly_with_fraud=p("elderly").with_fraud_flags,
        repeated_min_earlier=ra.min_earlier,
        repeated_intents=ra.intents,
        repeated_cues=ld.cueset(ra.cues, at("repeated_attempts", "cues")),
    )


def _levels(ld: _Compiler, raw: _Levels, weights: dict[str, float]) -> LevelPolicy:
    thresholds = sorted(
        ((level, float(m)) for level, m in raw.thresholds.items()),
        key=lambda lv: RISK_LEVELS.index(lv[0]),
    )
    if [m for _, m in thresholds] != sorted(m for _, m in thresholds):
        ld.fail(("levels", "thresholds"), "higher levels need higher minimum scores")
    fraud = raw.fraud
    return LevelPolicy(
        weights=weights,
        thresholds=tuple(thresholds),
        high_flags=frozenset(raw.high_flags),
        supporting_cues=frozenset(raw.supporting_cues),
        combinations=tuple(Combination(c.any_of, c.min_level) for c in raw.combinations),
        fraud=FraudLevels(
            frozenset(fraud.high_harm), fraud.note, fraud.script, fraud.ask, fraud.ask_high_harm
        ),
    )


class _BlacklistRow(DataModel):
    account: AccountNumber


def load_blacklist(path: Path | None = None) -> frozenset[str]:
    """Read blacklisted payee accounts (one per line, '#' comments); None = shipped list.

    Raises:
        ConfigError: unreadable file, or lines that are not 16-19 digit
            accounts (every one, at file:line).
    """
    text, where = read_text(path, "voice_agent.risk", "blacklist.txt", "blacklist")
    issues: list[DataIssue] = []
    rows = ((n, {"account": line.strip().replace(" ", "")}) for n, line in data_lines(text))
    accounts = validate_rows(_BlacklistRow, rows, where, issues)
    if issues:
        raise DataFileError(where, issues)
    return frozenset(row.account for _, row in accounts)
