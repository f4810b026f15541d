"""The risk engine: fraud cues, transaction facts and customer facts → a level.

Everything slow (YAML validation, pinyin of every rule term, profiles,
blacklist) happens once in :meth:`RiskEngine.load`; :meth:`RiskEngine.assess`
only scans one utterance, so it runs per turn inside the live call.
"""

from __future__ import annotations

import bisect
import difflib
import functools
import statistics
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from dialects.types import Normalised
from intents.types import Slots
from voice_agent.risk.matching import Hits, Match, TermIndex, TextView, find_cue
from voice_agent.risk.merge import merge_risk
from voice_agent.risk.model import CUSTOMER_FLAGS, FRAUD_FLAGS, TRANSACTION_FLAGS, CueSet, RuleSet
from voice_agent.risk.profiles import CustomerDirectory, CustomerProfile
from voice_agent.risk.rules import load_blacklist, load_rules
from voice_agent.risk.semantic import SemanticDetector
from voice_agent.risk.types import (
    FRAUD_PARTS,
    RISK_LEVELS,
    FraudJudgement,
    PartEvidence,
    RiskAssessment,
    RiskFlag,
    RiskInput,
)
from voice_agent.wording import mask_account

_CLAUSE_BREAKS = frozenset("，。！？；、,.!?;：:\n\t ")
_TURN_BREAK = "。"
_MAX_HISTORY = 4  # earlier utterances read with the current one
_CACHE_SIZE = 64
_MODEL = "model:"
_MAX_EVIDENCE = 40
_EVIDENCE_CONTEXT = 8
# The model names a scam type the rules left unnamed from this share of its threshold.
_NAMING_SHARE = 0.5
# The least probability at which the model alone gives an ask its context.
_ALONE_MIN = 0.3


class RiskEngine:
    """Assesses one utterance (or a whole call) against compiled rules.

    Build it with :meth:`load`; it is immutable afterwards and safe to share
    between threads.
    """

    def __init__(
        self,
        rules: RuleSet,
        customers: CustomerDirectory,
        blacklist: frozenset[str],
        detector: SemanticDetector | None = None,
    ) -> None:
        self.rules = rules
        self.customers = customers
        self.blacklist = blacklist
        self.detector = detector
        self._cache: dict[str, tuple[TextView, Hits]] = {}
        self._index = TermIndex(rules.terms)
        # A flag's not_if (防诈骗 lectures, 我儿子要结婚) also silences the model.
        self._model_vetoes = {
            code: CueSet(cues=rule.cueset.not_if)
            for code, rule in rules.flags.items()
            if rule.cueset.not_if
        }

    @classmethod
    def load(
        cls,
        rules_path: Path | None = None,
        customers_path: Path | None = None,
        blacklist_path: Path | None = None,
        detector: SemanticDetector | None = None,
    ) -> RiskEngine:
        """Load and validate the rules, profiles and blacklist (None = shipped data).

        Args:
            detector: optional learned fraud-cue detector
                (:meth:`SemanticDetector.load`, built from the same rules file);
                it adds fraud flags the cues missed.

        Raises:
            ConfigError: any of the files is invalid; the message names it.
        """
        return cls(
            load_rules(rules_path),
            CustomerDirectory.load(customers_path),
            load_blacklist(blacklist_path),
            detector,
        )

    # ----------------------------------------------------------------- public

    def assess(self, request: RiskInput) -> RiskAssessment:
        """Assess one utterance in the light of the call so far.

        Fraud is judged over the whole call: cues, scripts and the scam's
        parts (pretext, ask, pressure) are found in ``request.history`` and
        the utterance together, so a story told over two or three turns
        reaches its level on the turn that completes it. Transaction and
        customer flags look at this utterance (and, as before, the earlier
        intents).
        """
        norm = request.normalised
        views = self._views(norm)
        call = _call_text(request.history[-_MAX_HISTORY:], norm)
        call_views = views if call.norm is norm else self._views(call.norm)
        profile = self.customers.get(request.customer_id)
        flags, script = self._rule_flags(call, call_views)
        judgement = self._parts(call, call_views)
        # The model reads the storyline only once the rules hear an ask that
        # moves money or credentials, or a known script: then its confident
        # flags give the ask its context (whose story it is) and, when the
        # rules named no scam type, its best type names one. On its own, with
        # no ask, it guessed fraud from everyday calls.
        flags = self._with_model_flags(call, call_views, flags, judgement, script)
        flags.extend(self._transaction_flags(request, views, profile))
        flags.extend(self._customer_flags(request, views, profile, flags))
        return self._judge(flags, judgement, script)

    def merge(self, assessments: Iterable[RiskAssessment]) -> RiskAssessment:
        """Combine the assessments of one call's turns into the call's assessment.

        :func:`voice_agent.risk.merge.merge_risk` over the turns (highest
        level, union of flags and of the scam's parts), then the level is
        re-derived from the union, so a secret-keeping cue in turn 1 and a
        large amount in turn 3 raise the call together even when the turns
        were assessed without their history.
        """
        merged = functools.reduce(merge_risk, assessments, RiskAssessment())
        order = {c: i for i, c in enumerate(FRAUD_FLAGS + TRANSACTION_FLAGS + CUSTOMER_FLAGS)}
        flags = sorted(merged.flags, key=lambda f: order[f.code])
        again = self._judge(flags, merged.fraud, merged.fraud.script)
        top = max(merged.level, again.level, key=RISK_LEVELS.index)
        return replace(again, level=top, score=max(merged.score, again.score))

    def assess_call(self, requests: Sequence[RiskInput]) -> RiskAssessment:
        """Assess every turn of a call and merge them (see :meth:`merge`).

        Each request should carry the earlier turns in ``history`` and
        ``history_intents``, as :class:`voice_agent.understanding.Understander`
        passes them.
        """
        return self.merge(self.assess(r) for r in requests)

    # -------------------------------------------------------------- internals

    def _judge(
        self, flags: Sequence[RiskFlag], judgement: FraudJudgement, script: str
    ) -> RiskAssessment:
        """Level and score from the flags and the scam's structure (taxonomy "Risk level")."""
        policy = self.rules.levels
        unique: dict[tuple[str, str], RiskFlag] = {}
        for f in flags:
            unique.setdefault((f.code, f.evidence), f)
        kept = tuple(unique.values())
        fraud = [f for f in kept if f.category == "fraud"]
        by_model = {f.code for f in fraud if f.cue.startswith(_MODEL)}
        by_rules = {f.code for f in fraud if not f.cue.startswith(_MODEL)}
        asked = bool(judgement.ask)
        # The model's supporting cues (保密, 他人指使) ride along with everyday
        # talk too; only a scam type it names gives an ask its context.
        story = by_model - by_rules - policy.supporting_cues
        fraud_level = policy.fraud.level(
            by_rules, story, bool(judgement.pretext), asked, bool(script)
        )
        # The model's flags name the scam type; they never move the level themselves.
        counted = [f.code for f in kept if not f.cue.startswith(_MODEL)]
        # A warning retold (反诈讲座: 叫你转到安全账户的侪是骗子), a request the
        # caller checked with the family, a code typed by a grandchild beside
        # them: the tactics heard are someone's lesson or a settled worry, so
        # they stay a note. The caller saying they were cheated still counts.
        if judgement.defused and "fraud_reported" not in by_rules:
            fraud_level = min(fraud_level, policy.fraud.note, key=RISK_LEVELS.index)
            counted = [c for c in counted if self.rules.flags[c].category != "fraud"]
            asked = False
        level, _ = policy.evaluate(counted, fraud_level, asked)
        score = policy.score(f.code for f in kept)
        missing = tuple(p for p in FRAUD_PARTS if not getattr(judgement, p))
        judged = replace(judgement, script=script, missing=missing, level=fraud_level)
        return RiskAssessment(level=level, score=score, flags=kept, fraud=judged)

    def _rule_flags(
        self, call: _CallText, views: list[tuple[TextView, Hits]]
    ) -> tuple[list[RiskFlag], str]:
        """Fraud flags from the cues and scripts, and the first script's flag code ("" if none)."""
        flags: list[RiskFlag] = []
        script = ""
        for code in FRAUD_FLAGS:
            rule = self.rules.flags[code]
            if not rule.enabled:
                continue
            found = find_cue(rule.scripts, views) if rule.scripts.cues else None
            if found is not None:
                script = script or code
            else:
                found = find_cue(rule.cueset, views)
            if found is not None:
                evidence, _ = _evidence(call.norm, views, *found)
                flags.append(self._flag(code, evidence, found[1]))
        return flags, script

    def _parts(self, call: _CallText, views: list[tuple[TextView, Hits]]) -> FraudJudgement:
        """Every kind of pretext, ask and pressure heard in the call, with its words."""
        found: dict[str, list[PartEvidence]] = {}
        for part, kinds in self.rules.parts.items():
            out = found.setdefault(part, [])
            for kind, cueset in kinds.items():
                hit = find_cue(cueset, views)
                if hit is not None:
                    evidence, start = _evidence(call.norm, views, *hit)
                    out.append(PartEvidence(part, kind, evidence, call.turn_of(start)))
        defused: list[PartEvidence] = []
        for kind, cueset in self.rules.parts.defuse.items():
            hit = find_cue(cueset, views)
            if hit is not None:
                evidence, start = _evidence(call.norm, views, *hit)
                defused.append(PartEvidence("defuse", kind, evidence, call.turn_of(start)))
        return FraudJudgement(
            pretext=tuple(found["pretext"]),
            ask=tuple(found["ask"]),
            pressure=tuple(found["pressure"]),
            defused=tuple(defused),
        )

    def _with_model_flags(
        self,
        call: _CallText,
        views: list[tuple[TextView, Hits]],
        flags: list[RiskFlag],
        judgement: FraudJudgement,
        script: str,
    ) -> list[RiskFlag]:
        """Add the detector's flags the cues did not raise, in taxonomy order.

        Rules stay first: their evidence quotes the exact cue words. The
        model only fills gaps (phrasings nobody wrote down), and only once
        the rules hear an ask or a known script; on its own it guessed fraud
        from everyday calls (a courier phoning, a food order, a son's
        wedding). Flags at their threshold are added with an ask; they give
        the ask its context (:meth:`FraudLevels.level`) but never a
        high-harm tactic or score. When the rules named no scam type (only
        supporting cues, or a bare ask), the most likely scam type is named
        too, below its threshold: the level is already decided by the rules'
        ask plus context or script, and the teller reads which story it is.
        Its ``cue`` is ``model:<probability>``.
        """
        asked = bool(judgement.ask)
        if self.detector is None or not (asked or script):
            return flags
        raised = {f.code for f in flags}
        # Each utterance is scored on its own (a whole call dilutes the
        # n-grams of the one that tells the scam); the best one per flag wins.
        best: dict[str, tuple[float, Normalised]] = {}
        for utterance in call.utterances():
            for code, p in self.detector.score(utterance).items():
                if code not in best or p > best[code][0]:
                    best[code] = (p, utterance)
        policy = self.rules.levels
        types = [c for c in best if c not in policy.supporting_cues | policy.high_flags]
        # Alone (no rule flag, pretext or script), the model is the ask's only
        # context, so it must be surer than its threshold.
        alone = not (flags or judgement.pretext or script)
        chosen = [
            c
            for c, (p, _) in best.items()
            if asked
            and p >= self.detector.thresholds.get(c, 1.0)
            and (not alone or c not in types or p >= _ALONE_MIN)
        ]
        named = (raised | set(chosen)) & set(types)
        context = bool(flags or judgement.pretext or named or script)
        if not named and context and types:
            top = max(types, key=lambda c: best[c][0])
            if best[top][0] >= _NAMING_SHARE * self.detector.thresholds.get(top, 1.0):
                chosen.append(top)
        for code in chosen:
            if code in raised or not self._enabled(code):
                continue
            veto = self._model_vetoes.get(code)
            if veto is not None and find_cue(CueSet(cues=veto.cues), views) is not None:
                continue
            rule = self.rules.flags[code]
            p, utterance = best[code]
            flags.append(
                RiskFlag(
                    code=code,
                    category=rule.category,
                    evidence=self.detector.evidence(utterance.text, code),
                    advice=rule.advice,
                    name=rule.name,
                    cue=f"{_MODEL}{p:.2f}",
                )
            )
        order = {c: i for i, c in enumerate(FRAUD_FLAGS)}
        return sorted(flags, key=lambda f: order[f.code])

    def _views(self, norm: Normalised) -> list[tuple[TextView, Hits]]:
        # The original words come first so evidence quotes them directly.
        texts = [norm.text]
        if norm.normalized_text != norm.text:
            texts.append(norm.normalized_text)
        return [self._view(t) for t in texts]

    def _view(self, text: str) -> tuple[TextView, Hits]:
        # A call's text is re-read every turn with one more utterance; the
        # views of recent texts are kept so each turn costs one new view.
        cached = self._cache.get(text)
        if cached is None:
            view = TextView(text)
            cached = (view, view.indexed_hits(self._index))
            if len(self._cache) >= _CACHE_SIZE:
                self._cache.pop(next(iter(self._cache)))
            self._cache[text] = cached
        return cached

    def _hits(self, text: str) -> list[tuple[TextView, Hits]]:
        return [self._view(text)]

    def _flag(self, code: str, evidence: str, match: Match | None = None) -> RiskFlag:
        rule = self.rules.flags[code]
        return RiskFlag(
            code=code,
            category=rule.category,
            evidence=evidence,
            advice=rule.advice,
            name=rule.name,
            cue="+".join(match.words) if match else "",
        )

    def _enabled(self, code: str) -> bool:
        return self.rules.flags[code].enabled

    def _transaction_flags(
        self,
        request: RiskInput,
        views: list[tuple[TextView, Hits]],
        profile: CustomerProfile | None,
    ) -> list[RiskFlag]:
        tr = self.rules.transaction
        slots = request.slots
        out: list[RiskFlag] = []
        amount_slot = slots.get("amount")
        amount = amount_slot.value if amount_slot and isinstance(amount_slot.value, int) else None
        said = (amount_slot.evidence or f"{amount}元") if amount_slot else ""

        if (
            self._enabled("large_amount")
            and amount is not None
            and request.intent in tr.large_intents
            and amount >= tr.large_threshold
        ):
            out.append(self._flag("large_amount", said))

        if (
            self._enabled("unusual_amount")
            and amount is not None
            and profile is not None
            and request.intent in tr.unusual_intents
            and len(profile.past_transfers) >= tr.unusual_min_past
        ):
            largest = max(profile.past_transfers)
            median = statistics.median(profile.past_transfers)
            if (
                amount > tr.unusual_max_multiple * largest
                or amount >= tr.unusual_median_multiple * median
            ):
                out.append(self._flag("unusual_amount", f"{said}（以往单笔最高{largest}元）"))

        account = _digits(slots, "payee_account")
        if (
            self._enabled("new_payee")
            and profile is not None
            and request.intent in (tr.new_payee_intents)
        ):
            fact = _new_payee(profile, slots, account)
            if fact:
                out.append(self._flag("new_payee", fact))

        if self._enabled("blacklisted_payee") and account and account in self.blacklist:
            out.append(self._flag("blacklisted_payee", mask_account(account)))

        if self._enabled("limit_raise_before_transfer"):
            evidence = self._limit_raise(request, views)
            if evidence:
                out.append(self._flag("limit_raise_before_transfer", evidence))
        return out

    def _limit_raise(self, request: RiskInput, views: list[tuple[TextView, Hits]]) -> str:
        """Evidence of a limit raise asked with, or followed by, a transfer; "" if none."""
        tr = self.rules.transaction
        norm = request.normalised
        raise_here = find_cue(tr.limit_raise, views)
        lower_here = find_cue(tr.limit_lower, views) is not None
        is_raise = raise_here is not None or (request.intent in tr.limit_intents and not lower_here)
        is_transfer = (
            request.intent in tr.limit_transfer_intents
            or find_cue(tr.transfer_words, views) is not None
        )
        earlier_raise = ""
        earlier_transfer = False
        for i, intent in enumerate(request.history_intents):
            said = request.history[i] if i < len(request.history) else ""
            if intent in tr.limit_transfer_intents:
                earlier_transfer = True
            lowered = bool(said) and find_cue(tr.limit_lower, self._hits(said)) is not None
            if intent in tr.limit_intents and not earlier_raise and not lowered:
                earlier_raise = _clause(said, 0, len(said)) if said else "本次通话先调整了限额"
        here = _evidence(norm, views, *raise_here)[0] if raise_here else ""
        if is_raise and (is_transfer or earlier_transfer):
            return here or _clause(norm.text, 0, len(norm.text))
        if is_transfer and earlier_raise:
            return earlier_raise
        return ""

    def _customer_flags(
        self,
        request: RiskInput,
        views: list[tuple[TextView, Hits]],
        profile: CustomerProfile | None,
        so_far: Sequence[RiskFlag],
    ) -> list[RiskFlag]:
        tr = self.rules.transaction
        out: list[RiskFlag] = []
        if self._enabled("elderly") and profile is not None and profile.age >= tr.elderly_min_age:
            fraud_heard = tr.elderly_with_fraud and any(f.category == "fraud" for f in so_far)
            if request.intent in tr.elderly_intents or fraud_heard:
                out.append(self._flag("elderly", f"{profile.age}岁"))
        if self._enabled("repeated_attempts") and request.intent in tr.repeated_intents:
            earlier = sum(1 for i in request.history_intents if i in tr.repeated_intents)
            cue = find_cue(tr.repeated_cues, views)
            if cue is not None:
                said, _ = _evidence(request.normalised, views, *cue)
                out.append(self._flag("repeated_attempts", said))
            elif earlier >= tr.repeated_min_earlier:
                fact = f"本次通话第{earlier + 1}次转账/调额请求"
                out.append(self._flag("repeated_attempts", fact))
        return out


# ------------------------------------------------------------------ evidence


@dataclass(frozen=True)
class _CallText:
    """The call so far as one text: earlier utterances, then the current one.

    Utterances are joined with 。 so clause-bound evidence never runs across
    two of them; ``starts`` are their offsets in the original text.
    """

    norm: Normalised
    starts: tuple[int, ...]
    current: Normalised | None = None

    def utterances(self) -> list[Normalised]:
        """Each utterance on its own: earlier ones as said, the current one normalised."""
        if self.current is None:
            return [self.norm]
        text = self.norm.text
        ends = [s - len(_TURN_BREAK) for s in self.starts[1:]]
        earlier = [text[a:b] for a, b in zip(self.starts, ends, strict=False)]
        return [Normalised(t, t, self.current.dialect, 1.0) for t in earlier] + [self.current]

    def turn_of(self, offset: int) -> int:
        """Which utterance (0 = first) the original-text ``offset`` falls in."""
        return max(0, bisect.bisect_right(self.starts, offset) - 1)


def _call_text(history: Sequence[str], norm: Normalised) -> _CallText:
    earlier = [h for h in history if h.strip()]
    if not earlier:
        return _CallText(norm, (0,))
    starts, pos = [], 0
    for h in earlier:
        starts.append(pos)
        pos += len(h) + len(_TURN_BREAK)
    starts.append(pos)
    head = _TURN_BREAK.join(earlier) + _TURN_BREAK
    shifted = tuple(replace(r, start=r.start + pos, end=r.end + pos) for r in norm.replacements)
    joined = Normalised(
        head + norm.text, head + norm.normalized_text, norm.dialect, norm.confidence, shifted
    )
    return _CallText(joined, tuple(starts), norm)


def _evidence(
    norm: Normalised, views: Sequence[tuple[TextView, Hits]], vi: int, m: Match
) -> tuple[str, int]:
    """The customer's own words around a match (original text) and where they start."""
    start, end = m.start, m.end
    if views[vi][0].text != norm.text:
        start, end = _to_original(norm, start, end)
    return _clause(norm.text, start, end), start


def _clause(text: str, start: int, end: int) -> str:
    """Widen ``[start, end)`` to its clause, trimmed to a readable length."""
    lo = start
    while lo > 0 and text[lo - 1] not in _CLAUSE_BREAKS:
        lo -= 1
    hi = end
    while hi < len(text) and text[hi] not in _CLAUSE_BREAKS:
        hi += 1
    if hi - lo > _MAX_EVIDENCE:  # no punctuation from ASR: keep some context only
        lo = max(lo, start - _EVIDENCE_CONTEXT)
        hi = min(hi, max(end + _EVIDENCE_CONTEXT, lo + 1))
    return text[lo:hi].strip() or text[start:end]


def _segments(norm: Normalised) -> list[tuple[int, int, int, int, bool]]:
    """Aligned pieces ``(n0, n1, o0, o1, same)`` of normalised vs original text.

    Built from the dialect layer's replacements when they explain the
    normalised text exactly; otherwise from a character diff, so a span can
    always be mapped back to the customer's words.
    """
    segs: list[tuple[int, int, int, int, bool]] = []
    built: list[str] = []
    npos = opos = 0
    ok = True
    for r in sorted(norm.replacements, key=lambda r: r.start):
        if r.start < opos or norm.text[r.start : r.end] != r.original:
            ok = False
            break
        gap = norm.text[opos : r.start]
        segs.append((npos, npos + len(gap), opos, r.start, True))
        npos += len(gap)
        segs.append((npos, npos + len(r.mandarin), r.start, r.end, r.mandarin == r.original))
        npos += len(r.mandarin)
        opos = r.end
        built += [gap, r.mandarin]
    if ok:
        tail = norm.text[opos:]
        segs.append((npos, npos + len(tail), opos, len(norm.text), True))
        if "".join(built) + tail == norm.normalized_text:
            return segs
    matcher = difflib.SequenceMatcher(None, norm.normalized_text, norm.text, autojunk=False)
    return [(i1, i2, j1, j2, tag == "equal") for tag, i1, i2, j1, j2 in matcher.get_opcodes()]


def _to_original(norm: Normalised, start: int, end: int) -> tuple[int, int]:
    """Map a span of the normalised text onto the original text."""
    segs = _segments(norm)
    o_start, o_end = 0, len(norm.text)
    for n0, n1, o0, _o1, same in segs:
        if n0 <= start < n1 or (n0 == n1 == start):
            o_start = o0 + (start - n0) if same else o0
            break
    for n0, n1, o0, o1, same in segs:
        if n0 < end <= n1:
            o_end = o0 + (end - n0) if same else o1
            break
    if o_end <= o_start:
        o_end = min(len(norm.text), o_start + 1)
    return o_start, o_end


# ------------------------------------------------------------------- payees


def _digits(slots: Slots, code: str) -> str:
    slot = slots.get(code)
    if slot is None:
        return ""
    return "".join(ch for ch in str(slot.value) if ch.isdigit())


def _new_payee(profile: CustomerProfile, slots: Slots, account: str) -> str:
    """What identifies a never-paid payee (masked account, name or relation), or ""."""
    name = slots.get("payee_name")
    relation = slots.get("payee_relation")
    if account:
        # An account decides on its own: "my son's new account" is exactly the risk.
        return "" if account in {p.account for p in profile.payees} else mask_account(account)
    if name is not None:
        known = str(name.value) in {p.name for p in profile.payees}
        return "" if known else (name.evidence or str(name.value))
    if relation is not None:
        known = str(relation.value) in {p.relation for p in profile.payees}
        return "" if known else (relation.evidence or str(relation.value))
    return ""
