"""End to end in Chromium against a real `rdh serve`: a worker and a lead, each in their own
browser context, take a task from publication to a confirmed payment; the exported bundle
then passes `rdh audit` and holds the worker's signatures.

The worker's key is made in the browser; every request the worker's browser sends is
recorded, and none carries the private key in any encoding (the test opens the encrypted
backup the browser made, with its passphrase, to learn the key). Screenshots of the main
pages go to out/screenshots/ (gitignored).
"""

from __future__ import annotations

import base64
import json
import os
import re
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

from tests.web.conftest import SCREENSHOTS

RDH = str(Path(sys.executable).with_name("rdh"))
PASSPHRASE = "correct horse battery staple"
PHONE = {"width": 390, "height": 844}


@dataclass
class Server:
    url: str
    token: str
    node_dir: Path
    process: subprocess.Popen[str]
    log: list[str] = field(default_factory=list)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            self.process.wait(timeout=20)
        if self.process.stdout is not None:
            self.process.stdout.close()


@pytest.fixture
def server(tmp_path: Path) -> Iterator[Server]:
    node_dir = tmp_path / "node"
    init = subprocess.run(
        [RDH, "init", "-d", str(node_dir), "--name", "Lakeside Design Studio"],
        capture_output=True,
        text=True,
        check=True,
    )
    token = init.stdout.strip().splitlines()[-1].removeprefix("RDH_ADMIN_TOKEN=")
    process = subprocess.Popen(
        [RDH, "serve", "-d", str(node_dir), "--port", "0"],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    line = process.stdout.readline()
    match = re.search(r"at (http://\S+) \(Ctrl-C to stop\)", line)
    assert match, line
    srv = Server(match.group(1), token, node_dir, process)
    yield srv
    srv.stop()


def _ready(page: Any) -> None:
    page.wait_for_selector("body[data-ready='1']")


def _shot(page: Any, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / f"{name}.png"), full_page=True)


def _sign(page: Any, button: str) -> None:
    """Check the statement shown, click the form's button, wait until it is recorded and
    the page has moved on by itself (app.js navigates 700 ms after "Recorded"; a reload in
    that window races it and fails with ERR_ABORTED)."""
    form = page.locator("form.sign-form", has=page.get_by_role("button", name=button))
    assert '"v":1' in form.locator("pre.canonical").text_content()
    with page.expect_navigation(timeout=15_000):
        form.get_by_role("button", name=button).click()
        result = form.locator(".sign-result")
        result.filter(has_text="Recorded").wait_for(timeout=10_000)
    _ready(page)


def _seed_from_backup(backup: dict[str, Any]) -> bytes:
    kdf = PBKDF2HMAC(
        algorithm=hashes.SHA256(),
        length=32,
        salt=base64.b64decode(backup["kdf"]["salt"]),
        iterations=backup["kdf"]["rounds"],
    )
    key = kdf.derive(PASSPHRASE.encode())
    pkcs8 = AESGCM(key).decrypt(
        base64.b64decode(backup["cipher"]["iv"]),
        base64.b64decode(backup["ciphertext"]),
        backup["format"].encode(),
    )
    private = serialization.load_der_private_key(pkcs8, password=None)
    raw = private.private_bytes(  # type: ignore[union-attr]
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    return bytes(raw)


def _encodings(secret: bytes) -> list[bytes]:
    b64 = base64.b64encode(secret)
    url = base64.urlsafe_b64encode(secret)
    return [
        secret,
        secret.hex().encode(),
        secret.hex().upper().encode(),
        b64,
        b64.rstrip(b"="),
        url.rstrip(b"="),
        json.dumps(list(secret)).replace(" ", "").encode(),
    ]


def test_worker_and_lead_from_task_to_confirmed_payment(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    base = server.url.rstrip("/")
    sent: list[tuple[str, str, bytes]] = []
    problems: list[str] = []

    worker_ctx = browser.new_context(accept_downloads=True)
    worker_ctx.on(
        "request",
        lambda r: sent.append((r.url, json.dumps(r.headers), r.post_data_buffer or b"")),
    )
    worker = worker_ctx.new_page()
    worker.on(
        "console",
        lambda m: problems.append(m.text) if "Content Security Policy" in m.text else None,
    )
    lead_ctx = browser.new_context()
    lead = lead_ctx.new_page()

    # -- the worker makes a key and signs in -------------------------------------------
    worker.goto(f"{base}/ui/keys")
    _ready(worker)
    worker.get_by_label("Passphrase for the backup").fill(PASSPHRASE)
    worker.get_by_role("button", name="Create my key").click()
    worker.locator(".key-result").filter(has_text="Key created").wait_for()
    party = worker.locator(".party-id").text_content()
    assert party is not None
    assert re.fullmatch(r"[0-9a-f]{64}", party)
    with worker.expect_download() as download:
        worker.get_by_role("button", name="Download the encrypted backup").click()
    backup_path = tmp_path / "backup.json"
    download.value.save_as(backup_path)
    backup = json.loads(backup_path.read_text())
    assert backup["format"] == "rdh-key-backup/v1"
    extractable = worker.evaluate(
        """async () => {
          const keys = await import('/ui/static/keys.js');
          const key = await keys.current();
          let exported = true;
          try { await crypto.subtle.exportKey('pkcs8', key.privateKey); }
          catch (e) { exported = false; }
          return [key.privateKey.extractable, exported];
        }"""
    )
    assert extractable == [False, False]
    _shot(worker, "keys")
    worker.get_by_role("button", name="Sign in with this key").click()
    worker.wait_for_url(f"**/ui/workers/{party}")

    # -- the lead signs in and publishes a task ----------------------------------------
    lead.goto(f"{base}/ui/lead/login")
    lead.get_by_label("Admin token").fill(server.token)
    lead.get_by_role("button", name="Sign in").click()
    lead.wait_for_url("**/ui/lead")
    publish = lead.locator("#publish")
    publish.get_by_label("Title").fill("CAD drawings for the oak shelving")
    publish.get_by_label("Description").fill("Workshop drawings, 1:10, as PDF and DXF.")
    publish.get_by_label("Skills").fill("cad, joinery")
    publish.get_by_label("Reward").fill("250.00")
    publish.get_by_role("button", name="Publish").click()
    lead.locator(".flash.ok").filter(has_text="Task published").wait_for()
    # a task asking for another skill, which the filter must hide
    publish = lead.locator("#publish")
    publish.get_by_label("Title").fill("Photograph the spring range")
    publish.get_by_label("Description").fill("Twenty product photographs.")
    publish.get_by_label("Skills").fill("photography")
    publish.get_by_label("Reward").fill("400.00")
    publish.get_by_role("button", name="Publish").click()
    lead.locator(".flash.ok").filter(has_text="Task published").wait_for()

    # -- the worker finds the task by skill and applies ---------------------------------
    worker.goto(f"{base}/ui/market")
    worker.get_by_label("Skill", exact=True).fill("cad")
    worker.get_by_role("button", name="Filter").click()
    worker.wait_for_url("**/ui/market?*skill=cad*")
    assert worker.get_by_text("Photograph the spring range").count() == 0
    _shot(worker, "market")
    worker.get_by_role("link", name="CAD drawings for the oak shelving").click()
    _ready(worker)
    worker.get_by_label("A note to the community").fill("Ten years of joinery drawings.")
    preview = worker.locator(".statement-preview").first
    assert "task.apply" in preview.text_content()
    assert party in preview.text_content()
    assert "Ten years of joinery drawings." in preview.locator("pre.canonical").text_content()
    _shot(worker, "task")
    _sign(worker, "Sign and apply")

    # -- the lead offers a contract -------------------------------------------------------
    lead.goto(f"{base}/ui/lead")
    lead.locator("#offers").get_by_role("button", name="Offer a contract").click()
    lead.locator(".flash.ok").filter(has_text="Offer made").wait_for()

    # -- the worker signs the contract and submits the work ------------------------------
    worker.goto(f"{base}/ui/me")
    worker.get_by_role("link", name="CAD drawings for the oak shelving").click()
    _ready(worker)
    assert "contract.sign" in worker.locator("pre.canonical").text_content()
    _sign(worker, "Sign the contract")
    worker.reload()
    _ready(worker)
    worker.get_by_label("Where the deliverable is (URI)").fill("https://files.example/oak.pdf")
    _shot(worker, "contract")
    _sign(worker, "Sign and submit")

    # -- the lead accepts with a bonus and records the payment ---------------------------
    lead.goto(f"{base}/ui/lead")
    review = lead.locator("#review")
    review.get_by_label("Feedback").fill("Clear and on time.")
    review.get_by_label("Bonus").fill("25.00")
    _shot(lead, "lead")
    review.get_by_role("button", name="Accept").click()
    lead.locator(".flash.ok").filter(has_text="Work accepted").wait_for()
    lead.get_by_role("button", name="Record payment of 275.00 EUR").click()
    lead.locator(".flash.ok").filter(has_text="Payment recorded").wait_for()

    # -- the worker confirms the payment --------------------------------------------------
    worker.reload()
    _ready(worker)
    _sign(worker, "Sign: I received it")
    worker.goto(f"{base}/ui/me")
    earnings = worker.locator("table").first.text_content()
    assert "275.00" in earnings
    _shot(worker, "portfolio")
    worker.set_viewport_size(PHONE)
    worker.goto(f"{base}/ui/market")
    _shot(worker, "market-phone")
    assert worker.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]
    lead.goto(f"{base}/ui/explorer")
    _shot(lead, "explorer")
    lead.goto(f"{base}/ui/shares")
    _shot(lead, "shares")

    # -- the private key never left the browser -------------------------------------------
    seed = _seed_from_backup(backup)
    public_b64 = backup["public_key"].encode()
    assert any(public_b64 in body for _, _, body in sent)  # the signatures did travel
    for url, headers, body in sent:
        blob = url.encode() + headers.encode() + body
        for encoded in _encodings(seed):
            assert encoded not in blob, f"the private key was sent to {url}"
        assert backup["ciphertext"].encode() not in blob
    assert problems == []
    worker_ctx.close()
    lead_ctx.close()

    # -- the export audits clean and holds the worker's signatures ------------------------
    server.stop()
    bundle = tmp_path / "bundle"
    subprocess.run([RDH, "export", "-d", str(server.node_dir), str(bundle)], check=True)
    audit = subprocess.run([RDH, "audit", str(bundle)], capture_output=True, text=True)
    assert audit.returncode == 0, audit.stdout + audit.stderr
    entries = b"".join(
        p.read_bytes() for p in bundle.rglob("*") if p.is_file() and "entries" in p.parts
    )
    signer = json.dumps(backup["public_key"]).encode()
    assert entries.count(b'"signer":' + signer) == 4  # apply, sign, submit, confirm


def test_backup_restores_the_key_on_another_device(
    browser: Any, server: Server, tmp_path: Path
) -> None:
    base = server.url.rstrip("/")
    first = browser.new_context(accept_downloads=True)
    page = first.new_page()
    page.goto(f"{base}/ui/keys")
    _ready(page)
    page.get_by_label("Passphrase for the backup").fill(PASSPHRASE)
    page.get_by_role("button", name="Create my key").click()
    page.locator(".key-result").filter(has_text="Key created").wait_for()
    party = page.locator(".party-id").text_content()
    with page.expect_download() as download:
        page.get_by_role("button", name="Download the encrypted backup").click()
    backup = tmp_path / "backup.json"
    download.value.save_as(backup)
    first.close()

    second = browser.new_context()  # another device: an empty IndexedDB
    page = second.new_page()
    page.goto(f"{base}/ui/keys")
    _ready(page)
    page.get_by_label("Backup file").set_input_files(str(backup))
    page.get_by_label("Its passphrase").fill("not the passphrase")
    page.get_by_role("button", name="Restore").click()
    page.locator(".key-result").filter(has_text="passphrase does not open").wait_for()
    page.get_by_label("Its passphrase").fill(PASSPHRASE)
    page.get_by_role("button", name="Restore").click()
    page.locator(".key-result").filter(has_text="Key restored").wait_for()
    assert page.locator(".party-id").text_content() == party
    page.get_by_role("button", name="Sign in with this key").click()
    page.wait_for_url(f"**/ui/workers/{party}")
    second.close()
