"""The live call's dialogue policy: what to say next to an elderly caller.

Pure Python and free of pipecat, so the policy is tested turn by turn with
real Understandings and the live pipeline only carries its events. A call is
a fold over turns: ``state, event = dialogue.step(state, turn)``. States and
events are frozen dataclasses, so a test (or a teller's replay) can keep
every intermediate state.

The rules, in the order they are tried on each turn:

0. a turn whose audio was judged dialect speech the recogniser cannot read
   (voice_agent.speech_dialect) hands over at once to a teller who speaks
   the dialect: asking such a caller to repeat cannot help;
1. an unclear turn (ASR could not tell) repeats the last prompt; the third
   unclear turn of a call hands over to a teller instead of frustrating the
   caller;
2. 转人工 / 找人工 / 柜员 hands over at once;
3. 请再说一遍 / 没听清 / 啥 repeats the last prompt;
4. risk merges across turns (highest level, union of flags); a high-risk
   fraud cue, or a medium one with an ask (move money, a code, a fee), hands
   over at once with a calm sentence, never an accusation — the teller, not
   a machine, talks to a possibly deceived customer;
5. while a read-back waits for an answer: 对/是的/没错/好的 hands the case
   over, 不对/不是 asks what to change, a new value is taken and read back;
6. otherwise slots merge (a later turn overrides), the intent is fixed once
   confident (the scenario biases it), the first missing required field is
   asked for in one short sentence, and a complete request is read back
   (amount in 大写, payee, account's last four digits one by one) with the
   intent's read-back template from the catalog;
7. a turn that only sets a scene (somebody phoned: a fraud pretext with no
   ask yet, or only that somebody phoned) is not a finished call: the
   caller is invited to go on (twice a call at most);
8. at medium risk the read-back and the hand-over say that a teller will
   check the request, so nothing is confirmed as if it were routine, and a
   finished call with fraud cues at medium is handed over for ``risk``.

The state is the call's one truth: the case a teller receives is projected
from the final state (:mod:`voice_agent.projection`), never re-understood.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Literal, Protocol

from dialects.types import Normalised
from intents.taxonomy import OUT_OF_SCOPE, SLOT_NAMES
from intents.templates import Template
from intents.types import IntentPrediction, Slots, SlotValue
from models.errors import InputError
from models.text import find_pinyin
from voice_agent.form import KnownPayeeFacts
from voice_agent.risk.merge import merge_risk
from voice_agent.risk.types import RiskAssessment, RiskFlag
from voice_agent.understanding import Understanding
from voice_agent.wording import render_readback

EventKind = Literal["prompt", "confirm", "case"]
EventReason = Literal[
    "greeting",
    "ask_intent",
    "missing_slot",
    "repeat",
    "unclear",
    "readback",
    "deny",
    "out_of_scope",
    "complete",
    "teller_request",
    "risk",
    "unclear_limit",
    "invite_more",
    "finished",
    "dialect_speech",
]
"""Why the dialogue says what it says (logs, tests, the caller's page)."""
Awaiting = Literal["intent", "slot", "confirm", "correction", "done"]


class IntentRequirements(Protocol):
    """What the dialogue needs of a catalog intent (intents.catalog.IntentSpec)."""

    @property
    def name(self) -> str:
        """Chinese display name, read back to the caller."""
        ...

    @property
    def required(self) -> tuple[tuple[str, ...], ...]:
        """Required any-of slot groups; the first code of a group is asked for."""
        ...

    @property
    def prompts(self) -> Mapping[str, str]:
        """Slot code → the short question asked when it is missing."""
        ...

    @property
    def readback(self) -> Template:
        """Which facts the read-back names (intents.templates)."""
        ...


class ScenarioSource(Protocol):
    """A scenario as the catalog declares it (intents.catalog.ScenarioSpec)."""

    @property
    def intent(self) -> str:
        """The intent the scenario assumes."""
        ...

    @property
    def greeting(self) -> str:
        """The first sentence the caller hears."""
        ...

    @property
    def also_expected(self) -> tuple[str, ...]:
        """Other intents the scenario makes likely."""
        ...


@dataclass(frozen=True)
class ScenarioScript:
    """Why the mobile app sent the caller here, and how to open the call.

    Attributes:
        greeting: the first sentence the caller hears.
        expected: intents this scenario makes likely; a prediction among them
            is accepted at a lower confidence.
        default_intent: assumed when the caller answers the greeting with
            details only (五万，给我儿子) and no clear intent.
    """

    greeting: str
    expected: tuple[str, ...] = ()
    default_intent: str | None = None


@dataclass(frozen=True)
class Phrases:
    """Everything the dialogue says or listens for that is not in the catalog.

    Kept in one value so the product team's wording can be passed in (and
    tested) without touching the policy.
    """

    ask_intent: str = "请问您今天要办理什么业务？比如转账、查余额、挂失。"
    out_of_scope: str = "不好意思，这个我这里办不了。请问您要办理什么银行业务？"
    deny: str = "好的，请问哪里不对？您直接说正确的就行。"
    handoff_complete: str = "好的，我已经记下了，马上请柜员为您办理，请稍等。"
    handoff_teller: str = "好的，马上为您转接柜员，请稍等。"
    handoff_risk: str = "好的，为了您的资金安全，我请柜员来和您一起核实一下，请稍等。"
    handoff_unclear: str = "不好意思，我没有听清楚。我请柜员来帮您，请稍等。"
    #: Said slowly when the caller speaks a dialect the recogniser cannot read.
    handoff_dialect: str = "请稍等，会讲上海话的柜员马上来帮您。"
    readback_prefix: str = "跟您核对一下："
    readback_suffix: str = "对吗？"
    greeting: str = "您好，我是银行远程柜台的助手。请问您今天要办理什么业务？"
    #: Said at medium risk, before the read-back's question and at hand-over.
    teller_will_check: str = "这笔业务柜员还会和您再核实一下。"
    #: A turn that only set the scene (somebody phoned): let the caller go on.
    invite_more: str = "好的，您慢慢说，后来呢？"
    #: Words that tell a story of somebody getting in touch (matched in pinyin too).
    scene_cues: tuple[str, ...] = (
        "打电话",
        "打来电话",
        "来电",
        "电话里",
        "接到",
        "说是",
        "自称",
        "有人",
        "有个人",
        "对方说",
        "加我",
        "认识了",
    )
    #: Invitations to go on per call, at most.
    max_invites: int = 2
    #: Matched by toneless pinyin too, so ASR homophones count (人公 for 人工).
    teller_cues: tuple[str, ...] = ("人工", "柜员", "真人")
    repeat_cues: tuple[str, ...] = (
        "请再说一遍",
        "再说一遍",
        "再说一次",
        "再讲一遍",
        "没听清",
        "没听到",
        "听不清",
        "听不懂",
    )
    #: Only count as "say again" when they are (nearly) the whole utterance:
    #: 啥 and 什么 also occur inside real requests (我要查啥).
    short_repeat_cues: tuple[str, ...] = ("啥", "什么", "哪", "嗯？", "啊")
    yes_cues: tuple[str, ...] = ("是的", "没错", "好的", "对的", "对", "是", "可以", "行", "嗯")
    no_cues: tuple[str, ...] = ("不对", "不是", "错了", "不行", "不要", "不用", "没对")


def scenario_scripts(
    scenarios: Mapping[str, ScenarioSource], phrases: Phrases | None = None
) -> Mapping[str | None, ScenarioScript]:
    """Opening scripts from the catalog's scenarios; ``None`` is a plain call.

    Args:
        scenarios: scenario code → its declaration (``Catalog.scenarios``).
        phrases: the wording; its ``greeting`` opens a plain call.
    """
    out: dict[str | None, ScenarioScript] = {
        None: ScenarioScript(greeting=(phrases or Phrases()).greeting)
    }
    for code, sc in scenarios.items():
        out[code] = ScenarioScript(
            greeting=sc.greeting,
            expected=(sc.intent, *sc.also_expected),
            default_intent=sc.intent,
        )
    return MappingProxyType(out)


_PUNCT = re.compile(r"[\s，。！？、,.!?~…：:；;“”\"'（）()]+")


@dataclass(frozen=True)
class DialogueEvent:
    """What the system says next.

    Attributes:
        kind: ``prompt`` (a question), ``confirm`` (a read-back awaiting
            对/不对) or ``case`` (hand the call to a teller now).
        text: the short Mandarin sentence to show and speak.
        reason: why, for logs and tests: greeting, ask_intent, missing_slot,
            repeat, unclear, readback, deny, out_of_scope, complete,
            teller_request, risk, unclear_limit, invite_more.
        slot: the slot asked for, when ``reason`` is missing_slot.
        flags: the risk flags behind a ``risk`` handoff.
    """

    kind: EventKind
    text: str
    reason: EventReason
    slot: str | None = None
    flags: tuple[RiskFlag, ...] = ()


@dataclass(frozen=True)
class DialogueState:
    """Everything the call has gathered so far.

    Attributes:
        scenario: the app's scenario code, or None.
        intent: the intent, once fixed (it is not re-decided every turn, so a
            short answer like 五万 cannot flip a transfer to a deposit).
        intent_assumed: the intent came from the scenario, not the caller; a
            confident prediction among the scenario's expected intents may
            still replace it (限额 instead of 转账 after transfer_over_limit).
        slots: slots merged over the turns, later turns overriding.
        profile: payee facts from the caller's profile (never spoken), read
            back for confirmation; what the caller says overrides them.
        risk: the call's risk: highest level seen, union of flags.
        awaiting: what the last prompt asked for.
        last_prompt: the last sentence said, repeated on request.
        unclear_turns: unclear turns so far in the call.
        history: the caller's earlier utterances (original text), for the
            risk rules that look across turns.
        history_intents: the intent predicted for each of them.
        heard: the dialect analysis of each understood turn, for the case:
            the clear turns, or the unclear ones while nothing was clear.
        prediction: the classifier's prediction that fixed ``intent``, or the
            most confident one so far while no intent is fixed (the case
            needs an intent even when the call ended early).
        tentative: only unclear speech has been understood so far; its
            prediction is a guess (the case asks the teller to confirm).
        invited: how often the caller was invited to go on after a turn
            that only set the scene.
        finished: a case event was emitted; the call is the teller's now.
    """

    scenario: str | None = None
    intent: str | None = None
    intent_assumed: bool = False
    slots: Slots = field(default_factory=Slots)
    profile: Slots = field(default_factory=Slots)
    risk: RiskAssessment = field(default_factory=RiskAssessment)
    awaiting: Awaiting = "intent"
    last_prompt: str = ""
    unclear_turns: int = 0
    history: tuple[str, ...] = ()
    history_intents: tuple[str, ...] = ()
    heard: tuple[Normalised, ...] = ()
    prediction: IntentPrediction | None = None
    tentative: bool = True
    invited: int = 0
    finished: bool = False

    @property
    def filled(self) -> dict[str, int | str]:
        """Every known value: the caller's words over the profile's facts."""
        return self.profile.merged(self.slots).as_dict()


@dataclass(frozen=True)
class DialogueStep:
    """The result of one turn: the new state and what to say."""

    state: DialogueState
    event: DialogueEvent


def _scam_asked(risk: RiskAssessment) -> bool:
    """A fraud cue at high, or at medium with what the caller was asked to do.

    Either way the assistant stops collecting the transaction: asking a
    victim for the amount or the scammer's account helps nobody, and the
    teller, not a machine, talks to a possibly deceived customer.
    """
    if not any(f.category == "fraud" for f in risk.flags):
        return False
    return risk.level == "high" or (risk.level == "medium" and bool(risk.fraud.ask))


def _better(new: IntentPrediction, old: IntentPrediction | None) -> bool:
    """Whether ``new`` is a more confident in-scope guess than ``old``."""
    if old is None:
        return True
    if old.code == OUT_OF_SCOPE and new.code != OUT_OF_SCOPE:
        return True
    return new.code != OUT_OF_SCOPE and new.confidence > old.confidence


def _mentions(text: str, cues: tuple[str, ...]) -> bool:
    """Whether ``text`` says one of ``cues``, in characters or in toneless pinyin."""
    return any(cue in text or find_pinyin(text, cue) is not None for cue in cues)


class Dialogue:
    """The dialogue policy for one kind of call; holds no per-call state.

    Args:
        intents: intent code → its requirements (a ``Catalog.intents``).
        phrases: the wording; defaults are short, polite Mandarin.
        scenarios: scenario code → opening script (:func:`scenario_scripts`
            of the catalog); only a plain call when omitted.
        intent_threshold: confidence at which an intent is fixed.
        scenario_threshold: lower confidence accepted for the scenario's
            expected intents.
        max_unclear: unclear turns after which a teller takes over.
        payee_lookup: relation (儿子) → the caller's known payee from the
            profile, so the call reads back "收款人张伟，账号尾号…" for the
            caller to confirm instead of asking an elderly caller to recite
            a 19-digit account number.

    Raises:
        InputError: from :meth:`start` for an unknown scenario (lists the
            valid ones).
    """

    def __init__(
        self,
        intents: Mapping[str, IntentRequirements],
        *,
        phrases: Phrases | None = None,
        scenarios: Mapping[str | None, ScenarioScript] | None = None,
        intent_threshold: float = 0.5,
        scenario_threshold: float = 0.2,
        max_unclear: int = 3,
        payee_lookup: Callable[[str], KnownPayeeFacts | None] | None = None,
    ) -> None:
        self.intents = intents
        self.payee_lookup = payee_lookup
        self.phrases = phrases or Phrases()
        self.scenarios = scenarios if scenarios is not None else scenario_scripts({}, phrases)
        self.intent_threshold = intent_threshold
        self.scenario_threshold = scenario_threshold
        self.max_unclear = max_unclear

    def start(self, scenario: str | None = None) -> DialogueStep:
        """Open a call: the scenario's greeting, and what it waits for."""
        script = self._script(scenario)
        awaiting: Awaiting = "intent"
        intent = None
        if script.default_intent and script.default_intent in self.intents:
            # The app already told us why the caller is here: the greeting
            # asks for the details, so the intent is known from the start.
            intent = script.default_intent
            awaiting = "slot"
        state = DialogueState(
            scenario=scenario,
            intent=intent,
            intent_assumed=intent is not None,
            awaiting=awaiting,
            last_prompt=script.greeting,
        )
        return DialogueStep(state, DialogueEvent("prompt", script.greeting, "greeting"))

    def step(
        self,
        state: DialogueState,
        turn: Understanding | None,
        *,
        unclear: bool = False,
        dialect_speech: bool = False,
    ) -> DialogueStep:
        """Advance the call by one caller turn.

        Args:
            state: the state returned by the previous step (or :meth:`start`).
            turn: what was understood of the turn, or None when ASR heard no
                words at all.
            unclear: ASR judged the turn unclear (mumbling, noise, a
                regurgitated prompt). Its words, if any, were still
                understood: their fraud cues are kept for the teller (a scam
                victim mumbling must not lose the warning) and their intent
                is a guess, but the caller is asked again.
            dialect_speech: the turn's audio was judged dialect speech the
                recogniser cannot read (voice_agent.speech_dialect). Its
                words are unreadable: understood like an unclear turn's
                (fraud cues kept, nothing filled), and the first such turn
                hands over at once to a teller who speaks the dialect
                instead of asking the caller to repeat.

        Returns:
            The new state and the event to send.
        """
        slots_before = state.slots.as_dict()
        if turn is not None:
            state = self._absorb(
                state, turn, tentative=unclear or dialect_speech, unreadable=dialect_speech
            )
        if state.finished:
            return DialogueStep(
                state, DialogueEvent("case", self.phrases.handoff_complete, "finished")
            )
        if dialect_speech:
            return self._handoff(state, self.phrases.handoff_dialect, "dialect_speech")
        if turn is None or unclear:
            return self._unclear(state)

        text = _PUNCT.sub("", turn.normalised.normalized_text)
        if not text:
            return self._unclear(state)
        if _mentions(text, self.phrases.teller_cues) or (
            turn.intent.code == "speak_to_teller"
            and turn.intent.confidence >= self.intent_threshold
        ):
            return self._handoff(state, self.phrases.handoff_teller, "teller_request")
        if self._asks_repeat(text):
            return DialogueStep(state, DialogueEvent("prompt", state.last_prompt, "repeat"))
        if _scam_asked(state.risk):
            return self._handoff(
                state,
                self.phrases.handoff_risk,
                "risk",
                flags=tuple(f for f in state.risk.flags if f.category == "fraud"),
            )

        changed = state.slots.as_dict() != slots_before
        if state.intent is None or state.intent_assumed:
            chosen = self._choose_intent(state, turn)
            if chosen is not None:
                prediction = state.prediction if chosen != turn.intent.code else turn.intent
                state = replace(state, intent=chosen, intent_assumed=False, prediction=prediction)
                state = self._complete_payee(state)

        if state.awaiting in ("confirm", "correction") and not changed:
            if any(cue in text for cue in self.phrases.no_cues):
                return self._say(state, "prompt", self.phrases.deny, "deny", awaiting="correction")
            if state.awaiting == "confirm" and any(cue in text for cue in self.phrases.yes_cues):
                return self._complete(state)
        if self._only_sets_scene(state, turn, text):
            state = replace(state, invited=state.invited + 1)
            return self._say(state, "prompt", self.phrases.invite_more, "invite_more")
        return self._advance(state)

    def _absorb(
        self,
        state: DialogueState,
        turn: Understanding,
        *,
        tentative: bool,
        unreadable: bool = False,
    ) -> DialogueState:
        """Fold what a turn said into the call: risk, history, slots, the best guess.

        Done for every turn with words, also after the hand-over (a recording
        goes on after the point where a live call would have stopped, and the
        teller must see all of it) and for unclear turns (fraud cues only:
        values from unclear speech are not filled into a form). A turn
        judged unreadable dialect speech keeps no fraud cue either: its
        words are the recogniser's guesses, not the caller's.
        """
        risk = turn.risk
        if unreadable:
            risk = RiskAssessment()
        elif tentative:
            risk = RiskAssessment(
                level=turn.risk.level,
                score=turn.risk.score,
                flags=tuple(f for f in turn.risk.flags if f.category == "fraud"),
            )
            if not risk.flags:
                risk = RiskAssessment()
        if tentative:
            heard = (*state.heard, turn.normalised) if state.tentative else state.heard
        else:
            heard = (*state.heard, turn.normalised) if not state.tentative else (turn.normalised,)
        state = replace(
            state,
            risk=merge_risk(state.risk, risk),
            history=(*state.history, turn.normalised.text),
            history_intents=(*state.history_intents, turn.intent.code),
            heard=heard,
        )
        if tentative:
            if state.tentative and _better(turn.intent, state.prediction):
                state = replace(state, prediction=turn.intent)
            return state
        slots = state.slots.merged(turn.slots)
        prediction = state.prediction
        if state.tentative or (state.intent is None and _better(turn.intent, prediction)):
            prediction = turn.intent
        state = replace(state, slots=slots, prediction=prediction, tentative=False)
        return self._complete_payee(state)

    # -- the rules ------------------------------------------------------------

    def _script(self, scenario: str | None) -> ScenarioScript:
        try:
            return self.scenarios[scenario]
        except KeyError as e:
            valid = ", ".join(str(s) for s in self.scenarios if s is not None)
            raise InputError(f"unknown scenario {scenario!r} (valid: {valid}, or none)") from e

    def _asks_repeat(self, text: str) -> bool:
        if _mentions(text, self.phrases.repeat_cues):
            return True
        return len(text) <= 3 and any(cue in text for cue in self.phrases.short_repeat_cues)

    def _choose_intent(self, state: DialogueState, turn: Understanding) -> str | None:
        """The intent to fix now, or None to keep asking."""
        script = self._script(state.scenario)
        pred = turn.intent
        known = self.intents
        if state.intent_assumed:
            # Only clear evidence replaces what the app told us.
            if pred.code in script.expected and pred.confidence >= self.intent_threshold:
                return pred.code
            return None
        if pred.code in script.expected and pred.confidence >= self.scenario_threshold:
            return pred.code
        if (
            pred.confidence >= self.intent_threshold
            and pred.code in known
            and pred.code not in (OUT_OF_SCOPE, "speak_to_teller")
        ):
            return pred.code
        for alt in pred.alternatives:
            if alt.code in script.expected and alt.confidence >= self.scenario_threshold:
                return alt.code
        if script.default_intent in known and turn.slots.values:
            return script.default_intent
        return None

    def _advance(self, state: DialogueState) -> DialogueStep:
        """Ask for what is missing, read back what is complete, or hand over."""
        if state.intent is None:
            last = state.history_intents[-1] if state.history_intents else ""
            if last == OUT_OF_SCOPE:
                return self._say(state, "prompt", self.phrases.out_of_scope, "out_of_scope")
            return self._say(state, "prompt", self.phrases.ask_intent, "ask_intent")
        intent = state.intent
        spec = self.intents.get(intent)
        if spec is None or not spec.required:
            return self._complete(state)
        filled = state.filled
        for group in spec.required:
            if group and not any(code in filled for code in group):
                slot = group[0]
                question = spec.prompts.get(slot) or f"请问{SLOT_NAMES.get(slot, slot)}是什么？"
                return self._say(state, "prompt", question, "missing_slot", slot=slot)
        suffix = self.phrases.readback_suffix
        if state.risk.level == "medium":
            suffix = self.phrases.teller_will_check + suffix
        text = render_readback(
            spec.readback, filled, spec.name, self.phrases.readback_prefix, suffix
        )
        return self._say(state, "confirm", text, "readback")

    def _complete_payee(self, state: DialogueState) -> DialogueState:
        """Payee name/account/bank from the profile, for a payee named by relation.

        The one place the profile fills a form: the read-back, the confirmed
        form and the teller's case all see the same ``state.profile``. It is
        recomputed on every turn, so a payee the caller later names or spells
        out replaces the profile's facts instead of mixing with them.
        """
        filled = state.slots.as_dict()
        intent = state.intent or (state.prediction.code if state.prediction else None)
        facts = None
        if (
            self.payee_lookup is not None
            and intent == "transfer"
            and "payee_relation" in filled
            and "payee_account" not in filled
            and "payee_name" not in filled
        ):
            facts = self.payee_lookup(str(filled["payee_relation"]))
        if facts is None:
            return replace(state, profile=Slots()) if state.profile.values else state
        known = (
            ("payee_name", facts.name),
            ("payee_account", facts.account),
            ("payee_bank", facts.bank),
        )
        profile = Slots(
            tuple(SlotValue(code, v, "", 0, 0, confidence=0.8) for code, v in known if v)
        )
        return replace(state, profile=profile)

    def _complete(self, state: DialogueState) -> DialogueStep:
        """Hand a finished request over; with fraud cues at medium it is a risk hand-over.

        The teller then knows the call is theirs because of what the caller
        was asked to do, not because the form is complete.
        """
        fraud = any(f.category == "fraud" for f in state.risk.flags)
        if fraud and state.risk.level in ("medium", "high"):
            flags = tuple(f for f in state.risk.flags if f.category == "fraud")
            return self._handoff(state, self._handoff_complete_text(state), "risk", flags=flags)
        return self._handoff(state, self._handoff_complete_text(state), "complete")

    def _handoff_complete_text(self, state: DialogueState) -> str:
        if state.risk.level == "medium":
            return self.phrases.handoff_complete + self.phrases.teller_will_check
        return self.phrases.handoff_complete

    def _only_sets_scene(self, state: DialogueState, turn: Understanding, text: str) -> bool:
        """A turn that tells who got in touch but not yet what they asked for.

        有人打电话说是我儿子…, 一个自称公安的人说我涉嫌洗钱…: handing over,
        closing the call or asking for an amount now would cut off what the
        caller was about to say they were asked to do. Such a turn carries a
        fraud pretext or script with the ask still missing, or tells that
        somebody phoned, and no request details; the caller is invited to go
        on (at most ``max_invites`` times a call).
        """
        if state.invited >= self.phrases.max_invites:
            return False
        if state.awaiting in ("confirm", "correction") or turn.slots.values:
            return False
        fraud = state.risk.fraud
        if "ask" not in fraud.missing or state.risk.level == "high":
            return False
        told = bool(turn.risk.fraud.pretext or turn.risk.fraud.script)
        told = told or any(f.category == "fraud" for f in turn.risk.flags)
        return told or _mentions(text, self.phrases.scene_cues)

    def _unclear(self, state: DialogueState) -> DialogueStep:
        state = replace(state, unclear_turns=state.unclear_turns + 1)
        if state.unclear_turns >= self.max_unclear:
            return self._handoff(state, self.phrases.handoff_unclear, "unclear_limit")
        return DialogueStep(state, DialogueEvent("prompt", state.last_prompt, "unclear"))

    def _say(
        self,
        state: DialogueState,
        kind: EventKind,
        text: str,
        reason: EventReason,
        *,
        slot: str | None = None,
        awaiting: Awaiting | None = None,
    ) -> DialogueStep:
        if awaiting is None:
            awaiting = "confirm" if kind == "confirm" else ("slot" if slot else "intent")
        state = replace(state, awaiting=awaiting, last_prompt=text)
        return DialogueStep(state, DialogueEvent(kind, text, reason, slot=slot))

    def _handoff(
        self,
        state: DialogueState,
        text: str,
        reason: EventReason,
        *,
        flags: tuple[RiskFlag, ...] = (),
    ) -> DialogueStep:
        state = replace(state, awaiting="done", last_prompt=text, finished=True)
        return DialogueStep(state, DialogueEvent("case", text, reason, flags=flags))
