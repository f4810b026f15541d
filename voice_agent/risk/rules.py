"""Risk rules: loading and validating rules.yaml, matching cue patterns.

The risk team edits ``data/rules.yaml``; this module turns it into frozen,
precompiled rules once at start-up and refuses a file it cannot trust
(unknown flag code, bad level, missing key) with a ConfigError naming the
file, the key and the valid choices.

A cue pattern matches on *meaning* rather than one fixed string: ``any``
lists many phrasings, ``all`` needs a word from every group (a police word
AND a money-moving word) within the utterance, and every term also matches
on toneless pinyin, so ASR homophones (公按 for 公安, 验证马 for 验证码)
still hit. ``not_within`` phrases cancel a cue whose words sit inside them
(被骗 inside 怕被骗); ``not_if`` phrases cancel the flag for the utterance.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from models.errors import ConfigError
from models.text import phrase_pinyin, pinyin_syllables
from voice_agent.risk.types import CATEGORIES, RISK_LEVELS

FRAUD_FLAGS = (
    "safe_account",
    "impersonate_authority",
    "impersonate_service",
    "impersonate_acquaintance",
    "investment_fraud",
    "loan_fraud",
    "credit_repair",
    "task_rebate",
    "romance_fraud",
    "remote_control",
    "secrecy_pressure",
    "third_party_instruction",
    "fraud_reported",
)
TRANSACTION_FLAGS = (
    "large_amount",
    "unusual_amount",
    "new_payee",
    "blacklisted_payee",
    "limit_raise_before_transfer",
)
CUSTOMER_FLAGS = ("elderly", "repeated_attempts")
ALL_FLAGS = FRAUD_FLAGS + TRANSACTION_FLAGS + CUSTOMER_FLAGS
FLAG_CATEGORY: dict[str, str] = {
    **{c: "fraud" for c in FRAUD_FLAGS},
    **{c: "transaction" for c in TRANSACTION_FLAGS},
    **{c: "customer" for c in CUSTOMER_FLAGS},
}

# Keys each non-fraud flag accepts under ``params`` (name -> expected type).
PARAM_SCHEMA: dict[str, dict[str, type]] = {
    "large_amount": {"threshold": int, "intents": list},
    "unusual_amount": {
        "max_multiple": float,
        "median_multiple": float,
        "min_past_transfers": int,
        "intents": list,
    },
    "new_payee": {"intents": list},
    "blacklisted_payee": {},
    "limit_raise_before_transfer": {
        "limit_intents": list,
        "transfer_intents": list,
        "raise": dict,
        "lower": dict,
        "transfer": dict,
    },
    "elderly": {"min_age": int, "intents": list, "with_fraud_flags": bool},
    "repeated_attempts": {"min_earlier": int, "intents": list, "cues": dict},
}
_FLAG_KEYS = ("category", "name", "weight", "advice", "enabled", "cues", "not_within", "not_if")
# "semantic" holds the learned detector's thresholds; voice_agent.risk.semantic validates it.
_TOP_KEYS = ("version", "pinyin_min_chars", "terms", "flags", "levels", "semantic")
_LEVEL_KEYS = ("thresholds", "high_flags", "supporting_cues", "fraud_floor", "combinations")
_CUESET_KEYS = ("cues", "not_within", "not_if")


# --------------------------------------------------------------------------- model


@dataclass(frozen=True)
class Term:
    """One phrasing; ``pinyin`` is its padded toneless pinyin, or "" for chars-only."""

    text: str
    pinyin: str
    syllables: int


@dataclass(frozen=True)
class Pattern:
    """A word from every group, non-overlapping, spanning at most ``within`` chars."""

    groups: tuple[tuple[Term, ...], ...]
    within: int | None = None


@dataclass(frozen=True)
class CueSet:
    """Patterns that raise a signal, and the hard negatives that cancel it."""

    cues: tuple[Pattern, ...] = ()
    not_within: tuple[Pattern, ...] = ()
    not_if: tuple[Pattern, ...] = ()


@dataclass(frozen=True)
class FlagRule:
    """One flag's definition: what the teller sees and how it weighs."""

    code: str
    category: str
    name: str
    weight: float
    advice: str
    enabled: bool = True
    cueset: CueSet = CueSet()


@dataclass(frozen=True)
class TransactionRules:
    """Parameters of the transaction and customer flags (see rules.yaml)."""

    large_threshold: int
    large_intents: tuple[str, ...]
    unusual_max_multiple: float
    unusual_median_multiple: float
    unusual_min_past: int
    unusual_intents: tuple[str, ...]
    new_payee_intents: tuple[str, ...]
    limit_intents: tuple[str, ...]
    limit_transfer_intents: tuple[str, ...]
    limit_raise: CueSet
    limit_lower: CueSet
    transfer_words: CueSet
    elderly_min_age: int
    elderly_intents: tuple[str, ...]
    elderly_with_fraud: bool
    repeated_min_earlier: int
    repeated_intents: tuple[str, ...]
    repeated_cues: CueSet


@dataclass(frozen=True)
class Combination:
    """At least ``min_level`` when, for every group, one of its flags is raised."""

    any_of: tuple[tuple[str, ...], ...]
    min_level: str


@dataclass(frozen=True)
class LevelPolicy:
    """How flags become a score and a level (taxonomy.md "Risk level")."""

    weights: Mapping[str, float]
    thresholds: tuple[tuple[str, float], ...]  # ascending: (level, min score)
    high_flags: frozenset[str]
    supporting_cues: frozenset[str]
    fraud_floor: str
    combinations: tuple[Combination, ...]

    def evaluate(self, codes: Iterable[str]) -> tuple[str, float]:
        """Return ``(level, score)`` for a set of raised flag codes.

        The score is a noisy-OR of the flags' weights (independent pieces of
        evidence each close part of the gap to 1). The level is the highest
        of: the score's threshold level, ``high`` for a high flag, the fraud
        floor for any non-supporting fraud flag, and any combination met.
        """
        present = set(codes)
        if not present:
            return "none", 0.0
        miss = 1.0
        for code in present:
            miss *= 1.0 - self.weights.get(code, 0.0)
        score = 1.0 - miss
        rank = 0
        for level, minimum in self.thresholds:
            if score >= minimum:
                rank = max(rank, RISK_LEVELS.index(level))
        if present & self.high_flags:
            rank = RISK_LEVELS.index("high")
        if any(FLAG_CATEGORY.get(c) == "fraud" and c not in self.supporting_cues for c in present):
            rank = max(rank, RISK_LEVELS.index(self.fraud_floor))
        for combo in self.combinations:
            if all(present.intersection(group) for group in combo.any_of):
                rank = max(rank, RISK_LEVELS.index(combo.min_level))
        return RISK_LEVELS[rank], round(score, 4)


@dataclass(frozen=True)
class RuleSet:
    """Everything rules.yaml says, compiled."""

    source: str
    flags: Mapping[str, FlagRule]
    transaction: TransactionRules
    levels: LevelPolicy
    terms: tuple[Term, ...]  # every distinct term, for one pass of matching


# --------------------------------------------------------------------------- matching


@dataclass(frozen=True)
class Match:
    """Where a pattern matched in one text: covering span and its words' spans."""

    start: int
    end: int
    spans: tuple[tuple[int, int], ...]
    words: tuple[str, ...]


Hits = dict[Term, list[tuple[int, int]]]


class TextView:
    """A text prepared for matching: lower-cased characters and per-char pinyin."""

    __slots__ = ("_index", "chars", "pinyin", "text")

    def __init__(self, text: str) -> None:
        self.text = text
        lowered = text.lower()
        self.chars = lowered if len(lowered) == len(text) else text
        tokens = [s if s.strip() else "_" for s in pinyin_syllables(text)]
        index: dict[int, int] = {}
        pos = 1
        for i, tok in enumerate(tokens):
            index[pos] = i
            pos += len(tok) + 1
        self.pinyin = " " + " ".join(tokens) + " "
        self._index = index

    def hits(self, terms: Sequence[Term]) -> Hits:
        """Character spans of every term found by characters or by pinyin."""
        found: Hits = {}
        chars, pinyin = self.chars, self.pinyin
        for term in terms:
            spans: list[tuple[int, int]] = []
            if term.text in chars:
                i = chars.find(term.text)
                while i >= 0:
                    spans.append((i, i + len(term.text)))
                    i = chars.find(term.text, i + 1)
            if term.pinyin and term.pinyin in pinyin:
                p = pinyin.find(term.pinyin)
                while p >= 0:
                    k = self._index.get(p + 1)
                    if k is not None and (k, k + term.syllables) not in spans:
                        spans.append((k, k + term.syllables))
                    p = pinyin.find(term.pinyin, p + 1)
            if spans:
                found[term] = spans
        return found


def _overlaps(a: tuple[int, int], b: tuple[int, int]) -> bool:
    return a[0] < b[1] and b[0] < a[1]


def candidates(pattern: Pattern, hits: Hits, limit: int = 8) -> list[Match]:
    """Every way ``pattern`` matches given ``hits``, shortest first."""
    per_group: list[list[tuple[int, int, str]]] = []
    spans: list[tuple[int, int]]
    for group in pattern.groups:
        by_span: dict[tuple[int, int], str] = {}
        for t in group:
            for span in hits.get(t, ()):
                by_span.setdefault(span, t.text)
        if not by_span:
            return []
        per_group.append([(s, e, w) for (s, e), w in sorted(by_span.items())][:limit])
    out: list[Match] = []
    for combo in itertools.product(*per_group):
        spans = [(s, e) for s, e, _ in combo]
        if any(_overlaps(a, b) for a, b in itertools.combinations(spans, 2)):
            continue
        start = min(s for s, _ in spans)
        end = max(e for _, e in spans)
        if pattern.within is not None and end - start > pattern.within:
            continue
        out.append(Match(start, end, tuple(spans), tuple(w for _, _, w in combo)))
    out.sort(key=lambda m: (m.end - m.start, m.start))
    return out


def find_cue(cueset: CueSet, views: Sequence[tuple[TextView, Hits]]) -> tuple[int, Match] | None:
    """The first unsuppressed cue match as ``(view index, match)``, or None.

    Suppression is judged in the same text the cue matched in: a cue whose
    words overlap a ``not_within`` match is ignored there; any ``not_if``
    match in any view cancels the whole cue set for this utterance.
    """
    for _, hits in views:
        for pattern in cueset.not_if:
            if candidates(pattern, hits, limit=2):
                return None
    for vi, (_, hits) in enumerate(views):
        blocked = [
            (m.start, m.end) for p in cueset.not_within for m in candidates(p, hits, limit=4)
        ]
        for pattern in cueset.cues:
            for m in candidates(pattern, hits):
                if not any(_overlaps(s, b) for s in m.spans for b in blocked):
                    return vi, m
    return None


# --------------------------------------------------------------------------- loading


class _Loader:
    """Validates the raw YAML; every error names the file and the key."""

    def __init__(self, where: str, pinyin_min_chars: int) -> None:
        self.where = where
        self.pinyin_min_chars = pinyin_min_chars
        self.sets: dict[str, tuple[Term, ...]] = {}
        self.terms: dict[tuple[str, bool], Term] = {}

    def fail(self, key: str, message: str, choices: Iterable[str] = ()) -> ConfigError:
        valid = ", ".join(choices)
        return ConfigError(
            f"{self.where}: {key}: {message}" + (f" (valid: {valid})" if valid else "")
        )

    def term(self, raw: Any, key: str) -> tuple[Term, ...]:
        if not isinstance(raw, str) or not raw.strip() or raw.strip() in ("@", "="):
            raise self.fail(key, f"a term must be a non-empty string, got {raw!r}")
        raw = raw.strip()
        if raw.startswith("@"):
            if raw[1:] not in self.sets:
                raise self.fail(key, f"unknown term set {raw!r}", ("@" + s for s in self.sets))
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

    def group(self, raw: Any, key: str) -> tuple[Term, ...]:
        items = raw if isinstance(raw, list) else [raw]
        if not items:
            raise self.fail(key, "a group needs at least one term")
        out: list[Term] = []
        for i, item in enumerate(items):
            for t in self.term(item, f"{key}[{i}]"):
                if t not in out:
                    out.append(t)
        return tuple(out)

    def pattern(self, raw: Any, key: str) -> Pattern:
        kinds = ("any", "all", "within")
        if not isinstance(raw, dict):
            raise self.fail(key, "a pattern must be a mapping with 'any' or 'all'", kinds)
        for k in raw:
            if k not in kinds:
                raise self.fail(f"{key}.{k}", "unknown pattern key", kinds)
        within = raw.get("within")
        if within is not None and (not isinstance(within, int) or within < 1):
            raise self.fail(f"{key}.within", "must be a positive number of characters")
        if ("any" in raw) == ("all" in raw):
            raise self.fail(key, "give exactly one of 'any' or 'all'", ("any", "all"))
        if "any" in raw:
            if not isinstance(raw["any"], list):
                raise self.fail(f"{key}.any", "must be a list of terms")
            return Pattern((self.group(raw["any"], f"{key}.any"),), within)
        groups = raw["all"]
        if not isinstance(groups, list) or len(groups) < 2:
            raise self.fail(f"{key}.all", "must list at least two groups")
        return Pattern(
            tuple(self.group(g, f"{key}.all[{i}]") for i, g in enumerate(groups)), within
        )

    def patterns(self, raw: Any, key: str) -> tuple[Pattern, ...]:
        if raw is None:
            return ()
        if not isinstance(raw, list):
            raise self.fail(key, "must be a list of patterns")
        return tuple(self.pattern(p, f"{key}[{i}]") for i, p in enumerate(raw))

    def cueset(self, raw: Mapping[str, Any], key: str, need_cues: bool = True) -> CueSet:
        cues = self.patterns(raw.get("cues"), f"{key}.cues")
        if need_cues and not cues:
            raise self.fail(f"{key}.cues", "needs at least one pattern")
        return CueSet(
            cues,
            self.patterns(raw.get("not_within"), f"{key}.not_within"),
            self.patterns(raw.get("not_if"), f"{key}.not_if"),
        )

    def level(self, raw: Any, key: str) -> str:
        if raw not in RISK_LEVELS:
            raise self.fail(key, f"bad level {raw!r}", RISK_LEVELS)
        return str(raw)

    def codes(self, raw: Any, key: str) -> tuple[str, ...]:
        if not isinstance(raw, list):
            raise self.fail(key, "must be a list of flag codes", ALL_FLAGS)
        for i, code in enumerate(raw):
            if code not in ALL_FLAGS:
                raise self.fail(f"{key}[{i}]", f"unknown flag code {code!r}", ALL_FLAGS)
        return tuple(raw)

    def intents(self, raw: Any, key: str) -> tuple[str, ...]:
        if not isinstance(raw, list) or not all(isinstance(x, str) and x for x in raw):
            raise self.fail(key, "must be a list of intent codes")
        return tuple(raw)


def load_rules(path: Path | None = None) -> RuleSet:
    """Load, validate and compile a rules file; None loads the shipped rules.yaml.

    Raises:
        ConfigError: the file cannot be read or parsed, or a key is invalid;
            the message names the file, the key and the valid choices.
    """
    if path is None:
        where = "voice_agent/risk/data/rules.yaml"
        try:
            text = (resources.files("voice_agent.risk") / "data" / "rules.yaml").read_text(
                encoding="utf-8"
            )
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read the shipped rules") from exc
    else:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read rules file: {exc}") from exc
    try:
        raw = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{where}: not valid YAML: {exc}") from exc
    return compile_rules(raw, where)


def compile_rules(raw: Any, where: str) -> RuleSet:
    """Validate an already-parsed rules mapping (``where`` names it in errors)."""
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: expected a mapping with keys {', '.join(_TOP_KEYS)}")
    for k in raw:
        if k not in _TOP_KEYS:
            valid = ", ".join(_TOP_KEYS)
            raise ConfigError(f"{where}: {k}: unknown top-level key (valid: {valid})")
    pmc = raw.get("pinyin_min_chars", 2)
    if not isinstance(pmc, int) or pmc < 1:
        raise ConfigError(f"{where}: pinyin_min_chars: must be a positive integer")
    ld = _Loader(where, pmc)

    sets = raw.get("terms") or {}
    if not isinstance(sets, dict):
        raise ld.fail("terms", "must map a set name to a list of terms")
    for name, items in sets.items():  # in file order, so a set may use an earlier one
        if not isinstance(items, list):
            raise ld.fail(f"terms.{name}", "must be a list of terms")
        ld.sets[str(name)] = ld.group(items, f"terms.{name}")

    flags_raw = raw.get("flags")
    if not isinstance(flags_raw, dict):
        raise ld.fail("flags", "must map each flag code to its definition", ALL_FLAGS)
    for code in flags_raw:
        if code not in ALL_FLAGS:
            raise ld.fail(f"flags.{code}", "unknown flag code", ALL_FLAGS)
    missing = [c for c in ALL_FLAGS if c not in flags_raw]
    if missing:
        raise ld.fail("flags", f"missing flag(s) {', '.join(missing)}", ALL_FLAGS)

    flags: dict[str, FlagRule] = {}
    params: dict[str, dict[str, Any]] = {}
    for code in ALL_FLAGS:
        spec = flags_raw[code]
        key = f"flags.{code}"
        if not isinstance(spec, dict):
            raise ld.fail(key, "must be a mapping", _FLAG_KEYS)
        allowed = _FLAG_KEYS if FLAG_CATEGORY[code] == "fraud" else (*_FLAG_KEYS[:5], "params")
        for k in spec:
            if k not in allowed:
                raise ld.fail(f"{key}.{k}", "unknown key", allowed)
        category = spec.get("category")
        if category not in CATEGORIES:
            raise ld.fail(f"{key}.category", f"bad category {category!r}", CATEGORIES)
        if category != FLAG_CATEGORY[code]:
            raise ld.fail(f"{key}.category", f"{code} belongs to {FLAG_CATEGORY[code]!r}")
        weight = spec.get("weight")
        if not isinstance(weight, (int, float)) or isinstance(weight, bool) or not 0 <= weight < 1:
            raise ld.fail(f"{key}.weight", "must be a number in [0, 1)")
        for k in ("name", "advice"):
            if not isinstance(spec.get(k), str) or not spec[k].strip():
                raise ld.fail(f"{key}.{k}", "must be a non-empty string")
        enabled = spec.get("enabled", True)
        if not isinstance(enabled, bool):
            raise ld.fail(f"{key}.enabled", "must be true or false")
        cueset = ld.cueset(spec, key) if category == "fraud" else CueSet()
        flags[code] = FlagRule(
            code, category, spec["name"].strip(), float(weight), spec["advice"].strip(),
            enabled, cueset,
        )  # fmt: skip
        if category != "fraud":
            params[code] = _params(ld, code, spec.get("params"), f"{key}.params")

    transaction = _transaction(ld, params)
    levels = _levels(ld, raw.get("levels"), {c: r.weight for c, r in flags.items()})
    return RuleSet(where, flags, transaction, levels, tuple(ld.terms.values()))


def _params(ld: _Loader, code: str, raw: Any, key: str) -> dict[str, Any]:
    schema = PARAM_SCHEMA[code]
    raw = raw or {}
    if not isinstance(raw, dict):
        raise ld.fail(key, "must be a mapping", schema)
    for k, v in raw.items():
        if k not in schema:
            raise ld.fail(f"{key}.{k}", "unknown parameter", schema)
        want = schema[k]
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) if want is float else (
            isinstance(v, want) and not (want is int and isinstance(v, bool))
        )  # fmt: skip
        if not ok:
            raise ld.fail(f"{key}.{k}", f"must be of type {want.__name__}")
    missing = [k for k in schema if k not in raw]
    if missing:
        raise ld.fail(key, f"missing parameter(s) {', '.join(missing)}", schema)
    return raw


def _transaction(ld: _Loader, p: Mapping[str, dict[str, Any]]) -> TransactionRules:
    lr = p["limit_raise_before_transfer"]
    ra = p["repeated_attempts"]
    base = "flags.limit_raise_before_transfer.params"
    for sub in ("raise", "lower", "transfer"):
        for k in lr[sub]:
            if k not in _CUESET_KEYS:
                raise ld.fail(f"{base}.{sub}.{k}", "unknown key", _CUESET_KEYS)
    for k in ra["cues"]:
        if k not in _CUESET_KEYS:
            raise ld.fail(f"flags.repeated_attempts.params.cues.{k}", "unknown key", _CUESET_KEYS)
    ua = p["unusual_amount"]
    return TransactionRules(
        large_threshold=p["large_amount"]["threshold"],
        large_intents=ld.intents(p["large_amount"]["intents"], "flags.large_amount.params.intents"),
        unusual_max_multiple=float(ua["max_multiple"]),
        unusual_median_multiple=float(ua["median_multiple"]),
        unusual_min_past=ua["min_past_transfers"],
        unusual_intents=ld.intents(ua["intents"], "flags.unusual_amount.params.intents"),
        new_payee_intents=ld.intents(p["new_payee"]["intents"], "flags.new_payee.params.intents"),
        limit_intents=ld.intents(lr["limit_intents"], f"{base}.limit_intents"),
        limit_transfer_intents=ld.intents(lr["transfer_intents"], f"{base}.transfer_intents"),
        limit_raise=ld.cueset(lr["raise"], f"{base}.raise"),
        limit_lower=ld.cueset(lr["lower"], f"{base}.lower"),
        transfer_words=ld.cueset(lr["transfer"], f"{base}.transfer"),
        elderly_min_age=p["elderly"]["min_age"],
        elderly_intents=ld.intents(p["elderly"]["intents"], "flags.elderly.params.intents"),
        elderly_with_fraud=p["elderly"]["with_fraud_flags"],
        repeated_min_earlier=ra["min_earlier"],
        repeated_intents=ld.intents(ra["intents"], "flags.repeated_attempts.params.intents"),
        repeated_cues=ld.cueset(ra["cues"], "flags.repeated_attempts.params.cues"),
    )


def _levels(ld: _Loader, raw: Any, weights: Mapping[str, float]) -> LevelPolicy:
    if not isinstance(raw, dict):
        raise ld.fail("levels", "must be a mapping", _LEVEL_KEYS)
    for k in raw:
        if k not in _LEVEL_KEYS:
            raise ld.fail(f"levels.{k}", "unknown key", _LEVEL_KEYS)
    th = raw.get("thresholds")
    if not isinstance(th, dict) or not th:
        raise ld.fail("levels.thresholds", "must map a level to its minimum score", RISK_LEVELS[1:])
    thresholds: list[tuple[str, float]] = []
    for level, minimum in th.items():
        ld.level(level, f"levels.thresholds.{level}")
        if not isinstance(minimum, (int, float)) or not 0 < minimum <= 1:
            raise ld.fail(f"levels.thresholds.{level}", "must be a score in (0, 1]")
        thresholds.append((str(level), float(minimum)))
    thresholds.sort(key=lambda lv: RISK_LEVELS.index(lv[0]))
    if [m for _, m in thresholds] != sorted(m for _, m in thresholds):
        raise ld.fail("levels.thresholds", "higher levels need higher minimum scores")
    combos: list[Combination] = []
    for i, c in enumerate(raw.get("combinations") or []):
        key = f"levels.combinations[{i}]"
        if not isinstance(c, dict) or set(c) != {"any_of", "min_level"}:
            raise ld.fail(key, "needs exactly the keys", ("any_of", "min_level"))
        if not isinstance(c["any_of"], list) or not c["any_of"]:
            raise ld.fail(f"{key}.any_of", "must be a list of flag-code lists")
        groups = tuple(ld.codes(g, f"{key}.any_of[{j}]") for j, g in enumerate(c["any_of"]))
        combos.append(Combination(groups, ld.level(c["min_level"], f"{key}.min_level")))
    supporting = ld.codes(raw.get("supporting_cues", []), "levels.supporting_cues")
    for i, code in enumerate(supporting):
        if FLAG_CATEGORY[code] != "fraud":
            key = f"levels.supporting_cues[{i}]"
            raise ld.fail(key, f"{code!r} is not a fraud flag", FRAUD_FLAGS)
    return LevelPolicy(
        weights=dict(weights),
        thresholds=tuple(thresholds),
        high_flags=frozenset(ld.codes(raw.get("high_flags", []), "levels.high_flags")),
        supporting_cues=frozenset(supporting),
        fraud_floor=ld.level(raw.get("fraud_floor", "medium"), "levels.fraud_floor"),
        combinations=tuple(combos),
    )


def load_blacklist(path: Path | None = None) -> frozenset[str]:
    """Read blacklisted payee accounts (one per line, '#' comments); None = shipped list.

    Raises:
        ConfigError: unreadable file, or a line that is not a 16-19 digit account.
    """
    if path is None:
        where = "voice_agent/risk/data/blacklist.txt"
        try:
            text = (resources.files("voice_agent.risk") / "data" / "blacklist.txt").read_text(
                encoding="utf-8"
            )
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read the shipped blacklist") from exc
    else:
        where = str(path)
        try:
            text = Path(path).read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"{where}: cannot read blacklist: {exc}") from exc
    accounts: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip().replace(" ", "")
        if not entry:
            continue
        if not (entry.isdigit() and 16 <= len(entry) <= 19):
            raise ConfigError(f"{where}: line {n}: {entry!r} is not a 16-19 digit account number")
        accounts.add(entry)
    return frozenset(accounts)
