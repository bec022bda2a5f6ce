"""Export the node's own log from the database as an audit bundle (DESIGN §4.4).

The bundle is copied, not rebuilt: the stored hash tiles of the last signed checkpoint, the
entry bundles made from the stored entry bytes, the signed checkpoint note and a manifest,
all read in one transaction so they describe one tree. `ledger.audit.audit` verifies the
result. Where the files go is a `ledger.bundle.BundleSink` (`node.bundle_files` has the
directory and zip ones). Cosignatures, policy and evidence come later.
"""

from __future__ import annotations

from ledger import bundle
from ledger.tiles import entry_bundles_for_size, tiles_for_size
from node.store import LogStore

__all__ = ["EXPORTER", "export_bundle"]

EXPORTER = "rdh node"


def export_bundle(
    store: LogStore, sink: bundle.BundleSink, *, exported_at: str | None = None
) -> bundle.Manifest:
    """Write the log of `store` at its last signed checkpoint into `sink`; return the manifest."""
    with store.reader() as reader:
        log = reader.log()
        stored = reader.checkpoint()
        prefix = bundle.log_prefix(store.log_id)
        for ref in tiles_for_size(stored.size):
            sink.write(prefix + ref.path, reader.read_tile(ref))
        for ref in entry_bundles_for_size(stored.size):
            sink.write(prefix + ref.path, reader.entry_bundle(ref.index, ref.width))
        sink.write(bundle.checkpoint_path(store.log_id), stored.note)
        info = bundle.LogInfo(id=store.log_id, origin=log.origin, vkey=log.vkey, size=stored.size)
    manifest = bundle.Manifest(exporter=EXPORTER, exported_at=exported_at, logs=(info,))
    sink.write(bundle.MANIFEST, manifest.to_bytes())
    return manifest
