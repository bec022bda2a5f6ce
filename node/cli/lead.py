"""What every lead command shares: the node and token options, parsing of amounts, deadlines,
milestones and tiers, and recording an entry through the node's API.

The lead commands (`rdh task|contract|member|share|receipt|entries`, in `node.cli.lead_*`)
talk to a running node over HTTP (`node.client.NodeClient`); they never open the database.
Every one takes `--node URL` (env `RDH_NODE_URL`) and `--json`; writes take the admin token
from `--token` (env `RDH_TOKEN`) or `--token-file` (env `RDH_TOKEN_FILE`). Amounts, deadlines
and milestones are checked here, before any request, with the ledger's own money rules
(`contracts.money`), so a typo is one clear line and nothing is sent.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, ClassVar

import click

from contracts.errors import MoneyError
from contracts.money import Money
from ledger.errors import LedgerError
from ledger.statement import format_time, parse_time
from node.cli.output import echo_json, echo_table
from node.client import DEFAULT_NODE_URL, DEFAULT_TIMEOUT, NodeClient
from node.errors import UsageError

__all__ = [
    "DEADLINE",
    "MONEY",
    "Lead",
    "api_command",
    "milestones_body",
    "now",
    "tier_body",
]

#: Largest token file read (a token is about 50 characters).
MAX_TOKEN_FILE = 4096
_NO_ADMIN_KEY = (
    "this command writes to the node and needs an admin token: give --token TOKEN, "
    "--token-file FILE, or set RDH_TOKEN (make one on the node with `rdh token create`)"
)


def now() -> datetime:
    """The current time (UTC, whole seconds): relative deadlines count from it."""
    return datetime.now(UTC).replace(microsecond=0)


# -- parameter types ----------------------------------------------------------------------


class MoneyParam(click.ParamType[Money]):
    """An amount and its currency: "250.00 EUR" (exactly the currency's minor digits)."""

    name = "AMOUNT CUR"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, Money):
            return value
        parts = str(value).split()
        if len(parts) != 2:
            self.fail(
                f"{value!r} is not an amount with its currency, like '250.00 EUR'", param, ctx
            )
        try:
            return Money.parse(parts[0], parts[1])
        except MoneyError as e:
            self.fail(str(e), param, ctx)


class DeadlineParam(click.ParamType[str]):
    """A ledger time "2026-12-09T12:00:00Z", or a span from now: "14d", "36h", "90m"."""

    name = "TIME|SPAN"
    _SPAN = re.compile(r"([1-9][0-9]{0,4})([dhm])")
    _UNITS: ClassVar[dict[str, str]] = {"d": "days", "h": "hours", "m": "minutes"}

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        raw = str(value).strip()
        span = self._SPAN.fullmatch(raw)
        if span:
            delta = timedelta(**{self._UNITS[span.group(2)]: int(span.group(1))})
            return format_time(now() + delta)
        try:
            return format_time(parse_time(raw))
        except LedgerError:
            self.fail(
                f"{raw!r} is neither a time like '2026-12-09T12:00:00Z' nor a span from now "
                "like '14d', '36h' or '90m'",
                param,
                ctx,
            )


class MilestoneParam(click.ParamType[tuple[str, str]]):
    """A milestone "Title=100.00": its title and amount (in the reward's currency)."""

    name = "TITLE=AMOUNT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        title, sep, amount = str(value).rpartition("=")
        if not sep or not title.strip() or not amount.strip():
            self.fail(f"{value!r} is not a milestone like 'Sketches=100.00'", param, ctx)
        return (title.strip(), amount.strip())


class TierParam(click.ParamType[tuple[str | None, tuple[int, ...]]]):
    """A tier "5000.00:7000,3000" (up to 5,000.00, weights in basis points); "-:5000,5000"
    for the last, unbounded tier."""

    name = "UP_TO:W1,W2"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if isinstance(value, tuple):
            return value
        up_to, sep, weights = str(value).partition(":")
        numbers = weights.split(",")
        if not sep or not up_to or not all(n.isdigit() and len(n) <= 5 for n in numbers):
            self.fail(
                f"{value!r} is not a tier like '5000.00:7000,3000' (or '-:5000,5000' for the "
                "last tier): an amount or '-', a colon, one weight per party in basis points",
                param,
                ctx,
            )
        return (None if up_to == "-" else up_to, tuple(int(n) for n in numbers))


MONEY = MoneyParam()
DEADLINE = DeadlineParam()
MILESTONE = MilestoneParam()
TIER = TierParam()


def parse_amount(amount: str, currency: str, what: str) -> Money:
    """`amount` ("100.00" or "100.00 EUR") in `currency`, or a UsageError naming `what`."""
    parts = amount.split()
    if len(parts) == 2 and parts[1] != currency:
        raise UsageError(f"{what} is in {parts[1]}, but it must be in {currency}")
    try:
        return Money.parse(parts[0] if parts else amount, currency)
    except MoneyError as e:
        raise UsageError(f"{what}: {e}") from e


def milestones_body(
    milestones: Sequence[tuple[str, str]], reward: Money
) -> list[dict[str, Any]] | None:
    """`--milestone` values as the body's `milestones` (None when there are none); their
    amounts must sum to the reward."""
    if not milestones:
        return None
    code = reward.currency.code
    parts = [(title, parse_amount(a, code, f"milestone {title!r}")) for title, a in milestones]
    total = sum(m.minor for _, m in parts)
    if total != reward.minor:
        raise UsageError(
            f"the milestones sum to {Money.from_minor(total, code)}, not the reward {reward}"
        )
    return [{"title": title, "amount": m.to_dict()} for title, m in parts]


def tier_body(tier: tuple[str | None, tuple[int, ...]], currency: str) -> dict[str, Any]:
    """A `--tier` value as `{"up_to", "weights"}` (`up_to` checked in `currency`)."""
    up_to, weights = tier
    if up_to is not None:
        up_to = parse_amount(up_to, currency, f"tier up to {up_to!r}").to_string()
    return {"up_to": up_to, "weights": list(weights)}


# -- the node, the token, writes ----------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Lead:
    """A command's connection to the node and how it answers: human text or `--json`."""

    client: NodeClient
    as_json: bool

    def get(self, path: str, **query: Any) -> Any:
        return self.client.get(path, **query)

    def own_log(self) -> str:
        """The node's own log id (from `/healthz`)."""
        health = self.client.health()
        log = health.get("log") if isinstance(health, dict) else None
        if not isinstance(log, str):
            raise UsageError(f"the node at {self.client.base_url} did not say which log it keeps")
        return log

    def record(self, entry_type: str, body: Mapping[str, Any]) -> str:
        """Append one entry of the node's log; print what was recorded; return its id."""
        answer = self.client.post(
            "/entries", {"entries": [{"type": entry_type, "body": dict(body)}]}
        )
        entry = answer["entries"][0]
        if self.as_json:
            echo_json(answer)
        else:
            click.echo(f"recorded {entry['type']} {entry['id']} (seq {entry['seq']})")
        return str(entry["id"])

    def show_or(self, answer: Any, show: Callable[[Any], None]) -> None:
        """Print `answer` as JSON with `--json`, else with `show`."""
        if self.as_json:
            echo_json(answer)
        else:
            show(answer)

    def table(self, answer: Any, headers: Sequence[str], rows: Any, *, empty: str) -> None:
        """`answer` as JSON with `--json`, else `rows` as a table."""
        if self.as_json:
            echo_json(answer)
        else:
            echo_table(headers, rows, empty=empty)


def _read_token(token: str | None, token_file: Path | None) -> str:
    if token:
        return token.strip()
    if token_file is None:
        raise UsageError(_NO_ADMIN_KEY)
    try:
        with token_file.open("rb") as f:
            data = f.read(MAX_TOKEN_FILE + 1)
    except OSError as e:
        raise UsageError(f"cannot read the token file {token_file}: {e.strerror or e}") from e
    text = data.decode("utf-8", "replace").strip()
    if len(data) > MAX_TOKEN_FILE or not text or not text.isprintable():
        raise UsageError(f"the token file {token_file} does not hold one token")
    return text.removeprefix("RDH_ADMIN_TOKEN=")


def api_command(*, write: bool = False) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Give a command `--node`, `--json` and the token options (required by writes, sent
    by reads when given); the command function receives a `Lead` as its first argument."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(function)
        def run(
            node_url: str,
            as_json: bool,
            token: str | None = None,
            token_file: Path | None = None,
            **kwargs: Any,
        ) -> Any:
            wants_token = write or token is not None or token_file is not None
            secret = _read_token(token, token_file) if wants_token else None
            lead = Lead(NodeClient(node_url, token=secret, timeout=DEFAULT_TIMEOUT), as_json)
            return function(lead, **kwargs)

        options = [
            click.option(
                "--node",
                "node_url",
                envvar="RDH_NODE_URL",
                default=DEFAULT_NODE_URL,
                show_default=True,
                metavar="URL",
                help="The node's URL (env RDH_NODE_URL).",
            ),
            click.option("--json", "as_json", is_flag=True, help="Print the node's JSON answer."),
            click.option(
                "--token",
                envvar="RDH_TOKEN",
                metavar="TOKEN",
                help="The node's admin token, for writes (env RDH_TOKEN; `rdh token create`).",
            ),
            click.option(
                "--token-file",
                envvar="RDH_TOKEN_FILE",
                type=click.Path(dir_okay=False, path_type=Path),
                help="A file holding the admin token (env RDH_TOKEN_FILE).",
            ),
        ]
        for option in reversed(options):
            run = option(run)
        return run

    return decorate
