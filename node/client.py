"""A small HTTP client of a node's JSON API (`/api/v1`), over `urllib.request`.

Owns the transport: building URLs with query strings, the admin token header, a bounded
timeout, reading JSON or text answers, and turning every failure into a `NodeError` where it
enters (never `urllib`'s or `socket`'s exceptions):

    UsageError   the URL is not http(s), the node cannot be reached or did not answer in time,
                 or answered something that is not the API's JSON
    ApiError     the node answered with its JSON error `{code, status, message, errors}`;
                 `.status`, `.message` and `.rule` (e.g. "task.publish.deadline") keep it

Leaves to others: what to ask (the `rdh` lead commands in `node.cli.lead*`) and how to show
the answers (`node.cli.output`).
"""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping, Sequence
from typing import Any

from node.errors import NodeError, UsageError

__all__ = ["DEFAULT_NODE_URL", "DEFAULT_TIMEOUT", "MAX_ANSWER_BYTES", "ApiError", "NodeClient"]

DEFAULT_NODE_URL = "http://127.0.0.1:8470"
#: Seconds to wait for the node to connect and answer.
DEFAULT_TIMEOUT = 30.0
#: Largest answer read (a page of entries or a receipt is far smaller).
MAX_ANSWER_BYTES = 32 << 20

#: A query value: one value, or several (repeated `name=` parameters); None is left out.
QueryValue = str | int | bool | None | Sequence[str]


class ApiError(NodeError):
    """The node refused a request: HTTP `status`, its one-sentence `message`, the `rule`."""

    def __init__(
        self,
        status: int,
        message: str,
        rule: str | None = None,
        errors: Mapping[str, Any] | None = None,
    ) -> None:
        detail = _details(errors) if rule is None else ""
        text = message.rstrip()
        if detail:
            text = f"{text.rstrip('.')}: {detail}"
        super().__init__(f"{text} (rule {rule})" if rule else text)
        self.status = status
        self.message = message
        self.rule = rule
        self.errors: Mapping[str, Any] = errors or {}


def _details(errors: Mapping[str, Any] | None, prefix: str = "") -> str:
    """A schema error's field messages on one line: `json.entries.0.body: Not a dict`."""
    if not errors:
        return ""
    parts: list[str] = []
    for name, value in errors.items():
        where = f"{prefix}.{name}" if prefix else str(name)
        if isinstance(value, Mapping):
            parts.append(_details(value, where))
        elif isinstance(value, list):
            parts.append(f"{where}: {' '.join(str(v) for v in value)}")
        else:
            parts.append(f"{where}: {value}")
    return "; ".join(p for p in parts if p)


class NodeClient:
    """A client of the node at `base_url` (http or https), with an optional admin token."""

    def __init__(
        self, base_url: str, token: str | None = None, timeout: float = DEFAULT_TIMEOUT
    ) -> None:
        parts = urllib.parse.urlsplit(base_url.strip())
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise UsageError(
                f"the node URL {base_url!r} must start with http:// or https:// and name a host"
            )
        if parts.query or parts.fragment:
            raise UsageError(f"the node URL {base_url!r} must not have a query or fragment")
        self.base_url = urllib.parse.urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))
        self.base_url = self.base_url.rstrip("/")
        self.token = token
        self.timeout = timeout

    # -- requests ------------------------------------------------------------------------

    def get(self, path: str, **query: QueryValue) -> Any:
        """GET `path` (relative to the API, e.g. "/tasks") and return its JSON answer."""
        return _json(self._send("GET", self.url(path, query), None), self.base_url)

    def get_text(self, path: str, **query: QueryValue) -> str:
        """GET `path` and return its text answer (e.g. a receipt)."""
        data = self._send("GET", self.url(path, query), None)
        try:
            return data.decode("utf-8")
        except UnicodeDecodeError as e:
            raise UsageError(f"the node at {self.base_url} answered text that is not UTF-8") from e

    def post(self, path: str, json_body: Mapping[str, Any]) -> Any:
        """POST `json_body` to `path` (with the admin token, if any); its JSON answer."""
        data = json.dumps(json_body, ensure_ascii=False).encode("utf-8")
        return _json(self._send("POST", self.url(path, {}), data), self.base_url)

    def health(self) -> Any:
        """`GET /healthz`: `{ok, log, size}` of the node."""
        return _json(self._send("GET", self.base_url + "/healthz", None), self.base_url)

    def url(self, path: str, query: Mapping[str, QueryValue]) -> str:
        """The full URL of API `path` with `query` (None values left out, lists repeated)."""
        pairs: list[tuple[str, str]] = []
        for name, value in query.items():
            if value is None:
                continue
            if isinstance(value, bool):
                pairs.append((name, "true" if value else "false"))
            elif isinstance(value, (str, int)):
                pairs.append((name, str(value)))
            else:
                pairs.extend((name, str(v)) for v in value)
        quoted = urllib.parse.quote(path if path.startswith("/") else f"/{path}")
        tail = f"?{urllib.parse.urlencode(pairs)}" if pairs else ""
        return f"{self.base_url}/api/v1{quoted}{tail}"

    def _send(self, method: str, url: str, data: bytes | None) -> bytes:
        headers = {"Accept": "application/json, text/plain"}
        if data is not None:
            headers["Content-Type"] = "application/json"
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310 (http(s) only, checked above)
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                return _read(response)
        except urllib.error.HTTPError as e:
            try:
                answer = _read(e)
            finally:
                e.close()
            raise _api_error(e.code, answer, self.base_url) from None
        except urllib.error.URLError as e:
            reason = e.reason.strerror if isinstance(e.reason, OSError) else e.reason
            raise UsageError(
                f"cannot reach the node at {self.base_url}: {reason or e.reason}"
            ) from e
        except TimeoutError as e:
            raise UsageError(
                f"the node at {self.base_url} did not answer within {self.timeout:g} s"
            ) from e
        except OSError as e:  # the connection broke while reading
            raise UsageError(f"cannot reach the node at {self.base_url}: {e.strerror or e}") from e


def _read(response: Any) -> bytes:
    data: bytes = response.read(MAX_ANSWER_BYTES + 1)
    if len(data) > MAX_ANSWER_BYTES:
        raise UsageError(f"the node's answer is larger than {MAX_ANSWER_BYTES} bytes")
    return data


def _json(data: bytes, base_url: str) -> Any:
    try:
        return json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(
            f"the node at {base_url} answered something that is not JSON: is this an rdh node?"
        ) from e


def _api_error(status: int, data: bytes, base_url: str) -> ApiError:
    try:
        answer = json.loads(data)
    except (UnicodeDecodeError, json.JSONDecodeError):
        answer = None
    if not isinstance(answer, dict) or not isinstance(answer.get("message"), str):
        text = data.decode("utf-8", "replace").strip().splitlines()
        first = text[0][:200] if text else ""
        return ApiError(status, f"the node at {base_url} answered HTTP {status} {first}".rstrip())
    errors = answer.get("errors")
    errors = errors if isinstance(errors, dict) else {}
    rule = errors.get("rule")
    return ApiError(
        status, answer["message"], rule if isinstance(rule, str) else None, None if rule else errors
    )
