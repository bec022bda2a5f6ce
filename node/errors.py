"""The node's error family.

    NodeError               base of every error raised by `node`
    ├── UsageError          the operator asked for something impossible (bad file, bad option)
    │   └── ConfigError     the configuration file or an environment override is invalid
    ├── RelayError          another log's node did not take a statement this node relayed
    └── StoreError          the database cannot do what was asked
        ├── NotFoundError   no such log, entry, tile or checkpoint is stored
        ├── StoreMismatch   the stored tree does not match the last signed checkpoint
        └── RuleRejected    an append was refused by a rule; nothing was stored
            └── NonceReused a statement nonce was already recorded (replay)

Errors from `ledger` (`LedgerError`) pass through unchanged; the CLI turns both into one
line on stderr and a non-zero exit status.
"""

from __future__ import annotations

from typing import Any

__all__ = [
    "ConfigError",
    "NotFoundError",
    "RelayError",
    "NodeError",
    "NonceReused",
    "RequestBodyError",
    "RuleRejected",
    "StoreError",
    "StoreMismatch",
    "UsageError",
    "WriterUnavailable",
]


class NodeError(Exception):
    """Base class of every error raised by the `node` package."""


class UsageError(NodeError):
    """An operator input (file, option, argument) cannot be used."""


class ConfigError(UsageError):
    """The node's configuration (rdh.toml or an RDH_* environment variable) is invalid."""


class RelayError(NodeError):
    """The node of the log a statement is addressed to could not be reached, or answered
    something other than a decision on the statement."""


class StoreError(NodeError):
    """The node's database cannot do what was asked."""


class NotFoundError(StoreError):
    """The log, entry, tile or checkpoint asked for is not stored."""


class StoreMismatch(StoreError):  # noqa: N818 (the name says what it is)
    """The stored tree does not match the last signed checkpoint: the node must not start."""


class RequestBodyError(NodeError):
    """A request body that is not what the operation takes: `status` 400 (not JSON for the
    API) or 422 (the wrong shape); `errors` says where, in marshmallow's layout."""

    def __init__(self, status: int, message: str, errors: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors or {}

    def __reduce__(self) -> tuple[type[RequestBodyError], tuple[int, str, dict[str, Any]]]:
        return (type(self), (self.status, self.message, self.errors))


class WriterUnavailable(StoreError):  # noqa: N818 (the name says what it is)
    """The node's writer process is not running (`node.writer_process`): nothing can be
    appended now; a write that was in progress when it stopped has an unknown outcome."""


class RuleRejected(StoreError):  # noqa: N818 (the name says what it is)
    """An append was refused by rule `rule`; nothing was stored."""

    def __init__(self, rule: str, message: str) -> None:
        super().__init__(f"{message} (rule {rule})")
        self.rule = rule
        self.message = message

    def __reduce__(self) -> tuple[type[RuleRejected], tuple[str, str]]:
        return (type(self), (self.rule, self.message))


class NonceReused(RuleRejected):
    """A statement's nonce was already recorded by this log: a replay."""
