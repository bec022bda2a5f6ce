"""Chromium for the browser tests (Playwright driving Debian's /usr/bin/chromium).

Outside CI a machine without Chromium or Playwright skips these tests, saying why; under
`CI=true` they must run, so a missing browser fails them. Pages get the static files of
`web/static` at `http://localhost:9/static/...` through Playwright's request routing
(`static_page`), so the JS tests need no server; `localhost` is a secure context, so
WebCrypto works.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
]
STATIC = Path(__file__).resolve().parents[2] / "web" / "static"
VECTORS = Path(__file__).resolve().parents[1] / "vectors"
ORIGIN = "http://localhost:9"
#: Screenshots of the main pages (gitignored: `screenshots/`).
SCREENSHOTS = Path(__file__).resolve().parents[2] / "out" / "screenshots"


def _missing() -> str | None:
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (apt-get install -y chromium)"
    try:
        import playwright  # noqa: F401
    except ImportError:
        return "the playwright package is missing (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    reason = _missing()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"browser tests must run under CI: {reason}")
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True
        )
        yield chromium
        chromium.close()


_TYPES = {".js": "text/javascript", ".css": "text/css", ".html": "text/html"}


@pytest.fixture
def static_page(browser: Any) -> Iterator[Any]:
    """A page at `ORIGIN/` whose `/static/<file>` are the files of web/static."""
    context = browser.new_context()
    page = context.new_page()

    def route(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        if path.startswith("/static/"):
            file = STATIC / path.removeprefix("/static/")
            if file.is_file():
                route.fulfill(
                    status=200,
                    body=file.read_bytes(),
                    content_type=_TYPES.get(file.suffix, "application/octet-stream"),
                )
                return
        if path in ("/", ""):
            route.fulfill(
                status=200, body="<!doctype html><title>t</title>", content_type="text/html"
            )
            return
        route.fulfill(status=404, body="not found")

    page.route(f"{ORIGIN}/**", route)
    page.goto(f"{ORIGIN}/")
    yield page
    context.close()
