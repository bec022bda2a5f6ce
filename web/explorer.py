"""The ledger explorer: logs, entries, checkpoints with their cosignatures, receipts,
equivocation evidence, peers and witness status.

    GET /ui/explorer                     logs held, latest checkpoints, evidence, peers, witnesses
    GET /ui/explorer/logs/<log>?before=  a log's entries, newest first (pages of 50)
    GET /ui/explorer/entries/<id>        one entry: its JSON, its signed statements, receipt link
    GET /ui/explorer/evidence            equivocation evidence (pairs of checkpoint notes)

Receipts are downloaded from the JSON API (`/api/v1/entries/<id>/receipt`). Peers and
witness state belong to federation (`node.sync`, `node.peers`, `node.witness`): the
explorer shows the rows of any table whose name starts with `peer` or `witness`, if the
database has one, and an empty state otherwise.
"""

from __future__ import annotations

from typing import Any

from flask import abort, request
from sqlalchemy import MetaData, Table, func, inspect, select

from ledger.canonical import parse_canonical
from ledger.keys import party_id
from ledger.statement import SignedStatement
from node.db.models import CheckpointRow, EntryRow, EvidenceRow, LogRow
from web.blueprint import community_names, page, service, web_blueprint

__all__ = ["checkpoint_view", "entry_json", "federation_tables"]

_PAGE = 50
_HEX = frozenset("0123456789abcdef")


def _hex64(value: str) -> str:
    if len(value) != 64 or not set(value) <= _HEX:
        abort(404, "An id is 64 lowercase hex digits.")
    return value


def entry_json(entry_id: str) -> dict[str, Any] | None:
    """The entry with id `entry_id` as JSON, or None."""
    with service().node.sessions.begin() as db:
        data = db.execute(select(EntryRow.data).where(EntryRow.id == entry_id).limit(1)).scalar()
    if data is None:
        return None
    value = parse_canonical(data)
    return value if isinstance(value, dict) else None


def checkpoint_view(note: bytes) -> dict[str, Any]:
    """A checkpoint note's origin, size, root and the names of its signers (the log's key
    first, then witnesses' cosignatures)."""
    text = note.decode("utf-8", "replace")
    body, _, sigs = text.partition("\n\n")
    lines = body.split("\n")
    signers = [line[2:].split(" ", 1)[0] for line in sigs.split("\n") if line.startswith("\u2014 ")]
    return {
        "origin": lines[0] if lines else "",
        "size": lines[1] if len(lines) > 1 else "",
        "root": lines[2] if len(lines) > 2 else "",
        "signers": signers,
        "text": text,
    }


def federation_tables() -> list[dict[str, Any]]:
    """Rows of the peer and witness tables, if federation made any (else [])."""
    engine = service().node.engine
    names = [
        n for n in inspect(engine).get_table_names() if n.startswith(("peer", "witness", "sync"))
    ]
    out = []
    for name in sorted(names):
        table = Table(name, MetaData(), autoload_with=engine)
        with engine.connect() as conn:
            rows = conn.execute(select(table).limit(100)).all()
        columns = [c.name for c in table.columns]
        out.append(
            {
                "name": name,
                "columns": columns,
                "rows": [[_cell(v) for v in row] for row in rows],
            }
        )
    return out


def _cell(value: Any) -> str:
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")[:300]
        except UnicodeDecodeError:
            return value.hex()[:64]
    return str(value)[:300]


@web_blueprint.route("/explorer")
def explorer() -> str:
    svc = service()
    with svc.node.sessions.begin() as db:
        logs = db.execute(select(LogRow).order_by(LogRow.local.desc(), LogRow.id)).scalars().all()
        rows = [(log.id, log.origin, log.local, log.size) for log in logs]
        latest = {}
        for log_id, *_ in rows:
            note = db.execute(
                select(CheckpointRow.note)
                .where(CheckpointRow.log_id == log_id)
                .order_by(CheckpointRow.size.desc())
                .limit(1)
            ).scalar()
            if note is not None:
                latest[log_id] = checkpoint_view(note)
        evidence = db.execute(select(func.count()).select_from(EvidenceRow)).scalar_one()
    with svc.state() as state:
        names = community_names(state)
    return page(
        "explorer.html",
        logs=rows,
        latest=latest,
        names=names,
        evidence=evidence,
        federation=federation_tables(),
    )


@web_blueprint.route("/explorer/logs/<log_id>")
def log_entries(log_id: str) -> str:
    _hex64(log_id)
    svc = service()
    try:
        before = int(request.args.get("before", "-1"))
    except ValueError:
        before = -1
    with svc.node.sessions.begin() as db:
        log = db.get(LogRow, log_id)
        if log is None:
            abort(404, f"This node holds no log {log_id}.")
        size = log.size
        query = select(EntryRow.seq, EntryRow.id, EntryRow.type, EntryRow.time).where(
            EntryRow.log_id == log_id
        )
        if before >= 0:
            query = query.where(EntryRow.seq < before)
        entries = db.execute(query.order_by(EntryRow.seq.desc()).limit(_PAGE)).all()
        notes = db.execute(
            select(CheckpointRow.note)
            .where(CheckpointRow.log_id == log_id)
            .order_by(CheckpointRow.size.desc())
            .limit(5)
        ).scalars()
        checkpoints = [checkpoint_view(n) for n in notes]
    with svc.state() as state:
        names = community_names(state)
    return page(
        "log.html",
        log_id=log_id,
        size=size,
        entries=entries,
        checkpoints=checkpoints,
        names=names,
        older=entries[-1].seq if entries and entries[-1].seq > 0 else None,
    )


@web_blueprint.route("/explorer/entries/<entry_id>")
def entry(entry_id: str) -> str:
    _hex64(entry_id)
    with service().node.sessions.begin() as db:
        row = db.execute(select(EntryRow).where(EntryRow.id == entry_id).limit(1)).scalar()
        if row is None:
            abort(404, f"No entry {entry_id} is stored on this node.")
        data, log_id, seq = row.data, row.log_id, row.seq
    value = parse_canonical(data)
    assert isinstance(value, dict)
    statements = []
    items = value.get("signed", [])
    for item in items if isinstance(items, list) else []:
        signed = SignedStatement.from_dict(item)
        try:
            signed.verify()
            valid = True
        except Exception:  # a LedgerError: shown, not raised
            valid = False
        statements.append(
            {
                "signer": party_id(signed.statement.signer.raw),
                "time": signed.statement.time,
                "nonce": signed.statement.nonce,
                "valid": valid,
            }
        )
    with service().state() as state:
        names = community_names(state)
    return page(
        "entry.html",
        entry_id=entry_id,
        log_id=log_id,
        seq=seq,
        value=value,
        size=len(data),
        text=data.decode("utf-8"),
        statements=statements,
        names=names,
    )


@web_blueprint.route("/explorer/evidence")
def evidence() -> str:
    with service().node.sessions.begin() as db:
        rows = db.execute(select(EvidenceRow).order_by(EvidenceRow.id.desc()).limit(100)).scalars()
        items = [
            {
                "id": r.id,
                "origin": r.origin,
                "a": checkpoint_view(r.note_a),
                "b": checkpoint_view(r.note_b),
            }
            for r in rows
        ]
    return page("evidence.html", items=items)
