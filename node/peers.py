"""Peers: the nodes this one pulls logs from and pushes its checkpoints to (DESIGN §2.6, §6).

Owns three things:

- `Transport`, the port every peer request goes through (a `typing.Protocol`), and
  `HttpTransport`, its implementation over `http.client`: keep-alive connections per peer,
  a connect/read timeout, a *total* deadline per request (a peer that drips one byte a
  second is cut off too), and a size limit on every answer. Every failure becomes a
  `PeerUnreachable` where it enters.
- The peer registry in the `peers` table: `add_peer` (asks the peer which logs it serves
  and checks that every log's key is the one its id commits to, and reads its witness
  key), `list_peers`, and the backoff bookkeeping (`record_success`, `record_failure`):
  a peer that fails is not tried again before `retry_at`, doubling from `BACKOFF_BASE`
  seconds up to `BACKOFF_MAX`.
- `peer_logs`: the logs a peer serves (`GET /logs`), each key checked against its id.

Error tree (all `NodeError`):

    PeerError            something went wrong with a peer
    ├── PeerUnreachable  no answer, a timeout, an oversized answer, an HTTP error
    └── PeerFault        the peer answered data that does not verify (it is backed off
                         and reported; nothing it sent is kept)

What is pulled and how it is verified is `node.sync`; witnessing is `node.witness`.
"""

from __future__ import annotations

import http.client
import json
import threading
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from ledger.checkpoint import log_origin
from ledger.cosignature import CosignerKey
from ledger.errors import LedgerError
from ledger.keys import party_id
from ledger.note import NoteVerifier
from ledger.statement import format_time
from ledger.types import LogId
from node.db.engine import WRITE_LOCK
from node.db.models import PeerRow
from node.errors import NodeError, NotFoundError, UsageError

__all__ = [
    "BACKOFF_BASE",
    "BACKOFF_MAX",
    "DEFAULT_DEADLINE",
    "HttpTransport",
    "PeerError",
    "PeerFault",
    "PeerInfo",
    "PeerLog",
    "PeerUnreachable",
    "Response",
    "Transport",
    "add_peer",
    "due_peers",
    "list_peers",
    "normalize_url",
    "peer_logs",
    "record_failure",
    "record_success",
    "witness_info",
]

#: Seconds a failing peer waits before its first retry; doubled per failure up to the max.
BACKOFF_BASE = 5
BACKOFF_MAX = 600
#: Seconds a whole request (connect, send, read every byte) may take.
DEFAULT_DEADLINE = 15.0
#: Largest `GET /logs` and `GET /witness` answers read.
MAX_LISTING_BYTES = 4 << 20
_CHUNK = 64 << 10
_IDLE_PER_HOST = 4


class PeerError(NodeError):
    """Something went wrong with a peer."""


class PeerUnreachable(PeerError):  # noqa: N818 (the name says what happened)
    """The peer did not answer usefully: connection, timeout, size limit, HTTP status."""


class PeerFault(PeerError):  # noqa: N818 (the name says what happened)
    """The peer answered data that does not verify."""


@dataclass(frozen=True, slots=True)
class Response:
    """An HTTP answer: status, content type and body."""

    status: int
    content_type: str
    body: bytes


class Transport(Protocol):
    """How the node talks to peers; raises `PeerUnreachable` for any failure."""

    def request(
        self, method: str, url: str, *, body: bytes | None = None, limit: int
    ) -> Response: ...

    def close(self) -> None: ...


class HttpTransport:
    """`Transport` over `http.client`: keep-alive per host (a few idle connections, so
    several threads can fetch at once), bounded time and size. Thread-safe."""

    def __init__(self, *, deadline: float = DEFAULT_DEADLINE) -> None:
        self.deadline = deadline
        self._connections: dict[tuple[str, str], list[http.client.HTTPConnection]] = {}
        self._lock = threading.Lock()

    def request(self, method: str, url: str, *, body: bytes | None = None, limit: int) -> Response:
        parts = urllib.parse.urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise PeerUnreachable(f"{url} is not an http(s) URL")
        path = parts.path or "/"
        if parts.query:
            path += "?" + parts.query
        key = (parts.scheme, parts.netloc)
        for attempt in (0, 1):  # a kept-alive connection the peer closed is retried once
            connection = self._take(key)
            try:
                response = self._send(connection, method, path, body, limit)
            except (
                http.client.RemoteDisconnected,
                http.client.ImproperConnectionState,
                BrokenPipeError,
                ConnectionResetError,
            ) as e:
                connection.close()
                if attempt:
                    raise PeerUnreachable(f"{url}: the connection was closed ({e})") from e
                continue
            except PeerError:
                connection.close()
                raise
            except (OSError, http.client.HTTPException) as e:
                connection.close()
                reason = getattr(e, "strerror", None) or str(e) or type(e).__name__
                raise PeerUnreachable(f"cannot reach {url}: {reason}") from e
            self._give(key, connection)
            return response
        raise AssertionError("unreachable")  # pragma: no cover

    def _take(self, key: tuple[str, str]) -> http.client.HTTPConnection:
        with self._lock:
            idle = self._connections.get(key)
            connection = idle.pop() if idle else None
        if connection is not None:
            return connection
        scheme, netloc = key
        cls = http.client.HTTPSConnection if scheme == "https" else http.client.HTTPConnection
        return cls(netloc, timeout=min(self.deadline, 10.0))

    def _give(self, key: tuple[str, str], connection: http.client.HTTPConnection) -> None:
        with self._lock:
            idle = self._connections.setdefault(key, [])
            if len(idle) < _IDLE_PER_HOST:
                idle.append(connection)
                return
        connection.close()

    def _send(
        self,
        connection: http.client.HTTPConnection,
        method: str,
        path: str,
        body: bytes | None,
        limit: int,
    ) -> Response:
        end = time.monotonic() + self.deadline
        headers = {"Accept-Encoding": "identity", "User-Agent": "rdh-sync"}
        if body is not None:
            headers["Content-Type"] = "text/plain; charset=utf-8"
        connection.request(method, path, body=body, headers=headers)
        response = connection.getresponse()
        length = response.getheader("Content-Length")
        if length is not None and length.isdigit() and int(length) > limit:
            response.close()
            raise PeerUnreachable(f"the answer to {path} is larger than {limit} bytes")
        chunks: list[bytes] = []
        size = 0
        while True:
            left = end - time.monotonic()
            if left <= 0:
                response.close()
                raise PeerUnreachable(f"the answer to {path} took longer than {self.deadline:g} s")
            if connection.sock is not None:
                connection.sock.settimeout(left)
            chunk = response.read1(_CHUNK)  # whatever arrived: the deadline is checked often
            if not chunk:
                break
            size += len(chunk)
            if size > limit:
                response.close()
                raise PeerUnreachable(f"the answer to {path} is larger than {limit} bytes")
            chunks.append(chunk)
        response.close()  # fully read: the connection can be used again
        if response.will_close:
            connection.close()
        content_type = (response.getheader("Content-Type") or "").split(";")[0].strip()
        return Response(response.status, content_type, b"".join(chunks))

    def close(self) -> None:
        with self._lock:
            pools, self._connections = list(self._connections.values()), {}
        for pool in pools:
            for connection in pool:
                connection.close()


# -- what a peer serves ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeerLog:
    """A log a peer serves, with its key (checked against the id) and signed size."""

    id: LogId
    vkey: str
    size: int

    @property
    def verifier(self) -> NoteVerifier:
        return NoteVerifier.from_vkey(self.vkey)


def normalize_url(url: str) -> str:
    """`http(s)://host[:port][/path]` without a trailing slash; `UsageError` otherwise."""
    parts = urllib.parse.urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(
            f"the peer URL {url!r} must start with http:// or https:// and name a host"
        )
    if parts.query or parts.fragment:
        raise UsageError(f"the peer URL {url!r} must not have a query or fragment")
    return urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path.rstrip("/"), "", ""))


def get_ok(transport: Transport, url: str, *, limit: int) -> bytes:
    """GET `url`; its body if the status is 200, else `NotFoundError` (404) or
    `PeerUnreachable`."""
    response = transport.request("GET", url, limit=limit)
    if response.status == 404:
        raise NotFoundError(f"{url} is not there (HTTP 404)")
    if response.status != 200:
        raise PeerUnreachable(f"{url} answered HTTP {response.status}")
    return response.body


def _json(transport: Transport, url: str) -> Any:
    data = get_ok(transport, url, limit=MAX_LISTING_BYTES)
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise PeerFault(f"{url} is not JSON: is this an rdh node?") from e


def check_log_vkey(log_id: str, vkey: str) -> NoteVerifier:
    """The verifier of log `log_id` from `vkey`, which must be the key the id commits to."""
    try:
        verifier = NoteVerifier.from_vkey(vkey)
        if verifier.name != log_origin(log_id):
            raise PeerFault(f"the key of log {log_id} is named {verifier.name!r}")
    except LedgerError as e:
        raise PeerFault(f"the key of log {log_id[:80]!r} is not a log vkey: {e}") from e
    if party_id(verifier.public_key.to_bytes()) != log_id:
        raise PeerFault(f"the key served for log {log_id} is not the key its id commits to")
    return verifier


def peer_logs(transport: Transport, base_url: str) -> list[PeerLog]:
    """The logs the peer at `base_url` serves; `PeerFault` if any key does not match its id."""
    listing = _json(transport, f"{base_url}/logs")
    if not isinstance(listing, list):
        raise PeerFault(f"{base_url}/logs is not a list of logs")
    logs: list[PeerLog] = []
    for item in listing:
        if not isinstance(item, dict):
            raise PeerFault(f"{base_url}/logs lists something that is not a log")
        log_id, vkey, size = item.get("id"), item.get("vkey"), item.get("size")
        if not isinstance(log_id, str) or not isinstance(vkey, str) or type(size) is not int:
            raise PeerFault(f"{base_url}/logs lists a log without id, vkey and size")
        check_log_vkey(log_id, vkey)
        logs.append(PeerLog(LogId(log_id), vkey, size))
    return logs


def witness_info(transport: Transport, base_url: str) -> tuple[LogId, CosignerKey]:
    """The peer's own log id and its witness key (`GET /witness`)."""
    info = _json(transport, f"{base_url}/witness")
    if not isinstance(info, dict) or not isinstance(info.get("vkey"), str):
        raise PeerFault(f"{base_url}/witness does not name a witness key")
    log_id = info.get("log")
    if not isinstance(log_id, str):
        raise PeerFault(f"{base_url}/witness does not name the node's log")
    try:
        key = CosignerKey.from_vkey(info["vkey"])
    except LedgerError as e:
        raise PeerFault(f"{base_url}/witness: not a witness vkey: {e}") from e
    return LogId(log_id), key


# -- the registry ------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PeerInfo:
    """A peer as stored: URL, its log, witness key, and its sync state."""

    id: int
    url: str
    log_id: str
    witness_vkey: str | None
    witness: bool
    witness_size: int
    failures: int
    retry_at: int
    last_error: str
    last_sync: str

    @classmethod
    def from_row(cls, row: PeerRow) -> PeerInfo:
        return cls(
            row.id,
            row.url,
            row.log_id,
            row.witness_vkey,
            row.witness,
            row.witness_size,
            row.failures,
            row.retry_at,
            row.last_error,
            row.last_sync,
        )


def add_peer(
    sessions: sessionmaker[Session],
    transport: Transport,
    url: str,
    now: datetime,
    *,
    own_log: str,
    witness: bool = True,
) -> tuple[PeerInfo, list[PeerLog]]:
    """Register the peer at `url` after checking what it serves; return it and its logs."""
    base = normalize_url(url)
    logs = peer_logs(transport, base)
    peer_log, key = witness_info(transport, base)
    if peer_log == own_log:
        raise UsageError(f"{base} is this node itself (log {own_log})")
    if peer_log not in {log.id for log in logs}:
        raise PeerFault(f"{base} says its log is {peer_log} but does not serve it")
    row = PeerRow(
        url=base,
        log_id=peer_log,
        witness_vkey=key.to_vkey(),
        witness=witness,
        witness_size=0,
        failures=0,
        retry_at=0,
        last_error="",
        last_sync="",
        added=format_time(now),
    )
    try:
        with sessions.begin() as session:
            session.connection(execution_options={WRITE_LOCK: True})
            session.add(row)
            session.flush()
            info = PeerInfo.from_row(row)
    except IntegrityError as e:
        raise UsageError(f"{base} is already a peer (see `rdh peer list`)") from e
    return info, logs


def list_peers(sessions: sessionmaker[Session]) -> list[PeerInfo]:
    with sessions.begin() as session:
        rows = session.execute(select(PeerRow).order_by(PeerRow.id)).scalars()
        return [PeerInfo.from_row(row) for row in rows]


def due_peers(sessions: sessionmaker[Session], now: int) -> list[PeerInfo]:
    """The peers not backed off at POSIX time `now`."""
    return [peer for peer in list_peers(sessions) if peer.retry_at <= now]


def _update(
    sessions: sessionmaker[Session], peer_id: int, change: Callable[[PeerRow], None]
) -> None:
    with sessions.begin() as session:
        session.connection(execution_options={WRITE_LOCK: True})
        row = session.get(PeerRow, peer_id)
        if row is not None:
            change(row)


def record_success(sessions: sessionmaker[Session], peer_id: int, now: datetime) -> None:
    def change(row: PeerRow) -> None:
        row.failures, row.retry_at, row.last_error = 0, 0, ""
        row.last_sync = format_time(now)

    _update(sessions, peer_id, change)


def record_failure(sessions: sessionmaker[Session], peer_id: int, now: datetime, error: str) -> int:
    """Back the peer off; return the seconds until it is tried again."""
    delays: list[int] = []

    def change(row: PeerRow) -> None:
        row.failures += 1
        delay = min(BACKOFF_MAX, BACKOFF_BASE * 2 ** min(row.failures - 1, 20))
        row.retry_at = int(now.timestamp()) + delay
        row.last_error = error[:500]
        delays.append(delay)

    _update(sessions, peer_id, change)
    return delays[0] if delays else 0
