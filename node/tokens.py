"""Admin API tokens: made here, shown once, stored only as their SHA-256 (DESIGN §8).

A token is `rdh_` followed by 32 random bytes in base64url (`secrets.token_urlsafe`). The
`api_tokens` table keeps the lowercase hex SHA-256 of the token, a label and the creation
time, never the token: a stolen database does not give API access. `check_token` looks a
presented token up by its hash and compares the hashes in constant time. Checking the
`Authorization` header of a request is `node.api.auth`; the commands are `rdh token ...`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ledger.statement import format_time
from node.db.models import ApiTokenRow
from node.errors import NotFoundError, UsageError

__all__ = [
    "TokenChecker",
    "TOKEN_PREFIX",
    "TokenInfo",
    "check_token",
    "create_token",
    "list_tokens",
    "revoke_token",
    "token_hash",
]

#: Every admin token starts with this, so it is recognisable in a leaked config or log.
TOKEN_PREFIX = "rdh_"  # noqa: S105 (a prefix, not a secret)
#: Longest label (the column is 100 characters).
MAX_LABEL = 100
#: A presented token longer than this is refused before it is hashed.
_MAX_TOKEN = 200


@dataclass(frozen=True, slots=True)
class TokenInfo:
    """What is stored about a token: never the token itself."""

    id: int
    label: str
    created: str


def token_hash(token: str) -> str:
    """The lowercase hex SHA-256 of `token`, as stored in `api_tokens.token_hash`."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def create_token(sessions: sessionmaker[Session], label: str, now: datetime) -> str:
    """Make a new admin token labelled `label`, store its hash, and return it (shown once)."""
    if not label or len(label) > MAX_LABEL or not label.isprintable():
        raise UsageError(f"a token label must be 1 to {MAX_LABEL} printable characters")
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    with sessions.begin() as session:
        session.add(
            ApiTokenRow(token_hash=token_hash(token), label=label, created=format_time(now))
        )
    return token


def check_token(sessions: sessionmaker[Session], token: str) -> bool:
    """True if `token` is a stored (not revoked) admin token."""
    if not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN:
        return False
    presented = token_hash(token)
    with sessions.begin() as session:
        stored = session.execute(
            select(ApiTokenRow.token_hash).where(ApiTokenRow.token_hash == presented)
        ).scalar_one_or_none()
    return stored is not None and hmac.compare_digest(stored, presented)


class TokenChecker:
    """`check_token` with a short memory: a token found valid is trusted for `ttl` seconds
    without asking the database again (a server checks the token of every write request).
    Wrong tokens are never remembered. A token revoked by another process (`rdh token
    revoke`) stops working within `ttl` seconds; `forget()` makes it immediate here."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        *,
        ttl: float = 5.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._sessions = sessions
        self._ttl = ttl
        self._clock = clock
        self._valid: dict[str, float] = {}  # token hash -> trusted until
        self._lock = threading.Lock()

    def __call__(self, token: str) -> bool:
        if not token.startswith(TOKEN_PREFIX) or len(token) > _MAX_TOKEN:
            return False
        presented = token_hash(token)
        now = self._clock()
        with self._lock:
            until = self._valid.get(presented)
        if until is not None and now < until:
            return True
        valid = check_token(self._sessions, token)
        with self._lock:
            if valid:
                self._valid[presented] = now + self._ttl
            else:
                self._valid.pop(presented, None)
        return valid

    def forget(self) -> None:
        with self._lock:
            self._valid.clear()


def list_tokens(sessions: sessionmaker[Session]) -> list[TokenInfo]:
    """Every stored token's id, label and creation time, oldest first."""
    with sessions.begin() as session:
        rows = session.execute(
            select(ApiTokenRow.id, ApiTokenRow.label, ApiTokenRow.created).order_by(ApiTokenRow.id)
        ).all()
    return [TokenInfo(id=row.id, label=row.label, created=row.created) for row in rows]


def revoke_token(sessions: sessionmaker[Session], token_id: int) -> TokenInfo:
    """Delete token `token_id` (it stops working at once); `NotFoundError` if there is none."""
    with sessions.begin() as session:
        row = session.get(ApiTokenRow, token_id)
        if row is None:
            raise NotFoundError(
                f"there is no admin token with id {token_id} (see `rdh token list`)"
            )
        info = TokenInfo(id=row.id, label=row.label, created=row.created)
        session.delete(row)
    return info
