"""`rdh demo` (issue 7): three real node processes start, are seeded through the API, and
the export audits clean."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from click.testing import CliRunner

from node.cli import rdh

RDH = [sys.executable, "-c", "from node.cli import main; main()"]


def test_the_demo_seeds_and_its_export_audits_clean(tmp_path: Path) -> None:
    bundle = tmp_path / "bundle"
    run = subprocess.run(
        [*RDH, "demo", "--dir", str(tmp_path / "nodes"), "--export", str(bundle), "--no-wait"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "The ecosystem is running" in run.stdout
    assert run.stdout.count("lead token: rdh_") == 3
    assert "converged: every node holds all three logs" in run.stderr
    policy = bundle / "policy"
    audited = CliRunner().invoke(
        rdh, ["audit", str(bundle), "--policy", str(policy), "--format", "json"]
    )
    assert audited.exit_code == 0, audited.output
    report = json.loads(audited.output)
    assert report["ok"] is True
    assert len(report["logs"]) == 3
    assert report["rules_checked"] is True
    assert report["entries_checked"] > 150
    assert report["statements_checked"] > 40
