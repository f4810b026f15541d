"""Customer profiles: age, past transfers and known payees.

The risk engine compares a requested transfer with what this customer
usually does (unusual amount, new payee, elderly caller), and the form
fills a payee's account from the profile when the customer only says
"my son". Profiles are data (a JSON file the bank exports), loaded and
validated once at start-up.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from models.errors import ConfigError
from voice_agent.risk.datafile import read_data_file

_CUSTOMER_KEYS = ("customer_id", "name", "age", "dialect", "past_transfers", "payees")
_PAYEE_KEYS = ("name", "relation", "account", "bank")


@dataclass(frozen=True)
class KnownPayee:
    """Someone this customer has paid before.

    Attributes:
        name: the payee's full name (张伟).
        relation: how the customer calls them (儿子, 女儿, 房东 ...), or "".
        account: the payee's card or account number, digits only.
        bank: the payee's bank (工商银行 ...), or "".
    """

    name: str
    relation: str
    account: str
    bank: str


@dataclass(frozen=True)
class CustomerProfile:
    """What the bank knows about a caller that matters for risk and forms.

    Attributes:
        customer_id: the bank's id for the customer.
        name: the customer's name.
        age: age in years.
        past_transfers: amounts (yuan) of recent past transfers, for the
            "far above what this customer usually sends" check.
        payees: people this customer has paid before.
        dialect: the language the customer usually speaks (mandarin,
            shanghainese); informational.
    """

    customer_id: str
    name: str
    age: int
    past_transfers: tuple[int, ...]
    payees: tuple[KnownPayee, ...]
    dialect: str = "mandarin"


class CustomerDirectory:
    """All known customer profiles, by id."""

    def __init__(self, profiles: Mapping[str, CustomerProfile]) -> None:
        self._profiles = dict(profiles)

    @classmethod
    def load(cls, path: Path | None = None) -> CustomerDirectory:
        """Load and validate a customers JSON file; None loads the shipped demo data.

        Raises:
            ConfigError: the file is missing, not JSON, or a record is invalid;
                the message names the file and the key.
        """
        raw_text, where = read_data_file(path, "customers.json", "customers file")
        try:
            raw = json.loads(raw_text)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"{where}: not valid JSON: {exc}") from exc
        if not isinstance(raw, dict) or not isinstance(raw.get("customers"), list):
            raise ConfigError(f'{where}: expected an object {{"customers": [...]}}')
        profiles: dict[str, CustomerProfile] = {}
        for i, record in enumerate(raw["customers"]):
            profile = _parse_customer(record, f"{where}: customers[{i}]")
            if profile.customer_id in profiles:
                raise ConfigError(
                    f"{where}: customers[{i}].customer_id: duplicate id {profile.customer_id!r}"
                )
            profiles[profile.customer_id] = profile
        return cls(profiles)

    def get(self, customer_id: str | None) -> CustomerProfile | None:
        """The profile of ``customer_id``, or None when unknown (or None given)."""
        if customer_id is None:
            return None
        return self._profiles.get(customer_id)

    def payee_for_relation(self, customer_id: str | None, relation: str) -> KnownPayee | None:
        """The known payee the customer calls ``relation`` (儿子 → 张伟), if exactly one.

        Returns None when the customer is unknown, nobody has that relation,
        or several payees share it (the form must then ask, not guess).
        """
        profile = self.get(customer_id)
        if profile is None or not relation:
            return None
        found = [p for p in profile.payees if p.relation == relation.strip()]
        return found[0] if len(found) == 1 else None

    def __contains__(self, customer_id: object) -> bool:
        return customer_id in self._profiles

    def __len__(self) -> int:
        return len(self._profiles)

    def ids(self) -> tuple[str, ...]:
        """All customer ids, sorted (for demo pickers)."""
        return tuple(sorted(self._profiles))


def _parse_customer(record: Any, where: str) -> CustomerProfile:
    if not isinstance(record, dict):
        raise ConfigError(f"{where}: expected an object with keys {', '.join(_CUSTOMER_KEYS)}")
    unknown = sorted(set(record) - set(_CUSTOMER_KEYS))
    if unknown:
        raise ConfigError(
            f"{where}: unknown key {unknown[0]!r} (valid: {', '.join(_CUSTOMER_KEYS)})"
        )
    cid = record.get("customer_id")
    if not isinstance(cid, str) or not cid:
        raise ConfigError(f"{where}.customer_id: must be a non-empty string")
    age = record.get("age")
    if not isinstance(age, int) or isinstance(age, bool) or not 0 < age < 130:
        raise ConfigError(f"{where}.age: must be an integer between 1 and 129")
    transfers = record.get("past_transfers", [])
    if not isinstance(transfers, list) or not all(
        isinstance(t, int) and not isinstance(t, bool) and t > 0 for t in transfers
    ):
        raise ConfigError(f"{where}.past_transfers: must be a list of positive integers (yuan)")
    payees_raw = record.get("payees", [])
    if not isinstance(payees_raw, list):
        raise ConfigError(f"{where}.payees: must be a list of objects")
    payees = tuple(_parse_payee(p, f"{where}.payees[{j}]") for j, p in enumerate(payees_raw))
    return CustomerProfile(
        customer_id=cid,
        name=str(record.get("name", "")),
        age=age,
        past_transfers=tuple(transfers),
        payees=payees,
        dialect=str(record.get("dialect", "mandarin")),
    )


def _parse_payee(record: Any, where: str) -> KnownPayee:
    if not isinstance(record, dict):
        raise ConfigError(f"{where}: expected an object with keys {', '.join(_PAYEE_KEYS)}")
    unknown = sorted(set(record) - set(_PAYEE_KEYS))
    if unknown:
        raise ConfigError(f"{where}: unknown key {unknown[0]!r} (valid: {', '.join(_PAYEE_KEYS)})")
    account = str(record.get("account", ""))
    if not (account.isdigit() and 16 <= len(account) <= 19):
        raise ConfigError(f"{where}.account: must be a 16-19 digit string")
    name = record.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}.name: must be a non-empty string")
    return KnownPayee(
        name=name,
        relation=str(record.get("relation", "")),
        account=account,
        bank=str(record.get("bank", "")),
    )
