"""How the lead commands show the node's answers: plain aligned text, or the raw JSON.

Human output is plain text that reads the same on a terminal and through a pipe: columns
padded with spaces (ids are never cut, so they can be copied into the next command), no
colour, no box drawing; `key  value` lines for one object. `--json` prints the node's
answer as it came, for scripts. Money objects `{"amount", "currency"}` read "250.00 EUR".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

import click

__all__ = ["echo_fields", "echo_json", "echo_table", "money_text", "rating_text", "text"]


def echo_json(value: Any) -> None:
    """Print `value` as indented JSON (keys in the node's order)."""
    click.echo(json.dumps(value, indent=2, ensure_ascii=False))


def money_text(value: Any) -> str:
    """`{"amount": "250.00", "currency": "EUR"}` as "250.00 EUR"; "-" for None."""
    if isinstance(value, dict) and {"amount", "currency"} <= value.keys():
        return f"{value['amount']} {value['currency']}"
    return text(value)


def rating_text(thousandths: Any) -> str:
    """An average rating in thousandths (4500) as "4.5"; "-" before any rating."""
    if not isinstance(thousandths, int) or isinstance(thousandths, bool):
        return "-"
    return f"{thousandths / 1000:.1f}"


def text(value: Any) -> str:
    """One cell: None as "-", lists joined with commas, money as "250.00 EUR"."""
    if value is None or value == "":
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dict) and {"amount", "currency"} <= value.keys():
        return money_text(value)
    if isinstance(value, (list, tuple)):
        return ", ".join(text(v) for v in value) or "-"
    return " ".join(str(value).split())


def echo_table(headers: Sequence[str], rows: Iterable[Sequence[Any]], *, empty: str) -> None:
    """Print rows under `headers`, columns padded; `empty` (to stderr) when there are none."""
    cells = [[text(c) for c in row] for row in rows]
    if not cells:
        click.echo(empty, err=True)
        return
    widths = [max(len(h), *(len(r[i]) for r in cells)) for i, h in enumerate(headers)]
    for row in [list(headers), *cells]:
        padded = [cell.ljust(width) for cell, width in zip(row[:-1], widths, strict=False)]
        click.echo("  ".join([*padded, row[-1]]).rstrip())


def echo_fields(pairs: Iterable[tuple[str, Any]]) -> None:
    """Print `name  value` lines, names padded to the longest."""
    shown = [(name, text(value)) for name, value in pairs]
    width = max((len(name) for name, _ in shown), default=0)
    for name, value in shown:
        click.echo(f"{name.ljust(width)}  {value}")
