"""The optional second recogniser for turns judged dialect speech (issue 9 item 5).

Whisper base cannot read Shanghainese; a bank that obtains a Wu model plugs it
in by configuration alone: ``speech_dialect.second_engine`` names a local
directory and ``speech_dialect.second_engine_kind`` says what it holds:

* ``ctranslate2-whisper``: a CTranslate2 Whisper (a Wu fine-tune converted
  with ``frontdesk models import-whisper``), run by :class:`WhisperEngine`;
* ``sherpa-onnx-wenet``: a WeNet CTC export (the published Wu models are
  WeNet), run by :class:`~voice_agent.sherpa_engine.SherpaWenetEngine`.

Both are :class:`~voice_agent.asr.AsrEngine`\\ s, so ``FrontDesk.reread`` does
not know which it has; the case names the engine that heard the turn.
"""

from __future__ import annotations

import logging
from pathlib import Path

from voice_agent.asr import AsrEngine, WhisperEngine
from voice_agent.settings import Settings

log = logging.getLogger(__name__)


def load_second_engine(settings: Settings) -> AsrEngine | None:
    """The configured second engine for dialect turns, or None.

    A second engine that does not load is logged at ERROR and left out:
    dialect turns then hand over to a teller, as without one; the call never
    fails for it. (A directory that does not exist is refused earlier, by the
    settings, at start-up.)
    """
    cfg = settings.speech_dialect
    ref = cfg.second_engine
    if not ref:
        return None
    try:
        if cfg.second_engine_kind == "sherpa-onnx-wenet":
            from voice_agent.sherpa_engine import SherpaWenetEngine

            return SherpaWenetEngine.load(Path(ref).expanduser(), threads=settings.asr.cpu_threads)
        asr = settings.asr.model_copy(
            update={
                "model": ref,
                "language": cfg.second_engine_language,
                "initial_prompt": "",  # the banking prompt is Mandarin text
            }
        )
        return WhisperEngine.from_settings(asr, settings.model_cache_dir)
    except Exception as exc:  # an optional engine never stops the desk from starting
        log.error(
            "second engine %s (%s) did not load; dialect turns hand over to a teller: %s",
            ref,
            cfg.second_engine_kind,
            exc,
        )
        return None
