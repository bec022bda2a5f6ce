"""Real `rdh` node processes on 127.0.0.1 for the federation tests and benchmarks.

`NodeProcess.create(dir, name)` runs `rdh init` (taking the admin token from its last
line); `start()` runs `rdh serve --port 0` and reads the URL it prints; `stop()` sends
SIGTERM (or SIGKILL with `kill=True`) and waits. `cli(...)` runs any other `rdh` command
against the node directory. Everything is bounded: every wait has a deadline.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

RDH = [sys.executable, "-c", "from node.cli import main; main()"]
#: `rdh serve`; RDH_TEST_SERVE=node serves the node's app without the web UI.
SERVE = (
    [sys.executable, "-c", "from node.cli.serve import serve_command; serve_command()"]
    if os.environ.get("RDH_TEST_SERVE") == "node"
    else [*RDH, "serve"]
)


def clean_env(extra: dict[str, str] | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("RDH_")}
    env.update(extra or {})
    return env


def wait_for(condition: Callable[[], Any], *, timeout: float, what: str, step: float = 0.2) -> Any:
    """Poll `condition()` until it returns something truthy; fail after `timeout` seconds."""
    end = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < end:
        last = condition()
        if last:
            return last
        time.sleep(step)
    raise AssertionError(f"timed out after {timeout:g} s waiting for {what} (last: {last!r})")


@dataclass
class NodeProcess:
    """One node directory and, while started, its `rdh serve` process."""

    dir: Path
    name: str
    token: str
    log_id: str
    env: dict[str, str] = field(default_factory=clean_env)
    url: str = ""
    process: subprocess.Popen[str] | None = None

    @classmethod
    def create(cls, directory: Path, name: str, env: dict[str, str] | None = None) -> NodeProcess:
        env = clean_env(env)
        out = subprocess.run(
            [*RDH, "init", "-d", str(directory), "--name", name],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=True,
        ).stdout
        lines = out.strip().splitlines()
        token = lines[-1].removeprefix("RDH_ADMIN_TOKEN=")
        log_id = lines[0].split()[-1]
        return cls(directory, name, token, log_id, env)

    def start(self) -> str:
        assert self.process is None
        with (self.dir / "serve.log").open("a") as log:
            self.process = subprocess.Popen(
                [*SERVE, "-d", str(self.dir), "--port", "0", "--threads", "8"],
                stdout=subprocess.PIPE,
                stderr=log,
                text=True,
                env=self.env,
            )
        assert self.process.stdout is not None
        line = self.process.stdout.readline()
        if " at " not in line:
            self.stop(kill=True)
            raise AssertionError(f"rdh serve did not start: {line!r}; see {self.dir}/serve.log")
        self.url = line.split(" at ")[1].split()[0].rstrip("/")
        return self.url

    def stop(self, *, kill: bool = False) -> None:
        process, self.process = self.process, None
        if process is None:
            return
        if process.poll() is None:
            process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
        if process.stdout is not None:
            process.stdout.close()

    def cli(
        self, *args: str, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [*RDH, *args, *(["-d", str(self.dir)] if args[0] not in ("audit", "verify") else [])],
            capture_output=True,
            text=True,
            env=self.env,
            timeout=timeout,
        )
        if check and result.returncode != 0:
            raise AssertionError(f"rdh {' '.join(args)} failed: {result.stdout}{result.stderr}")
        return result

    # -- HTTP ------------------------------------------------------------------------------

    def get(self, path: str) -> Any:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            return json.loads(response.read())

    def get_bytes(self, path: str) -> bytes:
        with urllib.request.urlopen(self.url + path, timeout=30) as response:
            data: bytes = response.read()
            return data

    def post_entries(self, entries: list[dict[str, Any]]) -> Any:
        request = urllib.request.Request(
            self.url + "/api/v1/entries",
            data=json.dumps({"entries": entries}).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read())

    def sizes(self) -> dict[str, int]:
        """Every log this node serves and its signed size."""
        try:
            return {log["id"]: log["size"] for log in self.get("/logs")}
        except (urllib.error.URLError, OSError):
            return {}
