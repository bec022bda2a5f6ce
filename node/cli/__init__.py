"""The `rdh` command line: the composition root of the project.

Each command lives in a small module; this one builds the group and turns every expected
error into one clear line on stderr and an exit status, never a traceback:
0 success, 1 the check failed (findings), 2 the input could not be used, 3 an internal
error (a bug: `rdh --debug` shows its traceback).
"""

from __future__ import annotations

import sys
from typing import Any

import click

from ledger.errors import LedgerError
from node.errors import NodeError

__all__ = ["main", "rdh"]

EXIT_OK, EXIT_FINDINGS, EXIT_UNUSABLE, EXIT_INTERNAL = 0, 1, 2, 3


class _Group(click.Group):
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


def _register() -> None:
    from node.cli import audit, example

    rdh.add_command(audit.audit_command)
    rdh.add_command(audit.verify_command)
    rdh.add_command(example.example_command)

    from node.cli import node_commands

    rdh.add_command(node_commands.init_command)
    rdh.add_command(node_commands.status_command)
    rdh.add_command(node_commands.export_command)


_register()


def main() -> None:
    """Console-script entry point."""
    rdh(prog_name="rdh")
    sys.exit(EXIT_OK)
