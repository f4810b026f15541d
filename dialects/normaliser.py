"""Shanghainese detection and Shanghainese→Mandarin normalisation.

Whisper has no Wu language, so a Shanghainese caller reaches us as Mandarin
characters mixed with Wu words (阿拉, 几钿) and Whisper's near-homophones of
them (农 for 侬, 超票 for 钞票). The intent classifier was trained on
Mandarin, so the utterance is rewritten into Mandarin first; the original is
kept for the teller and for fraud evidence.

The hard part is not wrecking Mandarin: many Wu words are also Mandarin
(个, 老, 讲, 寻). The lexicon marks those ``weak`` and gives them context
rules; a first scan finds the unambiguous (strong) markers, and only if they
make the utterance Shanghainese does a second scan also apply the weak words
that need the ``dialect`` context. Those gated weak words also count a
little towards that decision, so a short utterance made only of weak Wu
words (老头子讲伊忘记密码了) is caught once three or so of them pile up, while
one or two (他讲的话, 我晓得) leave Mandarin alone.

In a long utterance that small weight drowns, so a weak-word pile-up also
decides on its own: at least three different weak words, from three
different word classes, covering enough of the utterance
(有人打电话讲伊是公安局个…钞票…). Word classes, because a Mandarin speaker
from the south may well say 讲 and 晓得 (two verbs, one habit) or 老好了,
while Wu grammar shows up across classes at once: the pronoun 伊, the
particle 个, the verb 讲.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from dialects.lexicon import Lexicon, LexiconEntry, load_lexicon
from dialects.types import MANDARIN, SHANGHAINESE, Normalised, Replacement

# Evidence weights and the logistic that turns them into a probability. Set by
# hand on tests/data/text/dialect_labels.jsonl so that one strong marker
# makes an utterance Shanghainese (p ≈ 0.7-0.9 depending on its length),
# several make it near-certain, a single weak ASR form only tips a very short
# utterance, and a long utterance without markers is confidently Mandarin.
STRONG_WEIGHT = 1.0
WEAK_WEIGHT = 0.3
GATED_WEIGHT = 0.15
"""Weight of a weak word whose rule needs the dialect, before the dialect is decided."""
_SCORE_SLOPE = 3.0
_DENSITY_SLOPE = 2.0
_BIAS = -1.5
_LENGTH_SLOPE = -0.06
_LENGTH_CAP = 20
WEAK_PILE_WORDS = 3
"""Different weak words (and word classes) that make an utterance Shanghainese unaided."""
WEAK_PILE_DENSITY = 0.12
"""Share of the utterance's characters those weak words must cover (about one in eight)."""


@dataclass(frozen=True)
class _Match:
    start: int
    end: int
    entry: LexiconEntry


class DialectNormaliser:
    """Detects Shanghainese and rewrites it into Mandarin, by lexicon.

    Build it once with :meth:`load` (validation happens there); after that
    :meth:`normalise` is pure and cheap (tens of microseconds per utterance),
    so one instance can serve every call and thread.
    """

    def __init__(self, lexicon: Lexicon) -> None:
        """Index ``lexicon`` by first character for longest-match scanning.

        Args:
            lexicon: a validated lexicon (see :func:`dialects.lexicon.load_lexicon`).
        """
        self.lexicon = lexicon
        by_first: dict[str, list[LexiconEntry]] = {}
        for entry in lexicon.entries:
            by_first.setdefault(entry.wu[0], []).append(entry)
        # Longest form first; the stable sort keeps file order between equals,
        # which is how the file says which context rule to try first.
        self._by_first: dict[str, tuple[LexiconEntry, ...]] = {
            ch: tuple(sorted(group, key=lambda e: -len(e.wu))) for ch, group in by_first.items()
        }

    @classmethod
    def load(cls, path: Path | None = None) -> DialectNormaliser:
        """Load and validate a lexicon and build a normaliser on it.

        Args:
            path: a lexicon TSV; None uses the lexicon shipped with the package.

        Raises:
            ConfigError: the lexicon is unreadable or invalid (file and line named).
        """
        return cls(load_lexicon(path))

    def normalise(self, text: str) -> Normalised:
        """Detect the dialect of ``text`` and return its Mandarin form.

        Args:
            text: one utterance, as typed or as transcribed by ASR.

        Returns:
            The original text, its Mandarin form, the dialect code with a
            confidence for it, and every replacement with offsets into ``text``.
        """
        # Scan as if the utterance were Shanghainese, judge it with the gated
        # words discounted, and rescan without them if it is not.
        matches = self._scan(text, in_dialect=True)
        if (
            not _weak_pile_up(text, matches)
            and _probability(text, matches, gated_weight=GATED_WEIGHT) < 0.5
        ):
            matches = self._scan(text, in_dialect=False)
        # A pile-up keeps at least three weak matches at full weight and at
        # least WEAK_PILE_DENSITY coverage, which puts p above 0.5 whatever
        # the length (3*0.9 + 2*0.12 - 1.5 - 0.06*20 > 0).
        p = _probability(text, matches)
        dialect = SHANGHAINESE if p >= 0.5 else MANDARIN
        confidence = p if dialect == SHANGHAINESE else 1.0 - p
        return Normalised(
            text=text,
            normalized_text=_rewrite(text, matches),
            dialect=dialect,
            confidence=round(confidence, 3),
            replacements=tuple(
                Replacement(
                    original=m.entry.wu,
                    mandarin=m.entry.replacement,
                    start=m.start,
                    end=m.end,
                    kind=m.entry.kind,
                    category=m.entry.category,
                )
                for m in matches
            ),
        )

    def _scan(self, text: str, in_dialect: bool) -> list[_Match]:
        """Leftmost-longest matches whose context rules hold."""
        matches: list[_Match] = []
        i, n = 0, len(text)
        while i < n:
            for entry in self._by_first.get(text[i], ()):
                end = i + len(entry.wu)
                if text.startswith(entry.wu, i) and entry.context.allows(text, i, end, in_dialect):
                    matches.append(_Match(i, end, entry))
                    i = end
                    break
            else:
                i += 1
        return matches


def _probability(text: str, matches: list[_Match], gated_weight: float = WEAK_WEIGHT) -> float:
    """P(Shanghainese) from the number, strength and density of the markers.

    Args:
        text: the utterance.
        matches: the lexicon matches in it.
        gated_weight: the weight of weak words whose rule needs the dialect
            (lower while the dialect is still being decided).
    """
    length = sum(1 for ch in text if ch.isalnum())
    score = sum(_weight(m.entry, gated_weight) for m in matches)
    covered = sum(m.end - m.start for m in matches)
    density = covered / length if length else 0.0
    z = (
        _SCORE_SLOPE * score
        + _DENSITY_SLOPE * min(density, 1.0)
        + _BIAS
        + _LENGTH_SLOPE * min(length, _LENGTH_CAP)
    )
    return 1.0 / (1.0 + math.exp(-z))


def _weak_pile_up(text: str, matches: list[_Match]) -> bool:
    """Whether weak Wu words alone are enough to call ``text`` Shanghainese.

    Args:
        text: the utterance.
        matches: its lexicon matches, scanned as if it were Shanghainese.
    """
    weak = [m for m in matches if not m.entry.strong]
    if len({m.entry.wu for m in weak}) < WEAK_PILE_WORDS:
        return False
    if len({m.entry.category for m in weak}) < WEAK_PILE_WORDS:
        return False  # 他讲…我也晓得: one southern habit, not Wu grammar
    length = sum(1 for ch in text if ch.isalnum())
    covered = sum(m.end - m.start for m in weak)
    return covered >= WEAK_PILE_DENSITY * length


def _weight(entry: LexiconEntry, gated_weight: float) -> float:
    if entry.strong:
        return STRONG_WEIGHT
    return gated_weight if entry.context.dialect else WEAK_WEIGHT


def _rewrite(text: str, matches: list[_Match]) -> str:
    parts: list[str] = []
    pos = 0
    for m in matches:
        parts.append(text[pos : m.start])
        parts.append(m.entry.replacement)
        pos = m.end
    parts.append(text[pos:])
    return "".join(parts)
