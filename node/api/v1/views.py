"""The contract state as JSON: every state object becomes plain values.

Money becomes `{"amount", "currency"}`, sets become sorted lists, dataclasses become objects
of their fields (plus the computed `stage` of a contract and `slots_left` of a task).
"""

from __future__ import annotations

import dataclasses
from typing import Any

from contracts.money import Money
from contracts.state import ContractState, TaskState

__all__ = ["plain"]


def plain(value: Any) -> Any:
    """`value` (state objects, money, collections) as JSON values."""
    if isinstance(value, Money):
        return value.to_dict()
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        if isinstance(value, ContractState):
            out["stage"] = value.stage
        if isinstance(value, TaskState):
            out["slots_left"] = value.slots_left
        return out
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (set, frozenset)):
        return sorted(plain(v) for v in value)
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, bytes):
        return value.hex()
    return value
