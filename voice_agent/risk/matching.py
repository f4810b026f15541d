"""Finding cue patterns in one utterance, by characters and by toneless pinyin.

A cue pattern matches on *meaning* rather than one fixed string: ``any``
lists many phrasings, ``all`` needs a word from every group (a police word
AND a money-moving word) within the utterance, and every term also matches
on toneless pinyin, so ASR homophones (公按 for 公安, 验证马 for 验证码)
still hit. ``not_within`` phrases cancel a cue whose words sit inside them
(被骗 inside 怕被骗); ``not_if`` phrases cancel the flag for the utterance.

This is the per-turn hot path, separate from loading so it stays small
and depends only on the compiled model, never on YAML.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from models.text import pinyin_syllables
from voice_agent.risk.model import CueSet, Pattern, Term


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

    __slots__ = ("_index", "_tokens", "chars", "pinyin", "text")

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
        self._tokens = tokens

    def indexed_hits(self, index: TermIndex) -> Hits:
        """Like :meth:`hits`, by looking up this text's pieces in ``index``.

        An utterance has a few hundred pieces (start × length) while the
        rules have well over a thousand terms, so this is several times
        faster than testing every term; the spans found are the same.
        """
        chars, tokens = self.chars, self._tokens
        if len(tokens) != len(chars):
            return self.hits(index.terms)
        found: Hits = {}
        n = len(chars)
        for k in range(n):
            for m in range(1, min(index.max_chars, n - k) + 1):
                for term in index.by_text.get(chars[k : k + m], ()):
                    found.setdefault(term, []).append((k, k + m))
        for k in range(n):
            for m in range(2, min(index.max_syllables, n - k) + 1):
                for term in index.by_pinyin.get(" ".join(tokens[k : k + m]), ()):
                    spans = found.setdefault(term, [])
                    if (k, k + m) not in spans:
                        spans.append((k, k + m))
        return found

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


class TermIndex:
    """Every rule term keyed by its characters and by its toneless pinyin."""

    def __init__(self, terms: Sequence[Term]) -> None:
        self.terms = tuple(terms)
        self.by_text: dict[str, list[Term]] = {}
        self.by_pinyin: dict[str, list[Term]] = {}
        for t in self.terms:
            self.by_text.setdefault(t.text, []).append(t)
            if t.pinyin:
                self.by_pinyin.setdefault(t.pinyin.strip(), []).append(t)
        self.max_chars = max((len(t.text) for t in self.terms), default=0)
        self.max_syllables = max((t.syllables for t in self.terms), default=0)


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
