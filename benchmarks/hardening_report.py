"""The figures of docs/security.md, in one command: inputs tried, faults injected, entries lost.

    python benchmarks/hardening_report.py [--parser-examples 5000] [--api-examples 100]
                                          [--atheris-runs 20000] [--skip-faults]

1. Hypothesis over every parser of `tests.hardening.parsers.TARGETS` (random bytes and edits
   of genuine inputs); any exception other than `LedgerError` is a failure.
2. atheris (coverage-guided, if it is installed) over the same targets, seeded with them.
3. schemathesis against a live `rdh serve`: every operation of /api/v1/openapi.json,
   positive and negative, with the admin token; plus random tile paths. No 5xx, and no
   refused request may change the log.
4. The fault tests (tests/hardening: full disk, read-only database, damaged pages and tiles,
   hostile JSON, clock skew, replays, SIGKILL during export and sync, a silent peer) and the
   20-SIGKILL crash test of the write path (tests/node/test_crash.py), run by pytest.

Prints a table; exits 1 if anything failed.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from hypothesis import HealthCheck, given, settings  # noqa: E402

from tests.hardening.fuzzing import inputs  # noqa: E402
from tests.hardening.parsers import TARGETS, Target, run_target  # noqa: E402

_ATHERIS = """
import sys
import atheris
with atheris.instrument_imports(include=["ledger"]):
    from tests.hardening.parsers import TARGETS, run_target
[target] = [t for t in TARGETS if t.name == sys.argv[1]]
corpus = sys.argv[3]
import os, hashlib
for seed in target.seeds:
    with open(os.path.join(corpus, hashlib.sha256(seed).hexdigest()[:16]), "wb") as f:
        f.write(seed)
atheris.Setup([sys.argv[0], f"-runs={sys.argv[2]}", "-max_len=70000", corpus],
              lambda data: run_target(target, data))
atheris.Fuzz()
"""


def _counter(target: Target, counts: list[int]) -> Callable[[bytes], None]:
    def one(data: bytes) -> None:
        counts[0] += 1
        counts[1] += run_target(target, data)

    return one


def fuzz_parsers(examples: int) -> tuple[int, int, list[str]]:
    total = accepted = 0
    failures: list[str] = []
    for target in TARGETS:
        counts = [0, 0]
        test = settings(
            max_examples=examples,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        )(given(inputs(target))(_counter(target, counts)))
        try:
            test()
        except Exception as e:
            failures.append(f"{target.name}: {type(e).__name__}: {e}")
        print(f"  hypothesis {target.name:28} {counts[0]:>8} inputs, {counts[1]:>6} accepted")
        total, accepted = total + counts[0], accepted + counts[1]
    return total, accepted, failures


def fuzz_atheris(runs: int) -> tuple[int, list[str]] | None:
    try:
        import atheris  # noqa: F401
    except ImportError:
        return None
    total, failures = 0, []
    for target in TARGETS:
        with tempfile.TemporaryDirectory() as corpus:
            result = subprocess.run(
                [sys.executable, "-c", _ATHERIS, target.name, str(runs), corpus],
                cwd=ROOT,
                capture_output=True,
                text=True,
                check=False,
            )
        done = [line for line in result.stderr.splitlines() if line.startswith("Done ")]
        count = int(done[-1].split()[1]) if done else 0
        if result.returncode != 0:
            failures.append(f"{target.name}: exit {result.returncode}: {result.stderr[-1500:]}")
        print(f"  atheris    {target.name:28} {count:>8} runs, exit {result.returncode}")
        total += count
    return total, failures


def fuzz_live_api(examples: int) -> tuple[int, int, int, list[str]]:
    from tests.hardening.api_fuzz import fuzz_api, fuzz_tile_paths
    from tests.hardening.live import LiveNode

    with tempfile.TemporaryDirectory() as tmp:
        node = LiveNode.start(Path(tmp) / "node")
        try:
            api = fuzz_api(node, examples=examples)
            tiles = fuzz_tile_paths(node, examples=examples * 10)
        finally:
            code = node.stop()
    problems = api.server_errors + api.state_changes + tiles.server_errors
    if code != 0 or "Traceback" in node.stderr[-1]:
        problems.append(
            f"rdh serve exit {code}, traceback in its log: {'Traceback' in node.stderr[-1]}"
        )
    statuses = dict(sorted((api.statuses + tiles.statuses).items()))
    print(f"  schemathesis {len(api.operations)} operations: {api.requests} requests, "
          f"{api.rejected} refused (state checked before and after each), statuses {statuses}; "
          f"{tiles.requests} tile paths")  # fmt: skip
    return api.requests, api.rejected, tiles.requests, problems


def run_fault_tests() -> tuple[int, int, str]:
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-s",
         "tests/hardening/test_storage_faults.py", "tests/hardening/test_input_faults.py",
         "tests/hardening/test_kill_faults.py", "tests/node/test_crash.py"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    tail = result.stdout.strip().splitlines()
    crash = [line for line in tail if "SIGKILLs" in line]
    summary = tail[-1] if tail else result.stderr[-500:]
    passed = int(summary.split()[0]) if summary.split()[0].isdigit() else 0
    print(f"  faults: {summary} in {time.monotonic() - started:.0f} s")
    for line in crash:
        print(f"  crash test: {line.strip().lstrip('.')}")
    return passed, result.returncode, "\n".join(crash)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--parser-examples", type=int, default=5000)
    parser.add_argument("--api-examples", type=int, default=100)
    parser.add_argument("--atheris-runs", type=int, default=20000)
    parser.add_argument("--skip-faults", action="store_true")
    args = parser.parse_args()
    failed: list[str] = []
    t0 = time.monotonic()
    print(f"parsers ({len(TARGETS)} targets):")
    total, accepted, failures = fuzz_parsers(args.parser_examples)
    failed += failures
    atheris_result = fuzz_atheris(args.atheris_runs) if args.atheris_runs else None
    if atheris_result is not None:
        failed += atheris_result[1]
    print("live API:")
    requests, rejected, tiles, problems = fuzz_live_api(args.api_examples)
    failed += problems
    faults = run_fault_tests() if not args.skip_faults else None
    if faults is not None and faults[1] != 0:
        failed.append("a fault test failed (run pytest tests/hardening tests/node/test_crash.py)")
    print()
    print("| figure | value |")
    print("|---|---|")
    name = f"parser inputs (Hypothesis, {len(TARGETS)} parsers)"
    print(f"| {name} | {total:,} ({accepted:,} accepted) |")
    if atheris_result is not None:
        print(f"| parser inputs (atheris, coverage-guided) | {atheris_result[0]:,} |")
    else:
        print("| parser inputs (atheris) | not installed |")
    print(f"| API requests (schemathesis) | {requests:,} ({rejected:,} refused, 0 state changes) |")
    print(f"| tile paths requested | {tiles:,} |")
    if faults is not None:
        print(f"| fault tests passed | {faults[0]} |")
    print(f"| 5xx answers, crashes, state changes from refused input | {len(failed)} |")
    print(f"| wall time | {time.monotonic() - t0:.0f} s |")
    for line in failed:
        print("FAILED:", line)
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
