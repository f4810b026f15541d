"""Values the dialect layer hands to the understanding layer."""

from __future__ import annotations

from dataclasses import dataclass

MANDARIN = "mandarin"
SHANGHAINESE = "shanghainese"


@dataclass(frozen=True)
class Replacement:
    """One Shanghainese word (or its ASR near-homophone) replaced in the text.

    Attributes:
        original: the words as the customer (or ASR) produced them, e.g. 几钿.
        mandarin: what they were normalised to, e.g. 多少钱.
        start: character offset of ``original`` in the original text.
        end: end offset (exclusive) in the original text.
        kind: ``lexicon`` for a Wu word, ``asr_homophone`` for Whisper's
            near-homophone of one (超票 for 钞票).
        category: the lexicon's category (pronoun, money, risk ...).
    """

    original: str
    mandarin: str
    start: int
    end: int
    kind: str
    category: str


@dataclass(frozen=True)
class Normalised:
    """An utterance with its dialect and its Mandarin form.

    The original text is kept: tellers see what the customer actually said,
    and fraud evidence quotes the customer's own words.
    """

    text: str
    normalized_text: str
    dialect: str
    confidence: float
    replacements: tuple[Replacement, ...] = ()

    @property
    def markers(self) -> tuple[str, ...]:
        """The dialect words found, in order of appearance, without repeats."""
        seen: list[str] = []
        for r in self.replacements:
            if r.original not in seen:
                seen.append(r.original)
        return tuple(seen)
