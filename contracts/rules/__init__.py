"""The rules of every entry type (DESIGN §5), one module per domain.

`RULES` maps each entry type to its rule `rule(state, entry) -> None` (see
`contracts.rules._base`). The fold runs the checks every entry shares (seq; and, through
`contracts.view`, schema, refs, seq 0 is genesis) and then the entry type's rule.
"""

from __future__ import annotations

from contracts.rules import contract, log, membership, share, skill, task
from contracts.rules._base import Rule

__all__ = ["RULES", "Rule"]

RULES: dict[str, Rule] = {
    **log.RULES,
    **membership.RULES,
    **task.RULES,
    **contract.RULES,
    **skill.RULES,
    **share.RULES,
}
