"""The live call: a pipecat pipeline per WebSocket call.

``LiveCall`` wires Silero VAD (turn cutting by silence), our own ASR engine
as a pipecat ``SegmentedSTTService`` and a processor running the
understanding stages and the dialogue policy; ``CallSession`` holds the
call's state and builds the teller's case. The WebSocket route
(server/ws.py) only moves bytes and JSON.
"""

from voice_agent.live.call import LiveCall, VadConfig
from voice_agent.live.events import (
    CaseEvent,
    ConfirmEvent,
    ErrorEvent,
    LiveEvent,
    PromptEvent,
    TranscriptEvent,
)
from voice_agent.live.session import CallSession, CallStart, parse_call_start

__all__ = [
    "CallSession",
    "CallStart",
    "CaseEvent",
    "ConfirmEvent",
    "ErrorEvent",
    "LiveCall",
    "LiveEvent",
    "PromptEvent",
    "TranscriptEvent",
    "VadConfig",
    "parse_call_start",
]
