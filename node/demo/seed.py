"""What happens in the demo ecosystem, done through the nodes' real HTTP APIs.

Three micro-communities (a design studio, a workshop, a sales community) follow each other.
Ten workers of every engagement type (one is a software agent) join them by signing
`member.enroll` statements with their own keys; about forty tasks are published and taken to
every state a task or contract can be in; the three communities agree a tiered revenue share
(each partner signs the proposal with its node's key), report two months of revenue, settle
them and pay the partners, who confirm. Every write is an API call a lead or a worker's
browser would make; every rule is checked by the nodes.
"""

from __future__ import annotations

import base64
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from ledger.keys import SigningKey
from ledger.statement import Statement, format_time, sign_statement
from node.client import NodeClient
from node.demo.cluster import Community, DemoNode

__all__ = ["COMMUNITIES", "WORKERS", "SeedReport", "Worker", "seed"]

COMMUNITIES = (
    Community(
        "studio",
        "Lakeside Design Studio",
        "micro-enterprise",
        "Product and interaction design for household appliances",
    ),
    Community(
        "workshop",
        "Harbour Workshop",
        "micro-enterprise",
        "Prototyping, machining and assembly",
    ),
    Community(
        "sales",
        "Northgate Sales",
        "ecosystem-community",
        "Direct sales, installation and customer success",
    ),
)


@dataclass(frozen=True, slots=True)
class Worker:
    name: str
    engagement: str
    skills: tuple[str, ...]
    home: int  # index of the community they enrol in
    key: SigningKey = field(default_factory=lambda: SigningKey.from_seed(secrets.token_bytes(32)))

    @property
    def id(self) -> str:
        return self.key.party_id


WORKERS = (
    ("Amara Osei", "freelance", ("industrial-design", "cad", "rendering"), 0),
    ("Lin Wei", "employee", ("cad", "machining", "cnc"), 1),
    ("Sofia Marques", "gig", ("welding", "assembly"), 1),
    ("Jonas Berg", "project", ("sales", "negotiation"), 2),
    ("Priya Nair", "alliance", ("ux-research", "copywriting"), 0),
    ("Kwame Mensah", "gig", ("installation", "electrical"), 2),
    ("Elena Petrova", "freelance", ("rendering", "photography"), 0),
    ("Tomás Ruiz", "employee", ("assembly", "quality-control"), 1),
    ("Mei Tanaka", "project", ("customer-success", "copywriting"), 2),
    ("quote-bot", "agent", ("pricing", "data-entry"), 2),
)

#: (community, title, skills, reward, executor, state it ends in)
_TASKS: tuple[tuple[int, str, tuple[str, ...], str, str, str], ...] = (
    (
        0,
        "Concept sketches for a compact dishwasher",
        ("industrial-design",),
        "900.00",
        "human",
        "confirmed",
    ),
    (0, "CAD model of the dishwasher door hinge", ("cad",), "650.00", "human", "confirmed"),
    (0, "Photorealistic renders of the fridge range", ("rendering",), "480.00", "human", "paid"),
    (
        0,
        "User interviews: kitchens of small flats",
        ("ux-research",),
        "720.00",
        "human",
        "accepted",
    ),
    (0, "Product copy for the spring catalogue", ("copywriting",), "300.00", "human", "submitted"),
    (0, "Studio photo shoot of the prototypes", ("photography",), "400.00", "human", "rejected"),
    (0, "Colour and material study", ("industrial-design",), "550.00", "human", "signed"),
    (0, "Packaging redesign", ("industrial-design", "rendering"), "600.00", "human", "offered"),
    (0, "Usability test of the control panel", ("ux-research",), "500.00", "human", "open"),
    (0, "Icon set for the appliance app", ("industrial-design",), "350.00", "human", "open"),
    (0, "Exploded-view drawings", ("cad",), "420.00", "human", "cancelled"),
    (0, "Trade fair booth visuals", ("rendering",), "380.00", "human", "expired"),
    (0, "Moodboard for the 2027 range", ("industrial-design",), "200.00", "human", "closed"),
    (1, "Machine 40 aluminium brackets", ("machining", "cnc"), "760.00", "human", "confirmed"),
    (1, "Weld the prototype frames", ("welding",), "540.00", "human", "confirmed"),
    (1, "Assemble ten pilot units", ("assembly",), "610.00", "human", "paid"),
    (1, "Quality check of the pilot run", ("quality-control",), "330.00", "human", "accepted"),
    (1, "CNC program for the hinge", ("cnc",), "450.00", "human", "submitted"),
    (1, "Jig for the door assembly", ("machining",), "390.00", "human", "rejected"),
    (1, "Rework of the base plates", ("welding", "assembly"), "280.00", "human", "signed"),
    (1, "Tooling inventory", ("quality-control",), "150.00", "human", "offered"),
    (1, "Laser-cut panel samples", ("cnc",), "260.00", "human", "open"),
    (1, "Fixture for leak testing", ("machining",), "480.00", "human", "open"),
    (1, "Paint booth maintenance", ("assembly",), "210.00", "human", "open"),
    (1, "Spare-part kits", ("assembly",), "190.00", "human", "expired"),
    (1, "Weld seam inspection", ("welding", "quality-control"), "240.00", "human", "cancelled"),
    (
        2,
        "Quote 120 installation requests",
        ("pricing", "data-entry"),
        "180.00",
        "agent",
        "confirmed",
    ),
    (
        2,
        "Install the pilot units at customers",
        ("installation", "electrical"),
        "840.00",
        "human",
        "confirmed",
    ),
    (2, "Negotiate the retailer contract", ("negotiation", "sales"), "1200.00", "human", "paid"),
    (2, "Onboarding calls for new customers", ("customer-success",), "360.00", "human", "accepted"),
    (2, "Price list for the spring range", ("pricing",), "120.00", "agent", "submitted"),
    (2, "Newsletter for installers", ("copywriting",), "220.00", "human", "signed"),
    (2, "Regional sales plan", ("sales",), "650.00", "human", "offered"),
    (2, "Customer survey analysis", ("customer-success",), "300.00", "any", "open"),
    (2, "Electrical safety checks", ("electrical",), "420.00", "human", "open"),
    (2, "Demo days at three retailers", ("sales",), "500.00", "human", "open"),
    (2, "Data entry of warranty cards", ("data-entry",), "90.00", "agent", "open"),
    (2, "Follow-up calls after installation", ("customer-success",), "260.00", "human", "open"),
    (2, "Holiday promotion plan", ("sales",), "300.00", "human", "expired"),
    (2, "Installer training day", ("installation",), "450.00", "human", "closed"),
)

_ENGAGEMENTS = ["employee", "gig", "freelance", "alliance", "project", "agent"]
_STAGES = ("offered", "signed", "submitted", "rejected", "accepted", "paid", "confirmed")
Progress = Callable[[str], None]


@dataclass(slots=True)
class SeedReport:
    """What the seeding made, for printing and tests."""

    workers: list[Worker] = field(default_factory=list)
    tasks: dict[str, str] = field(default_factory=dict)  # task id -> state
    agreement: str = ""
    settlements: list[str] = field(default_factory=list)
    entries: int = 0


def _nonce() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def _now() -> str:
    return format_time(datetime.now(UTC))


def _eur(amount: str) -> dict[str, str]:
    return {"amount": amount, "currency": "EUR"}


class _Seeder:
    def __init__(self, nodes: Sequence[DemoNode], progress: Progress) -> None:
        self.nodes = list(nodes)
        self.clients = [NodeClient(n.url, token=n.token, timeout=60) for n in nodes]
        self.report = SeedReport()
        self.progress = progress

    # -- the two kinds of write ------------------------------------------------------------

    def record(self, at: int, kind: str, body: dict[str, Any]) -> str:
        """The lead of community `at` records an entry; its id."""
        answer = self.clients[at].post("/entries", {"entries": [{"type": kind, "body": body}]})
        self.report.entries += 1
        return str(answer["entries"][0]["id"])

    def sign(self, worker: Worker, at: int, kind: str, body: dict[str, Any]) -> Any:
        """`worker` signs a statement in their browser and submits it to community `at`."""
        statement = Statement(
            type=kind,
            log=self.nodes[at].log_id,  # type: ignore[arg-type]
            signer=worker.key.public,
            time=_now(),
            nonce=_nonce(),
            body=body,
        )
        signed = sign_statement(statement, key=worker.key)
        answer = self.clients[at].post("/statements", signed.to_dict())
        if "entries" in answer:
            self.report.entries += 1
            return answer["entries"][0]["id"]
        return answer

    def consent(self, party: int, at: int, kind: str, body: dict[str, Any]) -> Any:
        """Community `party`'s lead signs, as its log, an entry community `at` records."""
        signed = self.clients[party].post(
            "/statements/sign", {"type": kind, "log": self.nodes[at].log_id, "body": body}
        )
        answer = self.clients[at].post("/statements", signed)
        if "entries" in answer:
            self.report.entries += 1
        return answer

    # -- the story ---------------------------------------------------------------------------

    def follow(self) -> None:
        for a, node in enumerate(self.nodes):
            for other in self.nodes:
                if other is not node:
                    self.record(a, "log.follow", {"log": other.log_id, "relation": "partner"})

    def enrol(self) -> None:
        for name, engagement, skills, home in WORKERS:
            worker = Worker(name, engagement, skills, home)
            self.report.workers.append(worker)
            body = {"worker": worker.id, "engagement": engagement, "display_name": name}
            self.sign(worker, home, "member.enroll", body)

    def _worker_for(self, skills: Sequence[str], executor: str) -> Worker:
        for worker in self.report.workers:
            if (worker.engagement == "agent") == (executor == "agent") and set(skills) & set(
                worker.skills
            ):
                return worker
        raise AssertionError(f"no demo worker has {skills}")

    def tasks(self) -> list[tuple[int, str]]:
        """Publish every task and take it to its state; the expiring ones are returned."""
        expiring = []
        now = datetime.now(UTC)
        for n, (at, title, skills, reward, executor, state) in enumerate(_TASKS):
            soon = state == "expired"
            deadline = now + (timedelta(seconds=4) if soon else timedelta(days=10 + n % 20))
            task = self.record(
                at,
                "task.publish",
                {
                    "title": title,
                    "description": f"{title}. Part of the 2027 appliance range.",
                    "skills": list(skills),
                    "reward": _eur(reward),
                    "deadline": format_time(deadline),
                    "slots": 1,
                    "engagements": _ENGAGEMENTS,
                    "executor": executor,
                    "claim_mode": "offer",
                },
            )
            self.report.tasks[task] = state
            if soon:
                expiring.append((at, task))
            elif state == "closed":
                self.record(at, "task.close", {"task": task})
            elif state != "open":
                worker = self._worker_for(skills, executor)
                self._contract(at, task, worker, reward, state, skills)
            if n % 10 == 9:
                self.progress(f"{n + 1} of {len(_TASKS)} tasks published")
        return expiring

    def _contract(
        self, at: int, task: str, worker: Worker, reward: str, state: str, skills: Sequence[str]
    ) -> None:
        self.sign(
            worker, at, "task.apply", {"task": task, "worker": worker.id, "note": "Available."}
        )
        deadline = format_time(datetime.now(UTC) + timedelta(days=7))
        offer = {"task": task, "worker": worker.id, "reward": _eur(reward), "deadline": deadline}
        contract = self.record(at, "contract.offer", offer)
        if state == "cancelled":
            self.record(at, "contract.cancel", {"contract": contract, "reason": "Plans changed."})
            return
        stage = _STAGES.index(state) if state in _STAGES else 0
        if stage < 1:
            return
        self.sign(worker, at, "contract.sign", {"offer": contract})
        if stage < 2:
            return
        work = {
            "contract": contract,
            "milestone": None,
            "uri": f"https://files.example/{task[:12]}",
        }
        self.sign(worker, at, "work.submit", work)
        if state == "rejected":
            feedback = "Please rework the details and resubmit."
            self.record(
                at, "work.reject", {"contract": contract, "milestone": None, "feedback": feedback}
            )
            return
        if stage < 4:
            return
        bonus = state == "confirmed" and worker.engagement in ("freelance", "gig")
        accept: dict[str, Any] = {
            "contract": contract,
            "milestone": None,
            "rating": 5 if bonus else 4,
            "feedback": "Clear, careful work.",
        }
        if bonus:
            accept["bonus"] = _eur("50.00")
        self.record(at, "work.accept", accept)
        if stage < 5:
            return
        due = f"{float(reward) + (50 if bonus else 0):.2f}"
        pay = {"contract": contract, "milestone": None, "amount": _eur(due)}
        payment = self.record(at, "payment.record", pay)
        if stage < 6:
            return
        self.sign(worker, at, "payment.confirm", {"payment": payment})
        skill = next(s for s in skills if s in worker.skills)
        self.record(
            at, "skill.attest", {"worker": worker.id, "skill": skill, "evidence": [contract]}
        )
        self.record(at, "task.close", {"task": task})

    def share(self) -> None:
        """A tiered value-added share of the three communities, two months settled."""
        studio = 0
        parties = [node.log_id for node in self.nodes]
        proposal = self.record(
            studio,
            "share.propose",
            {
                "parties": parties,
                "currency": "EUR",
                "basis": "value-added",
                "period": "monthly",
                "tiers": [
                    {"up_to": "5000.00", "weights": [5000, 3000, 2000]},
                    {"up_to": None, "weights": [4000, 3000, 3000]},
                ],
            },
        )
        answer: Any = None
        for party in (1, 2):
            answer = self.consent(party, studio, "share.activate", {"proposal": proposal})
        agreement = str(answer["entries"][0]["id"])
        self.report.agreement = agreement
        today = datetime.now(UTC).replace(day=1)
        months = [
            (today - timedelta(days=40)).strftime("%Y-%m"),
            (today - timedelta(days=5)).strftime("%Y-%m"),
        ]
        for period, revenue, costs in (
            (months[0], "18400.00", "9650.00"),
            (months[1], "21250.00", "10980.00"),
        ):
            report = {
                "agreement": agreement,
                "period": period,
                "revenue": _eur(revenue),
                "costs": _eur(costs),
            }
            self.record(studio, "share.revenue", report)
            body = self.clients[studio].get(f"/agreements/{agreement}/settlement", period=period)
            settlement = self.record(studio, "share.settle", body)
            self.report.settlements.append(settlement)
            for payout in body["payouts"][1:]:
                party = parties.index(payout["party"])
                pay = {
                    "settlement": settlement,
                    "party": payout["party"],
                    "amount": payout["amount"],
                }
                payment = self.record(studio, "payment.record", pay)
                self.consent(party, studio, "payment.confirm", {"payment": payment})

    def expire(self, expiring: list[tuple[int, str]]) -> None:
        if not expiring:
            return
        time.sleep(5)  # past the four-second deadlines
        for at, task in expiring:
            self.record(at, "task.expire", {"task": task})


def seed(nodes: Sequence[DemoNode], progress: Progress = lambda _: None) -> SeedReport:
    """Seed the demo through the nodes' APIs; what was made."""
    seeder = _Seeder(nodes, progress)
    seeder.follow()
    seeder.enrol()
    progress(f"{len(WORKERS)} workers enrolled")
    expiring = seeder.tasks()
    seeder.share()
    progress("revenue share agreed, two months settled and paid")
    seeder.expire(expiring)
    return seeder.report
