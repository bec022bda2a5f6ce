"""The web UI's defences (DESIGN §8): session cookies, CSRF tokens, rate limits, admin login.

- **Session**: Flask's signed cookie `rdh_ui` (HttpOnly, SameSite=Strict, Secure), signed
  with a key derived from the node's key (HMAC-SHA-256 of its seed with a fixed label), so
  every process of one node accepts it and nothing else does. It holds the signed-in
  worker's party id, the admin flag (with the admin token's *hash*, checked against the
  `api_tokens` table on every request: a revoked token logs the lead out), the CSRF token and
  the pending sign-in challenge. Never a key, never a token.
- **CSRF**: every POST to the UI must carry the session's token, as the form field `csrf`
  or the `X-CSRF-Token` header (the JS reads it from `<meta name="csrf-token">`).
- **Rate limits**: a sliding window per client address and bucket (sign-in, statements,
  admin login) on the UI's routes and on `POST /api/v1/statements`: 429 with Retry-After.

The Content-Security-Policy is the app's (`node.api.app.SECURITY_HEADERS`) made stricter:
`style-src 'self'`, `img-src 'self' data:`, `form-action 'self'`, `connect-src 'self'`.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass

from flask import Flask, Response, abort, current_app, jsonify, request, session
from sqlalchemy import select

from node.db.models import ApiTokenRow
from node.local_node import LocalNode

__all__ = [
    "CSP",
    "Limit",
    "RateLimiter",
    "admin_signed_in",
    "check_csrf",
    "csrf_token",
    "init_security",
    "signed_in_party",
]

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; form-action 'self'; object-src 'none'; frame-ancestors 'none'; "
    "base-uri 'none'"
)
_SESSION_LABEL = b"rdh/web/session/v1"
#: Rate-limit buckets are matched by path in `_bucket`; their sizes come from the node's
#: settings (`statements.rate_per_minute`, `server.signin_per_minute`) unless the app's
#: config gives `WEB_RATE_LIMITS` {bucket: (most requests, per seconds)}.


@dataclass(frozen=True, slots=True)
class Limit:
    requests: int
    seconds: float


class RateLimiter:
    """At most `limit.requests` hits per `limit.seconds` for each key (sliding window)."""

    def __init__(self, limits: dict[str, Limit], clock: Callable[[], float] = time.monotonic):
        self.limits = limits
        self._clock = clock
        self._hits: dict[tuple[str, str], deque[float]] = {}
        self._lock = threading.Lock()

    def hit(self, bucket: str, key: str) -> float | None:
        """Count a hit; None if allowed, else the seconds to wait."""
        limit = self.limits[bucket]
        now = self._clock()
        with self._lock:
            if len(self._hits) > 10_000:  # forget idle clients
                self._hits = {k: v for k, v in self._hits.items() if v and v[-1] > now - 3600}
            hits = self._hits.setdefault((bucket, key), deque())
            while hits and hits[0] <= now - limit.seconds:
                hits.popleft()
            if len(hits) >= limit.requests:
                return hits[0] + limit.seconds - now
            hits.append(now)
            return None


def session_secret(node: LocalNode) -> bytes:
    """The session signing key: HMAC-SHA-256(node key seed, label). Stable per node."""
    return hmac.new(node.store.key.seed(), _SESSION_LABEL, hashlib.sha256).digest()


def csrf_token() -> str:
    """The session's CSRF token (made on first use)."""
    token = session.get("csrf")
    if not isinstance(token, str):
        token = session["csrf"] = secrets.token_urlsafe(32)
    return token


def check_csrf() -> None:
    """Refuse (403) a POST that does not carry the session's CSRF token."""
    sent = request.headers.get("X-CSRF-Token") or request.form.get("csrf", "")
    token = session.get("csrf")
    if not isinstance(token, str) or not hmac.compare_digest(sent.encode(), token.encode()):
        abort(403, "The form has expired or did not come from this site: reload it and retry.")


def signed_in_party() -> str | None:
    """The party id of the worker signed in with their key, if any."""
    party = session.get("party")
    return party if isinstance(party, str) else None


def admin_signed_in() -> bool:
    """True if the session holds an admin login whose token is still valid."""
    digest = session.get("admin")
    if not isinstance(digest, str):
        return False
    node: LocalNode = current_app.extensions["rdh.node"]
    with node.sessions.begin() as db:
        found = db.execute(
            select(ApiTokenRow.id).where(ApiTokenRow.token_hash == digest)
        ).scalar_one_or_none()
    if found is None:
        session.pop("admin", None)
        return False
    return True


def _bucket(path: str) -> str | None:
    if request.method != "POST":
        return None
    if path in ("/ui/signin",):
        return "signin"
    if path in ("/ui/statements", "/api/v1/statements"):
        return "statements"
    if path == "/ui/lead/login":
        return "login"
    return None


def init_security(app: Flask, node: LocalNode) -> None:
    """Session cookie settings, the stricter CSP, and the rate limits, on `app`."""
    app.secret_key = session_secret(node)
    app.config.update(
        SESSION_COOKIE_NAME=app.config.get("WEB_SESSION_COOKIE", "rdh_ui"),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Strict",
        SESSION_COOKIE_SECURE=app.config.get("WEB_SECURE_COOKIES", True),
        PERMANENT_SESSION_LIFETIME=12 * 3600,
    )
    configured = app.config.get("WEB_RATE_LIMITS") or {
        "signin": (node.settings.signin_rate, 60.0),
        "statements": (node.settings.statement_rate, 60.0),
        "login": (node.settings.signin_rate, 60.0),
    }
    limiter = RateLimiter({name: Limit(*value) for name, value in configured.items()})
    app.extensions["rdh.web.limiter"] = limiter

    @app.before_request
    def _rate_limit() -> Response | None:
        bucket = _bucket(request.path)
        if bucket is None:
            return None
        wait = limiter.hit(bucket, request.remote_addr or "?")
        if wait is None:
            return None
        response = jsonify(
            code=429,
            status="Too Many Requests",
            message=f"Too many requests: wait {int(wait) + 1} s and try again.",
        )
        response.status_code = 429
        response.headers["Retry-After"] = str(int(wait) + 1)
        return response

    @app.after_request
    def _csp(response: Response) -> Response:
        response.headers["Content-Security-Policy"] = CSP
        if request.path.startswith("/ui") and not request.path.startswith("/ui/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response
