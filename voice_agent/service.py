"""Build Front Desk once from Settings, then understand text and handle audio.

Everything slow (models, lexicons, rules, the classifier) loads here, once;
the CLI, the server and the live call all share one :class:`FrontDesk`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Mapping, Sequence
from dataclasses import replace
from pathlib import Path

import numpy as np

from dialects.normaliser import DialectNormaliser
from dialects.types import Normalised
from intents.catalog import Catalog
from intents.classifier import IntentModel
from intents.slots import SlotExtractor
from intents.training import load_or_bootstrap
from models.errors import InputError, ModelError
from voice_agent.asr import AsrEngine, AsrResult, WhisperEngine
from voice_agent.audio import SAMPLE_RATE, decode_audio
from voice_agent.case import Case, HandoffReason, TranscriptSegment
from voice_agent.casebuilder import CaseBuilder
from voice_agent.dialogue import Dialogue, DialogueState, DialogueStep, scenario_scripts
from voice_agent.form import KnownPayeeFacts
from voice_agent.recording import encode_opus
from voice_agent.risk.engine import RiskEngine
from voice_agent.risk.profiles import CustomerDirectory
from voice_agent.risk.semantic import SemanticDetector, load_semantic_config
from voice_agent.second_engine import load_second_engine
from voice_agent.settings import Settings
from voice_agent.speech_dialect import UNREADABLE_REASONS, SpeechDialect, judge_speech
from voice_agent.understanding import Understander, Understanding
from voice_agent.vad import SpeechDetector

log = logging.getLogger(__name__)


class FrontDesk:
    """The loaded system: understanding stages, optional speech, case builder."""

    def __init__(
        self,
        settings: Settings,
        normaliser: DialectNormaliser,
        catalog: Catalog,
        understander: Understander,
        risk: RiskEngine,
        customers: CustomerDirectory,
        asr: AsrEngine | None = None,
        vad: SpeechDetector | None = None,
        second_asr: AsrEngine | None = None,
    ) -> None:
        self.settings = settings
        self.normaliser = normaliser
        self.catalog = catalog
        self.understander = understander
        self.risk = risk
        self.customers = customers
        self._asr = asr
        self._vad = vad
        #: The optional second recogniser for turns judged dialect speech.
        self.second_asr = second_asr
        self.scenarios = scenario_scripts(catalog.scenarios)
        self.case_builder = CaseBuilder(
            intents=catalog.intents,
            flag_names={code: rule.name for code, rule in risk.rules.flags.items()},
            scenario_notes={code: sc.teller_note for code, sc in catalog.scenarios.items()},
        )

    def with_catalog(self, catalog: Catalog, classifier: IntentModel | None = None) -> FrontDesk:
        """This Front Desk on another catalog (and intent model), sharing every other part.

        Quick (nothing is loaded): the server swaps the result in when the
        catalog or the live model changes. Calls in progress keep the Front
        Desk they started with, so each call finishes on one catalog.
        """
        understander = self.understander
        if classifier is not None:
            understander = Understander(
                understander.normaliser, classifier, understander.slot_finder, understander.risk
            )
        return FrontDesk(
            self.settings,
            self.normaliser,
            catalog,
            understander,
            self.risk,
            self.customers,
            self._asr,
            self._vad,
            self.second_asr,
        )

    def with_second_engine(self, second: AsrEngine | None) -> FrontDesk:
        """This Front Desk with another second engine for dialect turns, sharing every other part.

        Lets a benchmark or a test compare engines on one set of loaded
        models instead of loading Whisper once per engine.
        """
        return FrontDesk(
            self.settings,
            self.normaliser,
            self.catalog,
            self.understander,
            self.risk,
            self.customers,
            self._asr,
            self._vad,
            second,
        )

    @property
    def asr(self) -> AsrEngine:
        """The speech recogniser; an error if Front Desk was built text-only."""
        if self._asr is None:
            raise ModelError("speech recognition was not loaded (built with load_asr=False)")
        return self._asr

    @property
    def vad(self) -> SpeechDetector:
        """The voice activity detector used to cut recordings into turns."""
        if self._vad is None:
            raise ModelError("voice activity detection was not loaded (load_asr=False)")
        return self._vad

    def _payee_for_relation(self, customer_id: str, relation: str) -> KnownPayeeFacts | None:
        payee = self.customers.payee_for_relation(customer_id, relation)
        if payee is None:
            return None
        return KnownPayeeFacts(name=payee.name, account=payee.account, bank=payee.bank)

    def dialogue_for(self, customer_id: str | None) -> Dialogue:
        """The dialogue policy for one caller (their profile completes payees)."""
        lookup = None
        if customer_id:

            def lookup(relation: str) -> KnownPayeeFacts | None:
                return self._payee_for_relation(customer_id, relation)

        return Dialogue(self.catalog.intents, scenarios=self.scenarios, payee_lookup=lookup)

    def hear(
        self,
        dialogue: Dialogue,
        state: DialogueState,
        segment: TranscriptSegment,
        customer_id: str | None,
    ) -> DialogueStep:
        """Fold one recognised turn into the call: understand it in context, then step.

        The one fold shared by ``handle_audio`` and the live call, so a
        recording and a phone call are understood the same way. Unclear
        speech is still understood (fraud cues are kept), but the dialogue
        treats it as unclear. Blocking (a few ms): live callers run it in a
        thread.
        """
        text = segment.text.strip()
        # Dialect speech nobody could read; a turn the second engine read is
        # understood like any other (its case still goes to a dialect teller).
        dialect_speech = (
            segment.speech_dialect is not None
            and segment.speech_dialect.is_dialect
            and segment.engine is None
        )
        if not text:
            return dialogue.step(state, None, dialect_speech=dialect_speech)
        understanding = self.understander.understand(
            text,
            customer_id,
            state.history,
            state.history_intents,
            call_slots=state.slots,
            call_intent=state.intent,
        )
        return dialogue.step(
            state, understanding, unclear=segment.unclear, dialect_speech=dialect_speech
        )

    def fold(
        self,
        segments: Sequence[TranscriptSegment],
        customer_id: str | None,
        scenario: str | None = None,
    ) -> DialogueState:
        """The dialogue's state after every turn of a recording, heard in order.

        Raises:
            InputError: unknown scenario (the message lists the valid ones).
        """
        dialogue = self.dialogue_for(customer_id)
        state = dialogue.start(scenario).state
        for segment in segments:
            state = self.hear(dialogue, state, segment, customer_id).state
        return state

    def case_for(
        self,
        segments: Sequence[TranscriptSegment],
        customer_id: str | None,
        scenario: str | None = None,
        audio_seconds: float = 0.0,
        timings_ms: Mapping[str, int] | None = None,
    ) -> Case:
        """The teller's case for recognised turns, by the same fold as a live call."""
        state = self.fold(segments, customer_id, scenario)
        return self.case_builder.project(
            state, segments, customer_id, audio_seconds, timings_ms or {}
        )

    def understand(self, text: str, customer_id: str | None = None) -> Understanding:
        """Understand one utterance of text (``frontdesk understand``)."""
        if not text.strip():
            raise InputError("empty text: nothing to understand")
        return self.understander.understand(text, customer_id=customer_id)

    def transcribe_span(self, samples: np.ndarray, start: float, end: float) -> TranscriptSegment:
        """Recognise one VAD-cut turn and normalise its dialect.

        Shared by ``handle_audio`` and the live call's STT service, so a file
        and a phone call are transcribed with exactly the same settings.
        """
        result = self.asr.transcribe(samples)
        text = result.text.strip()
        normalised = self.normaliser.normalise(text) if text else None
        judged = self.judge_dialect(samples, result, normalised)
        segment = TranscriptSegment(
            start=start,
            end=end,
            text=text,
            normalized_text=normalised.normalized_text if normalised else "",
            unclear=result.unclear or not text,
            avg_logprob=result.avg_logprob,
            no_speech_prob=result.no_speech_prob,
            speech_dialect=judged,
            audio=self.record(samples),
        )
        if judged.is_dialect and self.second_asr is not None:
            segment = self.reread(segment, samples)
        return segment

    def reread(self, segment: TranscriptSegment, samples: np.ndarray) -> TranscriptSegment:
        """A dialect turn re-recognised by the second engine (``speech_dialect.second_engine``).

        Its text replaces the main recogniser's and goes through the dialect
        normaliser as usual, and the segment names the engine. When the
        second engine fails or cannot read the turn either, the segment is
        returned as it was (plus a note): the call hands over as without one.
        """
        assert self.second_asr is not None and segment.speech_dialect is not None
        engine = self.second_asr.name
        try:
            result = self.second_asr.transcribe(samples)
        except Exception as exc:  # any failure of an optional engine degrades, never raises
            log.warning("second engine %s failed on a dialect turn: %s", engine, exc)
            return self._note(segment, engine, f"failed: {type(exc).__name__}")
        text = result.text.strip()
        if result.unclear or not text:
            return self._note(segment, engine, f"unclear: {result.reason or 'empty'}")
        normalised = self.normaliser.normalise(text)
        return replace(
            self._note(segment, engine, "read"),
            text=text,
            normalized_text=normalised.normalized_text,
            unclear=False,
            avg_logprob=result.avg_logprob,
            no_speech_prob=result.no_speech_prob,
            engine=engine,
        )

    @staticmethod
    def _note(segment: TranscriptSegment, engine: str, outcome: str) -> TranscriptSegment:
        judged = segment.speech_dialect
        assert judged is not None
        evidence = {**judged.evidence, "second_engine": engine, "second_engine_outcome": outcome}
        return replace(segment, speech_dialect=replace(judged, evidence=evidence))

    def judge_dialect(
        self, samples: np.ndarray, result: AsrResult, normalised: Normalised | None
    ) -> SpeechDialect:
        """Whether one turn is dialect speech the recogniser cannot read.

        Language ID comes with the decode (the windowed encoder's output); a
        turn decoded without it and judged unreadable gets one extra
        language-ID pass, so clear Mandarin never pays for it.
        """
        probs = result.language_probs
        cfg = self.settings.speech_dialect
        if (
            not probs
            and cfg.enabled
            and result.reason in UNREADABLE_REASONS
            and isinstance(self.asr, WhisperEngine)
        ):
            probs = self.asr.detect_language(samples)
        return judge_speech(
            language_probs=probs,
            avg_logprob=result.avg_logprob,
            no_speech_prob=result.no_speech_prob,
            # A timeout has no text; any other reason with no text is "empty".
            unclear_reason=(
                result.reason if result.text.strip() or result.reason == "timeout" else "empty"
            ),
            text_dialect=normalised,
            settings=cfg,
        )

    def record(self, samples: np.ndarray) -> bytes | None:
        """The turn's audio as Opus/OGG for the case, or None when not kept."""
        cfg = self.settings.recordings
        if not cfg.keep or len(samples) == 0:
            return None
        try:
            return encode_opus(samples, bitrate=cfg.bitrate)
        except Exception as exc:  # PyAV/libopus: a lost recording must not lose the turn
            log.warning("could not encode a turn recording: %s", exc)
            return None

    def handle_audio(
        self,
        source: Path | bytes,
        customer_id: str | None = None,
        scenario: str | None = None,
    ) -> Case:
        """Run the whole pipeline on one recording and return the teller's case.

        Raises:
            InputError: the audio cannot be decoded, is too long, or holds no
                speech; the message says which.
        """
        t0 = time.perf_counter()
        audio = decode_audio(source, max_seconds=self.settings.audio.max_seconds)
        t1 = time.perf_counter()
        spans = self.vad.speech_spans(audio.samples)
        t2 = time.perf_counter()
        if not spans:
            raise InputError(
                f"no speech found in {audio.duration_s:.1f} s of audio (silence or noise only)"
            )
        segments = [
            self.transcribe_span(
                audio.samples[int(s.start_s * SAMPLE_RATE) : int(s.end_s * SAMPLE_RATE)],
                s.start_s,
                s.end_s,
            )
            for s in spans
        ]
        t3 = time.perf_counter()
        state = self.fold(segments, customer_id, scenario)
        t4 = time.perf_counter()
        timings = {
            "decode": _ms(t1 - t0),
            "vad": _ms(t2 - t1),
            "asr": _ms(t3 - t2),
            "understand": _ms(t4 - t3),
        }
        # A recording judged dialect speech is marked as the live call would be.
        reason: HandoffReason = (
            "dialect_speech"
            if any(
                s.speech_dialect is not None and s.speech_dialect.is_dialect and s.engine is None
                for s in segments
            )
            else "recording"
        )
        case = self.case_builder.project(
            state, segments, customer_id, audio.duration_s, timings, handoff_reason=reason
        )
        total = _ms(time.perf_counter() - t0)
        return replace(case, timings_ms={**case.timings_ms, "total": total})


def _ms(seconds: float) -> int:
    return round(seconds * 1000)


def build_frontdesk(settings: Settings, *, load_asr: bool = True) -> FrontDesk:
    """Load every model and data file once; slow (seconds), so call it once.

    Args:
        settings: the configuration.
        load_asr: False builds a text-only Front Desk (``frontdesk understand``,
            tests of the text path) without loading Whisper and Silero.
    """
    u = settings.understanding
    normaliser = DialectNormaliser.load(u.lexicon_path)
    catalog = Catalog.load(u.catalog_dir)
    classifier = load_or_bootstrap(
        settings.intent_model_dir,
        catalog,
        backend=u.classifier_backend,
        preprocess=lambda text: normaliser.normalise(text).normalized_text,
        checkpoint=u.transformer_checkpoint,
        dialect_of=lambda text: normaliser.normalise(text).dialect,
    )
    slots = SlotExtractor.load()
    detector = None
    if load_semantic_config(u.risk_rules_path).enabled:
        detector = SemanticDetector.load(u.fraud_examples_path, u.risk_rules_path)
    risk = RiskEngine.load(u.risk_rules_path, u.customers_path, u.blacklist_path, detector=detector)
    customers = risk.customers
    understander = Understander(normaliser, classifier, slots, risk)
    asr: AsrEngine | None = None
    vad: SpeechDetector | None = None
    if load_asr:
        asr = WhisperEngine.from_settings(settings.asr, settings.model_cache_dir)
        vad = SpeechDetector(settings.audio)
    second = load_second_engine(settings) if load_asr else None
    return FrontDesk(settings, normaliser, catalog, understander, risk, customers, asr, vad, second)
