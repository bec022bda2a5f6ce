"""contracts.audit_rules: the contract rules inside `ledger.audit.audit`."""

from __future__ import annotations

import hashlib

from contracts.audit_rules import ContractRules
from ledger import bundle
from ledger.audit import audit
from ledger.keys import SigningKey
from ledger.memlog import MemoryLog, export_bundle
from node.example import build_example
from node.parallel import ProcessMapper

TIME = "2026-11-25T10:00:00Z"


def _key(label: str) -> SigningKey:
    return SigningKey.from_seed(hashlib.sha256(label.encode()).digest())


def _genesis(log: MemoryLog) -> str:
    body = {
        "name": "Test community",
        "kind": "micro-enterprise",
        "public_key": log.key.public.to_b64(),
        "description": "",
        "url": "",
    }
    return log.append(type="log.genesis", time=TIME, body=body).id


def test_the_example_ecosystem_keeps_every_rule() -> None:
    sink = bundle.MemoryBundle()
    build_example(sink)
    with ProcessMapper(2) as mapper:
        report = audit(sink, mapper=mapper, rules=ContractRules())
    assert report.ok, [f.to_text() for f in report.findings]
    assert report.findings == []


def test_rule_violations_are_findings_with_log_seq_entry_and_rule() -> None:
    log = MemoryLog(_key("audit-rules/violations"))
    _genesis(log)
    not_a_type = log.append(type="task.dance", time=TIME, body={})
    bogus = log.append(type="task.close", time=TIME, body={"task": "ab" * 32}, refs=["ab" * 32])
    log.append(type="log.follow", time=TIME, body={"log": "cd" * 32, "relation": "follow"})
    sink = bundle.MemoryBundle()
    export_bundle(sink, [log])
    ledger_only = audit(sink)
    assert ledger_only.ok  # well formed and signed: only the rules can object
    report = audit(sink, rules=ContractRules())
    by_rule = {f.rule: f for f in report.findings}
    assert by_rule["schema.type"].seq == not_a_type.seq
    assert by_rule["schema.type"].entry_id == not_a_type.id
    assert by_rule["schema.type"].log == log.log_id
    # The close cites an entry that is not in the bundle: it waits, reported as a notice,
    # and the entries of its log after it wait behind it.
    pending = [f for f in report.findings if f.rule == "rules.pending"]
    assert [(f.seq, f.severity) for f in pending] == [(bogus.seq, "notice"), (3, "notice")]
    assert "not in this bundle" in pending[0].message


def test_first_entry_must_be_genesis() -> None:
    log = MemoryLog(_key("audit-rules/no-genesis"))
    log.append(type="log.follow", time=TIME, body={"log": "cd" * 32, "relation": "follow"})
    sink = bundle.MemoryBundle()
    export_bundle(sink, [log])
    report = audit(sink, rules=ContractRules())
    assert [f.rule for f in report.errors] == ["log.genesis.first"]
    assert report.errors[0].seq == 0


def test_an_entry_failing_the_ledger_checks_holds_its_place_for_the_rules() -> None:
    """A malformed entry is a ledger finding; the rules neither stall nor blame the next
    entry's seq because of it."""
    log = MemoryLog(_key("audit-rules/unreadable"))
    _genesis(log)
    log.append_bytes(b'{"not":"an entry"}')
    log.append(type="log.follow", time=TIME, body={"log": "cd" * 32, "relation": "follow"})
    sink = bundle.MemoryBundle()
    export_bundle(sink, [log])
    report = audit(sink, rules=ContractRules())
    assert [f.rule for f in report.errors] == ["entry.format"]
    assert report.notices == []


def test_an_entry_reusing_a_nonce_is_not_judged_by_the_rules() -> None:
    from ledger.statement import Statement, sign_statement

    log = MemoryLog(_key("audit-rules/nonce"))
    _genesis(log)
    worker = _key("audit-rules/nonce/worker")
    for _ in range(2):  # the same statement (and nonce) recorded twice
        body = {"worker": worker.public.party_id, "engagement": "gig", "display_name": "W"}
        stmt = Statement(
            type="member.enroll",
            log=log.log_id,
            signer=worker.public,
            time=TIME,
            nonce="A" * 22,
            body=body,
        )
        log.append(
            type="member.enroll", time=TIME, body=body, signed=[sign_statement(stmt, key=worker)]
        )
    sink = bundle.MemoryBundle()
    export_bundle(sink, [log])
    report = audit(sink, rules=ContractRules())
    # Only the ledger objects: the replayed enrolment is not judged (no rule finding at seq 2).
    assert [(f.rule, f.seq) for f in report.errors] == [("statement.nonce-reused", 2)]


def test_rules_stop_with_a_notice_where_a_log_cannot_be_read() -> None:
    log = MemoryLog(_key("audit-rules/missing"))
    _genesis(log)
    for n in range(300):
        log.append(type="log.follow", time=TIME, body={"log": f"{n:064x}", "relation": "follow"})
    sink = bundle.MemoryBundle()
    export_bundle(sink, [log])
    del sink.files[bundle.log_prefix(log.log_id) + "tile/entries/001.p/45"]
    report = audit(sink, rules=ContractRules())
    stopped = [f for f in report.findings if f.rule == "rules.stopped"]
    assert [(f.seq, f.severity) for f in stopped] == [(256, "notice")]
