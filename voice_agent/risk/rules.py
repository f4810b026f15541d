"""Risk rules: loading and validating rules.yaml and the payee blacklist.

The risk team edits ``data/rules.yaml``; this module turns it into frozen,
precompiled rules (:mod:`voice_agent.risk.model`) once at start-up and
refuses a file it cannot trust (unknown flag code, bad level, missing key)
with a ConfigError naming the file, the key and the valid choices. Each
term's toneless pinyin is computed here, once, so matching
(:mod:`voice_agent.risk.matching`) never calls pypinyin on rule words.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from models.errors import ConfigError
from models.text import phrase_pinyin
from voice_agent.risk.datafile import read_data_file
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
from voice_agent.risk.types import CATEGORIES, RISK_LEVELS

# The flag codes are defined in model (LevelPolicy needs them) and re-exported
# here, where tests and older callers import them from.
__all__ = [
    "ALL_FLAGS",
    "CUSTOMER_FLAGS",
    "FLAG_CATEGORY",
    "FRAUD_FLAGS",
    "PARAM_SCHEMA",
    "TRANSACTION_FLAGS",
    "compile_rules",
    "load_blacklist",
    "load_rules",
]

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
_FLAG_KEYS = ("category", "name", "weight", "advice", "enabled")
_FRAUD_KEYS = (*_FLAG_KEYS, "cues", "scripts", "not_within", "not_if")
# "semantic" holds the learned detector's thresholds; voice_agent.risk.semantic_data validates it.
_TOP_KEYS = ("version", "pinyin_min_chars", "terms", "parts", "flags", "levels", "semantic")
_LEVEL_KEYS = ("thresholds", "high_flags", "supporting_cues", "combinations", "fraud")
_FRAUD_LEVEL_KEYS = ("high_harm", "note", "script", "ask", "ask_high_harm")
_PARTS = ("pretext", "ask", "pressure")
_CUESET_KEYS = ("cues", "not_within", "not_if")


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
    text, where = read_data_file(path, "rules.yaml", "rules file")
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
        allowed = _FRAUD_KEYS if FLAG_CATEGORY[code] == "fraud" else (*_FLAG_KEYS, "params")
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
        # A script is matched like a cue, with the flag's own hard negatives.
        scripts = CueSet(
            ld.patterns(spec.get("scripts"), f"{key}.scripts"), cueset.not_within, cueset.not_if
        )
        flags[code] = FlagRule(
            code, category, spec["name"].strip(), float(weight), spec["advice"].strip(),
            enabled, cueset, scripts,
        )  # fmt: skip
        if category != "fraud":
            params[code] = _params(ld, code, spec.get("params"), f"{key}.params")

    transaction = _transaction(ld, params)
    levels = _levels(ld, raw.get("levels"), {c: r.weight for c, r in flags.items()})
    parts = _parts(ld, raw.get("parts"))
    return RuleSet(where, flags, transaction, levels, parts, tuple(ld.terms.values()))


def _parts(ld: _Loader, raw: Any) -> PartRules:
    """``parts:``: for each of pretext/ask/pressure, kind name → cue set."""
    if not isinstance(raw, dict):
        raise ld.fail("parts", "must map each part to its kinds", _PARTS)
    for k in raw:
        if k not in _PARTS:
            raise ld.fail(f"parts.{k}", "unknown part", _PARTS)
    out: dict[str, dict[str, CueSet]] = {}
    for part in _PARTS:
        kinds = raw.get(part)
        if not isinstance(kinds, dict) or not kinds:
            raise ld.fail(f"parts.{part}", "must map a kind name to its cues", _CUESET_KEYS)
        out[part] = {}
        for kind, spec in kinds.items():
            key = f"parts.{part}.{kind}"
            if not isinstance(spec, dict):
                raise ld.fail(key, "must be a mapping", _CUESET_KEYS)
            for k in spec:
                if k not in _CUESET_KEYS:
                    raise ld.fail(f"{key}.{k}", "unknown key", _CUESET_KEYS)
            out[part][str(kind)] = ld.cueset(spec, key)
    return PartRules(out["pretext"], out["ask"], out["pressure"])


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
        combinations=tuple(combos),
        fraud=_fraud_levels(ld, raw.get("fraud")),
    )


def _fraud_levels(ld: _Loader, raw: Any) -> FraudLevels:
    if not isinstance(raw, dict):
        raise ld.fail("levels.fraud", "must be a mapping", _FRAUD_LEVEL_KEYS)
    for k in raw:
        if k not in _FRAUD_LEVEL_KEYS:
            raise ld.fail(f"levels.fraud.{k}", "unknown key", _FRAUD_LEVEL_KEYS)
    missing = [k for k in _FRAUD_LEVEL_KEYS if k not in raw]
    if missing:
        raise ld.fail("levels.fraud", f"missing key(s) {', '.join(missing)}", _FRAUD_LEVEL_KEYS)
    harm = ld.codes(raw["high_harm"], "levels.fraud.high_harm")
    for i, code in enumerate(harm):
        if FLAG_CATEGORY[code] != "fraud":
            raise ld.fail(
                f"levels.fraud.high_harm[{i}]", f"{code!r} is not a fraud flag", FRAUD_FLAGS
            )
    lv = {k: ld.level(raw[k], f"levels.fraud.{k}") for k in _FRAUD_LEVEL_KEYS[1:]}
    return FraudLevels(frozenset(harm), lv["note"], lv["script"], lv["ask"], lv["ask_high_harm"])


def load_blacklist(path: Path | None = None) -> frozenset[str]:
    """Read blacklisted payee accounts (one per line, '#' comments); None = shipped list.

    Raises:
        ConfigError: unreadable file, or a line that is not a 16-19 digit account.
    """
    text, where = read_data_file(path, "blacklist.txt", "blacklist")
    accounts: set[str] = set()
    for n, line in enumerate(text.splitlines(), start=1):
        entry = line.split("#", 1)[0].strip().replace(" ", "")
        if not entry:
            continue
        if not (entry.isdigit() and 16 <= len(entry) <= 19):
            raise ConfigError(f"{where}: line {n}: {entry!r} is not a 16-19 digit account number")
        accounts.add(entry)
    return frozenset(accounts)
