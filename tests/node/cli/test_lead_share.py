"""`rdh share ...`, `rdh receipt`, `rdh entries` against a real node over HTTP: a revenue
share from proposal to payout, and a receipt that `rdh verify` accepts offline."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from node.cli import rdh
from tests.node.cli.conftest import Lead, lines, now, served
from tests.node.stories import PARTNER

PARTNER_ID = PARTNER.party_id


def active_agreement(lead: Lead) -> str:
    proposal = lead.recorded(
        "share", "propose", "--party", lead.log, "--party", PARTNER_ID, "--currency", "EUR",
        "--basis", "value-added", "--period", "monthly",
        "--tier", "1000.00:7000,3000", "--tier", "-:5000,5000",
    )  # fmt: skip
    answer = lead.sign(PARTNER, "share.activate", {"proposal": proposal})  # the node co-signs
    agreement: str = answer["entries"][0]["id"]
    assert answer["entries"][0]["type"] == "share.activate"
    return agreement


def test_a_revenue_share_from_proposal_to_payout(lead: Lead) -> None:
    agreement = active_agreement(lead)
    proposed = lead.get(f"/agreements/{agreement}")
    assert proposed["tiers"] == [
        {"up_to": 100000, "weights": [7000, 3000]},
        {"up_to": None, "weights": [5000, 5000]},
    ]
    period = now().strftime("%Y-%m")
    lead.recorded(
        "share", "revenue", agreement, "--period", period,
        "--revenue", "1000.00 EUR", "--costs", "200.00 EUR",
    )  # fmt: skip
    lead.recorded("share", "revenue", agreement, "--period", period, "--revenue", "600.00 EUR")
    settled = lead.ok("share", "settle", agreement, "--period", period)
    # value added 1,400.00: 1,000.00 split 70/30, then 400.00 split 50/50
    assert f"{lead.log}  900.00 EUR" in settled
    assert f"{PARTNER_ID}  500.00 EUR" in settled
    settlement = lines(settled)[0].split()[2]
    again = lead.run("share", "settle", agreement, "--period", period)
    assert again.exit_code == 2
    assert "(rule share.settle.twice)" in again.stderr

    payment = lead.recorded("share", "pay", settlement, PARTNER_ID)
    body = lead.get(f"/entries/{payment}")["entry"]["body"]
    assert body == {
        "settlement": settlement,
        "party": PARTNER_ID,
        "amount": {"amount": "500.00", "currency": "EUR"},
    }
    nobody = lead.run("share", "pay", settlement, "f" * 64)
    assert nobody.exit_code == 2
    assert "has no payout in settlement" in nobody.stderr

    listing = lines(lead.ok("share", "list"))
    assert listing[1].split() == [
        agreement,
        "active",
        "value-added",
        "monthly",
        "EUR",
        "2",
        lead.log,
    ]
    shown = lead.ok("share", "show", agreement)
    assert "  up to 1000.00 EUR: 70% / 30%" in shown
    assert "  up to no limit: 50% / 50%" in shown
    assert f"  {PARTNER_ID}  500.00 EUR  paid {payment}" in shown
    statement = lead.ok("share", "value-added", "--period", period)
    assert "value added      1400.00 EUR" in statement
    assert f"shared with {PARTNER_ID}  500.00 EUR" in statement
    as_json = json.loads(lead.ok("share", "value-added", "--period", period, "--json"))
    assert as_json["costs"] == {"amount": "200.00", "currency": "EUR"}


def test_a_proposal_with_the_wrong_number_of_weights_is_refused(lead: Lead) -> None:
    before = lead.entry_count()
    result = lead.run(
        "share", "propose", "--party", lead.log, "--party", PARTNER_ID, "--currency", "EUR",
        "--basis", "revenue", "--period", "monthly", "--tier", "-:5000,3000,2000",
    )  # fmt: skip
    assert result.exit_code == 2
    assert "tier 1 has 3 weights for 2 parties" in result.stderr
    bad_tier = lead.run(
        "share", "propose", "--party", lead.log, "--party", PARTNER_ID, "--currency", "EUR",
        "--basis", "revenue", "--period", "monthly", "--tier", "1000:5000,5000",
    )  # fmt: skip
    assert bad_tier.exit_code == 2
    assert "'1000' is not a valid EUR amount" in bad_tier.stderr
    assert lead.entry_count() == before


def test_a_receipt_verifies_offline(lead: Lead, tmp_path: Path) -> None:
    agreement = active_agreement(lead)
    out = tmp_path / "activate.receipt"
    written = lead.ok("receipt", agreement, "-o", str(out))
    assert written == f"wrote {out}: the receipt of entry {agreement}\n"
    verified = CliRunner().invoke(rdh, ["verify", str(out), "--key", lead.vkey])
    assert verified.exit_code == 0, verified.output
    assert verified.stdout.startswith(f"OK: entry {agreement} (share.activate, seq ")
    # the same receipt on stdout; a tampered one fails
    assert lead.ok("receipt", agreement) == out.read_text()
    seq = lead.get(f"/entries/{agreement}")["seq"]
    out.write_text(out.read_text().replace(f"\nindex {seq}\n", f"\nindex {seq - 1}\n"))
    assert CliRunner().invoke(rdh, ["verify", str(out), "--key", lead.vkey]).exit_code == 1
    exists = lead.run("receipt", agreement, "-o", str(out))
    assert exists.exit_code == 2
    assert "--force" in exists.stderr


def test_entries_lists_the_log_by_seq(lead: Lead) -> None:
    active_agreement(lead)
    rows = lines(lead.ok("entries"))
    assert rows[0].split() == ["SEQ", "TIME", "TYPE", "ID"]
    assert [r.split()[2] for r in rows[1:]] == ["log.genesis", "share.propose", "share.activate"]
    only = lines(lead.ok("entries", "--type", "share.propose"))
    assert len(only) == 2
    after = json.loads(lead.ok("entries", "--after", "1", "--json"))
    assert [e["seq"] for e in after] == [2]
    assert "no entries" in lead.run("entries", "--after", "5").stderr


@pytest.fixture
def partner(tmp_path: Path) -> Iterator[Lead]:
    """A second community's node, served like the lead's."""
    with served(tmp_path, "Harbour", kind="partner") as node:
        yield node


def test_a_partner_community_consents_from_its_own_node(lead: Lead, partner: Lead) -> None:
    proposal = lead.recorded(
        "share", "propose", "--party", lead.log, "--party", partner.log, "--currency", "EUR",
        "--basis", "revenue", "--period", "monthly", "--tier", "-:5000,5000",
    )  # fmt: skip
    out = partner.ok("share", "consent", "activate", proposal, "--at", lead.url)
    assert "recorded share.activate " in out
    agreement = out.split()[2]
    shown = lead.get(f"/agreements/{agreement}")
    assert shown["status"] == "active"
    refused = partner.run("share", "consent", "confirm", proposal, "--at", lead.url)
    assert refused.exit_code == 2  # a proposal is not a payment: the lead's node refuses it
