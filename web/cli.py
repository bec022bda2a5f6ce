"""`rdh serve` with the web UI: the node's serve command given `create_web_app`.

`node.cli` lists `serve` as `web.cli:serve_command`, looked up by name when the command is
used, so the node package never imports this one (see `web.app`).
"""

from __future__ import annotations

from node.cli.serve import make_serve_command
from web.app import create_web_app

__all__ = ["serve_command"]

serve_command = make_serve_command(create_web_app)
