"""Presenting an audit report: plain text for a terminal, JSON for scripts, HTML to share.

The report itself (`ledger.audit.AuditReport`) is data; this module only renders it.
"""

from __future__ import annotations

import html
import json

from ledger.audit import AuditReport
from ledger.bundle import Manifest

__all__ = ["render_html", "render_json", "render_text"]


def _verdict(report: AuditReport) -> str:
    if not report.ok:
        return f"FAILED: {len(report.errors)} error(s) found; each is listed with its rule."
    rules = (
        ", and every contract rule held"
        if report.rules_checked
        else " (contract rules not checked: --ledger-only)"
    )
    witnessed = (
        "witness cosignatures meet your policy"
        if report.trusted_policy
        else "witness cosignatures were not required (no --policy given)"
    )
    notices = f"; {len(report.notices)} notice(s)" if report.notices else ""
    return (
        "OK: every checkpoint signature, tile, root, entry and statement signature verified"
        f"{rules} ({report.entries_checked} entries, {report.statements_checked} statements); "
        f"{witnessed}{notices}."
    )


def _policy_line(report: AuditReport) -> str:
    if report.trusted_policy and report.bundled_policy:
        return "Policy: yours (--policy) enforced; the bundle's own policy also checked"
    if report.trusted_policy:
        return "Policy: yours (--policy) enforced"
    if report.bundled_policy:
        return (
            "Policy: only the bundle's own policy checked (not trusted: "
            "give --policy to enforce yours)"
        )
    return "Policy: none (cosignatures not required)"


def _plain(text: str) -> str:
    """`text` with non-printable characters escaped: strings from a bundle are hostile, and
    must not forge report lines or send terminal escape sequences."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def render_text(report: AuditReport, manifest: Manifest, source: str) -> str:
    """Human-readable report (one finding per line)."""
    when = f" at {manifest.exported_at}" if manifest.exported_at else ""
    lines = [
        _plain(f"Bundle {source}: {manifest.format}, exported by {manifest.exporter}{when}"),
        _policy_line(report),
        "",
        f"{'log':<18} {'name':<24} {'size':>9} {'statements':>10} {'witnesses':>9} errors",
    ]
    for s in report.logs:
        name = _plain(s.name or "-")[:24]
        lines.append(
            f"{s.log[:16]:<18} {name:<24} {s.size:>9} {s.statements_checked:>10} "
            f"{len(s.cosigned_by):>9} {s.errors}"
        )
    if report.findings:
        lines.append("")
        lines.extend(_plain(f.to_text()) for f in report.findings)
    lines += ["", _verdict(report)]
    return "\n".join(lines)


def render_json(report: AuditReport, manifest: Manifest, source: str) -> str:
    """Machine-readable report."""
    value = {"bundle": source, "exporter": manifest.exporter, **report.to_dict()}
    return json.dumps(value, indent=2, sort_keys=True)


def render_html(report: AuditReport, manifest: Manifest, source: str) -> str:
    """A self-contained HTML page (no scripts, no external resources)."""
    e = html.escape
    rows = "".join(
        f"<tr><td><code>{e(s.log)}</code></td><td>{e(s.name or '-')}</td><td>{s.size}</td>"
        f"<td>{s.statements_checked}</td><td>{e(', '.join(s.cosigned_by) or '-')}</td>"
        f"<td>{s.errors}</td></tr>"
        for s in report.logs
    )
    findings = "".join(
        f"<tr class='{e(f.severity)}'><td>{e(f.severity)}</td><td>{e(f.rule)}</td>"
        f"<td><code>{e(f.log or '')}</code></td><td>{'' if f.seq is None else f.seq}</td>"
        f"<td><code>{e(f.entry_id or '')}</code></td><td>{e(f.message)}</td></tr>"
        for f in report.findings
    )
    status = "ok" if report.ok else "failed"
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>rdh audit: {e(source)}</title>
<style>
body {{ font-family: system-ui, sans-serif; margin: 2rem; }}
table {{ border-collapse: collapse; margin: 1rem 0; }}
td, th {{ border: 1px solid #ccc; padding: .3rem .5rem; text-align: left; font-size: .9rem; }}
code {{ font-size: .8rem; word-break: break-all; }}
.ok {{ color: #065f46; }} .failed {{ color: #991b1b; }} tr.error td {{ background: #fef2f2; }}
</style></head><body>
<h1>Audit of {e(source)}</h1>
<p>{e(manifest.format)}, exported by {e(manifest.exporter)}
{e(" at " + manifest.exported_at) if manifest.exported_at else ""}.</p>
<p class="{status}"><strong>{e(_verdict(report))}</strong></p>
<h2>Logs</h2>
<table><tr><th>log</th><th>name</th><th>size</th><th>statements</th><th>cosigned by</th>
<th>errors</th></tr>{rows}</table>
<h2>Findings</h2>
{
        "<table><tr><th>severity</th><th>rule</th><th>log</th><th>seq</th><th>entry</th>"
        "<th>message</th></tr>" + findings + "</table>"
        if findings
        else "<p>None.</p>"
    }
</body></html>
"""
