"""`rdh audit` and `rdh verify`: the auditor's offline commands (no node, no network)."""

from __future__ import annotations

import contextlib
import gc
import sys
from collections.abc import Iterator
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from ledger import audit as ledger_audit
from ledger import bundle
from ledger.audit import EntryRules
from ledger.errors import LedgerError
from ledger.note import NoteVerifier
from ledger.policy import Policy
from ledger.receipt import verify_receipt
from node.bundle_files import open_bundle
from node.errors import UsageError
from node.parallel import ProcessMapper
from node.report_render import render_html, render_json, render_text

__all__ = ["audit_command", "verify_command"]


#: Largest policy and receipt files read (a receipt carries one entry of at most 64 KiB).
MAX_POLICY_BYTES = 1 << 20
MAX_RECEIPT_BYTES = 256 << 10


def _read_small(path: Path, *, limit: int, what: str) -> bytes:
    """Read a regular file of at most `limit` bytes (never a FIFO or a device)."""
    try:
        if not path.exists():
            raise UsageError(f"cannot read {what} {path}: no such file")
        if not path.is_file():
            raise UsageError(f"{what} {path} is not a regular file")
        with path.open("rb") as f:
            data = f.read(limit + 1)
    except OSError as e:
        raise UsageError(f"cannot read {what} {path}: {e.strerror}") from e
    if len(data) > limit:
        raise UsageError(f"{what} {path} is larger than {limit} bytes")
    return data


def _read_policy(path: Path) -> Policy:
    data = _read_small(path, limit=MAX_POLICY_BYTES, what="policy file")
    try:
        return Policy.from_text(data)
    except LedgerError as e:
        raise UsageError(f"policy file {path}: {e}") from e


@click.command("audit")
@click.argument("bundle_path", metavar="BUNDLE", type=click.Path(path_type=Path))
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="C2SP tlog-policy file: trusted log and witness keys and the quorum.",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="Report format on stdout.",
)
@click.option(
    "--html",
    "html_path",
    type=click.Path(path_type=Path),
    help="Also write the report as a self-contained HTML page.",
)
@click.option(
    "--workers",
    type=click.IntRange(min=1),
    default=None,
    help="Processes to use (default: one per core).",
)
@click.option(
    "--ledger-only",
    is_flag=True,
    help="Check formats, signatures and trees only, not the contract rules.",
)
def audit_command(
    bundle_path: Path,
    policy_path: Path | None,
    fmt: str,
    html_path: Path | None,
    workers: int | None,
    ledger_only: bool,
) -> None:
    """Verify an exported BUNDLE (directory or .zip) completely, offline: every log,
    checkpoint, tile, entry, signature and, unless --ledger-only, every contract rule.

    Exit status: 0 everything holds, 1 there are findings, 2 the bundle cannot be read.
    """
    policy = _read_policy(policy_path) if policy_path else None
    source = open_bundle(bundle_path)
    try:
        manifest = bundle.read_manifest(source)
        rules = None if ledger_only else _contract_rules()
        with ProcessMapper(workers) as mapper, _few_collections():
            report = _run(source, manifest, policy, mapper, rules)
    finally:
        source.close()
    name = str(bundle_path)
    if html_path is not None:  # first: if it cannot be written, the error is not lost below
        html_path.write_text(render_html(report, manifest, name), encoding="utf-8")
    if fmt == "json":
        click.echo(render_json(report, manifest, name))
    else:
        click.echo(render_text(report, manifest, name))
    sys.exit(0 if report.ok else 1)


def _run(
    source: bundle.BundleSource,
    manifest: bundle.Manifest,
    policy: Policy | None,
    mapper: ProcessMapper,
    rules: EntryRules | None,
) -> ledger_audit.AuditReport:
    """The audit, with a progress bar on stderr when it is a terminal."""
    total = sum(log.size for log in manifest.logs)
    if not (sys.stderr.isatty() and total > 0):
        return ledger_audit.audit(source, policy=policy, mapper=mapper, rules=rules)
    with Progress(
        TextColumn("auditing"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("entries"),
        TimeRemainingColumn(),
        transient=True,
        console=Console(stderr=True),
    ) as bar:
        task = bar.add_task("audit", total=total)
        return ledger_audit.audit(
            source,
            policy=policy,
            mapper=mapper,
            progress=lambda done, _total: bar.update(task, completed=done),
            rules=rules,
        )


def _contract_rules() -> EntryRules:
    """The contract rules, imported only when used (--ledger-only keeps the process small)."""
    from contracts.audit_rules import ContractRules

    return ContractRules()


@contextlib.contextmanager
def _few_collections() -> Iterator[None]:
    """The audit allocates millions of small, acyclic objects: collect cycles rarely."""
    gc.freeze()
    thresholds = gc.get_threshold()
    gc.set_threshold(100_000, 50, 100)
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


@click.command("verify")
@click.argument("receipt_path", metavar="RECEIPT", type=click.Path(path_type=Path))
@click.option("--key", "vkey", help="The log's verifier key (vkey), e.g. from `rdh status`.")
@click.option(
    "--policy",
    "policy_path",
    type=click.Path(path_type=Path),
    help="C2SP tlog-policy file: trusted log keys, witnesses and quorum.",
)
def verify_command(receipt_path: Path, vkey: str | None, policy_path: Path | None) -> None:
    """Check one receipt (a tlog-proof carrying its entry) offline.

    Exit status: 0 the entry is in the log; 1 the receipt does not verify (including a
    malformed or tampered receipt); 2 the receipt file, key or policy cannot be used.
    """
    if vkey is None and policy_path is None:
        raise UsageError("give the log's key with --key VKEY or a policy with --policy FILE")
    data = _read_small(receipt_path, limit=MAX_RECEIPT_BYTES, what="receipt")
    key = NoteVerifier.from_vkey(vkey) if vkey else None
    policy = _read_policy(policy_path) if policy_path else None
    try:
        verified = verify_receipt(data, key=key, policy=policy)
    except LedgerError as e:
        click.echo(f"FAILED: {e}")
        sys.exit(1)
    entry = verified.entry
    if policy is None:
        witnesses = "not checked (give --policy to require a witness quorum)"
    else:
        witnesses = ", ".join(verified.cosigned_by) or "none required by the policy"
    click.echo(
        f"OK: entry {entry.id} ({entry.type}, seq {entry.seq}) is in log {entry.log} "
        f"at tree size {verified.checkpoint.size}; witnesses: {witnesses}."
    )
