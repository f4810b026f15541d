"""The call: audio decode, VAD, ASR, understanding, risk, form, dialogue, case."""
