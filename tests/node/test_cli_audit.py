"""`rdh audit`, `rdh verify` and `rdh example`: exit codes, reports, one-line errors."""

from __future__ import annotations

import json
import shlex
import shutil
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from ledger import bundle
from ledger.bundle import Manifest
from ledger.entry import entry_id
from ledger.memlog import MemoryLog, export_bundle
from ledger.note import NoteSignature
from node.cli import rdh
from tests.builders import (
    TIMESTAMP,
    Ecosystem,
    ecosystem,
    entry,
    flip,
    key,
    note_bytes,
    note_lines,
    write_bundle,
)

RDH = Path(sys.executable).with_name("rdh")
HOSTILE = "<script>alert('x')</script>"


def run(*args: str, rules: bool = False) -> Result:
    """Invoke `rdh`. The ecosystem of tests.builders exercises the ledger layer and its
    entries are not contract-valid, so `rdh audit` runs with --ledger-only unless `rules`."""
    argv = list(args)
    if argv[:1] == ["audit"] and not rules:
        argv.insert(1, "--ledger-only")
    return CliRunner().invoke(rdh, argv, catch_exceptions=False)


def assert_unusable(result: Result, *words: str) -> None:
    """Exit 2 with exactly one line on stderr, `rdh: error: ...`, and no traceback."""
    assert result.exit_code == 2, (result.stdout, result.stderr)
    assert result.stderr.startswith("rdh: error: ")
    assert result.stderr.count("\n") == 1
    assert "Traceback" not in result.stdout + result.stderr
    for word in words:
        assert word in result.stderr


def tampered(eco: Ecosystem) -> dict[str, bytes]:
    """A bundle with one bad entry: log 1, seq 4 claims seq 7 (re-signed by the log)."""
    entries = list(eco.entries[1])
    entries[4] = entry(eco.log_id(1), 7)
    return dict(eco.bundle(replace={1: entries}).files)


# --- rdh audit ------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["bundle", "bundle.zip"])
@pytest.mark.parametrize("workers", [None, "1"])
def test_audit_clean_bundle_exits_0(
    name: str, workers: str | None, clean_files: dict[str, bytes], eco: Ecosystem, tmp_path: Path
) -> None:
    path = write_bundle(clean_files, tmp_path / name)
    result = run("audit", str(path), *(["--workers", workers] if workers else []))
    assert result.exit_code == 0, result.output
    assert "OK: every checkpoint signature, tile, root, entry and statement signature verified" in (
        result.stdout
    )
    assert f"({eco.size} entries, {eco.statements} statements)" in result.stdout
    assert "Policy: only the bundle's own policy checked (not trusted" in result.stdout
    assert "witness cosignatures were not required (no --policy given)" in result.stdout
    for n, name_ in enumerate(eco.names):
        assert eco.log_id(n)[:16] in result.stdout
        assert name_ in result.stdout
    assert "NOTICE [ref.outside]" in result.stdout
    assert result.stderr == ""


def test_audit_with_findings_exits_1_and_names_everything(eco: Ecosystem, tmp_path: Path) -> None:
    files = tampered(eco)
    path = write_bundle(files, tmp_path / "bad")
    result = run("audit", str(path), "--workers", "1")
    assert result.exit_code == 1
    bad = entry_id(entry(eco.log_id(1), 7))
    [line] = [line for line in result.stdout.splitlines() if line.startswith("ERROR")]
    assert line == (
        f"ERROR [entry.seq] log {eco.log_id(1)[:16]}, seq 4, entry {bad[:16]}: "
        "the entry says seq 7 but is leaf 4 of the log"
    )
    assert "FAILED: 1 error(s) found" in result.stdout


def test_audit_json_report(eco: Ecosystem, tmp_path: Path) -> None:
    path = write_bundle(tampered(eco), tmp_path / "bad.zip")
    result = run("audit", str(path), "--format", "json", "--workers", "1")
    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert report["ok"] is False
    assert report["bundle"] == str(path)
    assert report["entries_checked"] == eco.size
    errors = [f for f in report["findings"] if f["severity"] == "error"]
    assert errors == [
        {
            "severity": "error",
            "rule": "entry.seq",
            "log": eco.log_id(1),
            "seq": 4,
            "entry_id": entry_id(entry(eco.log_id(1), 7)),
            "message": "the entry says seq 7 but is leaf 4 of the log",
        }
    ]
    assert [s["name"] for s in report["logs"]] == list(eco.names)


def test_audit_json_clean(clean_files: dict[str, bytes], tmp_path: Path) -> None:
    result = run("audit", str(write_bundle(clean_files, tmp_path / "b")), "--format", "json")
    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["ok"] is True
    assert {"log", "seq", "entry_id", "rule", "message"} <= set(report["findings"][0])


def test_audit_html_escapes_hostile_strings(tmp_path: Path) -> None:
    eco = ecosystem((HOSTILE, "Harbour", "Northgate"))
    files = dict(eco.bundle().files)
    manifest = Manifest.from_bytes(files[bundle.MANIFEST])
    files[bundle.MANIFEST] = replace(manifest, exporter="<img src=x onerror=alert(1)>").to_bytes()
    files["evidence/<b>.txt"] = b"<script>not evidence</script>"
    page = tmp_path / "report.html"

    result = run("audit", str(write_bundle(files, tmp_path / "b")), "--html", str(page))

    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!doctype html>")
    assert "<script" not in html
    assert "<img" not in html
    assert "<b>" not in html
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in html
    assert "&lt;img src=x onerror=alert(1)&gt;" in html
    assert "evidence.invalid" in html


def test_audit_text_escapes_control_characters(tmp_path: Path) -> None:
    eco = ecosystem(("evil\x1b[2J\nOK: forged line", "Harbour", "Northgate"))
    result = run("audit", str(write_bundle(eco.bundle().files, tmp_path / "b")), "--workers", "1")
    assert result.exit_code == 0
    assert "\x1b" not in result.stdout
    assert "OK: forged line" not in result.stdout.splitlines()
    assert "evil\\x1b[2J\\nOK" in result.stdout


def test_audit_with_trusted_policy(
    eco: Ecosystem, clean_files: dict[str, bytes], tmp_path: Path
) -> None:
    policy = tmp_path / "trust.policy"
    policy.write_bytes(eco.policy.to_bytes())
    files = dict(clean_files)
    del files[bundle.POLICY]
    path = write_bundle(files, tmp_path / "b")

    assert "Policy: none (cosignatures not required)" in run("audit", str(path)).stdout
    result = run("audit", str(path), "--policy", str(policy))
    assert result.exit_code == 0, result.output
    assert "Policy: yours (--policy) enforced" in result.stdout
    assert "witness cosignatures meet your policy" in result.stdout

    cp = bundle.checkpoint_path(eco.log_id(2))
    text, sigs = note_lines(files[cp])
    files[cp] = note_bytes(text, sigs[:1])  # no cosignatures
    result = run("audit", str(write_bundle(files, tmp_path / "b2")), "--policy", str(policy))
    assert result.exit_code == 1
    assert "ERROR [policy.quorum]" in result.stdout


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (None, ["cannot read policy file"]),
        (b"quorum nobody\n", ["policy file", "quorum"]),
        (b"\xff\xfe", ["policy file"]),
    ],
    ids=["missing", "malformed", "binary"],
)
def test_audit_with_unusable_policy_exits_2(
    content: bytes | None, words: list[str], clean_files: dict[str, bytes], tmp_path: Path
) -> None:
    policy = tmp_path / "trust.policy"
    if content is not None:
        policy.write_bytes(content)
    result = run("audit", str(write_bundle(clean_files, tmp_path / "b")), "--policy", str(policy))
    assert_unusable(result, *words)


def _unreadable(tmp_path: Path, kind: str) -> Path:
    if kind == "missing":
        return tmp_path / "nothing-here"
    if kind == "no-manifest":
        (tmp_path / "folder").mkdir()
        (tmp_path / "folder" / "README").write_text("hello")
        return tmp_path / "folder"
    if kind == "garbage-zip":
        (tmp_path / "g.zip").write_bytes(b"this is not a zip file at all")
        return tmp_path / "g.zip"
    if kind == "garbage-manifest":
        (tmp_path / "b").mkdir()
        (tmp_path / "b" / "manifest.json").write_bytes(b"{not json")
        return tmp_path / "b"
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "manifest.json").write_bytes(b'{"format":"rdh-bundle/v7"}')
    return tmp_path / "b"


@pytest.mark.parametrize(
    "kind", ["missing", "no-manifest", "garbage-zip", "garbage-manifest", "wrong-manifest"]
)
def test_audit_of_unreadable_bundle_exits_2(kind: str, tmp_path: Path) -> None:
    assert_unusable(run("audit", str(_unreadable(tmp_path, kind))))


def test_audit_html_to_an_unwritable_place_exits_2(
    clean_files: dict[str, bytes], tmp_path: Path
) -> None:
    path = write_bundle(clean_files, tmp_path / "b")
    result = run("audit", str(path), "--html", str(tmp_path / "no" / "such" / "dir" / "r.html"))
    assert_unusable(result)


def test_audit_rejects_bad_options(clean_files: dict[str, bytes], tmp_path: Path) -> None:
    path = write_bundle(clean_files, tmp_path / "b")
    for args in (["--workers", "0"], ["--format", "xml"]):
        result = run("audit", str(path), *args)
        assert result.exit_code == 2
        assert "Traceback" not in result.output


# --- rdh verify -----------------------------------------------------------------------


@pytest.fixture(scope="module")
def receipts(eco: Ecosystem, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("receipts")
    log = eco.memlog(1)
    cosigned = log.checkpoint(witnesses=eco.witnesses, timestamp=TIMESTAMP)
    good = log.receipt(2, cosigned)
    text, sigs = note_lines(cosigned)
    paths = {
        "good": good,
        "tampered": good.replace(b"index 2", b"index 3"),
        "bad-entry": flip(good, 60),
        "uncosigned": log.receipt(2),
        "forged-checkpoint": log.receipt(2).replace(
            log.checkpoint(),
            note_bytes(text, [NoteSignature(sigs[0].name, sigs[0].key_id, bytes(64))]),
        ),
        "garbage": b"not a receipt",
    }
    (folder / "trust.policy").write_bytes(eco.policy.to_bytes())
    out = {"policy": folder / "trust.policy"}
    for name, data in paths.items():
        (folder / name).write_bytes(data)
        out[name] = folder / name
    return out


def test_verify_good_receipt_with_key(eco: Ecosystem, receipts: dict[str, Path]) -> None:
    result = run("verify", str(receipts["good"]), "--key", eco.memlog(1).vkey)
    assert result.exit_code == 0, result.output
    entry_bytes = eco.entries[1][2]
    assert result.stdout.startswith(f"OK: entry {entry_id(entry_bytes)} (share.activate, seq 2)")
    assert f"is in log {eco.log_id(1)} at tree size 12" in result.stdout


def test_verify_good_receipt_with_policy(eco: Ecosystem, receipts: dict[str, Path]) -> None:
    result = run("verify", str(receipts["good"]), "--policy", str(receipts["policy"]))
    assert result.exit_code == 0, result.output
    assert "witnesses: witness.example/w0, witness.example/w1, witness.example/w2." in result.stdout


@pytest.mark.parametrize(
    ("name", "with_policy"),
    [
        ("tampered", False),
        ("bad-entry", False),
        ("forged-checkpoint", False),
        ("garbage", False),
        ("uncosigned", True),
        ("tampered", True),
    ],
)
def test_verify_bad_receipt_exits_1(
    name: str, with_policy: bool, eco: Ecosystem, receipts: dict[str, Path]
) -> None:
    trust = ["--policy", str(receipts["policy"])] if with_policy else ["--key", eco.memlog(1).vkey]
    result = run("verify", str(receipts[name]), *trust)
    assert result.exit_code == 1, result.output
    assert result.stdout.startswith("FAILED: ")
    assert result.stdout.count("\n") == 1
    assert "Traceback" not in result.output


def test_verify_with_the_key_of_another_log_exits_1(
    eco: Ecosystem, receipts: dict[str, Path]
) -> None:
    result = run("verify", str(receipts["good"]), "--key", eco.memlog(0).vkey)
    assert result.exit_code == 1


def test_verify_unusable_input_exits_2(
    eco: Ecosystem, receipts: dict[str, Path], tmp_path: Path
) -> None:
    vkey = eco.memlog(1).vkey
    good = str(receipts["good"])
    assert_unusable(run("verify", good), "--key")
    both = run("verify", good, "--key", vkey, "--policy", str(receipts["policy"]))
    assert both.exit_code == 0  # key and policy together: both must hold
    assert_unusable(run("verify", str(tmp_path / "missing"), "--key", vkey), "cannot read")
    assert_unusable(run("verify", str(tmp_path), "--key", vkey), "is not a regular file")
    assert_unusable(run("verify", "/dev/zero", "--key", vkey), "is not a regular file")
    huge = tmp_path / "huge.tlog-proof"
    huge.write_bytes(b"c2sp.org/tlog-proof@v1\n" + b"A" * (1 << 20))
    assert_unusable(run("verify", str(huge), "--key", vkey), "is larger than")
    assert_unusable(run("verify", good, "--key", "not a vkey"))
    assert_unusable(run("verify", good, "--policy", str(tmp_path / "missing.policy")))


# --- rdh example ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["example", "example.zip"])
def test_example_then_audit(name: str, tmp_path: Path) -> None:
    out = tmp_path / name
    made = run("example", str(out))
    assert made.exit_code == 0, made.output
    assert made.stdout.startswith(f"wrote {out}: 3 communities, ")
    audited = run("audit", str(out), "--workers", "1", rules=True)
    assert audited.exit_code == 0, audited.output
    assert "and every contract rule held" in audited.stdout
    assert "Policy: only the bundle's own policy checked" in audited.stdout
    assert "Lakeside Design Studio" in audited.stdout
    assert "ERROR" not in audited.stdout
    assert "NOTICE" not in audited.stdout


def test_example_refuses_to_overwrite_without_force(tmp_path: Path) -> None:
    out = tmp_path / "example.zip"
    assert run("example", str(out)).exit_code == 0
    first = out.read_bytes()
    assert_unusable(run("example", str(out)), "already exists", "--force")
    assert out.read_bytes() == first
    assert run("example", str(out), "--force").exit_code == 0
    assert out.read_bytes() != first  # new keys, new bundle
    folder = tmp_path / "not-a-bundle"
    folder.mkdir()
    (folder / "keep.txt").write_text("keep")
    assert_unusable(run("example", str(folder), "--force"), "not a bundle")
    assert (folder / "keep.txt").read_text() == "keep"


# --- the real console script ------------------------------------------------------------


def rdh_process(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(RDH), *args], capture_output=True, text=True, timeout=60, check=False
    )


def test_console_script_reports_unreadable_bundle_in_one_line(tmp_path: Path) -> None:
    garbage = tmp_path / "garbage.zip"
    garbage.write_bytes(b"PK\x03\x04 and then nothing sensible")
    done = rdh_process("audit", str(garbage))
    assert done.returncode == 2
    assert done.stderr.startswith("rdh: error: ")
    assert done.stderr.count("\n") == 1
    assert "Traceback" not in done.stderr + done.stdout
    assert done.stdout == ""


def test_console_script_example_and_audit(tmp_path: Path) -> None:
    out = tmp_path / "eco.zip"
    assert rdh_process("example", str(out)).returncode == 0
    done = rdh_process("audit", str(out), "--format", "json")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["ok"] is True
    assert "Traceback" not in done.stderr


def test_console_script_tampered_bundle_exits_1(eco: Ecosystem, tmp_path: Path) -> None:
    files = tampered(eco)
    done = rdh_process("audit", str(write_bundle(files, tmp_path / "bad")), "--workers", "2")
    assert done.returncode == 1
    assert "ERROR [entry.seq]" in done.stdout
    assert "Traceback" not in done.stderr


def test_a_log_named_after_its_key_only(tmp_path: Path) -> None:
    """A bundle whose log has no genesis entry shows '-' as its name."""
    log = MemoryLog(key("nameless"))
    log.append(type="task.publish", time="2026-11-25T10:00:00Z", body={})
    sink = bundle.MemoryBundle()
    export_bundle(sink, [log])
    result = run("audit", str(write_bundle(sink.files, tmp_path / "b")))
    assert result.exit_code == 0
    assert f"{log.log_id[:16]}   -" in result.stdout


def test_an_internal_error_is_one_line_unless_debugging(
    monkeypatch: pytest.MonkeyPatch, clean_files: dict[str, bytes], tmp_path: Path
) -> None:
    """A bug still reaches the user as one sentence (exit 3); `--debug` shows the traceback."""
    from node.cli import audit as audit_cli

    def broken(*_args: object, **_kwargs: object) -> None:
        raise TypeError("simulated bug")

    monkeypatch.setattr(audit_cli.ledger_audit, "audit", broken)
    path = write_bundle(clean_files, tmp_path / "b")
    result = run("audit", str(path), "--workers", "1")
    assert result.exit_code == 3
    assert result.stderr.count("\n") == 1
    assert "internal error: TypeError: simulated bug" in result.stderr
    assert "Traceback" not in result.output
    debugging = CliRunner().invoke(rdh, ["--debug", "audit", str(path), "--workers", "1"])
    assert isinstance(debugging.exception, TypeError)


def test_audit_checks_the_contract_rules_unless_ledger_only(
    clean_files: dict[str, bytes], tmp_path: Path
) -> None:
    path = write_bundle(clean_files, tmp_path / "b")
    ledger_only = run("audit", str(path), "--workers", "1")
    assert ledger_only.exit_code == 0
    assert "(contract rules not checked: --ledger-only)" in ledger_only.stdout
    with_rules = run("audit", str(path), "--workers", "1", rules=True)
    assert with_rules.exit_code == 1  # the builders' bodies follow no contract schema
    assert "ERROR [schema." in with_rules.stdout


@pytest.mark.skipif(shutil.which("script") is None, reason="util-linux `script` is not installed")
def test_progress_bar_on_a_terminal_only(tmp_path: Path) -> None:
    """On a terminal the audit draws a progress bar on stderr; piped, it draws nothing."""
    out = tmp_path / "example"
    assert rdh_process("example", str(out)).returncode == 0
    piped = rdh_process("audit", str(out), "--workers", "1")
    assert piped.returncode == 0
    assert "auditing" not in piped.stderr
    typescript = tmp_path / "typescript"
    command = f"{shlex.quote(str(RDH))} audit {shlex.quote(str(out))} --workers 1 > /dev/null"
    done = subprocess.run(
        ["script", "-qec", command, str(typescript)],
        capture_output=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0
    assert b"auditing" in typescript.read_bytes()
    assert b"entries" in typescript.read_bytes()
