"""What a node does, whoever asks (REST API, web UI, CLI, scheduler): the use cases.

`NodeService` puts the write path (`node.writer.Writer`: rules checked, commits grouped) and
the contract state (`node.projection.Projection`) behind a few operations:

- `record(drafts)`: the operator's own entries (admin). An entry's `refs` default to the
  entry ids its body names (`refs_for`); an entry of a collected type recorded without
  statements takes the kept statements that sign exactly its body.
- `submit(signed)`: a statement a worker (or another party) signed. Statements for the
  types a party starts alone (`WORKER_TYPES`: enrol, leave, apply, sign, submit, confirm)
  are recorded at once as the entry they sign (uniform consent, ADR 0003: the entry's type
  and body are the statement's). Statements for entries that need several parties
  (`share.activate`, `share.terminate`) or the node's decision (`contract.cancel`) are kept
  (`statement_offers`) until the entry is recorded: a `share.*` entry is recorded as soon as
  every party has signed, the node signing for itself when its log is a party; a
  `contract.cancel` when the lead records it (`record`).
- `settlement(agreement, period)`: the exact `share.settle` body the rules will accept.

A statement is refused unless its signature verifies, its nonce is new and its time is
within `max_clock_skew` seconds of the node's clock. A statement addressed to another log is
relayed to that log's node, whose URL the node knows from its peers (DESIGN §6): the worker
uses whichever node they like, and the other node decides.
"""

from __future__ import annotations

import base64
import secrets
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Protocol

from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError

from contracts.allocation import basis_amount, waterfall
from contracts.money import Money
from contracts.schemas import BODY_SPECS
from contracts.state import State
from ledger.canonical import canonicalize, parse_canonical
from ledger.errors import LedgerError
from ledger.keys import party_id
from ledger.statement import SignedStatement, Statement, format_time, parse_time, sign_statement
from ledger.types import JSON, EntryId, LogId
from node.client import ApiError, NodeClient
from node.db.models import NonceRow, PeerRow, StatementOfferRow
from node.drafts import drafts_from_json
from node.errors import NonceReused, NotFoundError, RelayError, RuleRejected, UsageError
from node.local_node import LocalNode
from node.own_log import AppendResult, EntryDraft, nonce_reused
from node.projection import Projection
from node.writer import Clock, Writer

__all__ = [
    "COLLECTED_TYPES",
    "RELAY_TIMEOUT",
    "PARTY_TYPES",
    "WORKER_TYPES",
    "Collected",
    "NodeService",
    "Recorder",
    "Relayed",
    "refs_for",
]

#: Seconds a relayed statement may take at the other log's node.
RELAY_TIMEOUT = 15.0
#: Entry types a party starts alone with a statement: recorded as soon as it arrives.
WORKER_TYPES = frozenset(
    {
        "member.enroll",
        "member.leave",
        "task.apply",
        "contract.sign",
        "work.submit",
        "payment.confirm",
    }
)
#: Entry types another log records with this node's log as a consenting party: the node's
#: operator signs them with the log's key (`sign_as_party`).
PARTY_TYPES = frozenset({"share.activate", "share.terminate", "payment.confirm"})
#: Entry types whose statements are collected first, and the body field naming their target.
COLLECTED_TYPES = {
    "share.activate": "proposal",
    "share.terminate": "agreement",
    "contract.cancel": "contract",
}


class Recorder(Protocol):
    """Where `NodeService.record` runs when not in the service's own process:
    `node.writer_process.WriterProcess`."""

    def record(self, drafts: Sequence[EntryDraft]) -> AppendResult:
        """`NodeService.record`, there."""

    def record_json(self, body: bytes) -> AppendResult:
        """`NodeService.record_json`, there."""


@dataclass(frozen=True, slots=True)
class Relayed:
    """A statement for another log, handed to that log's node: its HTTP status and answer."""

    url: str
    status: int
    answer: dict[str, Any]


@dataclass(frozen=True, slots=True)
class Collected:
    """A statement kept until its entry is recorded: who signed, who is still to sign."""

    type: str
    target: str
    signed: tuple[str, ...]
    waiting: tuple[str, ...]


def refs_for(entry_type: str, body: dict[str, JSON]) -> tuple[EntryId, ...]:
    """The entry ids a body of `entry_type` names, in order, each once."""
    spec = BODY_SPECS.get(entry_type)
    if spec is None:
        raise RuleRejected("schema.type", f"{entry_type!r} is not an entry type")
    out: list[EntryId] = []
    for name in spec.refs:
        value = body.get(name)
        for item in value if isinstance(value, list) else [value]:
            if isinstance(item, str) and item not in out:
                out.append(EntryId(item))
    return tuple(out)


class NodeService:
    """The node's use cases over its own log and everything it stores."""

    def __init__(
        self,
        node: LocalNode,
        *,
        clock: Clock,
        projection: Projection | None = None,
        recorder: Recorder | None = None,
    ) -> None:
        self.node = node
        self.clock = clock
        self.projection = projection or Projection()
        self.writer = Writer(node.store, self.projection, clock)
        #: where `record` runs when not here: `rdh serve`'s writer process (the projection
        #: here then catches up from the database before each read)
        self.recorder = recorder

    @property
    def log_id(self) -> LogId:
        return self.node.store.log_id

    @contextmanager
    def state(self) -> Iterator[State]:
        """The contract state of every stored entry, current, while the block runs."""
        with self.projection.view(self.node.sessions) as state:
            yield state

    # -- the operator's entries ----------------------------------------------------------

    def record(self, drafts: Sequence[EntryDraft]) -> AppendResult:
        """Append the operator's entries as one batch (all or nothing). An entry of a type
        whose statements are collected (`COLLECTED_TYPES`) and that carries none gets the
        collected statements that sign exactly its body; once recorded, the statements kept
        for it are dropped."""
        if self.recorder is not None:
            return self.recorder.record(drafts)
        ready = self._ready(drafts)
        result = self.writer.append(ready)
        self._recorded(ready)
        return result

    def record_json(self, body: bytes) -> AppendResult:
        """`record` of a batch write's request body, read by `node.drafts.drafts_from_json`
        (`RequestBodyError` if it cannot be) where the write runs."""
        if self.recorder is not None:
            return self.recorder.record_json(body)
        return self.record(drafts_from_json(body))

    def record_batches(
        self, batches: Sequence[Sequence[EntryDraft] | bytes]
    ) -> list[AppendResult | Exception]:
        """`record` (drafts) or `record_json` (bytes) of several independent batches that
        arrived together, committed in as few transactions as fit: the writer process's
        loop (`node.writer_process`). Each batch's outcome, in order; one batch's error
        does not touch the others."""
        outcomes: list[AppendResult | Exception | None] = [None] * len(batches)
        ready: list[tuple[int, list[EntryDraft]]] = []
        for n, batch in enumerate(batches):
            try:
                drafts = drafts_from_json(batch) if isinstance(batch, bytes) else batch
                ready.append((n, self._ready(drafts)))
            except Exception as e:
                outcomes[n] = e
        results = self.writer.commit_batches([drafts for _, drafts in ready])
        for (n, drafts), result in zip(ready, results, strict=True):
            if isinstance(result, AppendResult):
                try:
                    self._recorded(drafts)
                except Exception as e:  # as `record` would raise it, after the commit
                    result = e
            outcomes[n] = result
        return [o for o in outcomes if o is not None]

    def _ready(self, drafts: Sequence[EntryDraft]) -> list[EntryDraft]:
        if not drafts:
            raise UsageError("there is nothing to append")
        return [self._with_collected(_with_refs(d)) for d in drafts]

    def _recorded(self, ready: Sequence[EntryDraft]) -> None:
        """Drop the statements kept for the collected entries just recorded."""
        done = [(d.type, _target(d.type, d.body)) for d in ready if d.type in COLLECTED_TYPES]
        if done:
            with self.node.sessions.begin() as session:
                for entry_type, target in done:
                    session.execute(
                        delete(StatementOfferRow).where(
                            StatementOfferRow.type == entry_type, StatementOfferRow.target == target
                        )
                    )

    def _with_collected(self, draft: EntryDraft) -> EntryDraft:
        if draft.type not in COLLECTED_TYPES or draft.signed:
            return draft
        target = _target(draft.type, draft.body)
        if target is None:
            return draft  # the rules will say what is wrong with the body
        signed = [s for s in self.collected(draft.type, target) if s.statement.body == draft.body]
        if not signed:
            return draft
        return EntryDraft(
            draft.type, draft.body, draft.refs, tuple(signed), draft.time, draft.parsed
        )

    # -- statements ----------------------------------------------------------------------

    def submit(self, signed: SignedStatement) -> AppendResult | Collected | Relayed:
        """Take a party's signed statement: record its entry, keep it (see module doc), or
        relay it to the node of the log it is addressed to (DESIGN §6, "Relay")."""
        statement = signed.statement
        if statement.log != self.log_id:
            return self._relay(signed)
        self._check_time(signed)
        if statement.type in WORKER_TYPES:
            # the write path checks the signature and the nonce, as for every entry
            draft = EntryDraft(statement.type, _plain(statement.body), signed=(signed,))
            return self.record([draft])
        if statement.type in COLLECTED_TYPES:
            self._check_kept(signed)  # it is stored before any entry records it
            return self._collect(signed)
        raise RuleRejected(
            "statement.type",
            f"a {statement.type} entry is not recorded from a party's statement; the node "
            f"records {', '.join(sorted(WORKER_TYPES | set(COLLECTED_TYPES)))} from statements",
        )

    def _relay(self, signed: SignedStatement) -> Relayed:
        """Forward a statement for another log to that log's node, known from the peers."""
        statement = signed.statement
        try:
            signed.verify()  # relay nothing forged
        except LedgerError as e:
            raise RuleRejected("statement.signature", f"the statement's signature: {e}") from e
        with self.node.sessions.begin() as session:
            url = session.execute(
                select(PeerRow.url).where(PeerRow.log_id == statement.log).limit(1)
            ).scalar()
        if url is None:
            raise RuleRejected(
                "statement.log",
                f"the statement is addressed to log {statement.log}, not to this node's log "
                f"{self.log_id}, and this node knows no node of that log; send it there",
            )
        client = NodeClient(url, timeout=RELAY_TIMEOUT)
        try:
            answer = client.post("/statements", signed.to_dict())
        except ApiError as e:
            if e.rule is not None and e.status in (409, 422):
                error = NonceReused if e.status == 409 else RuleRejected
                raise error(
                    e.rule, f"the node of log {statement.log} refused it: {e.message}"
                ) from e
            raise RelayError(f"the node of log {statement.log} at {url} answered: {e}") from e
        except UsageError as e:  # unreachable, timed out, not an rdh node
            raise RelayError(f"the node of log {statement.log} could not take it: {e}") from e
        status = 201 if isinstance(answer, dict) and "entries" in answer else 202
        return Relayed(url, status, answer if isinstance(answer, dict) else {})

    def _check_time(self, signed: SignedStatement) -> None:
        statement = signed.statement
        now = self.clock()
        skew = abs((parse_time(statement.time) - now).total_seconds())
        limit = self.node.settings.max_clock_skew
        if skew > limit:
            raise RuleRejected(
                "statement.time",
                f"the statement's time {statement.time} is {int(skew)} s from this node's clock "
                f"({format_time(now)}); at most {limit} s is accepted: check the signer's clock",
            )

    def _check_kept(self, signed: SignedStatement) -> None:
        """Signature and nonce of a statement kept before its entry is recorded."""
        try:
            signed.verify()
        except LedgerError as e:
            raise RuleRejected("statement.signature", f"the statement's signature: {e}") from e
        with self.node.sessions.begin() as session:
            seq = session.execute(
                select(NonceRow.seq).where(
                    NonceRow.log_id == self.log_id, NonceRow.nonce == signed.statement.nonce
                )
            ).scalar()
        if seq is not None:
            raise nonce_reused(signed.statement.nonce, seq)

    def _collect(self, signed: SignedStatement) -> AppendResult | Collected:
        statement = signed.statement
        target = _target(statement.type, statement.body)
        if target is None:
            field = COLLECTED_TYPES[statement.type]
            raise RuleRejected(f"schema.{statement.type}", f"the statement's body names no {field}")
        signer = party_id(statement.signer.raw)
        data = canonicalize(signed.to_dict())
        try:
            with self.node.sessions.begin() as session:
                session.add(
                    StatementOfferRow(
                        type=statement.type,
                        target=target,
                        signer=signer,
                        data=data,
                        created=format_time(self.clock()),
                    )
                )
        except IntegrityError as e:
            raise RuleRejected(
                "statement.collected",
                f"party {signer} already signed a {statement.type} for {target}",
            ) from e
        return self._complete(statement.type, target)

    def collected(self, entry_type: str, target: str) -> list[SignedStatement]:
        """The statements kept for a `entry_type` entry about `target`, oldest first."""
        with self.node.sessions.begin() as session:
            rows = session.execute(
                select(StatementOfferRow.data)
                .where(StatementOfferRow.type == entry_type, StatementOfferRow.target == target)
                .order_by(StatementOfferRow.id)
            ).scalars()
            return [SignedStatement.from_dict(parse_canonical(data)) for data in rows]

    def _complete(self, entry_type: str, target: str) -> AppendResult | Collected:
        """Record a collected `share.*` entry once every party signed the same body."""
        statements = self.collected(entry_type, target)
        signers = [party_id(s.statement.signer.raw) for s in statements]
        if entry_type == "contract.cancel":
            return Collected(entry_type, target, tuple(signers), ())
        with self.state() as state:
            agreement = (
                state.proposals if entry_type == "share.activate" else state.agreements
            ).get(target)
            parties = agreement.parties if agreement is not None else ()
            proposer = agreement.log if agreement is not None else None
        waiting = tuple(p for p in parties if p not in signers and p != self.log_id)
        if agreement is None or proposer != self.log_id or waiting:
            return Collected(entry_type, target, tuple(signers), waiting)
        body = statements[0].statement.body
        chosen = [s for s in statements if s.statement.body == body]
        if self.log_id in parties and self.log_id not in signers:
            chosen.append(self._own_statement(entry_type, body))
        by_party: dict[str, SignedStatement] = {party_id(s.statement.signer.raw): s for s in chosen}
        ordered = tuple(by_party[p] for p in parties if p in by_party)
        return self.record([EntryDraft(entry_type, _plain(body), signed=ordered)])

    def _own_statement(self, entry_type: str, body: Any) -> SignedStatement:
        key = self.node.store.key
        statement = Statement(
            type=entry_type,
            log=self.log_id,
            signer=key.public,
            time=format_time(self.clock()),
            nonce=_nonce(),
            body=body,
        )
        return sign_statement(statement, key=key)

    # -- the scheduler's work -----------------------------------------------------------

    def expire_due(self) -> list[str]:
        """Record `task.expire` for every open task of this log whose deadline has passed;
        return their ids. Each is its own append, so one refusal does not stop the others."""
        now = format_time(self.clock())
        with self.state() as state:
            due = sorted(
                t.id
                for t in state.tasks.values()
                if t.log == self.log_id and t.status == "open" and t.deadline <= now
            )
        expired = []
        for task in due:
            try:
                self.record([EntryDraft("task.expire", {"task": task})])
            except RuleRejected:  # closed or expired meanwhile by another process
                continue
            expired.append(task)
        return expired

    def sign_as_party(self, entry_type: str, log: str, body: dict[str, JSON]) -> SignedStatement:
        """The operator's consent, as this log, to an entry `log` will record: a statement
        signed with the log's key (give it to that log's node, `POST /api/v1/statements`)."""
        if entry_type not in PARTY_TYPES:
            raise RuleRejected(
                "statement.type",
                f"a log signs statements as a party only for {', '.join(sorted(PARTY_TYPES))}",
            )
        try:
            statement = Statement(
                type=entry_type,
                log=LogId(log),
                signer=self.node.store.key.public,
                time=format_time(self.clock()),
                nonce=_nonce(),
                body=body,
            )
        except LedgerError as e:
            raise RuleRejected("statement.format", f"the statement cannot be made: {e}") from e
        return sign_statement(statement, key=self.node.store.key)

    # -- revenue shares ------------------------------------------------------------------

    def settlement(self, agreement_id: str, period: str) -> dict[str, JSON]:
        """The `share.settle` body for `period` from every revenue report of it."""
        with self.state() as state:
            agreement = state.agreements.get(agreement_id)
            if agreement is None or agreement.agreement != agreement_id:
                raise NotFoundError(f"no active agreement {agreement_id} is known")
            reports = sorted(
                (
                    r
                    for r in state.revenues.values()
                    if r.agreement == agreement_id and r.period == period
                ),
                key=lambda r: r.id,
            )
            if not reports:
                raise UsageError(f"no revenue is reported for {period} of agreement {agreement_id}")
            code = agreement.currency
            revenue = sum(r.revenue.minor for r in reports)
            costs = sum(r.costs.minor for r in reports)
            basis = basis_amount(basis=agreement.basis, revenue=revenue, costs=costs)  # type: ignore[arg-type]
            split = waterfall(basis, agreement.tiers)
            payouts: list[JSON] = [
                {"party": party, "amount": Money.from_minor(total, code).to_dict()}  # type: ignore[dict-item]
                for party, total in zip(agreement.parties, split.totals, strict=True)
            ]
            return {
                "agreement": agreement_id,
                "period": period,
                "revenue": [r.id for r in reports],
                "basis_amount": Money.from_minor(basis, code).to_dict(),  # type: ignore[dict-item]
                "payouts": payouts,
            }


def _target(entry_type: str, body: object) -> str | None:
    """The entry a collected-type body is about (its proposal, agreement or contract)."""
    value = body.get(COLLECTED_TYPES[entry_type]) if isinstance(body, dict) else None
    return value if isinstance(value, str) else None


def _nonce() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(16)).rstrip(b"=").decode()


def _with_refs(draft: EntryDraft) -> EntryDraft:
    if draft.refs:
        return draft
    refs = refs_for(draft.type, draft.body)
    return EntryDraft(draft.type, draft.body, refs, draft.signed, draft.time, draft.parsed)


def _plain(body: object) -> dict[str, JSON]:
    if not isinstance(body, dict):
        raise RuleRejected("statement.body", "a statement's body must be a JSON object")
    return body
