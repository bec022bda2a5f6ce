"""A lead consents, from the web UI, to a revenue share another community proposed: the node
signs with its log key and relays the statement to the proposer's node, which records the
agreement (two real nodes; the proposer served over HTTP on 127.0.0.1)."""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from node.api.app import create_app
from node.peers import HttpTransport, add_peer
from node.sync import Syncer
from node.tokens import create_token
from tests.node.stories import proposal_body
from tests.web.fixtures import NOW, Community, open_community, record


@pytest.fixture
def proposer(tmp_path: Path) -> Iterator[tuple[Community, str]]:
    community = open_community(tmp_path / "studio", name="Lakeside Design")
    app = create_app(community.node, service=community.service)
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield community, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    thread.join(timeout=10)
    server.server_close()
    community.node.close()


def test_a_partner_lead_consents_from_the_ui(
    proposer: tuple[Community, str], tmp_path: Path
) -> None:
    studio, url = proposer
    workshop = open_community(tmp_path / "workshop", name="Harbour Workshop")
    try:
        parties = [studio.service.log_id, workshop.service.log_id]
        proposal = record(studio, "share.propose", proposal_body(parties))
        transport = HttpTransport()
        add_peer(workshop.node.sessions, transport, url, NOW, own_log=parties[1], witness=False)
        Syncer(
            workshop.node,
            clock=workshop.clock,
            transport=transport,
            projection=workshop.service.projection,
        ).sync_all(force=True)
        transport.close()

        client = workshop.app.test_client()
        page = client.get("/ui/lead/login").get_data(as_text=True)
        found = re.search(r'name="csrf-token" content="([^"]+)"', page)
        assert found
        csrf = found.group(1)
        token = create_token(workshop.node.sessions, "lead", NOW)
        client.post("/ui/lead/login", data={"token": token, "csrf": csrf})
        page = client.get(f"/ui/shares/{proposal}").get_data(as_text=True)
        assert "Consent to this agreement" in page
        done = client.post(
            "/ui/lead/share/consent",
            data={"csrf": csrf, "proposal": proposal, "next": f"/ui/shares/{proposal}"},
            follow_redirects=True,
        ).get_data(as_text=True)
        assert "handed to the proposer" in done, done
        with studio.service.state() as state:
            agreement = state.proposals[proposal]
            assert agreement.status == "active"
        refused = client.post(
            "/ui/lead/share/consent",
            data={"csrf": csrf, "proposal": "ab" * 32, "next": "/ui/shares"},
            follow_redirects=True,
        ).get_data(as_text=True)
        assert "Not signed" in refused
    finally:
        workshop.node.close()
