"""Rules of `log.genesis` and `log.follow`: a log's identity and its links to other logs.

`log.genesis` is seq 0 and only seq 0 (the fold also flags a seq 0 that is anything else);
its `public_key` is the log's key, so its party id must be the log id. `log.follow` names
another log (not itself); following twice just updates the relation.
"""

from __future__ import annotations

import base64
import hashlib

from contracts.rules._base import Rule, fail, no_consent
from contracts.state import LogInfo, State
from contracts.view import EntryView

__all__ = ["RULES"]


def genesis(state: State, entry: EntryView) -> None:
    no_consent(entry, "log.genesis")
    body = entry.body
    if entry.seq != 0:
        fail("log.genesis.seq", "log.genesis may only be the first entry (seq 0) of a log")
    key = base64.b64decode(body["public_key"])
    if hashlib.sha256(key).hexdigest() != entry.log:
        fail("log.genesis.key", "the genesis public key is not the key of this log's id")
    state.logs[entry.log] = LogInfo(
        id=entry.log,
        name=body["name"],
        kind=body["kind"],
        description=body["description"],
        url=body["url"],
    )


def follow(state: State, entry: EntryView) -> None:
    no_consent(entry, "log.follow")
    other = entry.body["log"]
    if other == entry.log:
        fail("log.follow.self", "a log cannot follow itself")
    info = state.logs.get(entry.log)
    if info is None:
        fail("log.follow.genesis", "a log must record its genesis before following others")
    info.follows[other] = entry.body["relation"]


RULES: dict[str, Rule] = {"log.genesis": genesis, "log.follow": follow}
