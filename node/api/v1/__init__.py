"""The JSON REST API under `/api/v1` (flask-smorest; DESIGN §7).

`install_v1(app, service)` adds every resource to an app made by `node.api.app.create_app`
and keeps the `NodeService` the views use (`current_service()`):

- `entries`: entries of every stored log, one entry, its receipt; admin writes (batches);
- `statements`: a party's signed statement (a worker's consent), recorded or collected;
- `community`: tasks (the marketplace), contracts, members, agreements and their
  settlements, value-added statements, a worker's portfolio and matching tasks.

Reads are public (DESIGN §8: anyone may read); writes of the node's own entries need the
admin token. Request bodies are read with the ledger's strict JSON parser (duplicate keys,
floats and unknown fields rejected) and checked with marshmallow schemas.
"""

from __future__ import annotations

from flask import Flask, current_app

from node.api.app import register_v1
from node.service import NodeService

__all__ = ["SERVICE_EXTENSION", "current_service", "install_v1"]

SERVICE_EXTENSION = "rdh.service"


def install_v1(app: Flask, service: NodeService) -> None:
    """Serve the v1 resources of `service` from `app`."""
    from node.api.v1.community import community_blueprint
    from node.api.v1.entries import entries_blueprint
    from node.api.v1.statements import statements_blueprint

    app.extensions[SERVICE_EXTENSION] = service
    for blueprint in (entries_blueprint, statements_blueprint, community_blueprint):
        register_v1(app, blueprint)


def current_service() -> NodeService:
    """The service of the app handling the current request."""
    service: NodeService = current_app.extensions[SERVICE_EXTENSION]
    return service
