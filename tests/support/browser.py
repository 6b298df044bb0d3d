"""Headless Debian Chromium driven by Playwright (sync API), fully offline.

Never downloads a browser: it launches ``/usr/bin/chromium`` (``make`` installs the
Debian package). If it is missing, the test FAILS with a clear message; nothing is
skipped.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import pytest

CHROMIUM = os.environ.get("NINBAI_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
PHONE = {"width": 390, "height": 844}
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "docs" / "screenshots"
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}


def chromium_path() -> str:
    """The Chromium executable, or a test failure explaining how to get it."""
    if not (os.path.isfile(CHROMIUM) and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium not found at {CHROMIUM}: install Debian's chromium "
            "(the Makefile installs it; by hand: `apt-get install chromium`). Browser tests never "
            "download a browser and are not skipped.",
            pytrace=False,
        )
    return CHROMIUM


@contextlib.contextmanager
def launch_browser(viewport: dict | None = None, **context_options):
    """Yield a fresh Playwright ``BrowserContext`` on Debian's Chromium.

    A new temporary user data dir each time (deleted afterwards); phone viewport
    by default, Japanese locale, Tokyo time.
    """
    from playwright.sync_api import sync_playwright

    exe = chromium_path()
    user_data = tempfile.mkdtemp(prefix="ninbai-chromium-")
    options = {
        "viewport": viewport or PHONE,
        "locale": "ja-JP",
        "timezone_id": "Asia/Tokyo",
        "device_scale_factor": 2,
        "is_mobile": True,
        "has_touch": True,
    }
    options.update(context_options)
    try:
        with sync_playwright() as p:
            context = p.chromium.launch_persistent_context(
                user_data,
                executable_path=exe,
                headless=True,
                args=CHROMIUM_ARGS,
                **options,
            )
            try:
                yield context
            finally:
                context.close()
    finally:
        shutil.rmtree(user_data, ignore_errors=True)


def is_local(url: str) -> bool:
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    return (parts.hostname or "") in LOCAL_HOSTS


@dataclass
class PageWatch:
    """Console errors, page errors and non-local requests seen by a page."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    foreign_requests: list[str] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)

    def assert_clean(self, allow_console: tuple[str, ...] = ()) -> None:
        console = [c for c in self.console_errors if not any(a in c for a in allow_console)]
        assert not self.page_errors, f"JavaScript errors: {self.page_errors}"
        assert not console, f"console errors: {console}"
        assert not self.foreign_requests, f"requests to non-local hosts: {self.foreign_requests}"


def watch(page) -> PageWatch:
    """Record what ``page`` logs and requests (attach before ``goto``)."""
    w = PageWatch()

    def on_console(msg):
        if msg.type in ("error", "assert"):
            w.console_errors.append(msg.text)

    def on_request(req):
        w.requests.append(req.url)
        if not is_local(req.url):
            w.foreign_requests.append(req.url)

    page.on("console", on_console)
    page.on("pageerror", lambda err: w.page_errors.append(str(err)))
    page.on("request", on_request)
    return w


def screenshot(page, name: str, full_page: bool = False) -> Path:
    """Save ``docs/screenshots/<name>.png`` and return its path."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    page.screenshot(path=str(path), full_page=full_page)
    return path
