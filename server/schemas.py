"""Response models of the HTTP API: what each route answers, as OpenAPI shows it.

Routes still build their JSON themselves (``UnicodeJSONResponse``, Chinese
unescaped) and FastAPI does not re-validate a returned Response, so these
models describe the answers rather than produce them; the schema fuzz
(tests/server/test_api_schema.py) checks every answer against them.

contract.md: add fields freely, never rename or remove. So the open payloads
(Understanding, Case and their parts) allow extra fields; only the customer
view forbids them, because it is an allow-list of what a caller may see.
Codes from a closed set are ``Literal``s taken from where they are defined.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from voice_agent.case import CaseStatus, FieldSource, HandoffReason

RiskLevel = Literal["none", "low", "medium", "high"]
"""``risk.level`` (taxonomy.md); the same order as ``voice_agent.risk.types.RISK_LEVELS``."""
RiskCategory = Literal["fraud", "transaction", "customer"]
"""``risk.flags[].category`` (contract.md)."""
FraudPart = Literal["pretext", "ask", "pressure"]
"""The parts of a scam story (``voice_agent.risk.types.FRAUD_PARTS``)."""
Decision = Literal["accept", "reject", "escalate"]
"""What a teller decides (``server.repository.DECISIONS``)."""
Role = Literal["teller", "supervisor", "product", "admin"]
"""Staff roles (``server.db.ROLES``)."""
CorrectionStatus = Literal["pending", "accepted", "rejected"]
"""Where a teller's correction stands (``server.db.CORRECTION_STATUSES``)."""
DialectSource = Literal["text", "speech"]
"""Whether a dialect was read from the words or heard in the audio (contract.md)."""


class _Open(BaseModel):
    """A payload other systems read: fields may be added (contract.md)."""

    model_config = ConfigDict(extra="allow")


# Errors ---------------------------------------------------------------------


class ValidationProblem(BaseModel):
    """One problem with a request, as pydantic found it."""

    loc: list[str | int]
    msg: str
    type: str


class ErrorBody(BaseModel):
    """Every error answer: one readable line, plus the problems of a 422."""

    error: str
    details: list[ValidationProblem] | None = None


_WHY = {
    400: "Unreadable or invalid input",
    401: "Not logged in, or no valid service key",
    403: "The role may not do this (or a cross-site request)",
    404: "No such thing",
    409: "Not allowed in the record's current state",
    428: "An edit without If-Match (the revision the edit was made on)",
    413: "Body, text or upload over its limit",
    415: "Upload that is not wav, flac, ogg or mp3",
    422: "Invalid request or an unknown code (the message lists the valid ones)",
    429: "Too many attempts (see Retry-After)",
    503: "The models are still loading or failed to load",
}


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: each status answers an :class:`ErrorBody`."""
    return {status: {"model": ErrorBody, "description": _WHY[status]} for status in statuses}


#: Every route that checks a session or a role.
STAFF = (401, 403, 422)
#: Every route that needs a service key.
SERVICE = (401, 422)


def binary(*media_types: str, description: str) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a 200 that is a file, not JSON."""
    schema = {"type": "string", "format": "binary"}
    return {
        200: {
            "description": description,
            "content": {media: {"schema": schema} for media in media_types},
        }
    }


# Health and staff accounts ---------------------------------------------------


class Health(BaseModel):
    """``/healthz``: ok once the models are loaded (503 while loading or after a failure)."""

    status: Literal["ok", "loading", "error"]
    error: str | None = None


class User(BaseModel):
    """A member of staff as the console shows them."""

    username: str
    role: Role
    languages: list[str]


class UserAnswer(BaseModel):
    """The ``user`` of a login, ``/api/me`` or a languages change."""

    user: User


class UserList(BaseModel):
    """Every staff account with its role and languages."""

    users: list[User]


class StatusMessage(BaseModel):
    """What happened, in words (``logged out``, ``password changed; log in again``)."""

    status: str


class RevokedSessions(BaseModel):
    """How many sessions ended."""

    revoked: int


class ServiceKey(BaseModel):
    """A service key as an admin sees it: never the key itself."""

    name: str
    prefix: str
    created_at: str
    revoked: bool


class ServiceKeyList(BaseModel):
    """Every service key."""

    service_keys: list[ServiceKey]


class NewServiceKey(BaseModel):
    """A new key: the only time it is shown."""

    name: str
    key: str


class RevokedKey(BaseModel):
    """A key that no longer opens anything."""

    name: str
    revoked: bool


# Understanding (contract.md) ---------------------------------------------------


class Dialect(_Open):
    """``dialect``: from the words (``text``) or the audio (``speech``, with ``p_zh`` ...)."""

    code: str
    source: DialectSource = "text"
    confidence: float
    markers: list[str] = []


class IntentAlternative(_Open):
    """A runner-up intent."""

    code: str
    confidence: float


class Intent(_Open):
    """``intent``: the code, how sure, the runners-up and the words that drove it."""

    code: str
    confidence: float
    alternatives: list[IntentAlternative] = []
    drivers: list[str] = []


class RiskFlag(_Open):
    """One reason for concern, with the customer's words behind it."""

    code: str
    category: RiskCategory
    evidence: str
    advice: str


class FraudEvidence(_Open):
    """One part of a scam story, in the customer's words, and the turn that said it."""

    kind: str
    evidence: str
    turn: int


class Fraud(_Open):
    """``risk.fraud``: the scam's structure heard so far, and what is still missing."""

    pretext: list[FraudEvidence] = []
    ask: list[FraudEvidence] = []
    pressure: list[FraudEvidence] = []
    missing: list[FraudPart] = []
    script: str | None = None
    level: RiskLevel = "none"


class Risk(_Open):
    """``risk``: level, score, flags (and the scam's structure)."""

    level: RiskLevel
    score: float
    flags: list[RiskFlag]
    fraud: Fraud | None = None


SlotValue = int | str
"""A slot's value: amounts are integers in yuan, the rest strings."""


class Understanding(_Open):
    """What Front Desk understood of one sentence (contract.md: Understanding)."""

    text: str
    normalized_text: str
    dialect: Dialect
    intent: Intent
    slots: dict[str, SlotValue]
    risk: Risk


# Case (contract.md) -------------------------------------------------------------


class TranscriptSegment(_Open):
    """One recognised turn, with its time in the recording."""

    start: float
    end: float
    text: str
    normalized_text: str
    unclear: bool = False
    dialect: Dialect | None = None
    engine: str | None = None
    has_audio: bool = False


class FormField(_Open):
    """One field of the form, how sure, and where its value came from."""

    value: SlotValue
    confidence: float
    source: FieldSource
    evidence: str = ""


class Form(_Open):
    """The transaction form and what it still lacks."""

    type: str
    fields: dict[str, FormField] = {}
    missing: list[str] = []


class Case(Understanding):
    """What a teller receives: an Understanding plus the call (contract.md: Case)."""

    case_id: str
    created_at: str
    customer_id: str | None
    scenario: str | None = None
    audio_seconds: float
    transcript: list[TranscriptSegment]
    form: Form
    summary: str
    timings_ms: dict[str, float]
    status: CaseStatus = "open"
    needs_repeat: bool = False
    read_back: str = ""
    disconnected: bool = False
    handoff_reason: HandoffReason = "recording"


class QueueItem(_Open):
    """One line of the tellers' queue (the payee account masked)."""

    case_id: str
    created_at: str
    waiting_seconds: int
    customer_id: str | None
    scenario: str | None
    intent: str
    intent_name: str
    risk_level: RiskLevel
    risk_score: float
    flags: list[str]
    summary: str
    amount: SlotValue | None
    payee_account: str | None
    status: CaseStatus
    disconnected: bool
    dialect: str | None = None
    routing: Literal["speaker", "everyone"] | None = Field(
        default=None, description="How a dialect case was routed (server.routing)"
    )


class Queue(BaseModel):
    """The queue: interrupted calls first, then risky first, then longest waiting."""

    cases: list[QueueItem]


class AuditEntry(_Open):
    """One audited action on a case."""

    id: int
    case_id: str | None
    actor: str
    action: str
    before: Any = None
    after: Any = None
    reason: str | None = None
    at: str | None


class CaseDecision(_Open):
    """The decision on a case, who made it and why."""

    decision: Decision
    status: CaseStatus
    reason: str | None
    by: str | None
    at: str | None


class CaseDetail(BaseModel):
    """A case for its detail page: the full Case (account unmasked), audit and decision."""

    case: Case
    status: CaseStatus
    disconnected: bool
    audit: list[AuditEntry]
    decision: CaseDecision | None


class RecordingTurns(BaseModel):
    """The turns of a case that still have audio."""

    case_id: str
    turns: list[int]


# The customer view (contract.md) ----------------------------------------------------


class _AllowList(BaseModel):
    """What a caller may see: nothing but these fields (server.customer_view)."""

    model_config = ConfigDict(extra="forbid")


class CustomerField(_AllowList):
    """A form field as the caller sees it: the value (accounts masked) and its source."""

    value: SlotValue | float | None
    source: FieldSource | None


class CustomerForm(_AllowList):
    """The form as the caller sees it."""

    type: str | None
    fields: dict[str, CustomerField]
    missing: list[str]


class CustomerIntent(_AllowList):
    """The intent's code and name."""

    code: str
    name: str


class CustomerCase(_AllowList):
    """The customer view of a case: never risk, flags, profile facts or advice."""

    case_id: str | None
    status: CaseStatus
    intent: CustomerIntent
    read_back: str
    form: CustomerForm


class CallToken(BaseModel):
    """A short-lived token for one customer's live call."""

    token: str
    expires_at: str


# Catalog (product staff) --------------------------------------------------------------


class IntentSummary(BaseModel):
    """An intent's code, name and slots (for any member of staff)."""

    code: str
    name: str
    slots: list[str]


class IntentList(BaseModel):
    """Every intent of the catalog."""

    intents: list[IntentSummary]


class Scenario(_Open):
    """How an intent greets a caller the mobile app sent for a scenario."""

    greeting: str
    also_expected: list[str] = []
    teller_note: str = ""


Template = list[str | list[str]]
"""A read-back or summary template: parts, each one text or alternatives."""


class CatalogIntent(_Open):
    """One intent as the product console shows and edits it.

    ``revision`` is the catalog version that last changed it: send it back
    as ``If-Match`` when editing the intent.
    """

    code: str
    revision: int | None = None
    name: str
    description: str
    slots: list[str]
    required: list[list[str]]
    prompts: dict[str, str]
    readback: Template
    summary: Template
    scenarios: dict[str, Scenario] = {}
    examples: list[str]


class CatalogView(_Open):
    """The catalog every server uses: its version, who made it, and every intent."""

    directory: str
    version: int
    updated_at: str
    updated_by: str
    intents: list[CatalogIntent]


class EditedIntent(CatalogIntent):
    """An intent after an edit, and the catalog version the edit made."""

    version: int


class AddedExample(BaseModel):
    """An intent's examples after one was added, its new revision and the catalog version."""

    intent: str
    file: str
    examples: list[str]
    revision: int
    version: int


class StaleEdit(BaseModel):
    """409 for an edit made on an old revision of the intent: nothing was stored."""

    error: str
    intent: str
    base_revision: int
    revision: int
    version: int
    changed: list[str]
    current: CatalogIntent


class Correction(_Open):
    """A teller's correction, transcripts and accounts masked."""

    id: int
    case_id: str
    text: str
    normalized_text: str
    intent: str
    slots: dict[str, Any]
    status: CorrectionStatus
    created_by: str | None
    reviewed_by: str | None
    created_at: str | None
    reviewed_at: str | None


class CorrectionList(BaseModel):
    """Corrections with the asked status, oldest first."""

    corrections: list[Correction]


class ReviewedCorrection(BaseModel):
    """A correction after its review."""

    correction: Correction


class EvalReport(BaseModel):
    """The latest ``frontdesk intents eval`` report, and its HTML page if there is one."""

    report: dict[str, Any]
    html: str | None


# Staff accounts (admin) -----------------------------------------------------------------


class StaffLanguage(BaseModel):
    """A language staff may serve callers in: its code and its Chinese name."""

    code: str
    name: str


class StaffMember(BaseModel):
    """One staff account as the admin's 员工 tab shows it.

    ``last_login_at`` comes from the audit log; ``last_seen_at`` is the
    latest use of an unexpired session (None once all have ended), and
    ``online`` says whether that use was within the idle limit.
    """

    username: str
    role: Role
    languages: list[str]
    created_at: str | None
    last_login_at: str | None
    last_seen_at: str | None
    online: bool


class StaffOverview(BaseModel):
    """Every account, the languages they may be given, and the latest audited changes."""

    languages: list[StaffLanguage]
    staff: list[StaffMember]
    changes: list[AuditEntry]
