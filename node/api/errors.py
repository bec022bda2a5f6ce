"""HTTP status mapping, done once (STYLE: "Errors"), and the app's error handlers.

Every error response under `/api/` is flask-smorest's JSON shape, always with all four keys:

    {"code": 422, "status": "Unprocessable Entity", "message": "<one sentence>",
     "errors": {"rule": "task.publish.deadline"}}

Errors raised by views map as follows (most specific first):

    RequestBodyError 400 or 422 (its `status`), errors as marshmallow's
    NonceReused      409  errors {"rule": ...}
    RuleRejected     422  errors {"rule": ...}
    NotFoundError    404
    StoreMismatch    503  (the node must not serve writes from this database)
    RelayError       502  (another log's node did not take a relayed statement)
    UsageError       400
    other NodeError  503
    VerificationError 422
    other LedgerError 400

A database that refuses an operation (SQLAlchemy's `OperationalError`, a damaged SQLite
file, or a PostgreSQL error of class 08, 53, 57 or 58 or a read-only transaction: the disk
is full, the database is read-only or down) is a 503 too: the transaction was rolled back,
so nothing was stored, and the condition is the operator's to fix, not a bug (it is
logged). Any other database error is a bug: 500.

Outside `/api/` (tiles, `/healthz`) errors are one line of text/plain. A 500 never shows a
traceback or the exception's text: Flask logs it, the client reads one generic sentence.
"""

from __future__ import annotations

from typing import Any

from flask import Flask, Response, current_app, jsonify, request
from sqlalchemy.exc import DatabaseError, DBAPIError, OperationalError
from werkzeug.exceptions import HTTPException

from ledger.errors import LedgerError, VerificationError
from node.errors import (
    NodeError,
    NonceReused,
    NotFoundError,
    RelayError,
    RequestBodyError,
    RuleRejected,
    StoreMismatch,
    UsageError,
)

__all__ = ["API_PREFIX", "error_response", "init_errors", "status_of"]

#: Paths under this prefix answer errors in JSON.
API_PREFIX = "/api/"

_UNAVAILABLE = (
    "The node's database cannot be written or read right now (for example its disk is full "
    "or it is read-only); nothing was changed. Try again later or tell the node's operator."
)

_INTERNAL = (
    "The node failed to handle this request; the error is logged on the node. "
    "Try again later or tell the node's operator."
)

#: Exception class -> HTTP status, checked in order (subclasses before their bases).
_STATUS: tuple[tuple[type[Exception], int], ...] = (
    (NonceReused, 409),
    (RuleRejected, 422),
    (NotFoundError, 404),
    (StoreMismatch, 503),
    (RelayError, 502),
    (UsageError, 400),
    (NodeError, 503),
    (VerificationError, 422),
    (LedgerError, 400),
)

_REASONS = {
    400: "Bad Request",
    404: "Not Found",
    409: "Conflict",
    422: "Unprocessable Entity",
    502: "Bad Gateway",
    503: "Service Unavailable",
}


def status_of(error: Exception) -> int:
    """The HTTP status of a `NodeError` or `LedgerError` raised by a view (500 otherwise)."""
    if isinstance(error, RequestBodyError):
        return error.status
    for kind, status in _STATUS:
        if isinstance(error, kind):
            return status
    return 500


def error_response(
    code: int,
    status: str,
    message: str,
    errors: dict[str, Any] | None = None,
    headers: dict[str, str] | None = None,
) -> Response:
    """The error response for the current request: JSON under `/api/`, else one text line."""
    if request.path.startswith(API_PREFIX) or request.path == API_PREFIX.rstrip("/"):
        response = jsonify(code=code, status=status, message=message, errors=errors or {})
    else:
        response = Response(f"{code} {status}: {message}\n", mimetype="text/plain")
    response.status_code = code
    response.headers.update(headers or {})
    return response


def _sentence(text: str) -> str:
    text = " ".join(text.split())
    return text if text.endswith((".", "?", "!")) else f"{text}."


def _default_message(error: HTTPException) -> str:
    """One sentence for werkzeug's stock errors (whose descriptions run to several)."""
    headers = dict(error.get_headers())
    match error.code:
        case 404:
            return f"There is nothing at {request.path}."
        case 405:
            return f"{request.method} is not allowed here; use {headers.get('Allow', 'GET')}."
        case 413:
            limit = current_app.config.get("MAX_CONTENT_LENGTH")
            return f"The request body is larger than the node accepts ({limit} bytes)."
        case 415:
            return "The request body must be JSON (Content-Type: application/json)."
        case 422:
            return "The request's parameters or body are not valid; see errors."
    return error.description or error.name


def _handle_http(error: HTTPException) -> Response:
    code = error.code or 500
    if code == 500:  # an unhandled exception: Flask has logged it; show nothing of it
        return error_response(code, error.name, _INTERNAL)
    data: dict[str, Any] = getattr(error, "data", None) or {}
    message = data.get("message")
    if not message:
        stock = error.description == type(error).description
        message = _default_message(error) if stock else error.description or error.name
    errors = data.get("errors", data.get("messages"))
    headers = {k: v for k, v in error.get_headers() if k.lower() != "content-type"}
    headers.update(data.get("headers") or {})
    return error_response(code, error.name, _sentence(str(message)), errors, headers)


def _handle_domain(error: NodeError | LedgerError) -> Response:
    code = status_of(error)
    errors: dict[str, Any] = {}
    message = str(error)
    if isinstance(error, RuleRejected):
        errors, message = {"rule": error.rule}, error.message
    elif isinstance(error, RequestBodyError):
        errors = error.errors
    if code >= 500:
        current_app.logger.error("refused %s %s: %s", request.method, request.path, error)
    return error_response(code, _REASONS[code], _sentence(message), errors)


#: PostgreSQL SQLSTATEs (classes, and one code) of a database that cannot be used right now.
_UNAVAILABLE_SQLSTATES = ("08", "53", "57", "58", "25006")


def _unavailable(error: DBAPIError) -> bool:
    """True if `error` is the database's condition (full, read-only, down, damaged)."""
    if isinstance(error, OperationalError) or type(error) is DatabaseError:
        return True
    sqlstate = getattr(error.orig, "sqlstate", None) or ""
    return sqlstate.startswith(_UNAVAILABLE_SQLSTATES)


def _handle_database(error: DBAPIError) -> Response:
    if not _unavailable(error):
        current_app.logger.error(
            "failed %s %s",
            request.method,
            request.path,
            exc_info=(type(error), error, error.__traceback__),
        )
        return error_response(500, "Internal Server Error", _INTERNAL)
    current_app.logger.error("database refused %s %s: %s", request.method, request.path, error)
    return error_response(503, _REASONS[503], _UNAVAILABLE)


def init_errors(app: Flask) -> None:
    """Register the handlers (after flask-smorest's, which they replace)."""
    app.register_error_handler(DBAPIError, _handle_database)
    app.register_error_handler(HTTPException, _handle_http)
    app.register_error_handler(NodeError, _handle_domain)
    app.register_error_handler(LedgerError, _handle_domain)
