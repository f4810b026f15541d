"""Sentence templates the product team writes in an intent's catalog file.

A read-back (跟您核对一下：转账汇款，金额伍万元整，收款人是您儿子) and a teller
summary (要求向儿子转账5万元) are made of parts, each shown only when the
values it names are known. A part may offer alternatives, tried in order, so
"收款人张伟" is said when the name is known and "收款人是您儿子" otherwise::

    readback:
      - "{name}"
      - 金额{amount}
      - [收款人{payee_name}, 收款人是您{payee_relation}]

Placeholders are slot codes (or ``name``, the intent's display name). How a
value is spoken or written (伍万元整 vs 5万元, 尾号一二三四 vs ****1234) is
decided by whoever renders the template, not by the template, so the same
catalog entry serves the caller's ear and the teller's eye.
"""

from __future__ import annotations

import string
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

NAME_FIELD = "name"
"""The placeholder for the intent's display name."""


@dataclass(frozen=True)
class TemplatePart:
    """One part of a sentence: alternatives, the first fully known one is used."""

    alternatives: tuple[str, ...]


@dataclass(frozen=True)
class Template:
    """A sentence made of optional parts, joined by ``sep`` when rendered."""

    parts: tuple[TemplatePart, ...] = ()

    @property
    def fields(self) -> tuple[str, ...]:
        """Every placeholder the template uses, in order, without repeats."""
        seen: list[str] = []
        for part in self.parts:
            for alt in part.alternatives:
                for name in placeholders(alt):
                    if name not in seen:
                        seen.append(name)
        return tuple(seen)

    def render(self, values: Mapping[str, str], sep: str = "") -> str:
        """The sentence for ``values``; parts whose placeholders are unknown are left out."""
        out: list[str] = []
        for part in self.parts:
            for alt in part.alternatives:
                names = placeholders(alt)
                if all(values.get(n) for n in names):
                    out.append(alt.format_map({n: values[n] for n in names}))
                    break
        return sep.join(s for s in out if s)

    def to_data(self) -> list[str | list[str]]:
        """The YAML/JSON shape (a part with one alternative is a plain string)."""
        return [
            p.alternatives[0] if len(p.alternatives) == 1 else list(p.alternatives)
            for p in self.parts
        ]


def placeholders(text: str) -> tuple[str, ...]:
    """The ``{field}`` names in ``text``.

    Raises:
        ValueError: malformed braces, positional ``{}`` or format specs, with
            the offending text.
    """
    names: list[str] = []
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as e:
        raise ValueError(f"bad braces in {text!r}: {e}") from e
    for _literal, name, spec, conv in parsed:
        if name is None:
            continue
        if not name or not name.isidentifier() or spec or conv:
            raise ValueError(f"bad placeholder {{{name}}} in {text!r}: use {{slot_code}}")
        names.append(name)
    return tuple(names)


def parse_template(raw: object, allowed: Sequence[str]) -> tuple[Template, list[str]]:
    """Build a template from its YAML value and list what is wrong with it.

    Args:
        raw: a list whose items are strings or lists of strings.
        allowed: the placeholder names this intent may use.

    Returns:
        The template (with the bad parts left out) and one message per problem.
    """
    problems: list[str] = []
    if not isinstance(raw, list) or not raw:
        return Template(), ["must be a non-empty list of parts (strings or lists of strings)"]
    parts: list[TemplatePart] = []
    for item in raw:
        alts = [item] if isinstance(item, str) else item
        if not isinstance(alts, list) or not alts or not all(isinstance(a, str) for a in alts):
            problems.append(f"bad part {item!r}: a string or a list of strings")
            continue
        ok = True
        for alt in alts:
            try:
                names = placeholders(alt)
            except ValueError as e:
                problems.append(str(e))
                ok = False
                continue
            for name in names:
                if name not in allowed:
                    problems.append(
                        f"unknown placeholder {{{name}}} in {alt!r} (valid: {', '.join(allowed)})"
                    )
                    ok = False
        if ok:
            parts.append(TemplatePart(tuple(alts)))
    return Template(tuple(parts)), problems


def default_readback(slots: Sequence[str], slot_names: Mapping[str, str]) -> Template:
    """The read-back an intent gets when its file names none: its name, then each slot."""
    parts = [TemplatePart(("{" + NAME_FIELD + "}",))]
    parts += [TemplatePart((f"{slot_names.get(s, s)}{{{s}}}",)) for s in slots]
    return Template(tuple(parts))


def default_summary() -> Template:
    """The summary an intent gets when its file names none: 咨询<name>."""
    return Template((TemplatePart(("咨询{" + NAME_FIELD + "}",)),))
