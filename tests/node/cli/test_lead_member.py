"""`rdh member ...` against a real node over HTTP: members enrol by their own statement;
the lead lists them (active, or everyone with --all) and reads a worker's portfolio."""

from __future__ import annotations

import json

from tests.node.cli.conftest import Lead, lines
from tests.node.stories import WORKER, enroll_body


def test_members_enrol_themselves_and_the_lead_lists_them(lead: Lead) -> None:
    assert "no members" in lead.run("member", "list").stderr
    lead.sign(WORKER, "member.enroll", enroll_body(WORKER))
    rows = lines(lead.ok("member", "list"))
    assert rows[0].split() == ["WORKER", "ENGAGEMENT", "SINCE", "STATUS", "NAME"]
    assert rows[1].startswith(f"{WORKER.party_id}  freelance  ")
    assert rows[1].endswith("active  Amara Osei")
    assert "no members" in lead.run("member", "list", "--engagement", "agent").stderr

    lead.sign(WORKER, "member.leave", {"worker": WORKER.party_id})
    assert "no members" in lead.run("member", "list").stderr
    everyone = lead.ok("member", "list", "--all")
    assert "left    Amara Osei" in everyone
    portfolio = lead.ok("member", "show", WORKER.party_id)
    assert f"member of {lead.log} as freelance since " in portfolio
    assert portfolio.rstrip().endswith("(left)")
    as_json = json.loads(lead.ok("member", "show", WORKER.party_id, "--json"))
    assert as_json["worker"] == WORKER.party_id
    assert as_json["contracts"] == []


def test_there_is_no_member_add(lead: Lead) -> None:
    result = lead.run("member", "add", WORKER.party_id)
    assert result.exit_code == 2
    assert "No such command 'add'" in result.stderr
