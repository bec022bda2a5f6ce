"""The `web` blueprint (under `/ui`) and what every page shares: the service, the names of
communities, template filters, the CSRF check of every POST, the signed-in worker and lead.

The pages themselves are in `web.market`, `web.worker`, `web.lead`, `web.shares` and
`web.explorer`; each adds its routes to `web_blueprint`.
"""

from __future__ import annotations

from typing import Any

from flask import Blueprint, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from contracts.state import State
from node.api.v1 import current_service
from node.service import NodeService
from web.security import admin_signed_in, check_csrf, csrf_token, signed_in_party

__all__ = ["community_names", "money", "page", "service", "web_blueprint"]

web_blueprint = Blueprint(
    "web",
    __name__,
    url_prefix="/ui",
    static_folder="static",
    static_url_path="/static",
    template_folder="templates",
)


def service() -> NodeService:
    return current_service()


def community_names(state: State) -> dict[str, str]:
    return {log_id: info.name for log_id, info in state.logs.items()}


def money(value: Any) -> str:
    """`{"amount": "250.00", "currency": "EUR"}` (or a `Money`) as `250.00 EUR`."""
    if value is None:
        return ""
    if isinstance(value, dict):
        return f"{value.get('amount', '')} {value.get('currency', '')}"
    return str(value)


def short(value: Any, length: int = 12) -> str:
    """The start of an id, for display (the full id is in the link or title)."""
    text = str(value or "")
    return text if len(text) <= length else text[:length] + "…"


def stars(thousandths: int | None) -> str:
    if thousandths is None:
        return "no ratings yet"
    return f"{thousandths / 1000:.1f} / 5"


web_blueprint.add_app_template_filter(money, "money")
web_blueprint.add_app_template_filter(short, "short")
web_blueprint.add_app_template_filter(stars, "stars")


@web_blueprint.app_context_processor
def _common() -> dict[str, Any]:
    if not request.path.startswith("/ui"):
        return {}
    return {
        "csrf_token": csrf_token,
        "me": signed_in_party(),
        "is_admin": admin_signed_in,
        "node_log": service().log_id,
    }


@web_blueprint.before_request
def _csrf() -> None:
    if request.method == "POST":
        check_csrf()


def page(template: str, **context: Any) -> str:
    return render_template(template, **context)


def back(endpoint: str, **values: Any) -> Response:
    return redirect(url_for(endpoint, **values), code=303)
