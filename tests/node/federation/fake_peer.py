"""A fake peer on 127.0.0.1 that serves a genuine in-memory log (`ledger.memlog.MemoryLog`)
through the tlog-tiles paths a node serves, and can misbehave on demand (`mode`):

    honest          everything as a node would serve it
    forged          the checkpoint's signature bytes are altered
    wrong-root      the checkpoint is validly signed, but for a root the tiles do not give
    truncated-tile  hash tiles lose their last byte
    garbage-tile    hash tiles are random bytes of the right length
    bad-entry       one entry in a bundle is altered (same length)
    truncated-bundle  entry bundles lose their last byte
    oversized       entry bundles are streamed on and on (64 MiB)
    slow            every answer drips one byte at a time, slowly
"""

from __future__ import annotations

import json
import os
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ledger.checkpoint import Checkpoint, sign_checkpoint
from ledger.cosignature import CosignerKey
from ledger.keys import SigningKey
from ledger.memlog import MemoryLog
from ledger.merkle import MemoryTree, leaf_hash
from ledger.tiles import TILE_WIDTH, TileBuilder, encode_entry_bundle, parse_tile_path

MODES = (
    "forged",
    "wrong-root",
    "truncated-tile",
    "garbage-tile",
    "bad-entry",
    "truncated-bundle",
    "oversized",
    "slow",
)


class FakePeer:
    """Serves `log` (entries and a checkpoint of its current size) in `mode`."""

    def __init__(self, log: MemoryLog, mode: str = "honest") -> None:
        self.log = log
        self.mode = mode
        self.requests: list[str] = []
        self.witness = CosignerKey("fake-witness", SigningKey.from_seed(b"w" * 32).public)
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    # -- what is served ----------------------------------------------------------------

    def checkpoint(self) -> bytes:
        if self.mode == "wrong-root":
            cp = Checkpoint(self.log.origin, self.log.size, leaf_hash(b"not the root"))
            return sign_checkpoint(cp, self.log.signer)
        note = self.log.checkpoint()
        if self.mode == "forged":
            text, _, sig = note.rpartition(b" ")
            raw = bytearray(sig)
            raw[10] = ord("A") if raw[10] != ord("A") else ord("B")
            return text + b" " + bytes(raw)
        return note

    def tile(self, level: int, index: int, width: int) -> bytes:
        tree = MemoryTree([leaf_hash(e) for e in self.log.entries])
        builder = TileBuilder()
        tiles = {}
        for h in (tree.hash_at(0, i) for i in range(tree.size)):
            for ref, data in builder.append(h):
                tiles[(ref.level, ref.index, ref.width)] = data
        for ref, data in builder.finish():
            tiles[(ref.level, ref.index, ref.width)] = data
        full = tiles.get((level, index, TILE_WIDTH))
        data = full[: width * 32] if full is not None else tiles[(level, index, width)]
        if self.mode == "truncated-tile":
            return data[:-1]
        if self.mode == "garbage-tile":
            return os.urandom(len(data))
        return data

    def bundle(self, index: int, width: int) -> bytes:
        entries = list(self.log.entries[index * TILE_WIDTH : index * TILE_WIDTH + width])
        if self.mode == "bad-entry":
            entries[-1] = entries[-1].replace(b'"seq"', b'"Seq"')
        data = encode_entry_bundle(entries)
        if self.mode == "truncated-bundle":
            return data[:-1]
        return data

    def listing(self) -> Any:
        return [
            {
                "id": self.log.log_id,
                "origin": self.log.origin,
                "vkey": self.log.vkey,
                "size": self.log.size,
                "local": True,
            }
        ]

    # -- HTTP ------------------------------------------------------------------------------

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        peer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                if peer.mode == "oversized" and "/tile/entries/" in self.path:
                    self.send_header("Transfer-Encoding", "chunked")
                    self.end_headers()
                    chunk = b"x" * (1 << 20)
                    try:
                        for _ in range(64):
                            if peer.mode != "oversized":
                                break
                            self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
                        self.wfile.write(b"0\r\n\r\n")
                    except OSError:
                        pass
                    return
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if peer.mode == "slow" and self.path != "/logs" and self.path != "/witness":
                    try:
                        for i in range(len(body)):
                            if peer.mode != "slow":
                                break
                            self.wfile.write(body[i : i + 1])
                            self.wfile.flush()
                            time.sleep(0.25)
                    except OSError:
                        pass
                    return
                self.wfile.write(body)

            def do_GET(self) -> None:
                peer.requests.append(self.path)
                prefix = f"/logs/{peer.log.log_id}/"
                if self.path == "/logs":
                    return self._send(200, json.dumps(peer.listing()).encode(), "application/json")
                if self.path == "/witness":
                    info = {
                        "log": peer.log.log_id,
                        "name": peer.witness.name,
                        "vkey": peer.witness.to_vkey(),
                    }
                    return self._send(200, json.dumps(info).encode(), "application/json")
                if self.path == "/evidence":
                    return self._send(200, b"[]", "application/json")
                if self.path == prefix + "checkpoint":
                    return self._send(200, peer.checkpoint())
                if self.path.startswith(prefix + "tile/"):
                    ref = parse_tile_path(self.path[len(prefix) :])
                    if ref.is_entries:
                        return self._send(200, peer.bundle(ref.index, ref.width))
                    return self._send(200, peer.tile(ref.level, ref.index, ref.width))
                return self._send(404, b"not found\n")

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                self.rfile.read(length)
                self._send(404, b"this fake peer witnesses nothing\n")

        return Handler
