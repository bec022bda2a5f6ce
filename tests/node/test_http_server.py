"""node.http_server: waitress without the busy poll; big and slow responses still flow."""

from __future__ import annotations

import http.client
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask, Response

from node.http_server import _Channel, create_http_server

BIG = bytes(range(256)) * 32 * 1024  # 8 MiB: more than a socket buffer holds


def _app() -> Flask:
    app = Flask("t")

    @app.get("/small")
    def small() -> str:
        return "ok"

    @app.get("/big")
    def big() -> Response:
        return Response(BIG, mimetype="application/octet-stream")

    @app.get("/stream")
    def stream() -> Response:
        def chunks() -> Iterator[bytes]:
            for n in range(64):
                yield BIG[n * 131072 : (n + 1) * 131072]

        return Response(chunks(), mimetype="application/octet-stream")

    return app


@pytest.fixture
def server() -> Iterator[Any]:
    server = create_http_server(_app(), host="127.0.0.1", port=0, threads=4)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    yield server
    server.close()
    thread.join(5)


def _get(port: int, path: str, *, slow: bool = False) -> bytes:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    connection.request("GET", path)
    response = connection.getresponse()
    assert response.status == 200
    parts = []
    while chunk := response.read(262144):
        parts.append(chunk)
        if slow:
            time.sleep(0.01)
    connection.close()
    return b"".join(parts)


def test_big_and_streamed_answers_to_slow_readers_while_others_are_served(server: Any) -> None:
    port = server.effective_port
    results: dict[str, bytes] = {}

    def fetch(name: str, path: str, slow: bool) -> None:
        results[name] = _get(port, path, slow=slow)

    threads = [
        threading.Thread(target=fetch, args=("big", "/big", True)),
        threading.Thread(target=fetch, args=("stream", "/stream", True)),
        *(threading.Thread(target=fetch, args=(f"s{n}", "/small", False)) for n in range(40)),
    ]
    start = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert time.monotonic() - start < 30
    assert results["big"] == BIG
    assert results["stream"] == BIG
    assert all(results[f"s{n}"] == b"ok" for n in range(40))


def test_a_channel_is_not_writable_while_its_task_holds_the_output(server: Any) -> None:
    """The loop must not poll a socket whose output a task thread is writing (it would spin);
    it may once the task lets go of the output buffer, or when no task runs."""
    ours, theirs = socket.socketpair()
    channel = _Channel(server, ours, ("127.0.0.1", 1), server.adj, map={})
    try:
        channel.total_outbufs_len = 10
        assert channel.writable()  # no task running: the loop flushes
        channel.requests = [object()]
        assert channel.writable()  # a task runs but does not hold the buffer
        held, release = threading.Event(), threading.Event()

        def task() -> None:
            with channel.outbuf_lock:
                held.set()
                release.wait(5)

        writer = threading.Thread(target=task)
        writer.start()
        held.wait(5)
        assert not channel.writable()
        release.set()
        writer.join(5)
        assert channel.writable()
        channel.total_outbufs_len = 0
        assert not channel.writable()
    finally:
        channel.requests = []
        channel.del_channel()
        ours.close()
        theirs.close()
