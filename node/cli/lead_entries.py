"""`rdh entries` (a log's entries, by seq) and `rdh receipt` (one entry's receipt).

A receipt is the entry's tlog-proof@v1 from `GET /api/v1/entries/<id>/receipt`: the entry
bytes, its inclusion proof and the log's signed checkpoint. Anyone can check it offline with
`rdh verify FILE --key VKEY` (the log's verifier key, from `rdh status` on the node).
"""

from __future__ import annotations

from pathlib import Path

import click

from node.cli.lead import Lead, api_command
from node.cli.output import echo_json
from node.errors import UsageError

__all__ = ["entries_command", "receipt_command"]


@click.command("entries")
@click.option("--log", help="The log (default: the node's own).")
@click.option("--type", "entry_type", help="Only entries of this type, like task.publish.")
@click.option("--after", type=click.IntRange(-1), default=-1, help="Start after this seq.")
@click.option("--limit", type=click.IntRange(1, 500), default=50, show_default=True)
@api_command()
def entries_command(
    lead: Lead, log: str | None, entry_type: str | None, after: int, limit: int
) -> None:
    """List a log's entries by seq."""
    found = lead.get("/entries", log=log, type=entry_type, after=after, limit=limit)
    rows = [(e["seq"], e["time"], e["type"], e["id"]) for e in found]
    lead.table(found, ("SEQ", "TIME", "TYPE", "ID"), rows, empty="no entries")


@click.command("receipt")
@click.argument("entry_id")
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    help="Write the receipt to this file (default: print it).",
)
@click.option("--force", is_flag=True, help="Replace the output file if it exists.")
@api_command()
def receipt_command(lead: Lead, entry_id: str, output: Path | None, force: bool) -> None:
    """Get ENTRY_ID's receipt (tlog-proof@v1), checkable offline with `rdh verify`."""
    receipt = lead.client.get_text(f"/entries/{entry_id}/receipt")
    if output is None:
        if lead.as_json:
            echo_json({"entry": entry_id, "receipt": receipt})
        else:
            click.echo(receipt, nl=False)
        return
    if output.exists() and not force:
        raise UsageError(f"{output} exists; give --force to replace it")
    output.write_bytes(receipt.encode("utf-8"))
    if lead.as_json:
        echo_json({"entry": entry_id, "file": str(output)})
    else:
        click.echo(f"wrote {output}: the receipt of entry {entry_id}")
