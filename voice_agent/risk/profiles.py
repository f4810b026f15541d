"""Customer profiles: age, past transfers and known payees.

The risk engine compares a requested transfer with what this customer
usually does (unusual amount, new payee, elderly caller), and the form
fills a payee's account from the profile when the customer only says
"my son". Profiles are data (a JSON file the bank exports), loaded and
validated once at start-up.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

from pydantic import AfterValidator, Field, StrictInt, StringConstraints

from models.datafile import DataFileError, DataModel, parse_data, read_text


def _account(value: str) -> str:
    if not (value.isdigit() and 16 <= len(value) <= 19):
        raise ValueError(f"{value!r} is not a 16-19 digit account number")
    return value


#: A card or account number as the bank writes it: 16-19 digits, nothing else.
AccountNumber = Annotated[str, AfterValidator(_account)]
_Name = Annotated[str, StringConstraints(min_length=1)]


class _PayeeRecord(DataModel):
    name: _Name
    relation: str = ""
    account: AccountNumber
    bank: str = ""


class _CustomerRecord(DataModel):
    customer_id: _Name
    name: str = ""
    age: Annotated[StrictInt, Field(gt=0, lt=130)]
    dialect: str = "mandarin"
    past_transfers: tuple[Annotated[StrictInt, Field(gt=0)], ...] = ()
    payees: tuple[_PayeeRecord, ...] = ()


class CustomersFile(DataModel):
    """The shape of customers.json (validated with file, line and choices)."""

    customers: tuple[_CustomerRecord, ...]


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
            ConfigError: the file is missing, not JSON, or records are invalid;
                every problem is named with the file, the line and the key.
        """
        text, where = read_text(path, "voice_agent.risk", "customers.json", "customers file")
        parsed = parse_data(CustomersFile, text, where)
        profiles: dict[str, CustomerProfile] = {}
        issues = []
        for i, c in enumerate(parsed.data.customers):
            if c.customer_id in profiles:
                at = ("customers", i, "customer_id")
                issues.append(parsed.issue(at, f"duplicate id {c.customer_id!r}"))
            payees = tuple(KnownPayee(p.name, p.relation, p.account, p.bank) for p in c.payees)
            profiles[c.customer_id] = CustomerProfile(
                c.customer_id, c.name, c.age, c.past_transfers, payees, c.dialect
            )
        if issues:
            raise DataFileError(where, issues)
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
