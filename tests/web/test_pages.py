"""The web UI's pages and forms through Flask's test client, on a real node (SQLite file).

Rendering, escaping, the CSP, CSRF, sign-in by signed challenge, rate limits, the lead's
forms (accept with a bonus, pay, reject, publish, offer, attest), the statement relay,
revenue shares with their charts, and the explorer.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from flask.testing import FlaskClient

from ledger.keys import SigningKey, encode_base64
from node.tokens import create_token
from tests.builders import key
from tests.node.stories import proposal_body, signed
from tests.web.fixtures import NOW, Community, open_community, record, story, submit
from web.security import Limit
from web.worker import signin_message


@pytest.fixture
def community(tmp_path: Path) -> Iterator[Community]:
    c = story(open_community(tmp_path / "node"))
    yield c
    c.node.close()


@pytest.fixture
def client(community: Community) -> FlaskClient:
    return community.app.test_client()


def _csrf(client: FlaskClient) -> str:
    page = client.get("/ui/keys").get_data(as_text=True)
    match = re.search(r'name="csrf-token" content="([^"]+)"', page)
    assert match
    return match.group(1)


def _lead(client: FlaskClient, community: Community) -> str:
    token = create_token(community.node.sessions, "lead", NOW)
    csrf = _csrf(client)
    response = client.post("/ui/lead/login", data={"token": token, "csrf": csrf})
    assert response.status_code == 303, response.get_data(as_text=True)
    return csrf


PAGES = [
    "/ui/market",
    "/ui/market?skill=cad&engagement=gig&min_reward=100.00&currency=EUR&q=lamp",
    "/ui/keys",
    "/ui/lead/login",
    "/ui/shares",
    "/ui/explorer",
    "/ui/explorer/evidence",
]


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_with_strict_csp(client: FlaskClient, url: str) -> None:
    response = client.get(url)
    assert response.status_code == 200
    csp = response.headers["Content-Security-Policy"]
    assert "script-src 'self'" in csp
    assert "style-src 'self'" in csp
    assert "unsafe-inline" not in csp
    html = response.get_data(as_text=True)
    assert "<script>" not in html
    assert " style=" not in html
    assert "onclick" not in html
    assert re.search(r"<script(?![^>]*\bsrc=)(?![^>]*application/json)", html) is None


def test_marketplace_filters(client: FlaskClient, community: Community) -> None:
    assert "Design a lamp" in client.get("/ui/market?skill=cad").get_data(as_text=True)
    for miss in ("skill=welding", "min_reward=300.00&currency=EUR", "engagement=employee"):
        html = client.get(f"/ui/market?{miss}").get_data(as_text=True)
        assert "Design a lamp" not in html, miss
        assert "0 open tasks" in html
    html = client.get("/ui/market?min_reward=1.5&currency=EUR").get_data(as_text=True)
    assert "minimum reward" in html


def test_output_is_escaped(client: FlaskClient, community: Community) -> None:
    from tests.node.stories import task_body

    record(community, "task.publish", task_body(NOW, title="<script>alert(1)</script>"))
    html = client.get("/ui/market").get_data(as_text=True)
    assert "<script>alert(1)" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_task_page_shows_terms_and_the_apply_statement(client: FlaskClient) -> None:
    from tests.node.stories import task_body

    html = client.get("/ui/market").get_data(as_text=True)
    assert "Design a lamp" in html
    c_task = re.search(r'href="/ui/tasks/([0-9a-f]{64})"', html)
    assert c_task
    page = client.get(f"/ui/tasks/{c_task.group(1)}").get_data(as_text=True)
    assert "A desk lamp for the spring range." in page
    assert "250.00 EUR" in page
    assert task_body(NOW)["deadline"] in page


def test_posts_without_csrf_token_are_refused(client: FlaskClient) -> None:
    assert client.post("/ui/lead/login", data={"token": "x"}).status_code == 403
    assert client.post("/ui/signout").status_code == 403
    response = client.post("/ui/statements", json={"statement": {}, "sig": ""})
    assert response.status_code == 403


def test_session_cookie_is_httponly_samesite_and_secure_by_default(tmp_path: Path) -> None:
    from web.app import create_web_app

    c = open_community(tmp_path / "n2")
    try:
        app = create_web_app(c.node, service=c.service)
        response = app.test_client().get("/ui/keys", base_url="https://localhost")
        cookie = response.headers["Set-Cookie"]
        assert "HttpOnly" in cookie
        assert "Secure" in cookie
        assert "SameSite=Strict" in cookie
    finally:
        c.node.close()


def test_signin_by_signing_the_challenge(client: FlaskClient) -> None:
    worker = key("signin-worker")
    page = client.get("/ui/keys").get_data(as_text=True)
    challenge = re.search(r'data-challenge="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    signer = worker.public.to_b64()
    message = signin_message(challenge=challenge, host="localhost", signer=signer)
    sig = encode_base64(worker.sign(message))
    headers = {"X-CSRF-Token": csrf}
    # a signature by another key for the same signer is refused
    wrong = encode_base64(key("other").sign(message))
    response = client.post("/ui/signin", json={"signer": signer, "sig": wrong}, headers=headers)
    assert response.status_code == 403
    # the challenge is used once: a new page gives a new one
    page = client.get("/ui/keys").get_data(as_text=True)
    challenge = re.search(r'data-challenge="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    message = signin_message(challenge=challenge, host="localhost", signer=signer)
    sig = encode_base64(worker.sign(message))
    response = client.post("/ui/signin", json={"signer": signer, "sig": sig}, headers=headers)
    assert response.status_code == 200
    assert response.json == {"party": worker.party_id}
    assert client.get("/ui/me").headers["Location"].endswith(f"/ui/workers/{worker.party_id}")
    replay = client.post("/ui/signin", json={"signer": signer, "sig": sig}, headers=headers)
    assert replay.status_code == 400


def test_signin_is_rate_limited(community: Community) -> None:
    community.app.extensions["rdh.web.limiter"].limits["signin"] = Limit(3, 60.0)
    client = community.app.test_client()
    csrf = _csrf(client)
    codes = [
        client.post(
            "/ui/signin", json={"signer": "x", "sig": "y"}, headers={"X-CSRF-Token": csrf}
        ).status_code
        for _ in range(5)
    ]
    assert codes[0] == 403  # a wrong signature over the page's challenge
    assert codes[1:3] == [400, 400]  # the challenge was used up
    assert codes[3:] == [429, 429]
    response = client.post("/ui/signin", json={}, headers={"X-CSRF-Token": csrf})
    assert int(response.headers["Retry-After"]) >= 1


def test_statement_submission_is_rate_limited_on_the_api_too(community: Community) -> None:
    community.app.extensions["rdh.web.limiter"].limits["statements"] = Limit(2, 60.0)
    client = community.app.test_client()
    codes = [client.post("/api/v1/statements", json={}).status_code for _ in range(3)]
    assert codes == [422, 422, 429]


def test_statement_relay_records_and_refuses(client: FlaskClient, community: Community) -> None:
    csrf = _csrf(client)
    headers = {"X-CSRF-Token": csrf}
    other = key("second-worker")
    body = {"task": community.task, "worker": other.party_id, "note": "me too"}
    good = signed(other, community.service.log_id, "task.apply", body, community.clock(), "x")
    response = client.post("/ui/statements", json=good.to_dict(), headers=headers)
    assert response.status_code == 201, response.json
    assert response.json["entries"][0]["type"] == "task.apply"  # type: ignore[index]
    again = client.post("/ui/statements", json=good.to_dict(), headers=headers)
    assert again.status_code == 422
    assert "nonce" in again.json["message"]  # type: ignore[index]
    stale = signed(
        other, community.service.log_id, "task.apply", body, NOW - timedelta(days=1), "y"
    )
    response = client.post("/ui/statements", json=stale.to_dict(), headers=headers)
    assert response.status_code == 422
    assert response.json["rule"] == "statement.time"  # type: ignore[index]


def test_lead_pages_need_an_admin_login(client: FlaskClient) -> None:
    response = client.get("/ui/lead")
    assert response.status_code == 303
    assert response.headers["Location"].endswith("/ui/lead/login")
    csrf = _csrf(client)
    response = client.post("/ui/lead/login", data={"token": "rdh_wrong", "csrf": csrf})
    assert "not valid" in response.get_data(as_text=True)
    assert client.post("/ui/lead/publish", data={"csrf": csrf}).status_code == 303


def test_lead_accepts_with_bonus_pays_and_the_worker_confirms(
    client: FlaskClient, community: Community
) -> None:
    csrf = _lead(client, community)
    html = client.get("/ui/lead").get_data(as_text=True)
    assert "Submissions to review (1)" in html
    response = client.post(
        "/ui/lead/accept",
        data={
            "csrf": csrf,
            "contract": community.contract,
            "milestone": "",
            "rating": "5",
            "feedback": "Lovely",
            "bonus": "25.00",
            "currency": "EUR",
        },
        follow_redirects=True,
    )
    assert "Work accepted" in response.get_data(as_text=True)
    html = client.get("/ui/lead").get_data(as_text=True)
    assert "Record payment of 275.00 EUR" in html
    response = client.post(
        "/ui/lead/pay",
        data={"csrf": csrf, "contract": community.contract, "milestone": ""},
        follow_redirects=True,
    )
    assert "Payment recorded" in response.get_data(as_text=True)
    with community.service.state() as state:
        part = state.contracts[community.contract].parts[0]
        assert part.status == "paid"
        assert part.payment is not None
        payment = part.payment
    submit(community, "payment.confirm", {"payment": payment}, "confirm")
    page = client.get(f"/ui/workers/{community.worker.party_id}").get_data(as_text=True)
    assert "275.00" in page
    assert "5.0 / 5" in page
    response = client.post(
        "/ui/lead/attest",
        data={
            "csrf": csrf,
            "worker": community.worker.party_id,
            "skill": "cad",
            "contract": community.contract,
        },
        follow_redirects=True,
    )
    assert "Skill attested" in response.get_data(as_text=True)
    page = client.get(f"/ui/workers/{community.worker.party_id}").get_data(as_text=True)
    assert "<strong>cad</strong>" in page


def test_lead_form_errors_are_one_sentence(client: FlaskClient, community: Community) -> None:
    csrf = _lead(client, community)
    response = client.post(
        "/ui/lead/publish",
        data={
            "csrf": csrf,
            "title": "Late",
            "description": "d",
            "skills": "cad",
            "reward": "10.00",
            "currency": "EUR",
            "deadline": "2020-01-01T00:00",
            "slots": "1",
            "engagements": "gig",
            "executor": "human",
            "claim_mode": "offer",
        },
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "Not recorded" in html
    assert "deadline" in html
    response = client.post(
        "/ui/lead/reject",
        data={"csrf": csrf, "contract": community.contract, "milestone": "", "feedback": "No"},
        follow_redirects=True,
    )
    assert "Work rejected" in response.get_data(as_text=True)


def test_revenue_share_flow_and_charts(client: FlaskClient, community: Community) -> None:
    csrf = _lead(client, community)
    log = community.service.log_id
    worker = community.worker
    response = client.post(
        "/ui/lead/share/propose",
        data={
            "csrf": csrf,
            "parties": f"{log}, {worker.party_id}",
            "currency": "EUR",
            "basis": "revenue",
            "period": "monthly",
            "tiers": "1000.00: 7000, 3000; : 5000, 5000",
        },
        follow_redirects=True,
    )
    assert "Agreement proposed" in response.get_data(as_text=True), response.get_data(as_text=True)
    with community.service.state() as state:
        proposal = next(iter(state.proposals))
    page = client.get(f"/ui/shares/{proposal}").get_data(as_text=True)
    assert "<svg" in page
    assert "Sign the agreement" in page
    outcome = community.service.submit(
        signed(worker, log, "share.activate", {"proposal": proposal}, community.clock(), "act")
    )
    agreement = outcome.entries[0].id  # type: ignore[union-attr]
    for revenue in ("900.00", "700.00"):
        client.post(
            "/ui/lead/share/revenue",
            data={
                "csrf": csrf,
                "agreement": agreement,
                "currency": "EUR",
                "period": "2026-11",
                "revenue": revenue,
                "costs": "100.00",
            },
        )
    response = client.post(
        "/ui/lead/share/settle",
        data={"csrf": csrf, "agreement": agreement, "period": "2026-11"},
        follow_redirects=True,
    )
    assert "Period settled" in response.get_data(as_text=True)
    page = client.get(f"/ui/shares/{agreement}").get_data(as_text=True)
    assert "2026-11: basis 1600.00 EUR" in page
    assert page.count("<svg") == 2
    assert "1000.00 EUR" in page  # the first tier's band: 700.00 + 300.00
    shares = client.get("/ui/shares").get_data(as_text=True)
    assert "Value-added statement" in shares
    assert "<svg" in shares
    assert "1600.00 EUR" in shares


def test_proposal_body_matches_the_form(community: Community) -> None:
    from web.shares import parse_tiers

    body = proposal_body(["a" * 64, "b" * 64])
    assert parse_tiers("1000.00: 7000, 3000; : 5000, 5000", 2, "EUR") == body["tiers"]


def test_explorer_shows_entries_statements_and_checkpoints(
    client: FlaskClient, community: Community
) -> None:
    log = community.service.log_id
    html = client.get(f"/ui/explorer/logs/{log}").get_data(as_text=True)
    assert "work.submit" in html
    assert f"rdh/{log}" in html
    page = client.get(f"/ui/explorer/entries/{community.contract}").get_data(as_text=True)
    assert "contract.offer" in page
    assert "/receipt" in page
    html = client.get("/ui/explorer").get_data(as_text=True)
    assert "Lakeside Design" in html
    assert client.get("/ui/explorer/entries/" + "0" * 64).status_code == 404
    assert client.get("/ui/explorer/logs/nothex").status_code == 404


def test_explorer_shows_equivocation_evidence(client: FlaskClient, community: Community) -> None:
    from node.db.models import EvidenceRow

    origin = f"rdh/{community.service.log_id}"
    with community.node.sessions.begin() as db:
        db.add(
            EvidenceRow(
                origin=origin,
                note_a=f"{origin}\n5\nAAAA\n\n\u2014 {origin} abc\n".encode(),
                note_b=f"{origin}\n5\nBBBB\n\n\u2014 {origin} def\n".encode(),
            )
        )
    assert "1 piece of evidence" in client.get("/ui/explorer").get_data(as_text=True)
    html = client.get("/ui/explorer/evidence").get_data(as_text=True)
    assert "AAAA" in html
    assert "BBBB" in html


def test_explorer_shows_peer_and_witness_tables_or_an_empty_state(client: FlaskClient) -> None:
    from web.explorer import federation_tables

    with client.application.test_request_context("/ui/explorer"):
        tables = federation_tables()
    html = client.get("/ui/explorer").get_data(as_text=True)
    if tables:
        assert all(f"<h3>{t['name']}</h3>" in html for t in tables)
    else:
        assert "This node has no peers or witnesses yet." in html


def _sign_in(client: FlaskClient, worker: SigningKey) -> None:
    page = client.get("/ui/keys").get_data(as_text=True)
    challenge = re.search(r'data-challenge="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    csrf = re.search(r'name="csrf-token" content="([^"]+)"', page).group(1)  # type: ignore[union-attr]
    signer = worker.public.to_b64()
    sig = encode_base64(
        worker.sign(signin_message(challenge=challenge, host="localhost", signer=signer))
    )
    response = client.post(
        "/ui/signin", json={"signer": signer, "sig": sig}, headers={"X-CSRF-Token": csrf}
    )
    assert response.status_code == 200


def test_matches_my_skills(client: FlaskClient, community: Community) -> None:
    from tests.node.stories import task_body

    record(community, "task.publish", task_body(NOW, title="Weld a frame", skills=("welding",)))
    html = client.get("/ui/market?mine=1&skills=cad").get_data(as_text=True)
    assert "sign in with your key" in html
    _sign_in(client, key("matching-worker"))
    html = client.get("/ui/market?mine=1&skills=welding").get_data(as_text=True)
    assert "Weld a frame" in html
    assert "Design a lamp" not in html
    # the lamp asks for cad, but its one slot is taken: nothing the worker could take
    html = client.get("/ui/market?mine=1&skills=cad").get_data(as_text=True)
    assert "0 open tasks" in html
