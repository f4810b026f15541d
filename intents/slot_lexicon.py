"""The slot lexicon: the words the slot extractor looks for, loaded and validated.

``intents/data/slot_lexicon.yaml`` is edited by the product team, so it is
checked once at start-up: a missing section, a wrong type or a medium code
outside taxonomy.md stops the service with a :class:`ConfigError` that names
the file and the valid choices, instead of an extractor that quietly finds
nothing. The shapes that use these words live in :mod:`intents.slots`.
"""

from __future__ import annotations

import importlib.resources
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

from models.errors import ConfigError

__all__ = ["MEDIA", "SlotLexicon", "load_lexicon", "parse_lexicon"]

#: The medium codes of taxonomy.md; the lexicon may not invent others.
MEDIA = ("card", "passbook", "mobile_banking")

_SHIPPED = "data/slot_lexicon.yaml"
_TOP_KEYS = (
    "version", "amount", "term", "account", "banks", "bank_payee_cues", "bank_source_cues",
    "relations",
    "payee", "names", "media", "medium_exclusions", "medium_not_after", "medium_payee_after",
    "homophone_exceptions",
)  # fmt: skip
_PAYEE_KEYS = (
    "cues", "weak_cues", "transfer_verbs", "possessives", "relation_after", "pronouns",
    "pronoun_cues", "requester_after",
)  # fmt: skip


@dataclass(frozen=True)
class SlotLexicon:
    """The validated contents of slot_lexicon.yaml, one field per list."""

    source: str
    amount: Mapping[str, tuple[str, ...]]
    term: Mapping[str, tuple[str, ...]]
    account: Mapping[str, tuple[str, ...]]
    banks: Mapping[str, str]  # alias → canonical name
    bank_payee_cues: tuple[str, ...]
    bank_source_cues: tuple[str, ...]
    relations: Mapping[str, str]  # surface word → canonical relation
    payee: Mapping[str, tuple[str, ...]]
    surnames: frozenset[str]
    compound_surnames: tuple[str, ...]
    stop_chars: frozenset[str]
    titles: tuple[str, ...]
    not_names: tuple[str, ...]
    media: Mapping[str, str]  # word → medium code
    homophones: Mapping[str, str]  # word matched by pinyin → medium code
    medium_exclusions: tuple[str, ...]
    medium_not_after: tuple[str, ...]
    medium_payee_after: tuple[str, ...]
    homophone_exceptions: Mapping[str, tuple[str, ...]]


class _Reader:
    """Typed access to the parsed YAML that fails with the file's name."""

    def __init__(self, source: str) -> None:
        self.source = source

    def fail(self, where: str, msg: str) -> NoReturn:
        raise ConfigError(f"{self.source}: {where}: {msg}")

    def mapping(self, value: Any, where: str, keys: Iterable[str] | None = None) -> dict[str, Any]:
        if not isinstance(value, dict):
            self.fail(where, f"expected a mapping, got {type(value).__name__}")
        if keys is not None:
            valid = tuple(keys)
            missing = [k for k in valid if k not in value]
            unknown = [k for k in value if k not in valid]
            if missing or unknown:
                self.fail(
                    where,
                    f"missing {missing} / unknown {unknown}; valid keys: {', '.join(valid)}",
                )
        return value

    def words(self, value: Any, where: str, allow_empty: bool = False) -> tuple[str, ...]:
        if not isinstance(value, list) or not (value or allow_empty):
            self.fail(where, "expected a non-empty list of words")
        for w in value:
            if not isinstance(w, str) or not w.strip():
                self.fail(where, f"expected words, found {w!r}")
        return tuple(value)

    def text(self, value: Any, where: str) -> str:
        if not isinstance(value, str) or not value:
            self.fail(where, "expected a non-empty string")
        return value


def parse_lexicon(data: Any, source: str) -> SlotLexicon:
    """Validate parsed YAML and build a :class:`SlotLexicon`.

    Raises:
        ConfigError: naming ``source`` and the offending section, with the
            valid keys or medium codes.
    """
    r = _Reader(source)
    top = r.mapping(data, "top level", _TOP_KEYS)
    if top["version"] != 1:
        r.fail("version", f"unsupported version {top['version']!r}; valid: 1")

    def section(name: str, keys: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
        m = r.mapping(top[name], name, keys)
        return {k: r.words(m[k], f"{name}.{k}") for k in keys}

    banks: dict[str, str] = {}
    if not isinstance(top["banks"], list) or not top["banks"]:
        r.fail("banks", "expected a non-empty list of {name, aliases}")
    for i, b in enumerate(top["banks"]):
        entry = r.mapping(b, f"banks[{i}]", ("name", "aliases"))
        name = r.text(entry["name"], f"banks[{i}].name")
        for alias in r.words(entry["aliases"], f"banks[{i}].aliases"):
            banks[alias] = name
    relations = {
        w: canon
        for canon, words in r.mapping(top["relations"], "relations").items()
        for w in r.words(words, f"relations.{canon}")
    }
    names = r.mapping(
        top["names"],
        "names",
        ("surnames", "compound_surnames", "stop_chars", "titles", "not_names"),
    )
    media: dict[str, str] = {}
    homophones: dict[str, str] = {}
    for code, spec in r.mapping(top["media"], "media", MEDIA).items():
        m = r.mapping(spec, f"media.{code}", ("words", "homophones"))
        media.update(dict.fromkeys(r.words(m["words"], f"media.{code}.words"), code))
        hw = r.words(m["homophones"], f"media.{code}.homophones", allow_empty=True)
        homophones.update(dict.fromkeys(hw, code))
    hx = r.mapping(
        top["homophone_exceptions"], "homophone_exceptions", ("words", "before", "after")
    )
    amount_keys = (
        "currency_units", "cues_before", "cues_after", "target_cues", "source_cues",
        "approx_after", "counters_after", "blockers_before", "verbs_before", "correction_cues",
    )  # fmt: skip
    return SlotLexicon(
        source=source,
        amount=section("amount", amount_keys),
        term=section("term", ("deposit_context", "past_after", "past_before", "blockers_before")),
        account=section("account", ("cues", "blockers")),
        banks=banks,
        bank_payee_cues=r.words(top["bank_payee_cues"], "bank_payee_cues"),
        bank_source_cues=r.words(top["bank_source_cues"], "bank_source_cues"),
        relations=relations,
        payee=section("payee", _PAYEE_KEYS),
        surnames=frozenset(r.text(names["surnames"], "names.surnames")),
        compound_surnames=r.words(names["compound_surnames"], "names.compound_surnames"),
        stop_chars=frozenset(r.text(names["stop_chars"], "names.stop_chars")),
        titles=r.words(names["titles"], "names.titles"),
        not_names=r.words(names["not_names"], "names.not_names"),
        media=media,
        homophones=homophones,
        medium_exclusions=r.words(top["medium_exclusions"], "medium_exclusions"),
        medium_not_after=r.words(top["medium_not_after"], "medium_not_after"),
        medium_payee_after=r.words(top["medium_payee_after"], "medium_payee_after"),
        homophone_exceptions={k: r.words(hx[k], f"homophone_exceptions.{k}") for k in hx},
    )


def load_lexicon(path: Path | None = None) -> SlotLexicon:
    """Read and validate a slot lexicon file; ``None`` means the shipped one.

    Raises:
        ConfigError: the file cannot be read, is not YAML, or fails
            validation; the message names the file.
    """
    if path is None:
        res = importlib.resources.files("intents").joinpath(_SHIPPED)
        source, reader = f"intents/{_SHIPPED}", res.read_text
    else:
        source, reader = str(path), Path(path).read_text
    try:
        data = yaml.safe_load(reader(encoding="utf-8"))
    except OSError as e:
        raise ConfigError(f"{source}: cannot read the slot lexicon: {e}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"{source}: not valid YAML: {e}") from e
    return parse_lexicon(data, source)
