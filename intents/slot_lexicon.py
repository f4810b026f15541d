"""The slot lexicon: the words the slot extractor looks for, loaded and validated.

``intents/data/slot_lexicon.yaml`` is edited by the product team, so it is
checked once at start-up (its shape is :class:`SlotLexiconFile`, loaded by
:func:`models.datafile.load_data`): a missing section, a wrong type or a
medium code outside taxonomy.md stops the service with a
:class:`ConfigError` that names the file, the line and the valid choices,
instead of an extractor that quietly finds nothing. The shapes that use
these words live in :mod:`intents.slots`.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints

from intents.taxonomy import MEDIUM_VALUES as MEDIA
from models.datafile import DataModel, load_data, read_text


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


Word = Annotated[str, StringConstraints(min_length=1, strip_whitespace=True)]
Words = Annotated[tuple[Word, ...], Field(min_length=1)]


class _Amount(DataModel):
    currency_units: Words
    cues_before: Words
    cues_after: Words
    target_cues: Words
    source_cues: Words
    approx_after: Words
    counters_after: Words
    blockers_before: Words
    verbs_before: Words
    correction_cues: Words


class _Term(DataModel):
    deposit_context: Words
    past_after: Words
    past_before: Words
    blockers_before: Words


class _Account(DataModel):
    cues: Words
    blockers: Words


class _Bank(DataModel):
    name: Word
    aliases: Words


class _Payee(DataModel):
    cues: Words
    weak_cues: Words
    transfer_verbs: Words
    possessives: Words
    relation_after: Words
    pronouns: Words
    pronoun_cues: Words
    requester_after: Words


class _Names(DataModel):
    surnames: Word
    compound_surnames: Words
    stop_chars: Annotated[str, StringConstraints(min_length=1)]
    titles: Words
    not_names: Words


class _Medium(DataModel):
    words: Words
    homophones: tuple[Word, ...] = ()


class _Media(DataModel):
    """One entry per medium code of taxonomy.md; the lexicon may not invent others."""

    card: _Medium
    passbook: _Medium
    mobile_banking: _Medium


class _Exceptions(DataModel):
    words: Words
    before: Words
    after: Words


class SlotLexiconFile(DataModel):
    """The shape of ``slot_lexicon.yaml`` (validated with file, line and choices)."""

    version: Literal[1]
    amount: _Amount
    term: _Term
    account: _Account
    banks: Annotated[tuple[_Bank, ...], Field(min_length=1)]
    bank_payee_cues: Words
    bank_source_cues: Words
    relations: dict[Word, Words]
    payee: _Payee
    names: _Names
    media: _Media
    medium_exclusions: Words
    medium_not_after: Words
    medium_payee_after: Words
    homophone_exceptions: _Exceptions


def parse_lexicon(text: str, source: str) -> SlotLexicon:
    """Validate the lexicon file's text and build a :class:`SlotLexicon`.

    Raises:
        ConfigError: every problem, each naming ``source``, the line, the
            section (``amount.currency_units``) and the valid keys or codes.
    """
    f = load_data(SlotLexiconFile, text, source)
    media: dict[str, str] = {}
    homophones: dict[str, str] = {}
    for code in MEDIA:
        medium: _Medium = getattr(f.media, code)
        media.update(dict.fromkeys(medium.words, code))
        homophones.update(dict.fromkeys(medium.homophones, code))
    return SlotLexicon(
        source=source,
        amount=f.amount.model_dump(),
        term=f.term.model_dump(),
        account=f.account.model_dump(),
        banks={alias: bank.name for bank in f.banks for alias in bank.aliases},
        bank_payee_cues=f.bank_payee_cues,
        bank_source_cues=f.bank_source_cues,
        relations={w: canon for canon, words in f.relations.items() for w in words},
        payee=f.payee.model_dump(),
        surnames=frozenset(f.names.surnames),
        compound_surnames=f.names.compound_surnames,
        stop_chars=frozenset(f.names.stop_chars),
        titles=f.names.titles,
        not_names=f.names.not_names,
        media=media,
        homophones=homophones,
        medium_exclusions=f.medium_exclusions,
        medium_not_after=f.medium_not_after,
        medium_payee_after=f.medium_payee_after,
        homophone_exceptions=f.homophone_exceptions.model_dump(),
    )


def load_lexicon(path: Path | None = None) -> SlotLexicon:
    """Read and validate a slot lexicon file; ``None`` means the shipped one.

    Raises:
        ConfigError: the file cannot be read, is not YAML, or fails
            validation; the message names the file.
    """
    text, source = read_text(path, "intents", "slot_lexicon.yaml", "the slot lexicon")
    return parse_lexicon(text, source)
