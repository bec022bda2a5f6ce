"""The human interface of a node (DESIGN §3, §7): the `web` Flask blueprint under `/ui`.

Workers keep their Ed25519 key in their browser (WebCrypto, IndexedDB; `static/keys.js`),
sign statements there (`static/canonical.js`, `static/statement.js`) and sign in by signing
a challenge; the lead signs in with an admin token and records the community's entries
from forms. Pages: marketplace (`web.market`), the worker's contracts and portfolio
(`web.worker`), the lead's dashboard (`web.lead`), revenue shares with SVG charts
(`web.shares`, `web.charts`) and the ledger explorer (`web.explorer`). Security set-up is
`web.security`; composition with the node's app is `web.app`.
"""

from web.app import create_web_app, install_web, wsgi_app

__all__ = ["create_web_app", "install_web", "wsgi_app"]
