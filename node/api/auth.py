"""Admin authentication for the write API: `Authorization: Bearer <admin token>`.

`admin_required` wraps a view: a request without a valid admin token (`node.tokens`) gets
401 with `WWW-Authenticate: Bearer` and the JSON error body, and the view never runs. It
also marks the view as needing the `adminToken` security scheme in the OpenAPI document.
Put it above flask-smorest's `arguments`/`response`, so the token is checked before the
body is parsed (an anonymous client learns nothing about the schema):

    @blp.route("/tasks")
    class Tasks(MethodView):
        @admin_required
        @blp.arguments(TaskSchema)
        @blp.response(201, EntrySchema)
        def post(self, task): ...

Reading needs no token (DESIGN §8: anyone may read). A valid token is remembered for five
seconds (`node.tokens.TokenChecker`): a token revoked with `rdh token revoke` stops working
on a running server within five seconds.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from copy import deepcopy
from typing import Any, ParamSpec, TypeVar

from flask import current_app, request
from flask_smorest import abort

from node.api.app import current_node
from node.tokens import TokenChecker

__all__ = ["ADMIN_SCHEME", "admin_required", "bearer_token"]

#: The OpenAPI security scheme of admin tokens (registered by `create_app`).
ADMIN_SCHEME = "adminToken"

_P = ParamSpec("_P")
_R = TypeVar("_R")
_CHALLENGE = {"WWW-Authenticate": 'Bearer realm="rdh"'}


#: Where `create_app` keeps the app's `TokenChecker`.
TOKENS_EXTENSION = "rdh.tokens"


def token_checker() -> TokenChecker:
    """The app's token checker (valid tokens are remembered for a few seconds)."""
    checker = current_app.extensions.get(TOKENS_EXTENSION)
    if checker is None:
        checker = current_app.extensions[TOKENS_EXTENSION] = TokenChecker(current_node().sessions)
    assert isinstance(checker, TokenChecker)
    return checker


def bearer_token() -> str | None:
    """The token of the request's `Authorization: Bearer ...` header, if there is one."""
    scheme, _, token = request.headers.get("Authorization", "").strip().partition(" ")
    token = token.strip()
    if scheme.lower() != "bearer" or not token:
        return None
    return token


def admin_required(view: Callable[_P, _R]) -> Callable[_P, _R]:
    """Run `view` only for a request that carries a valid admin token; else 401."""

    @functools.wraps(view)
    def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        token = bearer_token()
        if token is None:
            abort(
                401,
                message="This needs an admin token: send `Authorization: Bearer <token>` "
                "(make one with `rdh token create`).",
                headers=_CHALLENGE,
            )
        elif not token_checker()(token):
            abort(
                401,
                message="The admin token is not valid (it may have been revoked).",
                headers={"WWW-Authenticate": 'Bearer realm="rdh", error="invalid_token"'},
            )
        return view(*args, **kwargs)

    doc: dict[str, Any] = deepcopy(getattr(view, "_apidoc", {}))
    manual = doc.setdefault("manual_doc", {})
    manual["security"] = [{ADMIN_SCHEME: []}]
    manual.setdefault("responses", {})["401"] = {"description": "Missing or invalid admin token"}
    wrapper._apidoc = doc  # type: ignore[attr-defined]  # flask-smorest's documentation slot
    return wrapper
