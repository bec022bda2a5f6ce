"""The state the fold projects from entries: logs, members, tasks, contracts, agreements,
payments, attested skills, ratings and balances.

Owns the state's shape only. How an entry changes it is `contracts.rules`; the order in
which entries are applied is `contracts.fold`. Every object records the log that owns it
(the log whose entries may change it) and is keyed by the id of the entry that created it.

Collections that entries of several logs add to (skills, ratings, balances) are keyed
dicts and sums, never ordered lists, so that the state does not depend on the order in
which logs were read: two folds of the same entries compare equal (`==`).

Amounts in `Balances` are integer minor units per (party, currency code).
"""

from __future__ import annotations

from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field

from contracts.allocation import Tier
from contracts.money import Money

__all__ = [
    "Agreement",
    "Attestation",
    "Balance",
    "Balances",
    "ContractState",
    "LogInfo",
    "Member",
    "Milestone",
    "Part",
    "Payment",
    "Revenue",
    "Settlement",
    "State",
    "TaskState",
]


@dataclass(slots=True)
class LogInfo:
    """A log's genesis facts and the logs it follows or partners with."""

    id: str
    name: str
    kind: str
    description: str
    url: str
    follows: dict[str, str] = field(default_factory=dict)  # log id -> relation


@dataclass(slots=True)
class Member:
    """A worker enrolled in one community (log)."""

    log: str
    worker: str
    engagement: str
    display_name: str
    since: str
    active: bool = True


@dataclass(frozen=True, slots=True)
class Milestone:
    title: str
    amount: Money


@dataclass(slots=True)
class TaskState:
    """A published task. `status`: open -> closed | expired."""

    id: str
    log: str
    time: str
    title: str
    skills: tuple[str, ...]
    reward: Money
    deadline: str
    slots: int
    engagements: tuple[str, ...]
    executor: str
    claim_mode: str
    milestones: tuple[Milestone, ...] = ()
    status: str = "open"
    #: workers who applied (an empty frozenset until the first, then a set)
    applicants: AbstractSet[str] = frozenset()
    #: contract id -> worker, for every contract offered or claimed on this task
    contracts: dict[str, str] = field(default_factory=dict)
    #: contracts not cancelled: they use a slot
    live: int = 0

    @property
    def slots_left(self) -> int:
        return self.slots - self.live


@dataclass(slots=True)
class Part:
    """One payable part of a contract: the whole contract, or one milestone.

    `status`: open -> submitted <-> rejected; submitted -> accepted -> paid -> confirmed.
    """

    amount: Money
    title: str = ""
    status: str = "open"
    submissions: int = 0
    bonus: Money | None = None
    rating: int | None = None
    feedback: str = ""
    accepted_at: str | None = None
    payment: str | None = None

    @property
    def due(self) -> Money:
        """What accepting this part earned: its amount plus any bonus."""
        return self.amount if self.bonus is None else self.amount + self.bonus


@dataclass(slots=True)
class ContractState:
    """Terms for one worker on one task.

    `status`: offered -> signed -> completed (every part accepted); offered or signed ->
    cancelled. Each part moves on its own (see `Part`).
    """

    id: str
    log: str
    task: str
    worker: str
    reward: Money
    deadline: str
    parts: list[Part]
    #: True when the parts are milestones (numbered from 0); False: one part, milestone null
    milestones: bool
    engagement: str | None
    offered_at: str
    status: str = "offered"
    signed_at: str | None = None
    completed_at: str | None = None

    def part(self, milestone: int | None) -> Part | None:
        """The part a body's `milestone` names, or None if it names none of this contract's."""
        if milestone is None:
            return None if self.milestones else self.parts[0]
        if not self.milestones or milestone >= len(self.parts):
            return None
        return self.parts[milestone]

    @property
    def stage(self) -> str:
        """One word for a person: the contract's status, or while signed, how far its only
        part got (`submitted`, `rejected`); a completed contract's least advanced part
        (`completed`, `paid`, `confirmed`)."""
        if self.status == "signed" and not self.milestones:
            part = self.parts[0].status
            return "signed" if part == "open" else part
        if self.status == "completed":
            statuses = {p.status for p in self.parts}
            for stage in ("accepted", "paid"):
                if stage in statuses:
                    return "completed" if stage == "accepted" else "paid"
            return "confirmed"
        return self.status

    @property
    def any_paid(self) -> bool:
        return any(p.payment is not None for p in self.parts)

    @property
    def any_submitted(self) -> bool:
        return any(p.submissions for p in self.parts)


@dataclass(slots=True)
class Payment:
    """Money sent by a log to a worker (for a contract part) or a party (for a settlement)."""

    id: str
    log: str
    time: str
    payee: str
    amount: Money
    contract: str | None = None
    milestone: int | None = None
    settlement: str | None = None
    engagement: str | None = None
    confirmed: bool = False


@dataclass(slots=True)
class Agreement:
    """A revenue-share agreement: proposed -> active -> terminated.

    Known by its proposal id (the share.propose entry) and, once active, by its agreement
    id (the share.activate entry); both keys lead to the same object.
    """

    proposal: str
    log: str
    parties: tuple[str, ...]
    currency: str
    basis: str
    period: str
    tiers: tuple[Tier, ...]
    status: str = "proposed"
    agreement: str | None = None
    #: period -> settlement id
    settled: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Revenue:
    """One party's report of an agreement's revenue and costs for a period."""

    id: str
    log: str
    time: str
    agreement: str
    period: str
    revenue: Money
    costs: Money


@dataclass(slots=True)
class Settlement:
    """The split of one period of an agreement, and the payouts made against it."""

    id: str
    log: str
    time: str
    agreement: str
    period: str
    revenue: tuple[str, ...]
    basis_amount: Money
    payouts: dict[str, Money]
    #: party -> payment id
    paid: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Attestation:
    id: str
    log: str
    time: str
    worker: str
    skill: str
    evidence: tuple[str, ...]


@dataclass(slots=True)
class Balance:
    """Minor units a party earned (accepted work, settled shares), was paid, confirmed."""

    earned: int = 0
    paid: int = 0
    confirmed: int = 0

    @property
    def owed(self) -> int:
        return self.earned - self.paid


@dataclass(slots=True)
class Balances:
    """Per (party, currency code) balances."""

    by_party: dict[tuple[str, str], Balance] = field(default_factory=dict)

    def of(self, party: str, code: str) -> Balance:
        """The party's balance in the currency (all zero if none); reading changes nothing."""
        balance = self.by_party.get((party, code))
        return Balance() if balance is None else Balance(**_fields(balance))

    def _entry(self, party: str, amount: Money) -> Balance:
        balance = self.by_party.get((party, amount.currency.code))
        if balance is None:
            balance = self.by_party[(party, amount.currency.code)] = Balance()
        return balance

    def earn(self, party: str, amount: Money) -> None:
        self._entry(party, amount).earned += amount.minor

    def pay(self, party: str, amount: Money) -> None:
        self._entry(party, amount).paid += amount.minor

    def confirm(self, party: str, amount: Money) -> None:
        self._entry(party, amount).confirmed += amount.minor


def _fields(balance: Balance) -> dict[str, int]:
    return {"earned": balance.earned, "paid": balance.paid, "confirmed": balance.confirmed}


@dataclass(slots=True)
class State:
    """Everything the fold knows, keyed by entry id (or log and worker for members)."""

    logs: dict[str, LogInfo] = field(default_factory=dict)
    members: dict[tuple[str, str], Member] = field(default_factory=dict)
    tasks: dict[str, TaskState] = field(default_factory=dict)
    contracts: dict[str, ContractState] = field(default_factory=dict)
    payments: dict[str, Payment] = field(default_factory=dict)
    proposals: dict[str, Agreement] = field(default_factory=dict)
    agreements: dict[str, Agreement] = field(default_factory=dict)
    revenues: dict[str, Revenue] = field(default_factory=dict)
    settlements: dict[str, Settlement] = field(default_factory=dict)
    attestations: dict[str, Attestation] = field(default_factory=dict)
    #: worker -> skill -> ids of the attestations of it (sorted)
    skills: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    #: worker -> id of the work.accept entry -> rating
    ratings: dict[str, dict[str, int]] = field(default_factory=dict)
    balances: Balances = field(default_factory=Balances)
