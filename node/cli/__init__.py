"""The `rdh` command line: the composition root of the project.

Each command lives in a small module; this one builds the group and turns every expected
error into one clear line on stderr and an exit status, never a traceback:
0 success, 1 the check failed (findings), 2 the input could not be used, 3 an internal
error (a bug: `rdh --debug` shows its traceback).
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from ledger.errors import LedgerError
from node.errors import NodeError

__all__ = ["main", "rdh"]

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE, EXIT_INTERNAL = 0, 1, 2, 3


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(set(super().list_commands(ctx)) | set(_COMMANDS))

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMANDS and cmd_name not in self.commands:
            module, attr = _COMMANDS[cmd_name]
            command = getattr(importlib.import_module(module), attr)
            assert isinstance(command, click.Command)
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except (LedgerError, NodeError) as e:
            click.echo(f"rdh: error: {e}", err=True)
            ctx.exit(EXIT_UNUSABLE)
        except OSError as e:
            where = f": {e.filename}" if e.filename else ""
            click.echo(f"rdh: error: {e.strerror or e}{where}", err=True)
            ctx.exit(EXIT_UNUSABLE)
        except KeyboardInterrupt:
            click.echo("rdh: interrupted", err=True)
            ctx.exit(130)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except Exception as e:
            if ctx.params.get("debug"):
                raise
            click.echo(
                f"rdh: internal error: {type(e).__name__}: {e} "
                "(this is a bug; rerun with `rdh --debug ...` for details and report it)",
                err=True,
            )
            ctx.exit(EXIT_INTERNAL)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="rendanheyi-ledger", prog_name="rdh")
@click.option("--debug", is_flag=True, help="Show the full traceback of an internal error.")
def rdh(debug: bool) -> None:
    """rdh: the Rendanheyi ledger. Run a node, or audit an exported bundle offline."""


#: Commands by name, imported only when used, so `rdh audit` does not load the database
#: stack (SQLAlchemy, Alembic) into the auditor's process and its workers.
_COMMANDS: dict[str, tuple[str, str]] = {
    "audit": ("node.cli.audit", "audit_command"),
    "verify": ("node.cli.audit", "verify_command"),
    "example": ("node.cli.example", "example_command"),
    "init": ("node.cli.node_commands", "init_command"),
    "status": ("node.cli.node_commands", "status_command"),
    "export": ("node.cli.node_commands", "export_command"),
    "reindex": ("node.cli.maintenance", "reindex_command"),
    "demo": ("node.cli.demo", "demo_command"),
    # the web package composes the UI onto the node's app (web -> node: named, not imported)
    "serve": ("web.cli", "serve_command"),
    "token": ("node.cli.serve", "token_group"),
    "task": ("node.cli.lead_task", "task_group"),
    "contract": ("node.cli.lead_contract", "contract_group"),
    "member": ("node.cli.lead_member", "member_group"),
    "share": ("node.cli.lead_share", "share_group"),
    "receipt": ("node.cli.lead_entries", "receipt_command"),
    "entries": ("node.cli.lead_entries", "entries_command"),
    "peer": ("node.cli.peer", "peer_group"),
    "sync": ("node.cli.peer", "sync_command"),
}


def main() -> None:
    """Console-script entry point."""
    rdh(prog_name="rdh")
    sys.exit(EXIT_OK)
