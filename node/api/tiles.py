"""The C2SP tlog-tiles read API of every log the node stores, own or mirrored (DESIGN §2.7).

    GET /logs                                        JSON [{id, origin, vkey, size, local}]
    GET /logs/<log id>/checkpoint                    text/plain; charset=utf-8
    GET /logs/<log id>/tile/<L>/<N>[.p/<W>]          application/octet-stream
    GET /logs/<log id>/tile/entries/<N>[.p/<W>]      application/octet-stream

`<log id>` is 64 lowercase hex digits; the tile path must be the canonical C2SP form (parsed
by `ledger.tiles.parse_tile_path`, e.g. `tile/0/x001/x234/067.p/5`). A malformed id or path
is 400; a log the node does not store, or a tile or bundle that the log's last signed tree
does not contain, is 404 (one line of text). Full tiles and bundles never change:
`Cache-Control: public, max-age=31536000, immutable`. The checkpoint changes with every
append: `no-store`. Partial tiles are only served for widths inside the signed tree and are
cached briefly. Entry bundles are gzip-compressed for clients that accept it.

Everything is read inside one read transaction per request (`LogReader`); nothing here
writes. The JSON REST API is elsewhere (`node.api.v1`).
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterator
from contextlib import contextmanager

from flask import Blueprint, Response, abort, jsonify, request
from sqlalchemy import select

from ledger.errors import FormatError
from ledger.tiles import TILE_HEIGHT, TILE_WIDTH, TileRef, parse_tile_path
from ledger.types import LogId
from node.api.app import current_node
from node.db.models import LogRow
from node.log_reader import LogReader

__all__ = ["CACHE_CHECKPOINT", "CACHE_IMMUTABLE", "CACHE_PARTIAL", "tiles_blueprint"]

CACHE_IMMUTABLE = "public, max-age=31536000, immutable"
CACHE_PARTIAL = "public, max-age=60"
CACHE_CHECKPOINT = "no-store"

_LOG_ID = re.compile(r"[0-9a-f]{64}")
_OCTETS = "application/octet-stream"

tiles_blueprint = Blueprint("tiles", __name__)


@contextmanager
def _reader(log_id: str) -> Iterator[LogReader]:
    """A reader of log `log_id` in one read transaction; 400 for a malformed id."""
    if not _LOG_ID.fullmatch(log_id):
        abort(400, description=f"{log_id[:80]!r} is not a log id (64 lowercase hex digits)")
    with current_node().sessions.begin() as session:
        yield LogReader(session, LogId(log_id))


@tiles_blueprint.get("/logs")
def list_logs() -> Response:
    """Every log stored on this node: the node's own first, then the mirrored ones by id."""
    with current_node().sessions.begin() as session:
        rows = session.execute(
            select(LogRow.id, LogRow.origin, LogRow.vkey, LogRow.size, LogRow.local).order_by(
                LogRow.local.desc(), LogRow.id
            )
        ).all()
    return jsonify(
        [
            {"id": r.id, "origin": r.origin, "vkey": r.vkey, "size": r.size, "local": r.local}
            for r in rows
        ]
    )


@tiles_blueprint.get("/logs/<log_id>/checkpoint")
def checkpoint(log_id: str) -> Response:
    """The log's last signed checkpoint note (with any cosignatures stored with it)."""
    with _reader(log_id) as reader:
        reader.log()
        note = reader.checkpoint().note
    response = Response(note, content_type="text/plain; charset=utf-8")
    response.headers["Cache-Control"] = CACHE_CHECKPOINT
    return response


@tiles_blueprint.get("/logs/<log_id>/tile/<path:rest>")
def tile(log_id: str, rest: str) -> Response:
    """A hash tile or an entry bundle of the log's last signed tree."""
    try:
        ref = parse_tile_path(f"tile/{rest}")
    except FormatError as e:
        abort(400, description=f"not a tlog-tiles path: {e}")
    with _reader(log_id) as reader:
        size = reader.log().size
        if not _in_tree(ref, size):
            abort(404, description=f"log {log_id} has no {ref.path} at tree size {size}")
        if ref.is_entries:
            data = reader.entry_bundle(ref.index, ref.width)
        else:
            data = reader.tile(ref.level, ref.index, ref.width)
    response = Response(data, content_type=_OCTETS)
    if ref.is_entries:
        response.vary.add("Accept-Encoding")
        if request.accept_encodings["gzip"]:
            response.set_data(gzip.compress(data, compresslevel=6, mtime=0))
            response.headers["Content-Encoding"] = "gzip"
    response.headers["Cache-Control"] = CACHE_PARTIAL if ref.is_partial else CACHE_IMMUTABLE
    return response


def _in_tree(ref: TileRef, size: int) -> bool:
    """True if the tree of `size` leaves has tile `ref` (partial tiles: any width inside it)."""
    count = size if ref.is_entries else size >> (TILE_HEIGHT * ref.level)
    return ref.index * TILE_WIDTH + ref.width <= count
