"""A live node for the hardening tests: `rdh init` and `rdh serve --port 0` as real processes.

`LiveNode.start(dir)` initialises a node (keeping the admin token `rdh init` prints last) and
starts serving it; `state()` is what "no state change" compares (the signed size and the
checkpoint note); `stop()` ends the process it started (SIGTERM, SIGKILL if it hangs) and
`kill()` SIGKILLs it. Used by the tests and by `benchmarks/hardening_report.py`.
"""

from __future__ import annotations

import json
import os
import re
import selectors
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["ROOT", "LiveNode", "rdh", "rdh_env"]

ROOT = Path(__file__).resolve().parents[2]


def rdh_env(**extra: str) -> dict[str, str]:
    """The environment of an `rdh` process: no inherited `RDH_*` setting, this checkout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("RDH_")}
    env["PYTHONPATH"] = str(ROOT)
    env.update(extra)
    return env


def rdh(*args: str, env: dict[str, str] | None = None, timeout: float = 120) -> Any:
    """Run `rdh ARGS` in a child process; the `CompletedProcess` (text)."""
    return subprocess.run(
        [sys.executable, "-c", "from node.cli import main; main()", *args],
        cwd=ROOT,
        env=env or rdh_env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


@dataclass
class LiveNode:
    """A node directory, its admin token and (while started) its `rdh serve` process."""

    node_dir: Path
    token: str
    env: dict[str, str]
    process: subprocess.Popen[str] | None = None
    url: str = ""
    log_id: str = ""
    stderr: list[str] = field(default_factory=list)

    @classmethod
    def init(cls, node_dir: Path, *, name: str = "Hardening", **env: str) -> LiveNode:
        environment = rdh_env(**env)
        result = rdh("init", "-d", str(node_dir), "--name", name, env=environment)
        assert result.returncode == 0, result.stderr
        tokens = re.findall(r"^RDH_ADMIN_TOKEN=(\S+)$", result.stdout, re.MULTILINE)
        assert len(tokens) == 1, result.stdout
        return cls(node_dir, tokens[0], environment)

    @classmethod
    def start(cls, node_dir: Path, **env: str) -> LiveNode:
        node = cls.init(node_dir, **env)
        node.serve()
        return node

    def serve(self, *, threads: int = 4) -> None:
        """Start `rdh serve` and wait for the line with its URL."""
        process = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from node.cli import main; main()",
                "serve",
                "-d",
                str(self.node_dir),
                "--port",
                "0",
                "--threads",
                str(threads),
            ],
            cwd=ROOT,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert process.stdout is not None
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            ready = selector.select(timeout=60)
        line = process.stdout.readline() if ready else ""
        match = re.search(r"serving log ([0-9a-f]{64}) at (http://127\.0\.0\.1:\d+)/", line)
        if not match:
            process.kill()
            _, err = process.communicate(timeout=30)
            raise AssertionError(f"rdh serve did not start: {line!r} {err[-2000:]!r}")
        self.process, self.log_id, self.url = process, match.group(1), match.group(2)

    def _finish(self) -> None:
        assert self.process is not None
        _, err = self.process.communicate(timeout=30)
        self.stderr.append(err)
        self.process = None

    def stop(self) -> int:
        """SIGTERM the server (SIGKILL after 20 s); its exit status."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            self.process.kill()
        code = self.process.wait()
        self._finish()
        return code

    def kill(self) -> None:
        """SIGKILL the server (no clean-up at all)."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self._finish()

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        *,
        admin: bool = True,
        content_type: str = "application/json",
        timeout: float = 30,
    ) -> tuple[int, bytes]:
        """One HTTP request; (status, body), whatever the status."""
        headers = {"Content-Type": content_type}
        if admin:
            headers["Authorization"] = f"Bearer {self.token}"
        request = urllib.request.Request(self.url + path, data=body, headers=headers, method=method)
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                return response.status, response.read()
        except urllib.error.HTTPError as e:
            with e:
                return e.code, e.read()

    def post_json(self, path: str, value: object, *, admin: bool = True) -> tuple[int, Any]:
        status, data = self.request("POST", path, json.dumps(value).encode(), admin=admin)
        return status, json.loads(data)

    def state(self) -> tuple[int, bytes]:
        """(signed size, checkpoint note) of the node's own log, as served."""
        status, note = self.request("GET", f"/logs/{self.log_id}/checkpoint", admin=False)
        assert status == 200, note
        return int(note.split(b"\n")[1]), note
