"""`rdh serve` as a child process, for the demo, the benchmarks and the tests that need a
real node on 127.0.0.1: start it on a free port and learn its URL from its first line
(`serving log <id> at <url> (Ctrl-C to stop)`)."""

from __future__ import annotations

import select
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import IO

from node.errors import UsageError

__all__ = ["RDH", "start_serve"]

#: How to run this project's `rdh` with the current interpreter.
RDH = (sys.executable, "-c", "from node.cli import main; main()")


def start_serve(
    node_dir: Path,
    *,
    env: Mapping[str, str],
    args: Sequence[str] = (),
    stderr: int | IO[bytes] | None = subprocess.DEVNULL,
    timeout: float = 60.0,
) -> tuple[subprocess.Popen[bytes], str]:
    """Start `rdh serve -d node_dir --port 0 [args]`; the process and the URL it serves.

    `UsageError` (the process killed) if it does not print its URL within `timeout` s.
    """
    process = subprocess.Popen(  # noqa: S603 (our own interpreter and arguments)
        [*RDH, "serve", "-d", str(node_dir), "--port", "0", *args],
        stdout=subprocess.PIPE,
        stderr=stderr,
        env=dict(env),
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 0.5)
        if ready:
            line = process.stdout.readline().decode()
            if " at " in line:
                return process, line.split(" at ", 1)[1].split()[0].rstrip("/")
            if not line:
                break
        if process.poll() is not None:
            break
    process.kill()
    process.wait()
    process.stdout.close()
    raise UsageError(f"rdh serve for {node_dir} did not start within {timeout:g} s")
