"""Revenue-share agreements: propose, collect the parties' signatures, record revenue,
settle, pay; charts of each settlement's split (by tier and party) and of the community's
value-added statement period by period.

    GET  /ui/shares                     agreements; the lead's proposal form
    GET  /ui/shares/<id>                one agreement (by proposal or agreement id)
    POST /ui/lead/share/propose | revenue | settle | payout      (admin)

A party signs `share.activate` in the browser (the statement form of the agreement page);
the node records the activation once every party signed (`NodeService.submit`, which
signs for the node's own log when it is a party).
"""

from __future__ import annotations

from typing import Any

from flask import abort, flash, redirect, request, url_for
from markupsafe import Markup
from werkzeug.wrappers import Response

from contracts.allocation import waterfall
from contracts.errors import ContractError
from contracts.money import Money, currency
from contracts.state import Agreement, State
from contracts.value_added import ValueAddedStatement, value_added
from ledger.errors import LedgerError
from ledger.types import JSON
from node.errors import NodeError
from node.service import Relayed
from web.blueprint import community_names, page, service, web_blueprint
from web.charts import Series, bar_chart, split_chart
from web.lead import FormError, admin_only, amount, field, record_form

__all__ = ["parse_tiers", "settlement_chart", "value_added_chart"]


def _agreements(state: State) -> list[Agreement]:
    seen: dict[int, Agreement] = {}
    for a in [*state.proposals.values(), *state.agreements.values()]:
        seen.setdefault(id(a), a)
    return list(seen.values())


def _label(names: dict[str, str], party: str) -> str:
    return names.get(party) or party[:10] + "…"


def _bands(agreement: Agreement, digits: int) -> list[str]:
    labels, low = [], 0
    for tier in agreement.tiers:
        if tier.up_to is None:
            labels.append(f"above {Money.from_minor(low, agreement.currency).to_string()}")
        else:
            high = Money.from_minor(tier.up_to, agreement.currency).to_string()
            labels.append(f"{Money.from_minor(low, agreement.currency).to_string()} to {high}")
            low = tier.up_to
    return labels


def settlement_chart(
    agreement: Agreement, basis_minor: int, names: dict[str, str], title: str
) -> Markup:
    """The split of `basis_minor` by tier band and party, plus each party's total."""
    split = waterfall(basis_minor, agreement.tiers)
    digits = currency(agreement.currency).digits
    parties = [
        Series(
            _label(names, p),
            (*(band[i] for band in split.tiers), split.totals[i]),
        )
        for i, p in enumerate(agreement.parties)
    ]
    return split_chart(
        title=title,
        bands=[*_bands(agreement, digits), "total"],
        parties=parties,
        digits=digits,
        currency=agreement.currency,
    )


def value_added_chart(
    state: State, log: str, code: str, names: dict[str, str]
) -> tuple[Markup | None, list[tuple[str, ValueAddedStatement]]]:
    """Revenue, costs, value added and shared payouts of every period `log` reported."""
    periods = sorted({r.period for r in state.revenues.values() if r.log == log})[-12:]
    rows = []
    for period in periods:
        try:
            statement = value_added(state, log=log, period=period, currency=code)
        except ContractError:
            continue
        shared = sum(m.minor for _, m in statement.shared)
        rows.append((period, statement, shared))
    if not rows:
        return None, []
    series = [
        Series("revenue", tuple(s.revenue.minor for _, s, _ in rows)),
        Series("costs", tuple(s.costs.minor for _, s, _ in rows)),
        Series("value added", tuple(s.value_added.minor for _, s, _ in rows)),
        Series("shared out", tuple(shared for _, _, shared in rows)),
    ]
    chart = bar_chart(
        title=f"Value-added statement of {_label(names, log)} by period ({code})",
        groups=[p for p, _, _ in rows],
        series=series,
        digits=currency(code).digits,
        currency=code,
    )
    return chart, [(p, s) for p, s, _ in rows]


@web_blueprint.route("/shares")
def shares() -> str:
    svc = service()
    with svc.state() as state:
        names = community_names(state)
        agreements = _agreements(state)
        codes = sorted({a.currency for a in agreements} | {"EUR"})
        code = request.args.get("currency", codes[0])[:3]
        if code not in codes:
            code = codes[0]
        chart, statements = value_added_chart(state, svc.log_id, code, names)
    return page(
        "shares.html",
        agreements=agreements,
        names=names,
        chart=chart,
        statements=statements,
        code=code,
        codes=codes,
    )


@web_blueprint.route("/shares/<agreement_id>")
def agreement(agreement_id: str) -> str:
    svc = service()
    with svc.state() as state:
        found = state.agreements.get(agreement_id) or state.proposals.get(agreement_id)
        if found is None:
            abort(404, f"No agreement {agreement_id} is known to this node.")
        names = community_names(state)
        key = found.agreement
        revenues = [r for r in state.revenues.values() if key and r.agreement == key]
        settlements = [s for s in state.settlements.values() if key and s.agreement == key]
        charts = [
            settlement_chart(
                found, s.basis_amount.minor, names, f"{s.period}: split of {s.basis_amount}"
            )
            for s in settlements
        ]
        periods = sorted({r.period for r in revenues} - set(found.settled))
    signed = []
    if found.status == "proposed":
        signed = [
            s.statement.signer.party_id for s in svc.collected("share.activate", found.proposal)
        ]
    example = settlement_chart(
        found,
        _example_basis(found),
        names,
        f"How {Money.from_minor(_example_basis(found), found.currency)} would be split",
    )
    return page(
        "agreement.html",
        agreement=found,
        names=names,
        revenues=revenues,
        settlements=list(zip(settlements, charts, strict=True)),
        periods=periods,
        signed=signed,
        example=example,
        proposer_is_me=found.log == svc.log_id,
        my_log=svc.log_id,
        bands=_bands(found, currency(found.currency).digits),
        party_logs=[p for p in found.parties if p in names],
    )


def _example_basis(agreement: Agreement) -> int:
    bounded = [t.up_to for t in agreement.tiers if t.up_to is not None]
    return (max(bounded) * 3 // 2) if bounded else 100_000


def parse_tiers(text: str, parties: int, code: str) -> list[dict[str, JSON]]:
    """Tiers from `1000.00: 7000, 3000; : 5000, 5000` (up to: weights; an empty up to is
    the last, unbounded tier)."""
    tiers: list[dict[str, JSON]] = []
    for part in (p.strip() for p in text.split(";")):
        if not part:
            continue
        up_to, sep, weights = part.partition(":")
        if not sep:
            raise FormError(f"tier {part!r} needs the form 'up to: weights'")
        try:
            numbers = [int(w) for w in weights.split(",")]
        except ValueError as e:
            raise FormError(f"tier {part!r}: weights are whole basis points") from e
        if len(numbers) != parties:
            raise FormError(f"tier {part!r}: give one weight per party ({parties})")
        bound: JSON = None
        if up_to.strip():
            try:
                bound = Money.parse(up_to.strip(), code).to_string()
            except ContractError as e:
                raise FormError(f"tier {part!r}: {e}") from e
        tiers.append({"up_to": bound, "weights": numbers})  # type: ignore[dict-item]
    if not tiers:
        raise FormError("give at least one tier")
    return tiers


@web_blueprint.route("/lead/share/propose", methods=["POST"])
@admin_only
def propose() -> Response:
    def build() -> tuple[str, dict[str, JSON]]:
        parties = [p.strip() for p in field("parties").replace("\n", ",").split(",") if p.strip()]
        code = field("currency", limit=3).upper()
        return "share.propose", {
            "parties": parties,  # type: ignore[dict-item]
            "currency": code,
            "basis": field("basis", limit=20),
            "period": field("period", limit=20),
            "tiers": parse_tiers(field("tiers"), len(parties), code),  # type: ignore[dict-item]
        }

    return record_form(build, "Agreement proposed: every party must now sign it")


@web_blueprint.route("/lead/share/revenue", methods=["POST"])
@admin_only
def revenue() -> Response:
    def build() -> tuple[str, dict[str, JSON]]:
        code = field("currency", limit=3).upper()
        return "share.revenue", {
            "agreement": field("agreement", limit=64),
            "period": field("period", limit=10),
            "revenue": amount("revenue", code),
            "costs": amount("costs", code),
        }

    return record_form(build, "Revenue recorded")


@web_blueprint.route("/lead/share/settle", methods=["POST"])
@admin_only
def settle() -> Response:
    def build() -> tuple[str, dict[str, JSON]]:
        body = service().settlement(field("agreement", limit=64), field("period", limit=10))
        return "share.settle", body

    return record_form(build, "Period settled")


@web_blueprint.route("/lead/share/payout", methods=["POST"])
@admin_only
def payout() -> Response:
    def build() -> tuple[str, dict[str, JSON]]:
        settlement_id = field("settlement", limit=64)
        party = field("party", limit=64)
        with service().state() as state:
            found = state.settlements.get(settlement_id)
            if found is None or party not in found.payouts:
                raise FormError("no such payout")
            due: Any = found.payouts[party].to_dict()
        return "payment.record", {"settlement": settlement_id, "party": party, "amount": due}

    return record_form(build, "Payout recorded")


@web_blueprint.route("/lead/share/consent", methods=["POST"])
@admin_only
def consent() -> Response:
    """The lead consents, as this community's log, to another log's proposal: the node signs
    a `share.activate` statement and hands it to the proposer's node (relay)."""
    target = request.form.get("next", "")
    if not target.startswith("/ui/") or target.startswith("//"):
        target = url_for("web.shares")
    svc = service()
    try:
        proposal_id = field("proposal", limit=64)
        with svc.state() as state:
            found = state.proposals.get(proposal_id)
            if found is None or found.status != "proposed":
                raise FormError("no open proposal by that id")
            if svc.log_id not in found.parties or found.log == svc.log_id:
                raise FormError("this community is not a party of another community's proposal")
            proposer = found.log
        signed = svc.sign_as_party("share.activate", proposer, {"proposal": proposal_id})
        outcome = svc.submit(signed)
    except FormError as e:
        flash(f"Not signed: {e}.", "error")
    except (NodeError, LedgerError) as e:
        flash(f"Not signed: {e}", "error")
    else:
        waiting = outcome.answer.get("waiting") if isinstance(outcome, Relayed) else None
        if waiting:
            flash(f"Signed; the agreement still waits for {len(waiting)} part(ies).", "ok")
        else:
            flash("Signed and handed to the proposer's node.", "ok")
    return redirect(target, code=303)
