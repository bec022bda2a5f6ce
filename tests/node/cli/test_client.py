"""`node.client.NodeClient` and the lead commands' connection errors: tokens, unreachable
or silent nodes, URLs that are not http(s), answers that are not the API's."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from node.cli import rdh
from node.client import ApiError, NodeClient
from node.errors import NodeError, UsageError
from tests.node.cli.conftest import Lead


@pytest.fixture
def closed_port() -> int:
    """A port on 127.0.0.1 nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


@pytest.fixture
def silent_port() -> Iterator[int]:
    """A port that accepts connections and never answers."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        s.listen()
        yield s.getsockname()[1]


@pytest.fixture
def html_port() -> Iterator[int]:
    """A port where something that is not an rdh node answers every request with HTML."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.05)
    stop = threading.Event()

    def answer() -> None:
        while not stop.is_set():
            try:
                conn, _ = server.accept()
            except TimeoutError:
                continue
            with conn:
                conn.recv(65536)
                conn.sendall(
                    b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 14\r\n"
                    b"Connection: close\r\n\r\n<html></html>\n"
                )

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield server.getsockname()[1]
    stop.set()
    thread.join(timeout=5)
    server.close()


def test_a_write_without_a_token_says_how_to_get_one(lead: Lead) -> None:
    result = lead.run("task", "close", "a" * 64, token=False)
    assert result.exit_code == 2
    assert result.stderr.startswith("rdh: error: this command writes to the node")
    assert "`rdh token create`" in result.stderr
    assert len(result.stderr.splitlines()) == 1


def test_the_token_comes_from_the_environment_or_a_file(lead: Lead, tmp_path: Path) -> None:
    title = ["--title", "Lamp", "--reward", "250.00 EUR", "--deadline", "1d"]
    from_env = lead.run("task", "publish", *title, token=False, env={"RDH_TOKEN": lead.token})
    assert from_env.exit_code == 0, from_env.output
    path = tmp_path / "token"
    path.write_text(f"RDH_ADMIN_TOKEN={lead.token}\n")
    from_file = lead.run("task", "publish", *title, "--token-file", str(path), token=False)
    assert from_file.exit_code == 0, from_file.output
    from_file_env = lead.run(
        "task", "publish", *title, token=False, env={"RDH_TOKEN_FILE": str(path)}
    )
    assert from_file_env.exit_code == 0, from_file_env.output
    missing = lead.run("task", "publish", *title, "--token-file", str(tmp_path / "no"), token=False)
    assert missing.exit_code == 2
    assert "cannot read the token file" in missing.stderr
    assert lead.get("/tasks")["total"] == 3


def test_a_wrong_token_is_refused_by_the_node(lead: Lead) -> None:
    before = lead.entry_count()
    result = lead.run(
        "task", "publish", "--title", "Lamp", "--reward", "250.00 EUR", "--deadline", "1d",
        "--token", "rdh_wrong", token=False,
    )  # fmt: skip
    assert result.exit_code == 2
    assert result.stderr == (
        "rdh: error: The admin token is not valid (it may have been revoked).\n"
    )
    assert lead.entry_count() == before


def test_an_unreachable_node_is_one_line(closed_port: int) -> None:
    url = f"http://127.0.0.1:{closed_port}"
    for args in (["task", "list"], ["entries"], ["member", "list"], ["task", "show", "x"]):
        out = CliRunner().invoke(rdh, [*args, "--node", url], env={"RDH_NODE_URL": None})
        assert out.exit_code == 2
        assert out.stderr.startswith(f"rdh: error: cannot reach the node at {url}: ")
        assert len(out.stderr.splitlines()) == 1
    from_env = CliRunner().invoke(rdh, ["entries"], env={"RDH_NODE_URL": url})
    assert f"cannot reach the node at {url}: " in from_env.stderr


def test_a_silent_node_times_out(silent_port: int) -> None:
    client = NodeClient(f"http://127.0.0.1:{silent_port}", timeout=0.3)
    with pytest.raises(UsageError, match=r"did not answer within 0\.3 s"):
        client.get("/tasks")


def test_an_answer_that_is_not_the_api_is_a_usage_error(html_port: int) -> None:
    client = NodeClient(f"http://127.0.0.1:{html_port}")
    with pytest.raises(UsageError, match="not JSON: is this an rdh node"):
        client.get("/tasks")


BAD_URLS = {
    "no scheme": "127.0.0.1:8470",
    "ftp": "ftp://127.0.0.1/",
    "file": "file:///etc/passwd",
    "no host": "http://",
    "query": "http://127.0.0.1:8470/?x=1",
}


@pytest.mark.parametrize("url", BAD_URLS.values(), ids=BAD_URLS.keys())
def test_only_http_urls_are_used(url: str) -> None:
    with pytest.raises(UsageError, match="node URL"):
        NodeClient(url)


def test_api_errors_carry_status_message_and_rule(lead: Lead) -> None:
    client = NodeClient(lead.url, token=lead.token)
    with pytest.raises(ApiError) as caught:
        client.post("/entries", {"entries": [{"type": "task.close", "body": {"task": "a" * 64}}]})
    assert caught.value.status == 422
    assert caught.value.rule is not None
    assert str(caught.value).endswith(f"(rule {caught.value.rule})")
    with pytest.raises(ApiError, match=r"json\.entries\.0\.extra: Unknown field") as schema:
        client.post("/entries", {"entries": [{"type": "task.close", "body": {}, "extra": 1}]})
    assert schema.value.status == 422
    assert schema.value.rule is None
    with pytest.raises(ApiError, match="no entry") as missing:
        client.get_text(f"/entries/{'b' * 64}/receipt")
    assert missing.value.status == 404
    assert isinstance(missing.value, NodeError)


def test_queries_leave_out_none_and_repeat_lists() -> None:
    client = NodeClient("http://node.example:8470/base/")
    url = client.url("/workers/w/matches", {"skill": ["cad", "3d print"], "log": None, "n": 2})
    assert url == (
        "http://node.example:8470/base/api/v1/workers/w/matches?skill=cad&skill=3d+print&n=2"
    )
    assert client.url("/members", {"active": True}).endswith("/members?active=true")
