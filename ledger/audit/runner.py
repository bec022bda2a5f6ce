"""The audit: verify a whole bundle at the ledger level.

Order of work, per log listed in the manifest:

1. the checkpoint: signed by the key the log id commits to, origin `rdh/<log id>`, size as
   listed; cosignatures against the policy (k-of-n) when there is one;
2. every entry bundle, fanned out through `mapper` (see `check_bundle`): canonical bytes,
   fields, own seq and log, every embedded statement's signature;
3. in order, the leaf hashes rebuild every hash tile (compared byte for byte with the
   bundle's) and the root (compared with the checkpoint's);
4. across the log: no statement nonce is used twice;

then across logs: references resolve within the bundle (otherwise a notice), and each piece
of equivocation evidence is verified. Memory stays bounded: one entry bundle per worker,
tile builders of O(log n), 32 bytes per entry for the ids (one bytearray per log), each
log's statement nonces (one string per statement), and the references that leave their
entry bundle, resolved in one scan at the end.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from ledger import bundle, evidence, merkle, tiles
from ledger.audit.entries import BundleResult, BundleTask, check_bundle
from ledger.audit.report import AuditReport, Finding, LogSummary
from ledger.audit.rules import EntryReader, EntryRules
from ledger.checkpoint import Checkpoint, check_log_key, open_checkpoint
from ledger.compact import CompactRange
from ledger.errors import BundleError, LedgerError
from ledger.keys import party_id
from ledger.note import NoteVerifier
from ledger.policy import Policy
from ledger.types import Hash

__all__ = ["Mapper", "Progress", "audit"]

Mapper = Callable[
    [Callable[[BundleTask], BundleResult], Iterable[BundleTask]], Iterable[BundleResult]
]
Progress = Callable[[int, int], None]


@dataclass(slots=True)
class _LogState:
    """Per-log progress. Full entry bundles arrive as one subtree hash each: they are the
    leaves of `bundles`, whose tiles at level L are the log's tiles at level L + 1."""

    info: bundle.LogInfo
    checkpoint: Checkpoint | None = None
    cosigned_by: tuple[str, ...] = ()
    bundles: tiles.TileBuilder = field(default_factory=tiles.TileBuilder)
    bundle_range: CompactRange = field(default_factory=CompactRange)
    tail: tuple[Hash, ...] = ()
    nonces: dict[str, int] = field(default_factory=dict)
    entries: int = 0
    statements: int = 0
    tree_broken: bool = False
    stopped: bool = False
    rules_stopped: bool = False
    name: str | None = None


def audit(
    source: bundle.BundleSource,
    *,
    policy: Policy | None = None,
    mapper: Mapper = map,
    progress: Progress | None = None,
    rules: EntryRules | None = None,
) -> AuditReport:
    """Audit a bundle. Raises `BundleError`/`FormatError` if the manifest cannot be read
    (and whatever the `source` itself raises that is not a `LedgerError`); everything else
    found wrong becomes a `Finding` in the report."""
    manifest = bundle.read_manifest(source)
    report = AuditReport()
    policies = _policies(source, policy, report)
    report.trusted_policy = any(label == "policy" for label, _ in policies)
    report.bundled_policy = any(label == "bundled-policy" for label, _ in policies)
    report.rules_checked = rules is not None
    states: dict[str, _LogState] = {info.id: _LogState(info) for info in manifest.logs}
    _check_listing(source, manifest, policy, report)
    for state in states.values():
        _check_checkpoint(source, state, policies, report)

    total = sum(info.size for info in manifest.logs)
    done = 0
    ids: dict[str, bytearray] = {info.id: bytearray() for info in manifest.logs}
    unresolved: list[tuple[str, int, str, bytes]] = []
    tasks = _tasks(source, manifest, states, read=rules.reader if rules is not None else None)
    for result in mapper(check_bundle, tasks):
        state = states[result.log]
        if not state.stopped:  # the same report whatever the mapper had in flight
            failed = _absorb(source, state, result, report, ids, unresolved)
            if rules is not None:
                _apply_rules(rules, state, result, report, failed)
        done += result.count
        if progress is not None:
            progress(done, total)

    for state in states.values():
        _finish_log(source, state, report)
    if rules is not None:
        report.findings.extend(rules.finish())
    _check_refs(ids, unresolved, report)
    _check_evidence(source, states, report)
    report.logs.extend(_summary(state, report) for state in states.values())
    return report


def _check_refs(
    ids: dict[str, bytearray], unresolved: list[tuple[str, int, str, bytes]], report: AuditReport
) -> None:
    """References that left their entry bundle, resolved against every id of the bundle."""
    found = _find(ids.values(), {ref for *_, ref in unresolved})
    for log, seq, entry_id, ref in unresolved:
        if ref not in found:
            message = f"references entry {ref.hex()}, which is not in this bundle"
            report.findings.append(
                Finding("ref.outside", message, log, seq, entry_id, severity="notice")
            )


def _summary(state: _LogState, report: AuditReport) -> LogSummary:
    return LogSummary(
        log=state.info.id,
        name=state.name,
        size=state.info.size,
        root=state.checkpoint.root.hex() if state.checkpoint else "",
        cosigned_by=state.cosigned_by,
        entries_checked=state.entries,
        statements_checked=state.statements,
        errors=sum(1 for f in report.errors if f.log == state.info.id),
    )


def _check_listing(
    source: bundle.BundleSource,
    manifest: bundle.Manifest,
    trusted: Policy | None,
    report: AuditReport,
) -> None:
    """A bundle must not hide a log: the manifest lists every log whose files it holds, and
    every log of the auditor's policy."""
    listed = {info.id for info in manifest.logs}
    if not listed:
        report.findings.append(
            Finding("bundle.empty", "the manifest lists no log: there is nothing to audit")
        )
    held = {name.split("/")[1] for name in source.names("logs/") if name.count("/") >= 2}
    for log in sorted(held - listed):
        report.findings.append(
            Finding(
                "bundle.unlisted",
                "the bundle holds files of this log but the manifest does not list it "
                "(was it removed from the manifest?)",
                log,
            )
        )
    for line in trusted.logs if trusted is not None else ():
        log = party_id(line.verifier.public_key.to_bytes())
        if log not in listed:
            report.findings.append(
                Finding(
                    "policy.log-missing",
                    f"your policy lists log {line.verifier.name}, which the bundle does not hold",
                    log,
                )
            )


def _policies(
    source: bundle.BundleSource, trusted: Policy | None, report: AuditReport
) -> list[tuple[str, Policy]]:
    """The trusted policy given by the auditor, and the policy the bundle carries, if any."""
    found: list[tuple[str, Policy]] = []
    if trusted is not None:
        found.append(("policy", trusted))
    if source.exists(bundle.POLICY):
        try:
            carried = Policy.from_text(source.read(bundle.POLICY, limit=bundle.LIMITS["policy"]))
        except LedgerError as e:
            message = f"the bundle's policy file cannot be read: {e}"
            report.findings.append(Finding("bundled-policy.format", message))
        else:
            found.append(("bundled-policy", carried))
    return found


def _check_checkpoint(
    source: bundle.BundleSource,
    state: _LogState,
    policies: list[tuple[str, Policy]],
    report: AuditReport,
) -> None:
    info = state.info
    try:
        verifier = NoteVerifier.from_vkey(info.vkey)
        check_log_key(info.id, verifier.public_key)
        if verifier.name != info.origin:
            raise LedgerError(f"the log key is named {verifier.name!r}, not {info.origin!r}")
        data = source.read(bundle.checkpoint_path(info.id), limit=bundle.LIMITS["checkpoint"])
        signed = open_checkpoint(data, verifier=verifier)
    except LedgerError as e:
        _error(report, state, "checkpoint.signature", f"the checkpoint does not verify: {e}")
        return
    cp = signed.checkpoint
    if cp.extensions:
        _error(report, state, "checkpoint.extensions", "the checkpoint has extension lines")
    if cp.size != info.size:
        _error(
            report,
            state,
            "checkpoint.size",
            f"the checkpoint is for {cp.size} entries but the manifest lists {info.size}",
        )
    state.checkpoint = cp
    for label, policy in policies:
        try:
            # A policy without log lines trusts the key the log id commits to.
            verified = policy.verify_checkpoint(data, log=None if policy.logs else verifier)
        except LedgerError as e:
            rule = "policy.quorum" if label == "policy" else "bundled-policy.quorum"
            _error(report, state, rule, f"the checkpoint does not satisfy the {label}: {e}")
        else:
            # Witnesses count as the auditor's only under the trusted policy; the bundle's own
            # policy names them only when no trusted policy was given.
            if label == "policy" or not any(name == "policy" for name, _ in policies):
                state.cosigned_by = tuple(sorted(verified.cosigned_by))


def _tasks(
    source: bundle.BundleSource,
    manifest: bundle.Manifest,
    states: dict[str, _LogState],
    read: EntryReader | None,
) -> Iterator[BundleTask]:
    """The entry bundles of every log, lazily, interleaving the logs bundle by bundle (so
    references between logs resolve soon and rules hold few entries back).

    A log's bundles stop at its first missing one, so a manifest that lists a huge size costs
    nothing; a corrupt bundle does not stop the checks of the entries after it.
    """
    width = tiles.TILE_WIDTH
    active = list(manifest.logs)
    index = 0
    while active:
        still = []
        for info in active:
            full, rest = divmod(info.size, width)
            if states[info.id].stopped or index >= full + (1 if rest else 0):
                continue
            yield BundleTask(source, info.id, index, width if index < full else rest, read)
            still.append(info)
        active = still
        index += 1


def _apply_rules(
    rules: EntryRules,
    state: _LogState,
    result: BundleResult,
    report: AuditReport,
    failed: set[int],
) -> None:
    """Hand what the rules' reader made of the bundle's verified entries to the rules, in seq
    order (an entry that failed a ledger check, here or across bundles, holds its place but
    is not judged)."""
    if state.rules_stopped:
        return
    if not result.items:  # the bundle is unusable: the log's later entries mean nothing
        state.rules_stopped = True
        report.findings.append(
            Finding(
                "rules.stopped",
                f"the contract rules stop at seq {result.start} of this log: from there on "
                "its entries could not be read (see the ledger errors)",
                state.info.id,
                result.start,
                severity="notice",
            )
        )
        return
    items, start = result.items, result.start
    if failed:
        items = tuple(None if start + k in failed else item for k, item in enumerate(items))
    report.findings.extend(rules.apply(state.info.id, start, result.leaf_hashes, items))


def _absorb(
    source: bundle.BundleSource,
    state: _LogState,
    result: BundleResult,
    report: AuditReport,
    ids: dict[str, bytearray],
    unresolved: list[tuple[str, int, str, bytes]],
) -> set[int]:
    """Take in one bundle's result; return the seqs that failed a cross-bundle check (a
    reused nonce), which the rules must treat as unreadable."""
    failed: set[int] = set()
    report.findings.extend(result.findings)
    state.statements += result.statements
    report.statements_checked += result.statements
    if result.genesis_name is not None:
        state.name = result.genesis_name
    hashes = result.leaf_hashes
    for seq, nonce in result.nonces:
        first = state.nonces.get(nonce)
        if first is None:
            state.nonces[nonce] = seq
            continue
        offset = (seq - result.start) * 32
        failed.add(seq)
        report.findings.append(
            Finding(
                "statement.nonce-reused",
                f"statement nonce {nonce} was already used at seq {first}",
                state.info.id,
                seq,
                hashes[offset : offset + 32].hex() or None,
            )
        )
    if not hashes:
        state.tree_broken = True
        state.stopped = result.missing
        return failed
    state.entries += result.count
    report.entries_checked += result.count
    ids[state.info.id] += hashes
    for seq, target in result.refs:  # resolved (or not) against every id at the end
        offset = (seq - result.start) * 32
        unresolved.append((state.info.id, seq, hashes[offset : offset + 32].hex(), target))
    if state.tree_broken:  # an earlier bundle is unusable: the tree cannot be rebuilt
        return failed
    if result.count < tiles.TILE_WIDTH:
        state.tail = result.edge
        return failed
    subtree = result.edge[0]
    state.bundle_range.append(subtree)
    prefix = bundle.log_prefix(state.info.id)
    for ref, expected in state.bundles.append(subtree):
        _compare_tile(source, state, prefix, ref, expected, report)
    return failed


def _find(haystacks: Iterable[bytearray], needles: set[bytes]) -> set[bytes]:
    """The needles (32-byte ids) that occur among the concatenated 32-byte ids."""
    found: set[bytes] = set()
    if not needles:
        return found
    for hay in haystacks:
        view = memoryview(hay)
        for i in range(0, len(hay), 32):
            if (h := view[i : i + 32].tobytes()) in needles:
                found.add(h)
    return found


def _compare_tile(
    source: bundle.BundleSource,
    state: _LogState,
    prefix: str,
    ref: tiles.TileRef,
    expected: bytes,
    report: AuditReport,
) -> None:
    """Compare a tile of `state.bundles` (level L) with the log's stored tile at level L+1."""
    name = tiles.tile_path(ref.level + 1, ref.index, ref.width)
    try:
        stored = source.read(prefix + name, limit=bundle.LIMITS["tile"])
    except BundleError as e:
        _error(report, state, "tile.missing", f"hash tile {name} cannot be read: {e}")
        return
    if stored != expected:
        _error(
            report,
            state,
            "tile.mismatch",
            f"hash tile {name} differs from the one recomputed from the entries",
        )


def _finish_log(source: bundle.BundleSource, state: _LogState, report: AuditReport) -> None:
    state.nonces.clear()
    if state.tree_broken:
        _error(
            report,
            state,
            "tree.incomplete",
            "entries are missing or unreadable, so the tree cannot be rebuilt and the "
            "checkpoint cannot be confirmed (later entries of this log were not checked)",
        )
        return
    prefix = bundle.log_prefix(state.info.id)
    for ref, expected in state.bundles.finish():
        _compare_tile(source, state, prefix, ref, expected, report)
    size = state.entries
    edge = state.bundle_range.hashes + state.tail
    root = CompactRange.from_hashes(size, edge).root()
    cp = state.checkpoint
    if cp is not None and cp.size == size and cp.root != root:
        _error(
            report,
            state,
            "tree.root",
            f"the entries hash to root {root.hex()}, but the checkpoint signs {cp.root.hex()}",
        )


def _check_evidence(
    source: bundle.BundleSource, states: dict[str, _LogState], report: AuditReport
) -> None:
    # A log's bundled tree is a witness against its checkpoints only if it verified itself.
    failed = {f.log for f in report.errors}
    trusted_trees = {
        log: state
        for log, state in states.items()
        if state.checkpoint is not None and not state.tree_broken and log not in failed
    }
    for name in source.names(bundle.EVIDENCE_PREFIX):
        report.evidence_checked += 1
        item: evidence.Equivocation | None = None
        try:
            data = source.read(name, limit=bundle.LIMITS["evidence"])
            item = evidence.Equivocation.from_bytes(data)
            state = trusted_trees.get(item.log_id)
            root_at = _root_at(source, state.info) if state is not None else None
            verdict = evidence.check_equivocation(item, root_at=root_at)
        except LedgerError as e:
            # Evidence that proves nothing says nothing about the logs: a notice, not an error.
            report.findings.append(
                Finding(
                    "evidence.invalid",
                    f"{name} is not valid equivocation evidence: {e}",
                    item.log_id if item is not None else None,
                    severity="notice",
                )
            )
            continue
        if verdict.proven:
            report.findings.append(
                Finding("equivocation", f"{name}: {verdict.reason}", item.log_id)
            )
        else:
            report.findings.append(
                Finding(
                    "equivocation.unproven",
                    f"{name}: {verdict.reason}",
                    item.log_id,
                    severity="notice",
                )
            )


def _root_at(source: bundle.BundleSource, info: bundle.LogInfo) -> Callable[[int], Hash | None]:
    """Roots of earlier tree sizes of a bundled log, computed from its hash tiles."""
    prefix = bundle.log_prefix(info.id)

    def read_tile(ref: tiles.TileRef) -> bytes:
        name = prefix + tiles.tile_path(ref.level, ref.index, ref.width)
        return source.read(name, limit=bundle.LIMITS["tile"])

    hash_at = tiles.tile_hash_at(read_tile, info.size)

    def root_at(size: int) -> Hash | None:
        if size > info.size:
            return None
        return merkle.tree_hash(size, hash_at)

    return root_at


def _error(report: AuditReport, state: _LogState, rule: str, message: str) -> None:
    report.findings.append(Finding(rule, message, state.info.id))
