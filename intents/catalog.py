"""The intent catalog: one YAML file per intent, loaded and validated.

Product teams edit these files (see docs: catalog format), so every mistake
is reported with the file, the line and the valid choices, and all of them
at once: a reviewer fixes a catalog in one pass, not one error per restart.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.resources
import json
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import yaml

from intents.taxonomy import INTENT_CODES, SLOT_CODES, SLOT_NAMES
from intents.templates import (
    NAME_FIELD,
    Template,
    default_readback,
    default_summary,
    parse_template,
)
from models.errors import ConfigError
from models.text import to_simplified

_REQUIRED_KEYS = ("code", "name", "description", "examples")
_OPTIONAL_KEYS = ("slots", "required", "prompts", "readback", "summary", "scenarios")
_SCENARIO_KEYS = ("greeting", "also_expected", "teller_note")
_ALL_KEYS = _REQUIRED_KEYS + _OPTIONAL_KEYS
_PUNCT = re.compile(r"[\s，。！？、,.!?；;：:“”\"'（）()…~～]+")


@dataclass(frozen=True)
class Example:
    """One example utterance of an intent, with the line it sits on."""

    text: str
    intent: str
    line: int


@dataclass(frozen=True)
class IntentSpec:
    """One intent as declared in its catalog file.

    Attributes:
        code: intent code (taxonomy.md or a product team's addition).
        name: Chinese display name.
        description: what the customer wants, for reviewers and tellers.
        slots: slot codes this intent's form uses.
        required: required slot groups; each group is any-of, and its first
            code is the one reported missing when none is present.
        prompts: slot code → the polite question asked when it is missing.
        examples: the example utterances, in file order.
        path: the YAML file this came from.
        readback: what the caller hears to confirm (:mod:`intents.templates`);
            a default built from ``slots`` when the file has none.
        summary: the request part of the teller's one-line summary.
        scenarios: scenario code → how a call the app sent for this intent opens.
    """

    code: str
    name: str
    description: str
    slots: tuple[str, ...]
    required: tuple[tuple[str, ...], ...]
    prompts: Mapping[str, str]
    examples: tuple[Example, ...]
    path: Path
    readback: Template = field(default_factory=Template)
    summary: Template = field(default_factory=Template)
    scenarios: Mapping[str, ScenarioSpec] = field(default_factory=lambda: MappingProxyType({}))


@dataclass(frozen=True)
class ScenarioSpec:
    """How a call opens when the mobile app sends the caller for this intent.

    Attributes:
        code: the scenario code the app sends (contract.md), e.g. ``password_locked``.
        intent: the intent declaring it; assumed until the caller says otherwise.
        greeting: the first sentence the caller hears.
        also_expected: other intents the scenario makes likely (a caller sent
            for an over-limit transfer may want the limit raised instead).
        teller_note: a few words in the teller's summary saying why the app
            sent the caller (转账超限).
    """

    code: str
    intent: str
    greeting: str
    also_expected: tuple[str, ...] = ()
    teller_note: str = ""


@dataclass(frozen=True)
class IntentDraft:
    """A new intent as product staff describe it, before it is validated.

    ``readback`` and ``summary`` are the YAML shapes (lists of parts); None
    gives the defaults every intent gets. ``scenarios`` is the YAML shape
    too (code → greeting, also_expected, teller_note); None declares none.
    """

    code: str
    name: str
    description: str
    examples: tuple[str, ...]
    slots: tuple[str, ...] = ()
    required: tuple[tuple[str, ...], ...] = ()
    prompts: Mapping[str, str] = field(default_factory=dict)
    readback: list[Any] | None = None
    summary: list[Any] | None = None
    scenarios: Mapping[str, Mapping[str, Any]] | None = None


@dataclass(frozen=True)
class CatalogIssue:
    """One problem found in a catalog file.

    Attributes:
        file: the file concerned (or the directory for a missing intent).
        line: 1-based line number, None when the whole file is concerned.
        message: what is wrong.
        choices: the valid alternatives, when there is a closed set.
    """

    file: Path
    line: int | None
    message: str
    choices: tuple[str, ...] = ()

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else f"{self.file}"
        valid = f" (valid: {', '.join(self.choices)})" if self.choices else ""
        return f"{where}: {self.message}{valid}"


class CatalogError(ConfigError):
    """The catalog is invalid; ``issues`` lists every problem found."""

    def __init__(
        self, directory: Path, issues: Sequence[CatalogIssue], hint: str | None = None
    ) -> None:
        self.directory = directory
        self.issues = tuple(issues)
        shown = "; ".join(str(i) for i in issues[:3])
        more = f"; and {len(issues) - 3} more" if len(issues) > 3 else ""
        hint = hint or f"run `frontdesk intents check {directory}`"
        super().__init__(
            f"intent catalog {directory} has {len(issues)} problem(s): {shown}{more} ({hint})"
        )


def shipped_catalog_dir() -> Path:
    """The catalog shipped as package data (intents/catalog)."""
    return Path(str(importlib.resources.files("intents").joinpath("catalog")))


@functools.lru_cache(maxsize=1 << 16)
def example_key(text: str) -> str:
    """The form two examples are compared in: simplified, no spaces or punctuation.

    Cached: each new catalog version re-validates mostly the same sentences,
    and the conversion to simplified characters is the slow part.
    """
    return _PUNCT.sub("", to_simplified(text)).lower()


@dataclass
class _Parsed:
    spec: IntentSpec | None
    issues: list[CatalogIssue] = field(default_factory=list)


def _node_get(node: yaml.MappingNode, key: str) -> yaml.Node | None:
    for k, v in node.value:
        if isinstance(k, yaml.ScalarNode) and k.value == key:
            return v
    return None


def _line(node: yaml.Node) -> int:
    return int(node.start_mark.line) + 1


#: libyaml when PyYAML was built with it: a whole catalog parses in tens of milliseconds
#: instead of about a second, which every server pays on each new catalog version.
_Loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _compose(text: str) -> tuple[yaml.Node | None, Any]:
    """The document's node tree (for line numbers) and its data, from one parse."""
    loader = _Loader(text)
    try:
        root = loader.get_single_node()
        return root, (loader.construct_document(root) if root is not None else None)
    finally:
        loader.dispose()


def _parse_document(path: Path, text: str) -> _Parsed:
    """Parse and check one intent file's text on its own (cross-file checks come later).

    ``path`` only names the document in errors and in the spec: the text may
    come from disk or from the server's database.
    """
    issues: list[CatalogIssue] = []

    def bad(node: yaml.Node | None, message: str, choices: tuple[str, ...] = ()) -> None:
        issues.append(CatalogIssue(path, _line(node) if node else None, message, choices))

    try:
        root, data = _compose(text)
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line = mark.line + 1 if mark else None
        return _Parsed(None, [CatalogIssue(path, line, f"YAML syntax error: {e.problem}")])
    except yaml.YAMLError as e:  # unmarked YAML errors are rare; still one line
        return _Parsed(None, [CatalogIssue(path, None, f"YAML error: {e}")])
    if not isinstance(root, yaml.MappingNode) or not isinstance(data, dict):
        return _Parsed(None, [CatalogIssue(path, 1, "the file must be a mapping of keys")])

    for k, _v in root.value:
        if k.value not in _ALL_KEYS:
            bad(k, f"unknown key {k.value!r}", _ALL_KEYS)
    for key in _REQUIRED_KEYS:
        if key not in data:
            bad(None, f"missing key {key!r}")

    def string(key: str) -> str:
        value = data.get(key)
        if value is None:
            return ""
        if not isinstance(value, str) or not value.strip():
            bad(_node_get(root, key), f"{key!r} must be a non-empty string")
            return ""
        return value.strip()

    code, name, description = string("code"), string("name"), string("description")
    if code and code != path.stem:
        bad(_node_get(root, "code"), f"code {code!r} differs from the file name {path.name!r}")

    slots: list[str] = []
    slots_node = _node_get(root, "slots")
    raw_slots = data.get("slots") or []
    if not isinstance(raw_slots, list) or not all(isinstance(s, str) for s in raw_slots):
        bad(slots_node, "'slots' must be a list of slot codes", SLOT_CODES)
    else:
        for s in raw_slots:
            if s not in SLOT_CODES:
                bad(slots_node, f"unknown slot code {s!r}", SLOT_CODES)
            else:
                slots.append(s)

    required: list[tuple[str, ...]] = []
    req_node = _node_get(root, "required")
    raw_req = data.get("required") or []
    if not isinstance(raw_req, list):
        bad(req_node, "'required' must be a list of slot codes or {any_of: [codes]}")
        raw_req = []
    for item in raw_req:
        group: tuple[str, ...]
        if isinstance(item, str):
            group = (item,)
        elif (
            isinstance(item, dict)
            and list(item) == ["any_of"]
            and isinstance(item["any_of"], list)
            and item["any_of"]
            and all(isinstance(s, str) for s in item["any_of"])
        ):
            group = tuple(item["any_of"])
        else:
            bad(req_node, f"bad required item {item!r}: a slot code or {{any_of: [codes]}}")
            continue
        unknown = [s for s in group if s not in slots]
        for s in unknown:
            bad(req_node, f"required slot {s!r} is not in this intent's slots", tuple(slots))
        if not unknown:
            required.append(group)

    prompts: dict[str, str] = {}
    prompts_node = _node_get(root, "prompts")
    raw_prompts = data.get("prompts") or {}
    if not isinstance(raw_prompts, dict):
        bad(prompts_node, "'prompts' must map slot codes to questions")
        raw_prompts = {}
    for slot, question in raw_prompts.items():
        if slot not in slots:
            bad(prompts_node, f"prompt for slot {slot!r} not in this intent's slots", tuple(slots))
        elif not isinstance(question, str) or not question.strip():
            bad(prompts_node, f"prompt for {slot!r} must be a non-empty string")
        else:
            prompts[slot] = question.strip()

    examples: list[Example] = []
    ex_node = _node_get(root, "examples")
    if ex_node is not None:
        if not isinstance(ex_node, yaml.SequenceNode) or not ex_node.value:
            bad(ex_node, "'examples' must be a non-empty list of sentences")
        else:
            seen: dict[str, int] = {}
            for item in ex_node.value:
                if not isinstance(item, yaml.ScalarNode) or item.tag != "tag:yaml.org,2002:str":
                    bad(item, "each example must be one plain sentence (a string)")
                    continue
                sentence = str(item.value).strip()
                key = example_key(sentence)
                if not key:
                    bad(item, "empty example")
                elif key in seen:
                    bad(item, f"duplicate example {sentence!r} (first on line {seen[key]})")
                else:
                    seen[key] = _line(item)
                    examples.append(Example(sentence, code or path.stem, _line(item)))

    allowed = (NAME_FIELD, *slots)
    templates: dict[str, Template] = {}
    for key in ("readback", "summary"):
        if key not in data:
            continue
        template, problems = parse_template(data[key], allowed)
        for problem in problems:
            bad(_node_get(root, key), f"{key}: {problem}", allowed)
        templates[key] = template

    scenarios: dict[str, ScenarioSpec] = {}
    sc_node = _node_get(root, "scenarios")
    raw_sc = data.get("scenarios") or {}
    if not isinstance(raw_sc, dict):
        bad(sc_node, "'scenarios' must map scenario codes to {greeting, also_expected}")
        raw_sc = {}
    for sc_code, body in raw_sc.items():
        if not isinstance(sc_code, str) or not sc_code.isidentifier():
            bad(sc_node, f"bad scenario code {sc_code!r}: use letters, digits and _")
            continue
        if not isinstance(body, dict) or not isinstance(body.get("greeting"), str):
            bad(sc_node, f"scenario {sc_code!r} needs a greeting (a sentence)", _SCENARIO_KEYS)
            continue
        extra = [k for k in body if k not in _SCENARIO_KEYS]
        for k in extra:
            bad(sc_node, f"scenario {sc_code!r}: unknown key {k!r}", _SCENARIO_KEYS)
        also = body.get("also_expected") or []
        if not isinstance(also, list) or not all(isinstance(a, str) for a in also):
            bad(sc_node, f"scenario {sc_code!r}: also_expected must be a list of intent codes")
            also = []
        scenarios[sc_code] = ScenarioSpec(
            code=sc_code,
            intent=code or path.stem,
            greeting=str(body["greeting"]).strip(),
            also_expected=tuple(also),
            teller_note=str(body.get("teller_note") or "").strip(),
        )

    spec = IntentSpec(
        code=code or path.stem,
        name=name,
        description=description,
        slots=tuple(slots),
        required=tuple(required),
        prompts=MappingProxyType(prompts),
        examples=tuple(examples),
        path=path,
        readback=templates.get("readback") or default_readback(slots, SLOT_NAMES),
        summary=templates.get("summary") or default_summary(),
        scenarios=MappingProxyType(scenarios),
    )
    return _Parsed(spec, issues)


def _catalog_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.suffix in (".yaml", ".yml"))


def _read(directory: Path) -> tuple[dict[str, str], list[CatalogIssue]]:
    """The catalog files of ``directory`` as file name → text, and the unreadable ones."""
    if not directory.is_dir():
        return {}, [CatalogIssue(directory, None, "catalog directory does not exist")]
    documents: dict[str, str] = {}
    issues: list[CatalogIssue] = []
    for path in _catalog_files(directory):
        try:
            documents[path.name] = path.read_text(encoding="utf-8")
        except UnicodeDecodeError as e:
            issues.append(CatalogIssue(path, None, f"not UTF-8 text: {e.reason}"))
    return documents, issues


def _check(directory: Path) -> tuple[dict[str, IntentSpec], list[CatalogIssue]]:
    documents, unreadable = _read(directory)
    if not directory.is_dir():
        return {}, unreadable
    return _check_documents(directory, documents, unreadable)


def _check_documents(
    directory: Path, documents: Mapping[str, str], unreadable: Sequence[CatalogIssue] = ()
) -> tuple[dict[str, IntentSpec], list[CatalogIssue]]:
    """Validate a whole catalog given as file name → YAML text (one validator for all sources)."""
    specs: dict[str, IntentSpec] = {}
    issues: list[CatalogIssue] = []
    owner: dict[str, Example] = {}
    paths: dict[str, Path] = {}
    names = sorted(documents)
    for name in names:
        path = directory / name
        if Path(name).name != name or Path(name).suffix not in (".yaml", ".yml"):
            issues.append(CatalogIssue(path, None, "a catalog document must be a plain NAME.yaml"))
            continue
        parsed = _parse_document(path, documents[name])
        issues.extend(parsed.issues)
        spec = parsed.spec
        if spec is None:
            continue
        if spec.code in specs:
            issues.append(
                CatalogIssue(path, None, f"intent {spec.code!r} also defined in {paths[spec.code]}")
            )
            continue
        specs[spec.code] = spec
        paths[spec.code] = path
        for ex in spec.examples:
            key = example_key(ex.text)
            first = owner.get(key)
            if first is None:
                owner[key] = ex
            elif first.intent != ex.intent:
                issues.append(
                    CatalogIssue(
                        path,
                        ex.line,
                        f"example {ex.text!r} of {ex.intent!r} conflicts with "
                        f"{paths[first.intent]}:{first.line} ({first.intent!r})",
                    )
                )
    scenario_owner: dict[str, str] = {}
    for spec in specs.values():
        for sc in spec.scenarios.values():
            if sc.code in scenario_owner:
                issues.append(
                    CatalogIssue(
                        spec.path,
                        None,
                        f"scenario {sc.code!r} also declared by intent {scenario_owner[sc.code]!r}",
                    )
                )
            scenario_owner.setdefault(sc.code, spec.code)
            for other in sc.also_expected:
                if other not in specs:
                    issues.append(
                        CatalogIssue(
                            spec.path,
                            None,
                            f"scenario {sc.code!r}: unknown intent {other!r} in also_expected",
                            tuple(sorted(specs)),
                        )
                    )
    stems = {Path(name).stem for name in names} | {i.file.stem for i in unreadable}
    for code in INTENT_CODES:
        if code not in specs and code not in stems:
            issues.append(
                CatalogIssue(directory, None, f"taxonomy intent {code!r} missing: add {code}.yaml")
            )
    return specs, [*unreadable, *issues]


def check_catalog(directory: Path | None = None) -> list[CatalogIssue]:
    """Every problem in the catalog at ``directory`` (None: the shipped one).

    Returns:
        The issues, file by file in name order; empty when the catalog is valid.
    """
    return _check(directory or shipped_catalog_dir())[1]


def check_documents(origin: Path, documents: Mapping[str, str]) -> list[CatalogIssue]:
    """Every problem in a catalog given as file name → YAML text.

    Args:
        origin: what the documents are called in errors (a directory, or
            where the server keeps them).
        documents: ``transfer.yaml`` → that file's text, one per intent.
    """
    return _check_documents(origin, documents)[1]


class Catalog:
    """A validated intent catalog.

    Build it with :meth:`load` (a directory) or :meth:`from_documents` (file
    name → YAML text, e.g. from the server's database). Each intent's
    document text is kept, so :meth:`to_documents` gives back the files as
    they were written, comments included. Edits are pure (:meth:`with_example`,
    :meth:`with_intent` return a new, re-validated catalog); :meth:`add_example`
    and :meth:`add_intent` apply them to the files of a directory catalog.
    """

    def __init__(
        self,
        directory: Path,
        intents: Mapping[str, IntentSpec],
        sources: Mapping[str, str] | None = None,
    ) -> None:
        self.directory = directory
        self._intents = dict(sorted(intents.items()))
        self._sources = dict(sources or {})

    @classmethod
    def load(cls, directory: Path | None = None) -> Catalog:
        """Load and validate the catalog in ``directory`` (None: the shipped one).

        Raises:
            CatalogError: (a ConfigError) listing every problem, when invalid.
        """
        directory = directory or shipped_catalog_dir()
        documents, unreadable = _read(directory)
        if not directory.is_dir():
            raise CatalogError(directory, unreadable)
        return cls._validated(directory, documents, unreadable)

    @classmethod
    def from_documents(cls, origin: Path, documents: Mapping[str, str]) -> Catalog:
        """Validate and build a catalog from file name → YAML text.

        The same validation as :meth:`load`, with the same file/line/choices
        errors; ``origin`` stands for the directory in them.

        Raises:
            CatalogError: listing every problem, when invalid.
        """
        return cls._validated(origin, documents)

    @classmethod
    def _validated(
        cls, origin: Path, documents: Mapping[str, str], unreadable: Sequence[CatalogIssue] = ()
    ) -> Catalog:
        specs, issues = _check_documents(origin, documents, unreadable)
        if issues:
            raise CatalogError(origin, issues)
        return cls(origin, specs, {code: documents[spec.path.name] for code, spec in specs.items()})

    def to_documents(self) -> dict[str, str]:
        """File name → YAML text of every intent: what :meth:`from_documents` takes back."""
        return {spec.path.name: self._sources[code] for code, spec in self._intents.items()}

    def document(self, code: str) -> str:
        """The YAML text of intent ``code`` (its file as written)."""
        self.spec(code)  # the error lists the valid codes
        return self._sources[code]

    @property
    def intents(self) -> Mapping[str, IntentSpec]:
        """Intent code → spec, sorted by code."""
        return MappingProxyType(self._intents)

    @property
    def codes(self) -> tuple[str, ...]:
        """All intent codes, sorted."""
        return tuple(self._intents)

    def spec(self, code: str) -> IntentSpec:
        """The spec of ``code``.

        Raises:
            ConfigError: when ``code`` is not in the catalog (lists the valid codes).
        """
        try:
            return self._intents[code]
        except KeyError as e:
            raise ConfigError(
                f"unknown intent {code!r} in catalog {self.directory} "
                f"(valid: {', '.join(self._intents)})"
            ) from e

    def examples(self) -> tuple[Example, ...]:
        """All examples, intent by intent (sorted by code), in file order."""
        return tuple(ex for spec in self._intents.values() for ex in spec.examples)

    @property
    def scenarios(self) -> Mapping[str, ScenarioSpec]:
        """Scenario code → how a call the app sent for it opens (from the intent files)."""
        return MappingProxyType(
            {sc.code: sc for spec in self._intents.values() for sc in spec.scenarios.values()}
        )

    def __iter__(self) -> Iterator[IntentSpec]:
        return iter(self._intents.values())

    def content_hash(self) -> str:
        """sha256 of the catalog's normalised content (stable across formatting).

        Stored with each trained model so a report can say whether the model
        was trained on the catalog now on disk.
        """
        content: dict[str, Any] = {
            code: {
                "name": s.name,
                "description": s.description,
                "slots": list(s.slots),
                "required": [list(g) for g in s.required],
                "prompts": dict(sorted(s.prompts.items())),
                "examples": [e.text for e in s.examples],
            }
            for code, s in self._intents.items()
        }
        blob = json.dumps(content, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
        return hashlib.sha256(blob.encode("utf-8")).hexdigest()

    def with_intent(self, draft: IntentDraft, *, replace: bool = False) -> Catalog:
        """This catalog with ``draft`` added (or, with ``replace``, put in place of its intent).

        The whole catalog is re-validated, so a draft that conflicts with
        another intent's examples is refused like a bad file.

        Raises:
            ConfigError: the code is taken (or, replacing, unknown) or not a
                plain identifier, or the draft is invalid (the message names
                the first problem).
        """
        if not re.fullmatch(r"[a-z][a-z0-9_]{1,40}", draft.code):
            raise ConfigError(
                f"intent code {draft.code!r} must be lower-case letters, digits and _ "
                "(2–41 characters, starting with a letter)"
            )
        if replace:
            name = self.spec(draft.code).path.name
        elif draft.code in self._intents:
            raise ConfigError(f"intent {draft.code!r} already exists in {self.directory}")
        else:
            name = f"{draft.code}.yaml"
        verb = "edited" if replace else "added"
        return self._edited(
            name, _intent_document(draft, verb), f"intent {draft.code!r} not {verb}"
        )

    def with_example(self, code: str, text: str) -> Catalog:
        """This catalog with ``text`` appended to the examples of ``code``.

        The document's comments and layout are kept (the line goes after the
        last example).

        Raises:
            ConfigError: unknown code, empty text, or the example conflicts.
        """
        spec = self.spec(code)
        sentence = text.strip()
        if not example_key(sentence):
            raise ConfigError(f"cannot add an empty example to {spec.path}")
        edited = _with_example(self._sources[code], sentence)
        return self._edited(
            spec.path.name, edited, f"example {sentence!r} not added to {spec.path}"
        )

    def _edited(self, name: str, text: str, refusal: str) -> Catalog:
        documents = {**self.to_documents(), name: text}
        specs, issues = _check_documents(self.directory, documents)
        if issues:
            raise ConfigError(f"{refusal}: {issues[0]}") from CatalogError(self.directory, issues)
        return Catalog(self.directory, specs, {c: documents[s.path.name] for c, s in specs.items()})

    def add_intent(self, draft: IntentDraft) -> IntentSpec:
        """Write a new intent's file into this directory catalog (validated first).

        Nothing is written when the catalog would be invalid, so a bad draft
        never leaves a half-added intent behind.

        Raises:
            ConfigError: see :meth:`with_intent`.
        """
        edited = self.with_intent(draft)
        spec = edited.spec(draft.code)
        spec.path.write_text(edited.document(draft.code), encoding="utf-8")
        self._adopt(edited)
        return spec

    def add_example(self, code: str, text: str) -> Path:
        """Append ``text`` to the examples of ``code`` in its YAML file (validated first).

        Returns:
            The path of the edited file.

        Raises:
            ConfigError: unknown code, empty text, or the example conflicts.
        """
        edited = self.with_example(code, text)
        path = edited.spec(code).path
        path.write_text(edited.document(code), encoding="utf-8")
        self._adopt(edited)
        return path

    def _adopt(self, other: Catalog) -> None:
        self._intents, self._sources = dict(other._intents), dict(other._sources)


def _intent_document(spec: IntentDraft, verb: str = "added") -> str:
    """An intent's YAML file written from a draft, in the shipped files' key order."""
    doc: dict[str, Any] = {
        "code": spec.code,
        "name": spec.name,
        "description": spec.description,
        "slots": list(spec.slots),
        "required": [g[0] if len(g) == 1 else {"any_of": list(g)} for g in spec.required],
        "prompts": dict(spec.prompts),
    }
    if spec.readback is not None:
        doc["readback"] = spec.readback
    if spec.summary is not None:
        doc["summary"] = spec.summary
    if spec.scenarios:
        doc["scenarios"] = {code: dict(body) for code, body in spec.scenarios.items()}
    doc["examples"] = list(spec.examples)
    header = f"# {spec.code}: {verb} through the product console\n"
    return header + yaml.safe_dump(doc, allow_unicode=True, sort_keys=False, width=100)


def _yaml_scalar(text: str) -> str:
    """``text`` as a YAML list item value: plain when safe, else double-quoted."""
    try:
        if yaml.safe_load(f"- {text}") == [text] and "#" not in text:
            return text
    except yaml.YAMLError:
        pass
    return json.dumps(text, ensure_ascii=False)  # JSON strings are valid YAML


def _with_example(source: str, sentence: str) -> str:
    root = yaml.compose(source, Loader=yaml.SafeLoader)
    assert isinstance(root, yaml.MappingNode)  # the catalog was validated on load
    node = _node_get(root, "examples")
    lines = source.splitlines(keepends=True)
    if isinstance(node, yaml.SequenceNode) and node.value and not node.flow_style:
        last = node.value[-1]
        prefix = lines[last.start_mark.line][: last.start_mark.column]
        at = last.end_mark.line + (1 if last.end_mark.column > 0 else 0)
        if at > 0 and at <= len(lines) and not lines[at - 1].endswith("\n"):
            lines[at - 1] += "\n"
        lines.insert(at, f"{prefix}{_yaml_scalar(sentence)}\n")
        return "".join(lines)
    # Flow-style list: rewrite the file (comments are lost, content is kept).
    data = yaml.safe_load(source)
    data["examples"] = [*data["examples"], sentence]
    return str(yaml.safe_dump(data, allow_unicode=True, sort_keys=False))
