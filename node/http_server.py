"""The HTTP server of `rdh serve`: waitress, without its busy poll under load.

waitress reads requests in one thread (an asyncore loop) and runs the app in a pool of task
threads. A task thread writes its response itself, holding the channel's output lock while
it sends. In that window the channel has output, so `writable()` is true, `select()` reports
the socket writable at once, and the loop calls `handle_write`, which cannot take the lock
and returns: the loop spins until the task thread, which is waiting for the GIL behind the
other task threads, lets go. Measured with 16 connections of one-entry appends
(benchmarks/api_bench.py): ~25 empty turns of the loop per request, a quarter of the
process's CPU. `_Channel.writable` is false while a running task holds that lock; the task
flushes its own output, and if it cannot send everything it wakes the loop (waitress's
trigger), which then finds the lock free.
"""

from __future__ import annotations

from typing import Any

from flask import Flask
from waitress.channel import HTTPChannel
from waitress.server import BaseWSGIServer, create_server

__all__ = ["create_http_server"]


class _Channel(HTTPChannel):  # type: ignore[misc]  # waitress has no type hints
    def writable(self) -> bool:
        if not super().writable():
            return False
        if not self.requests:
            return True
        if self.outbuf_lock.acquire(False):  # no task thread is writing
            self.outbuf_lock.release()
            return True
        return False


def create_http_server(app: Flask, *, host: str, port: int, threads: int, **adjust: Any) -> Any:
    """A waitress server for `app` on `host`:`port` (0: any free port) with `threads` task
    threads; `adjust` are further waitress settings (e.g. `max_request_body_size`)."""
    sockets: dict[int, Any] = {}
    server = create_server(
        app, map=sockets, host=host, port=port, threads=threads, ident="rdh", **adjust
    )
    for dispatcher in sockets.values():
        if isinstance(dispatcher, BaseWSGIServer):
            dispatcher.channel_class = _Channel
    return server
