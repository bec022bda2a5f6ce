"""The node's HTTP interface: the WSGI app, its errors, admin auth and the tlog-tiles API.

    node.api.app     create_app(node): the one app factory; current_node(), register_v1()
    node.api.errors  HTTP status mapping of NodeError/LedgerError; JSON error bodies
    node.api.auth    admin_required: `Authorization: Bearer <admin token>`
    node.api.tiles   GET /logs, /logs/<id>/checkpoint, /logs/<id>/tile/...
    node.api.v1      the JSON REST resources under /api/v1

Running the app (waitress, the scheduler, signals) is `node.serve`.
"""

from node.api.app import api_of, create_app, current_node, register_v1
from node.api.auth import admin_required

__all__ = ["admin_required", "api_of", "create_app", "current_node", "register_v1"]
